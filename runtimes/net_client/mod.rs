//! The native client's transport, written once for every runtime: WebSockets
//! with async-tungstenite, Ajax requests with hyper's HTTP/1.1 client, over
//! TCP with `TCP_NODELAY`, and (with the `tls` feature) TLS on rustls over
//! it. A runtime brings only a [`Net`]: how to connect, spawn and sleep.

mod stream;
#[cfg(feature = "tls")]
pub(crate) mod tls;
mod ws;

use std::fmt;
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::protocol::WebSocketConfig;
use bytes::Bytes;
use futures_util::io::{AsyncRead, AsyncWrite};
use http_body_util::{BodyExt, Full, Limited};

use crate::channel::ChannelError;
use crate::client::{
    AjaxError, AjaxRequest, AjaxResponse, ClientTransport, ClientWebSocket, WsRequest,
};
use crate::runtime::BoxFuture;
use crate::runtimes::hyper_io::FuturesIo;
use stream::MaybeTls;
use ws::TungsteniteClient;

/// What the transport needs from a runtime.
pub(crate) trait Net: Clone + Send + Sync + fmt::Debug + 'static {
    /// A connected TCP stream.
    type Tcp: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// A spawned task; dropping it ends the task.
    type Task: Send + fmt::Debug + 'static;

    /// Connects to `host:port` with `TCP_NODELAY`.
    fn connect(&self, host: String, port: u16) -> BoxFuture<io::Result<Self::Tcp>>;

    /// Runs `task` until it ends or the handle is dropped.
    fn spawn(&self, task: BoxFuture<()>) -> io::Result<Self::Task>;

    /// Completes after `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<()>;
}

/// The most idle Ajax connections a transport keeps for reuse.
pub const MAX_IDLE_CONNECTIONS: usize = 8;

/// Where a connection goes: TLS or not, host, port.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    secure: bool,
    host: String,
    port: u16,
}

/// An HTTP/1.1 connection between requests, with the task that drives it.
#[derive(Debug)]
struct IdleConnection<N: Net> {
    origin: Origin,
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    /// Drives the connection; dropping it closes the connection.
    _driver: N::Task,
}

/// The transport on runtime `N`.
#[derive(Debug, Clone)]
pub(crate) struct NetTransport<N: Net> {
    net: N,
    idle: Arc<Mutex<Vec<IdleConnection<N>>>>,
    #[cfg(feature = "tls")]
    tls: tls::Tls,
}

impl<N: Net> NetTransport<N> {
    pub(crate) fn new(net: N) -> Self {
        Self {
            net,
            idle: Arc::default(),
            #[cfg(feature = "tls")]
            tls: tls::Tls::default(),
        }
    }

    #[cfg(feature = "tls")]
    pub(crate) fn with_tls(mut self, tls: tls::Tls) -> Self {
        self.tls = tls;
        self
    }

    /// A live idle connection to `origin`, if one is kept.
    fn take_idle(&self, origin: &Origin) -> Option<IdleConnection<N>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.retain(|c| !c.sender.is_closed());
        let i = idle
            .iter()
            .position(|c| c.origin == *origin && c.sender.is_ready())?;
        Some(idle.swap_remove(i))
    }

    fn put_idle(&self, conn: IdleConnection<N>) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE_CONNECTIONS && !conn.sender.is_closed() {
            idle.push(conn);
        }
    }

    /// `fut`, or `on_timeout` after `timeout`.
    async fn within<T>(&self, timeout: Duration, on_timeout: T, fut: impl Future<Output = T>) -> T {
        use futures_util::future::{Either, select};
        match select(std::pin::pin!(fut), self.net.sleep(timeout)).await {
            Either::Left((out, _)) => out,
            Either::Right(((), _)) => on_timeout,
        }
    }

    /// A connection to `origin`: TCP, then TLS for a secure one.
    async fn open_stream(&self, origin: &Origin) -> Result<MaybeTls<N::Tcp>, String> {
        let tcp = self
            .net
            .connect(origin.host.clone(), origin.port)
            .await
            .map_err(|e| format!("connecting to {}:{} failed: {e}", origin.host, origin.port))?;
        if !origin.secure {
            return Ok(MaybeTls::Plain(tcp));
        }
        #[cfg(feature = "tls")]
        {
            let session = self.tls.connect(&origin.host, tcp).await?;
            Ok(MaybeTls::Tls(Box::new(session)))
        }
        #[cfg(not(feature = "tls"))]
        Err("TLS (wss://, https://) needs sente's `tls` feature".to_owned())
    }

    async fn open_ws(&self, request: WsRequest) -> Result<Box<dyn ClientWebSocket>, ChannelError> {
        let uri = request.request.uri().clone();
        let origin = origin_of(&uri, "ws", "wss").map_err(channel_error)?;
        let stream = self.open_stream(&origin).await.map_err(channel_error)?;
        let mut upgrade = uri.into_client_request().map_err(ChannelError::new)?;
        for (name, value) in request.request.headers() {
            if !WS_HANDSHAKE_HEADERS.contains(&name.as_str()) {
                upgrade.headers_mut().append(name.clone(), value.clone());
            }
        }
        let max = request.max_message_size;
        let config = WebSocketConfig::default()
            .max_message_size(Some(max))
            .max_frame_size(Some(max));
        let (ws, _response) =
            async_tungstenite::client_async_with_config(upgrade, stream, Some(config))
                .await
                .map_err(ChannelError::new)?;
        Ok(Box::new(TungsteniteClient(ws)))
    }

    async fn open_http(&self, origin: Origin) -> Result<IdleConnection<N>, AjaxError> {
        let network = |e: &dyn fmt::Display| AjaxError::Network(e.to_string());
        let stream = self
            .open_stream(&origin)
            .await
            .map_err(AjaxError::Network)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(FuturesIo(stream))
            .await
            .map_err(|e| network(&e))?;
        // Dropped with the connection: an aborted request closes it.
        let driver = self
            .net
            .spawn(Box::pin(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "client HTTP connection ended with an error");
                }
            }))
            .map_err(|e| network(&e))?;
        Ok(IdleConnection {
            origin,
            sender,
            _driver: driver,
        })
    }

    async fn perform(&self, request: AjaxRequest) -> Result<AjaxResponse, AjaxError> {
        let network = |e: &dyn fmt::Display| AjaxError::Network(e.to_string());
        let (mut parts, body) = request.request.into_parts();
        let origin = origin_of(&parts.uri, "http", "https").map_err(|e| network(&e))?;
        if !parts.headers.contains_key(http::header::HOST) {
            let authority = parts
                .uri
                .authority()
                .map(|a| a.as_str())
                .unwrap_or(&origin.host);
            let value = http::HeaderValue::from_str(authority).map_err(|e| network(&e))?;
            parts.headers.insert(http::header::HOST, value);
        }
        // HTTP/1.1 to an origin server: the request target in origin-form.
        let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        parts.uri = target.parse().map_err(|e| network(&e))?;
        let body = Bytes::from(body);
        let request_again = |parts: &http::request::Parts| {
            let mut req = hyper::Request::new(Full::new(body.clone()));
            *req.method_mut() = parts.method.clone();
            *req.uri_mut() = parts.uri.clone();
            *req.version_mut() = parts.version;
            *req.headers_mut() = parts.headers.clone();
            req
        };
        let (mut conn, reused) = match self.take_idle(&origin) {
            Some(c) => (c, true),
            None => (self.open_http(origin.clone()).await?, false),
        };
        let resp = match conn.sender.send_request(request_again(&parts)).await {
            Ok(resp) => resp,
            // A kept connection the server or a balancer had closed (its
            // idle timeout) fails before any answer: once more on a new
            // connection, as browsers do.
            Err(e) if reused => {
                tracing::debug!(error = %e, "a kept HTTP connection failed; retrying on a new one");
                conn = self.open_http(origin).await?;
                conn.sender
                    .send_request(request_again(&parts))
                    .await
                    .map_err(|e| network(&e))?
            }
            Err(e) => return Err(network(&e)),
        };
        let status = resp.status().as_u16();
        let max = request.max_response_size;
        let body = match Limited::new(resp.into_body(), max).collect().await {
            Ok(b) => b.to_bytes().to_vec(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(AjaxError::Network(format!(
                    "the response body is larger than {max} bytes"
                )));
            }
            Err(e) => return Err(network(&e)),
        };
        // The whole response was read: the connection can carry the next request.
        self.put_idle(conn);
        Ok(AjaxResponse { status, body })
    }
}

impl<N: Net> ClientTransport for NetTransport<N> {
    fn connect_ws(
        &self,
        request: WsRequest,
    ) -> BoxFuture<Result<Box<dyn ClientWebSocket>, ChannelError>> {
        let this = self.clone();
        Box::pin(async move {
            let timeout = request.connect_timeout;
            this.within(
                timeout,
                Err(channel_error("the WebSocket connection timed out")),
                this.open_ws(request),
            )
            .await
        })
    }

    fn ajax(&self, request: AjaxRequest) -> BoxFuture<Result<AjaxResponse, AjaxError>> {
        let this = self.clone();
        Box::pin(async move {
            let timeout = request.timeout;
            this.within(timeout, Err(AjaxError::Timeout), this.perform(request))
                .await
        })
    }
}

/// The handshake headers tungstenite writes itself.
const WS_HANDSHAKE_HEADERS: [&str; 5] = [
    "host",
    "connection",
    "upgrade",
    "sec-websocket-version",
    "sec-websocket-key",
];

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct TransportError(String);

fn channel_error(text: impl Into<String>) -> ChannelError {
    ChannelError::new(TransportError(text.into()))
}

/// Where `uri` goes: `plain` or `secure` scheme, host, port (80 or 443 by
/// default).
fn origin_of(uri: &http::Uri, plain: &str, secure: &str) -> Result<Origin, String> {
    let secure = match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case(plain) => false,
        Some(s) if s.eq_ignore_ascii_case(secure) => true,
        Some(s) => {
            return Err(format!(
                "{s}:// is not supported: use {plain}:// or {secure}://"
            ));
        }
        None => return Err(format!("{uri} has no scheme")),
    };
    let host = uri.host().ok_or_else(|| format!("{uri} has no host"))?;
    // An IPv6 literal comes bracketed.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    Ok(Origin {
        secure,
        host: host.to_owned(),
        port,
    })
}

/// What every runtime's transport type (a struct whose `inner` is a
/// [`NetTransport`]) has alike: the TLS settings and [`ClientTransport`].
macro_rules! net_transport_api {
    ($transport:ty) => {
        impl $transport {
            /// Trusts these root certificates for `wss://` and `https://`
            /// instead of the platform's.
            #[cfg(feature = "tls")]
            pub fn with_tls_roots(self, roots: rustls::RootCertStore) -> Self {
                Self {
                    inner: self
                        .inner
                        .with_tls(crate::runtimes::net_client::tls::Tls::roots(roots)),
                }
            }

            /// Uses this rustls configuration, as it is, for `wss://` and
            /// `https://` (client certificates, custom verification, ALPN, …).
            #[cfg(feature = "tls")]
            pub fn with_tls_config(self, config: std::sync::Arc<rustls::ClientConfig>) -> Self {
                Self {
                    inner: self
                        .inner
                        .with_tls(crate::runtimes::net_client::tls::Tls::config(config)),
                }
            }
        }

        impl crate::client::ClientTransport for $transport {
            fn connect_ws(
                &self,
                request: crate::client::WsRequest,
            ) -> crate::runtime::BoxFuture<
                Result<Box<dyn crate::client::ClientWebSocket>, crate::channel::ChannelError>,
            > {
                self.inner.connect_ws(request)
            }

            fn ajax(
                &self,
                request: crate::client::AjaxRequest,
            ) -> crate::runtime::BoxFuture<
                Result<crate::client::AjaxResponse, crate::client::AjaxError>,
            > {
                self.inner.ajax(request)
            }
        }
    };
}

pub(crate) use net_transport_api;
