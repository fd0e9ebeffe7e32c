//! The request a channel-socket call came with, as user functions see it.

use indexmap::IndexMap;

use crate::value::Value;

/// A request to the channel-socket path: the HTTP request head (method, URI,
/// headers, and the extensions your middleware put there, such as a session),
/// its query and form parameters, and the client id.
///
/// For a WebSocket this is the upgrade request, fixed for the connection's
/// life (as in Sente), without the handshake's own headers (`Upgrade`,
/// `Connection`, `Sec-WebSocket-*`) once the upgrade is accepted: the
/// rejection checks, user-id and handshake-data functions still see them.
#[derive(Debug)]
pub struct ChskRequest {
    /// The request head.
    pub head: http::request::Parts,
    /// Query parameters, then form parameters of an Ajax POST (a later one
    /// with the same name wins).
    pub params: IndexMap<String, String>,
    /// The client id (`client-id` parameter); empty when absent.
    pub client_id: String,
}

impl ChskRequest {
    /// Builds the request from a head, parsing the query string.
    ///
    /// The URI and headers are copied into allocations of their own: a
    /// server that parses without copying (hyper) lends them from its read
    /// buffer, which would otherwise stay alive as long as the connection.
    pub fn new(mut head: http::request::Parts) -> Self {
        head.headers = copy_headers(&head.headers);
        // An emptied extension map (hyper's upgrade handle taken out) still
        // holds its table.
        if head.extensions.is_empty() {
            head.extensions = http::Extensions::new();
        }
        if let Ok(uri) = head.uri.to_string().parse() {
            head.uri = uri;
        }
        let params: IndexMap<String, String> = head
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let client_id = params.get("client-id").cloned().unwrap_or_default();
        Self {
            head,
            params,
            client_id,
        }
    }

    /// The request without the headers of the WebSocket handshake
    /// (`Upgrade`, `Connection`, `Sec-WebSocket-*`), which served the
    /// upgrade and nothing after it: a WebSocket keeps its request for
    /// its whole life.
    pub(crate) fn without_upgrade_headers(mut self) -> Self {
        let is_kept = |name: &http::HeaderName| {
            name != http::header::UPGRADE
                && name != http::header::CONNECTION
                && !name.as_str().starts_with("sec-websocket-")
        };
        let headers = std::mem::take(&mut self.head.headers);
        // `try_with_capacity`: `with_capacity` panics past 24,576 entries,
        // which an adapter with raised header limits could hand us.
        let mut kept = http::HeaderMap::try_with_capacity(
            headers.iter().filter(|(name, _)| is_kept(name)).count(),
        )
        .unwrap_or_default();
        // The values are this request's own copies already: move them.
        let mut current = None;
        for (name, value) in headers {
            if name.is_some() {
                current = name;
            }
            if let Some(name) = current.as_ref().filter(|name| is_kept(name)) {
                kept.append(name.clone(), value);
            }
        }
        self.head.headers = kept;
        self
    }

    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// A header's value, when it is valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The headers, each value in an allocation of its own, in a map no larger
/// than they need.
fn copy_headers(headers: &http::HeaderMap) -> http::HeaderMap {
    let mut copy = http::HeaderMap::try_with_capacity(headers.len()).unwrap_or_default();
    for (k, v) in headers {
        if let Ok(v) = http::HeaderValue::from_bytes(v.as_bytes()) {
            copy.append(k.clone(), v);
        }
    }
    copy
}

/// Put this in the request's extensions (from your session middleware) to
/// give the connection a user id; the default user-id function reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUid(pub Value);

/// Put this in the request's extensions (from your anti-forgery middleware):
/// the reference CSRF token the default CSRF check compares the client's
/// token with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfToken(pub String);
