//! The options of the async client (Sente's `make-channel-socket-client!`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::config::{ChskType, ClientConfig};

/// A function giving the current CSRF token; called on every connect and
/// every send. `None` or a blank token means none.
pub type CsrfTokenFn = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// Why a URL cannot be the channel socket's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The text is not a URI.
    #[error("not a valid URL: {0}")]
    Invalid(String),
    /// The scheme is not `http`, `https`, `ws` or `wss`.
    #[error("unsupported scheme {0:?} (http, https, ws or wss)")]
    UnsupportedScheme(String),
    /// The URL has no host.
    #[error("the URL has no host")]
    NoHost,
}

/// Where the channel socket is: Sente's `:protocol`, `:host`, `:port` and
/// path (PROTOCOL.md §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https`/`wss` rather than `http`/`ws`.
    pub secure: bool,
    /// `host` or `host:port`.
    pub authority: String,
    /// The path, starting with exactly one `/`.
    pub path: String,
    /// Query parameters already in the URL, sent before the others.
    pub query: Vec<(String, String)>,
}

impl Endpoint {
    /// Parses `http://host:port/path?query` (or `https`, `ws`, `wss`).
    ///
    /// # Errors
    /// [`UrlError`] when it is not such a URL.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let uri: http::Uri = url.parse().map_err(|_| UrlError::Invalid(url.into()))?;
        let secure = match uri.scheme_str() {
            Some("http" | "ws") => false,
            Some("https" | "wss") => true,
            Some(other) => return Err(UrlError::UnsupportedScheme(other.into())),
            None => return Err(UrlError::Invalid(url.into())),
        };
        let authority = uri.authority().ok_or(UrlError::NoHost)?;
        if authority.host().is_empty() {
            return Err(UrlError::NoHost);
        }
        // Without any `user:password@`: it belongs in no request line or Host.
        let authority = match authority.port() {
            Some(port) => format!("{}:{port}", authority.host()),
            None => authority.host().to_owned(),
        };
        let query = uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        Ok(Self {
            secure,
            authority,
            path: normalize_path(uri.path()),
            query,
        })
    }

    /// From parts: `protocol` is `"http"`, `"https"`, `"http:"` or
    /// `"https:"` (`ws`/`wss` too); the port is added to the host when given.
    ///
    /// # Errors
    /// [`UrlError`] when the parts do not make a URL.
    pub fn from_parts(
        protocol: &str,
        host: &str,
        port: Option<u16>,
        path: &str,
    ) -> Result<Self, UrlError> {
        let scheme = protocol.trim_end_matches(':');
        let authority = match port {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        Self::parse(&format!("{scheme}://{authority}{}", normalize_path(path)))
    }

    /// The WebSocket URL with this query string: `ws://` or `wss://`.
    pub fn ws_url(&self, query: &str) -> String {
        let scheme = if self.secure { "wss" } else { "ws" };
        self.url(scheme, query)
    }

    /// The Ajax URL with this query string: `http://` or `https://`.
    pub fn ajax_url(&self, query: &str) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        self.url(scheme, query)
    }

    fn url(&self, scheme: &str, query: &str) -> String {
        let sep = if query.is_empty() { "" } else { "?" };
        format!("{scheme}://{}{}{sep}{query}", self.authority, self.path)
    }
}

/// One leading `/`, however many were given.
fn normalize_path(path: &str) -> String {
    format!("/{}", path.trim_start_matches('/'))
}

/// The async client's options: start from [`new`](Self::new) with the
/// URL (or [`ChannelSocketClient::builder`](super::ChannelSocketClient::builder)),
/// chain a setter per option to change, then give them to
/// [`ChannelSocketClient::new`](super::ChannelSocketClient::new), or call
/// [`build`](Self::build) for a client on smol with the EDN packer.
///
/// | option | default | Sente's |
/// |---|---|---|
/// | [`endpoint`](Self::endpoint) | from the URL given to [`new`](Self::new) | the path, `:protocol`, `:host`, `:port` |
/// | [`config`](Self::config), or one at a time: [`chsk_type`](Self::chsk_type), [`client_id`](Self::client_id), [`ws_kalive`](Self::ws_kalive), [`ws_ping_timeout`](Self::ws_ping_timeout), [`ajax_timeout`](Self::ajax_timeout), [`backoff`](Self::backoff), [`max_pending_callbacks`](Self::max_pending_callbacks), [`wrap_recv_evs`](Self::wrap_recv_evs), [`bad_conn_rate`](Self::bad_conn_rate), [`rng_seed`](Self::rng_seed) | [`ClientConfig::default`] | `:type`, `:client-id`, `:ws-kalive-ms`, … |
/// | [`csrf_token`](Self::csrf_token) / [`csrf_token_fn`](Self::csrf_token_fn) | none | `?csrf-token-or-fn` |
/// | [`param`](Self::param) | none | `:params` (ws URL and Ajax GETs, not POSTs) |
/// | [`header`](Self::header) | none | `:headers` (here also on Ajax requests) |
/// | [`recv_buffer`](Self::recv_buffer) | 1024 events, then backpressure | `:recv-buf-or-n` (a sliding 2048 that drops) |
/// | [`max_message_size`](Self::max_message_size) | 1 MiB | — (WebSocket messages and Ajax bodies from the server) |
/// | [`max_queued_frames`](Self::max_queued_frames) | 1024 | — (frames waiting to be written) |
/// | [`connect_timeout`](Self::connect_timeout) | 10 s | — (TCP connect + WebSocket upgrade) |
#[derive(Clone)]
pub struct ClientOptions {
    /// Where the channel socket is.
    pub(crate) endpoint: Endpoint,
    /// The protocol options of the client core.
    pub(crate) config: ClientConfig,
    pub(crate) csrf_token: Option<CsrfTokenFn>,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) headers: http::HeaderMap,
    /// Events buffered for the application before the client stops reading
    /// from the server (backpressure, nothing is dropped). At least 1.
    pub(crate) recv_buffer: usize,
    /// The largest WebSocket message or Ajax response body accepted from
    /// the server, in bytes. A larger WebSocket message closes the socket
    /// (then the client reconnects); a larger Ajax body fails the request.
    pub(crate) max_message_size: usize,
    /// Frames waiting to be written to the WebSocket. Beyond it a send
    /// fails as a WebSocket send error (the client reconnects).
    pub(crate) max_queued_frames: usize,
    /// How long opening a WebSocket (TCP connect and upgrade) may take.
    pub(crate) connect_timeout: Duration,
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("endpoint", &self.endpoint)
            .field("config", &self.config)
            .field("csrf_token", &self.csrf_token.is_some())
            .field("params", &self.params)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("recv_buffer", &self.recv_buffer)
            .field("max_message_size", &self.max_message_size)
            .field("max_queued_frames", &self.max_queued_frames)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl ClientOptions {
    /// Options for the channel socket at `url` (`http://host:port/chsk`;
    /// `https`, `ws` and `wss` work too), with every other option at its
    /// default.
    ///
    /// ```
    /// use sente::client::{ChskType, ClientOptions};
    /// let opts = ClientOptions::new("http://127.0.0.1:8080/chsk")
    ///     .unwrap()
    ///     .chsk_type(ChskType::Ws)
    ///     .csrf_token("t0k3n")
    ///     .param("room", "lobby");
    /// assert_eq!(opts.endpoint().path, "/chsk");
    /// ```
    ///
    /// # Errors
    /// [`UrlError`] when `url` is not such a URL.
    pub fn new(url: &str) -> Result<Self, UrlError> {
        Ok(Self::with_endpoint(Endpoint::parse(url)?))
    }

    /// Options for this endpoint, every other option at its default.
    pub fn with_endpoint(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            config: ClientConfig::default(),
            csrf_token: None,
            params: Vec::new(),
            headers: http::HeaderMap::new(),
            recv_buffer: 1024,
            max_message_size: 1 << 20,
            max_queued_frames: 1024,
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// Where the channel socket is.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Makes the client with these options on smol
    /// ([`SmolRuntime`](crate::runtimes::smol::SmolRuntime) and
    /// [`SmolClientTransport`](crate::runtimes::smol::SmolClientTransport))
    /// with the EDN packer, Sente's default, and the stream of its events.
    /// It does not connect: call
    /// [`connect`](super::ChannelSocketClient::connect). The short form of
    /// [`ChannelSocketClient::new`](super::ChannelSocketClient::new) (use
    /// that for another runtime, packer or transport).
    ///
    /// # Errors
    /// [`ConfigError`](super::ConfigError) when the protocol configuration
    /// cannot work (a blank client id, a zero timeout, …).
    #[cfg(all(feature = "smol", feature = "edn"))]
    pub fn build(
        self,
    ) -> Result<(super::ChannelSocketClient, super::ClientEvents), super::ConfigError> {
        super::ChannelSocketClient::new(
            crate::runtimes::smol::SmolRuntime,
            crate::packer::EdnPacker::new(),
            crate::runtimes::smol::SmolClientTransport::new(),
            self,
        )
    }

    /// Replaces the core's configuration at once (keep its `client_id`
    /// non-blank); the setters below change one option of it.
    #[must_use]
    pub fn config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    crate::setters::config_setters! { "ClientConfig";
        chsk_type: ChskType;
        ws_kalive: Option<Duration>;
        ws_ping_timeout: Duration;
        ajax_timeout: Duration;
        max_pending_callbacks: usize;
        wrap_recv_evs: bool;
        bad_conn_rate: f64;
        rng_seed: u64;
    }

    /// Sets [`ClientConfig::client_id`] (see there).
    #[must_use]
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.config = self.config.client_id(client_id);
        self
    }

    /// Sets [`ClientConfig::backoff`] (see there).
    #[must_use]
    pub fn backoff(
        mut self,
        f: impl Fn(u32, &mut dyn FnMut() -> f64) -> Duration + Send + Sync + 'static,
    ) -> Self {
        self.config = self.config.backoff(f);
        self
    }

    /// Sets how many events are buffered for the application before the
    /// client stops reading from the server (backpressure, nothing is
    /// dropped; default 1024, 0 counts as 1).
    #[must_use]
    pub fn recv_buffer(mut self, events: usize) -> Self {
        self.recv_buffer = events;
        self
    }

    /// Sets the largest WebSocket message or Ajax response body accepted
    /// from the server, in bytes (default 1 MiB). A larger WebSocket
    /// message closes the socket (then the client reconnects); a larger
    /// Ajax body fails the request.
    #[must_use]
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sets how many frames may wait to be written to the WebSocket
    /// (default 1024). Beyond it a send fails as a WebSocket send error
    /// (the client reconnects).
    #[must_use]
    pub fn max_queued_frames(mut self, frames: usize) -> Self {
        self.max_queued_frames = frames;
        self
    }

    /// Sets how long opening a WebSocket (TCP connect and upgrade) may
    /// take (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// A fixed CSRF token: `csrf-token` on the WebSocket URL, the
    /// `x-csrf-token` header on Ajax requests. A blank token is none.
    pub fn csrf_token(self, token: impl Into<String>) -> Self {
        let token: String = token.into();
        self.csrf_token_fn(move || Some(token.clone()))
    }

    /// A CSRF token function, called on every connect and every send.
    pub fn csrf_token_fn(mut self, f: impl Fn() -> Option<String> + Send + Sync + 'static) -> Self {
        self.csrf_token = Some(Arc::new(f));
        self
    }

    /// Adds a query parameter to the WebSocket URL and the Ajax GETs (not
    /// the POSTs, as in Sente 1.21+). Sente's own parameters override one
    /// of the same name.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// Adds a header to the WebSocket upgrade request and to every Ajax
    /// request. The WebSocket handshake's own headers (`Host`, `Upgrade`,
    /// `Connection`, `Sec-WebSocket-Key`, `Sec-WebSocket-Version`) cannot be
    /// replaced.
    pub fn header(mut self, name: http::HeaderName, value: http::HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The current CSRF token, `None` when there is none or it is blank.
    pub fn current_csrf_token(&self) -> Option<String> {
        let token = self.csrf_token.as_ref().and_then(|f| f())?;
        if token.trim().is_empty() {
            tracing::warn!("the CSRF token function returned a blank token");
            return None;
        }
        Some(token)
    }

    /// The extra query parameters: the URL's own, then [`param`](Self::param)'s.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.endpoint
            .query
            .iter()
            .chain(&self.params)
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The extra headers.
    pub fn headers(&self) -> &http::HeaderMap {
        &self.headers
    }
}
