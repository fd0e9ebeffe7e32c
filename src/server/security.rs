//! The rejection pipeline of Sente 1.22: reject-fn, CSRF, origin, authorization.

use std::sync::Arc;

use super::request::{ChskRequest, CsrfToken};

/// A response body of a rejection.
pub type HttpResponse = http::Response<Vec<u8>>;

/// A function that answers a refused request.
pub type ResponseFn = Arc<dyn Fn(&ChskRequest) -> HttpResponse + Send + Sync>;
/// A function that gives the reference CSRF token of a request.
pub type TokenFn = Arc<dyn Fn(&ChskRequest) -> Option<String> + Send + Sync>;
/// A function that may answer a request itself, before any other check.
pub type RejectFn = Arc<dyn Fn(&ChskRequest) -> Option<HttpResponse> + Send + Sync>;
/// A function that says whether a request is authorized.
pub type AuthorizedFn = Arc<dyn Fn(&ChskRequest) -> bool + Send + Sync>;

/// How the CSRF token is checked.
#[derive(Clone)]
pub enum CsrfCheck {
    /// No check (Sente's `:csrf-token-fn nil` or `:sente/skip-CSRF-check`).
    /// Only for servers that authenticate otherwise (e.g. tokens in headers).
    Skip,
    /// The function gives the reference token for a request; `None` fails the
    /// check (fail closed). The client's token is the `csrf-token` parameter,
    /// else the `x-csrf-token` header, else `x-xsrf-token`, compared in
    /// constant time.
    Token(TokenFn),
}

impl Default for CsrfCheck {
    /// The reference token is the [`CsrfToken`] your middleware put in the
    /// request's extensions; without one every request is refused (403).
    fn default() -> Self {
        Self::Token(Arc::new(|req: &ChskRequest| {
            req.head.extensions.get::<CsrfToken>().map(|t| t.0.clone())
        }))
    }
}

impl std::fmt::Debug for CsrfCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Skip => "CsrfCheck::Skip",
            Self::Token(_) => "CsrfCheck::Token(..)",
        })
    }
}

/// Which origins may connect.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// Any origin (Sente's default `:all`).
    #[default]
    All,
    /// Only these origins, e.g. `"https://example.com"`: the `Origin` header
    /// must be one of them exactly; without `Origin`, the `Referer` must start
    /// with one of them followed by `/`.
    Only(Vec<String>),
}

/// The security options and their responses.
#[derive(Clone)]
pub(crate) struct Security {
    pub(crate) reject: Option<RejectFn>,
    pub(crate) csrf: CsrfCheck,
    pub(crate) bad_csrf: ResponseFn,
    pub(crate) allowed_origins: AllowedOrigins,
    pub(crate) bad_origin: ResponseFn,
    pub(crate) authorized: Option<AuthorizedFn>,
    pub(crate) unauthorized: ResponseFn,
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Security")
            .field("reject", &self.reject.is_some())
            .field("csrf", &self.csrf)
            .field("allowed_origins", &self.allowed_origins)
            .field("authorized", &self.authorized.is_some())
            .finish()
    }
}

/// A plain-text response. A `status` outside 100–999 is logged and
/// answered as 500 instead.
pub fn text_response(status: u16, body: &str) -> HttpResponse {
    let mut resp = http::Response::new(body.as_bytes().to_vec());
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or_else(|_| {
        tracing::error!(status, "not an HTTP status; answering 500");
        http::StatusCode::INTERNAL_SERVER_ERROR
    });
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

impl Default for Security {
    fn default() -> Self {
        Self {
            reject: None,
            csrf: CsrfCheck::default(),
            bad_csrf: Arc::new(|_: &ChskRequest| text_response(403, "Bad CSRF token")),
            allowed_origins: AllowedOrigins::All,
            bad_origin: Arc::new(|_: &ChskRequest| text_response(403, "Unauthorized origin")),
            authorized: None,
            unauthorized: Arc::new(|_: &ChskRequest| text_response(401, "Unauthorized request")),
        }
    }
}

impl Security {
    /// Runs the checks in Sente's order; the first failure's response wins.
    pub(crate) fn check(&self, req: &ChskRequest) -> Result<(), Box<HttpResponse>> {
        if let Some(reject) = &self.reject
            && let Some(resp) = reject(req)
        {
            return Err(Box::new(resp));
        }
        if !valid_csrf_token(&self.csrf, req) {
            return Err(Box::new((self.bad_csrf)(req)));
        }
        if !allow_origin(&self.allowed_origins, req) {
            return Err(Box::new((self.bad_origin)(req)));
        }
        if let Some(authorized) = &self.authorized
            && !authorized(req)
        {
            return Err(Box::new((self.unauthorized)(req)));
        }
        Ok(())
    }
}

/// Sente's `valid-csrf-token?`.
pub fn valid_csrf_token(check: &CsrfCheck, req: &ChskRequest) -> bool {
    let CsrfCheck::Token(reference) = check else {
        return true;
    };
    let Some(reference) = reference(req).filter(|t| !t.is_empty()) else {
        return false;
    };
    let client = req
        .param("csrf-token")
        .or_else(|| req.header("x-csrf-token"))
        .or_else(|| req.header("x-xsrf-token"));
    client.is_some_and(|c| constant_time_eq(c.as_bytes(), reference.as_bytes()))
}

/// Sente's `allow-origin?`.
pub fn allow_origin(allowed: &AllowedOrigins, req: &ChskRequest) -> bool {
    let AllowedOrigins::Only(origins) = allowed else {
        return true;
    };
    match (req.header("origin"), req.header("referer")) {
        (Some(origin), _) => origins.iter().any(|o| o == origin),
        (None, Some(referer)) => origins.iter().any(|o| {
            referer
                .strip_prefix(o.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
        }),
        (None, None) => false,
    }
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(uri: &str, headers: &[(&str, &str)]) -> ChskRequest {
        let mut b = http::Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let (head, ()) = b.body(()).unwrap().into_parts();
        ChskRequest::new(head)
    }

    fn token(t: Option<&'static str>) -> CsrfCheck {
        CsrfCheck::Token(Arc::new(move |_| t.map(str::to_owned)))
    }

    #[test]
    fn allow_origin_the_seven_sente_cases() {
        let only = AllowedOrigins::Only(vec!["http://site.com".into()]);
        assert!(allow_origin(
            &AllowedOrigins::All,
            &req("/chsk", &[("origin", "http://evil.com")])
        ));
        assert!(allow_origin(
            &only,
            &req("/chsk", &[("origin", "http://site.com")])
        ));
        assert!(allow_origin(
            &only,
            &req("/chsk", &[("referer", "http://site.com/x")])
        ));
        assert!(!allow_origin(&only, &req("/chsk", &[])));
        assert!(!allow_origin(
            &only,
            &req("/chsk", &[("origin", "http://evil.com")])
        ));
        assert!(!allow_origin(
            &only,
            &req("/chsk", &[("referer", "http://evil.com/x")])
        ));
        assert!(!allow_origin(
            &only,
            &req("/chsk", &[("referer", "http://site.com.evil.com/")])
        ));
    }

    #[test]
    fn valid_csrf_token_the_eight_sente_cases() {
        assert!(valid_csrf_token(
            &token(Some("tok")),
            &req("/chsk?csrf-token=tok", &[])
        ));
        assert!(valid_csrf_token(
            &token(Some("tok")),
            &req("/chsk", &[("x-csrf-token", "tok")])
        ));
        assert!(valid_csrf_token(
            &token(Some("tok")),
            &req("/chsk", &[("x-xsrf-token", "tok")])
        ));
        assert!(!valid_csrf_token(
            &token(Some("tok")),
            &req("/chsk", &[("x-csrf-token", "nope")])
        ));
        assert!(!valid_csrf_token(&token(Some("tok")), &req("/chsk", &[])));
        assert!(!valid_csrf_token(
            &token(None),
            &req("/chsk", &[("x-csrf-token", "tok")])
        ));
        assert!(!valid_csrf_token(
            &CsrfCheck::default(),
            &req("/chsk", &[("x-csrf-token", "tok")])
        ));
        assert!(valid_csrf_token(&CsrfCheck::Skip, &req("/chsk", &[])));
    }

    #[test]
    fn the_pipeline_runs_in_sente_order() {
        let mut s = Security::default();
        let r = req("/chsk", &[("origin", "http://evil.com")]);
        assert_eq!(s.check(&r).unwrap_err().status(), 403);
        assert_eq!(s.check(&r).unwrap_err().body(), b"Bad CSRF token");
        s.csrf = CsrfCheck::Skip;
        s.allowed_origins = AllowedOrigins::Only(vec!["http://site.com".into()]);
        assert_eq!(s.check(&r).unwrap_err().body(), b"Unauthorized origin");
        s.allowed_origins = AllowedOrigins::All;
        s.authorized = Some(Arc::new(|_| false));
        let e = s.check(&r).unwrap_err();
        assert_eq!(
            (e.status().as_u16(), e.body().as_slice()),
            (401, &b"Unauthorized request"[..])
        );
        s.reject = Some(Arc::new(|_| Some(text_response(429, "slow down"))));
        assert_eq!(
            s.check(&r).unwrap_err().status(),
            429,
            "reject-fn runs first"
        );
        s.reject = Some(Arc::new(|_| None));
        s.authorized = None;
        assert!(s.check(&r).is_ok());
    }
}
