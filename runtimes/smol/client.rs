//! The client transport on smol: the shared transport (WebSockets with
//! async-tungstenite, Ajax with hyper's HTTP/1.1 client, TLS with the
//! `tls` feature) on smol's sockets, tasks and timers.

use std::io;
use std::time::Duration;

use smol::net::TcpStream;

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
}

crate::runtimes::net_client::net_transport_api!(SmolClientTransport);
