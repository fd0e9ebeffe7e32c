//! The client transport on smol: the shared transport (WebSockets with
//! async-tungstenite, Ajax with hyper's HTTP/1.1 client, TLS with the
//! `tls` feature) on smol's sockets, tasks and timers.

use std::io;
use std::time::Duration;

use smol::net::TcpStream;

use crate::channel::ChannelError;
use crate::client::{
    AjaxError, AjaxRequest, AjaxResponse, ClientTransport, ClientWebSocket, WsRequest,
};
use crate::runtime::BoxFuture;
use crate::runtimes::net_client::{Net, NetTransport};

/// smol's sockets, tasks and timers.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SmolNet;

impl Net for SmolNet {
    type Tcp = TcpStream;
    type Task = smol::Task<()>;

    fn connect(&self, host: String, port: u16) -> BoxFuture<io::Result<TcpStream>> {
        Box::pin(async move {
            let stream = TcpStream::connect((host.as_str(), port)).await?;
            stream.set_nodelay(true)?;
            Ok(stream)
        })
    }

    fn spawn(&self, task: BoxFuture<()>) -> io::Result<smol::Task<()>> {
        Ok(smol::spawn(task))
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        Box::pin(async move {
            smol::Timer::after(duration).await;
        })
    }
}

/// Opens WebSockets (async-tungstenite) and performs Ajax requests (hyper's
/// HTTP/1.1 client) on smol, with `TCP_NODELAY`. Ajax connections are kept
/// alive and reused (at most [`MAX_IDLE_CONNECTIONS`] idle ones are kept).
///
/// `ws://` and `http://`; with the `tls` feature also `wss://` and
/// `https://`, checked against the platform's root certificates unless
/// [`with_tls_roots`](Self::with_tls_roots) or
/// [`with_tls_config`](Self::with_tls_config) says otherwise. Without the
/// feature a secure URL fails to connect with an error saying so.
///
/// [`MAX_IDLE_CONNECTIONS`]: crate::runtimes::smol::MAX_IDLE_CONNECTIONS
#[derive(Debug, Clone)]
pub struct SmolClientTransport {
    inner: NetTransport<SmolNet>,
}

impl Default for SmolClientTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl SmolClientTransport {
    /// The transport.
    pub fn new() -> Self {
        Self {
            inner: NetTransport::new(SmolNet),
        }
    }

    /// Trusts these root certificates for `wss://` and `https://` instead
    /// of the platform's.
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

impl ClientTransport for SmolClientTransport {
    fn connect_ws(
        &self,
        request: WsRequest,
    ) -> BoxFuture<Result<Box<dyn ClientWebSocket>, ChannelError>> {
        self.inner.connect_ws(request)
    }

    fn ajax(&self, request: AjaxRequest) -> BoxFuture<Result<AjaxResponse, AjaxError>> {
        self.inner.ajax(request)
    }
}
