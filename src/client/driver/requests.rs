//! The HTTP requests of the client (PROTOCOL.md §3.3–3.5): the WebSocket
//! upgrade, the long-poll GET and the event POST.

use std::time::Duration;

use http::header::{CONTENT_TYPE, HeaderValue};

use crate::client::options::ClientOptions;
use crate::client::transport::{AjaxRequest, WsRequest};
use crate::packer::Packed;

/// Percent-encodes a query component as encore's `url-encode` does
/// (`encodeURIComponent`, with `*` as `%2A` and spaces as `%20`).
pub(crate) fn url_encode(text: &str, out: &mut String) {
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// `k=v&k=v…`, the keys of `sente` overriding user keys of the same name
/// (which are left out), user keys first.
fn query_string<'a>(
    user: impl Iterator<Item = (&'a str, &'a str)>,
    sente: &[(&'a str, &'a str)],
) -> String {
    let mut out = String::new();
    let overridden = |k: &str| sente.iter().any(|(s, _)| *s == k);
    let user = user.filter(|(k, _)| !overridden(k));
    for (k, v) in user.chain(sente.iter().copied()) {
        if !out.is_empty() {
            out.push('&');
        }
        url_encode(k, &mut out);
        out.push('=');
        url_encode(v, &mut out);
    }
    out
}

/// The user's headers then the Ajax ones: `x-requested-with` and, when
/// there is a token, `x-csrf-token`.
fn ajax_headers(
    builder: http::request::Builder,
    options: &ClientOptions,
    csrf_token: Option<&str>,
) -> http::request::Builder {
    let mut builder = builder.header("x-requested-with", "XMLHTTPRequest");
    for (name, value) in options.headers() {
        builder = builder.header(name, value);
    }
    if let Some(token) = csrf_token {
        builder = builder.header("x-csrf-token", token);
    }
    builder
}

/// The WebSocket upgrade: user params, `client-id`, `csrf-token` in the
/// query; the user's headers.
///
/// # Errors
/// [`http::Error`] when a header or the URL is invalid.
pub(crate) fn ws_request(
    options: &ClientOptions,
    client_id: &str,
    csrf_token: Option<&str>,
) -> Result<WsRequest, http::Error> {
    let mut sente = vec![("client-id", client_id)];
    if let Some(token) = csrf_token {
        sente.push(("csrf-token", token));
    }
    let url = options
        .endpoint
        .ws_url(&query_string(options.params(), &sente));
    let mut builder = http::Request::get(url);
    for (name, value) in options.headers() {
        builder = builder.header(name, value);
    }
    Ok(WsRequest {
        request: builder.body(())?,
        max_message_size: options.max_message_size,
        connect_timeout: options.connect_timeout,
    })
}

/// The long-poll GET: user params, `udt`, `client-id` and, when
/// `handshake`, `handshake?=1` in the query; `x-csrf-token` header.
///
/// # Errors
/// [`http::Error`] when a header or the URL is invalid.
pub(crate) fn poll_request(
    options: &ClientOptions,
    client_id: &str,
    csrf_token: Option<&str>,
    handshake: bool,
    udt: i64,
    timeout: Duration,
) -> Result<AjaxRequest, http::Error> {
    let udt = udt.to_string();
    let mut sente = vec![("udt", udt.as_str()), ("client-id", client_id)];
    if handshake {
        sente.push(("handshake?", "1"));
    }
    let url = options
        .endpoint
        .ajax_url(&query_string(options.params(), &sente));
    let builder = ajax_headers(http::Request::get(url), options, csrf_token);
    Ok(AjaxRequest {
        request: builder.body(Vec::new())?,
        timeout,
        max_response_size: options.max_message_size,
    })
}

/// The event POST: a text payload as the form `udt`, `client-id`,
/// `ppstr`; a binary one as the raw body with `udt`, `client-id` and
/// `binary?=true` in the query. No user params (Sente 1.21+).
///
/// # Errors
/// [`http::Error`] when a header or the URL is invalid.
pub(crate) fn post_request(
    options: &ClientOptions,
    client_id: &str,
    csrf_token: Option<&str>,
    payload: &Packed,
    udt: i64,
    timeout: Duration,
) -> Result<AjaxRequest, http::Error> {
    let udt = udt.to_string();
    let (url, content_type, body) = match payload {
        Packed::Text(ppstr) => {
            let form = query_string(
                std::iter::empty(),
                &[("udt", &udt), ("client-id", client_id), ("ppstr", ppstr)],
            );
            (
                options.endpoint.ajax_url(""),
                "application/x-www-form-urlencoded;charset=UTF-8",
                form.into_bytes(),
            )
        }
        Packed::Binary(bytes) => {
            let query = query_string(
                std::iter::empty(),
                &[("udt", &udt), ("client-id", client_id), ("binary?", "true")],
            );
            (
                options.endpoint.ajax_url(&query),
                "application/octet-stream",
                bytes.clone(),
            )
        }
    };
    let builder =
        http::Request::post(url).header(CONTENT_TYPE, HeaderValue::from_static(content_type));
    let builder = ajax_headers(builder, options, csrf_token);
    Ok(AjaxRequest {
        request: builder.body(body)?,
        timeout,
        max_response_size: options.max_message_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ClientOptions {
        ClientOptions::new("http://example.com:8080//chsk?from=url")
            .unwrap()
            .param("room", "a b*c")
            .param("client-id", "overridden")
            .header(
                http::HeaderName::from_static("x-api-key"),
                HeaderValue::from_static("k"),
            )
    }

    #[test]
    fn encodes_like_encore() {
        let mut out = String::new();
        url_encode("a b*c/é?&=~'()!", &mut out);
        assert_eq!(out, "a%20b%2Ac%2F%C3%A9%3F%26%3D~'()!");
    }

    #[test]
    fn the_ws_upgrade_carries_params_client_id_and_token() {
        let req = ws_request(&opts(), "cid", Some("t/k")).unwrap().request;
        assert_eq!(
            req.uri().to_string(),
            "ws://example.com:8080/chsk?from=url&room=a%20b%2Ac&client-id=cid&csrf-token=t%2Fk"
        );
        assert_eq!(req.headers()["x-api-key"], "k");
        let req = ws_request(&opts(), "cid", None).unwrap().request;
        assert!(!req.uri().to_string().contains("csrf-token"));
    }

    #[test]
    fn the_poll_carries_udt_client_id_handshake_and_the_token_header() {
        let t = Duration::from_secs(60);
        let req = poll_request(&opts(), "cid", Some("tok"), true, 42, t)
            .unwrap()
            .request;
        assert_eq!(req.method(), http::Method::GET);
        assert_eq!(
            req.uri().to_string(),
            "http://example.com:8080/chsk?from=url&room=a%20b%2Ac&udt=42&client-id=cid&handshake%3F=1"
        );
        assert_eq!(req.headers()["x-csrf-token"], "tok");
        assert_eq!(req.headers()["x-requested-with"], "XMLHTTPRequest");
        assert_eq!(req.headers()["x-api-key"], "k");
        let req = poll_request(&opts(), "cid", None, false, 42, t)
            .unwrap()
            .request;
        assert!(!req.uri().to_string().contains("handshake"));
        assert!(req.headers().get("x-csrf-token").is_none());
    }

    #[test]
    fn posts_carry_a_form_or_raw_bytes_and_no_user_params() {
        let t = Duration::from_secs(1);
        let text = Packed::Text("[[:a/b 1] :ajax]".into());
        let req = post_request(&opts(), "cid", None, &text, 7, t)
            .unwrap()
            .request;
        assert_eq!(req.uri().to_string(), "http://example.com:8080/chsk");
        assert_eq!(
            req.body().as_slice(),
            b"udt=7&client-id=cid&ppstr=%5B%5B%3Aa%2Fb%201%5D%20%3Aajax%5D"
        );
        assert!(
            req.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/x-www-form-urlencoded")
        );
        let bin = Packed::Binary(vec![1, 2, 3]);
        let req = post_request(&opts(), "cid", Some("tok"), &bin, 7, t)
            .unwrap()
            .request;
        assert_eq!(
            req.uri().to_string(),
            "http://example.com:8080/chsk?udt=7&client-id=cid&binary%3F=true"
        );
        assert_eq!(req.body().as_slice(), &[1, 2, 3]);
        assert_eq!(req.headers()["x-csrf-token"], "tok");
    }

    #[test]
    fn endpoints_from_parts() {
        let e =
            crate::client::options::Endpoint::from_parts("https:", "h", Some(1), "chsk").unwrap();
        assert_eq!(e.ajax_url("a=1"), "https://h:1/chsk?a=1");
        assert_eq!(e.ws_url(""), "wss://h:1/chsk");
        assert!(crate::client::options::Endpoint::parse("ftp://h/x").is_err());
        assert!(crate::client::options::Endpoint::parse("/x").is_err());
        let e = crate::client::options::Endpoint::parse("http://u:p@[::1]:9/c").unwrap();
        assert_eq!(e.ajax_url(""), "http://[::1]:9/c");
    }
}
