//! The client transport on tokio: the shared transport (WebSockets with
//! async-tungstenite, Ajax with hyper's HTTP/1.1 client, TLS with the `tls`
//! feature: futures-rustls over the tokio socket) on a tokio runtime's
//! sockets, tasks and timers.

use std::io;
use std::time::Duration;

use hyper_util::rt::TokioIo;

use crate::runtime::BoxFuture;
use crate::runtimes::hyper_io::HyperIo;
use crate::runtimes::net_client::{Net, NetTransport};

/// A tokio runtime's sockets, tasks and timers, through its handle.
#[derive(Debug, Clone)]
pub(crate) struct TokioNet {
    handle: tokio::runtime::Handle,
}

/// A tokio task, aborted when dropped.
#[derive(Debug)]
pub(crate) struct AbortOnDrop<T = ()>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Net for TokioNet {
    /// tokio's socket, seen as futures-io (tokio → hyper → futures-io).
    type Tcp = HyperIo<TokioIo<tokio::net::TcpStream>>;
    type Task = AbortOnDrop;

    fn connect(&self, host: String, port: u16) -> BoxFuture<io::Result<Self::Tcp>> {
        // On the runtime's own reactor, whatever thread polls this.
        let connecting = self.handle.spawn(async move {
            let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
            stream.set_nodelay(true)?;
            Ok(HyperIo(TokioIo::new(stream)))
        });
        let connecting = AbortOnDrop(connecting);
        Box::pin(async move {
            let mut connecting = connecting;
            match (&mut connecting.0).await {
                Ok(result) => result,
                Err(e) => Err(io::Error::other(e)),
            }
        })
    }

    fn spawn(&self, task: BoxFuture<()>) -> io::Result<AbortOnDrop> {
        Ok(AbortOnDrop(self.handle.spawn(task)))
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        let _entered = self.handle.enter();
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Opens WebSockets (async-tungstenite) and performs Ajax requests (hyper's
/// HTTP/1.1 client) on tokio, with `TCP_NODELAY`: the transport of
/// [`SmolClientTransport`](crate::runtimes::smol::SmolClientTransport) on
/// a tokio runtime (same reuse of Ajax connections, same URLs: `ws://`,
/// `http://`, and with the `tls` feature `wss://`, `https://`).
///
/// The runtime must have its I/O and time drivers on (`enable_all`, as
/// `#[tokio::main]` does).
#[derive(Debug, Clone)]
pub struct TokioClientTransport {
    inner: NetTransport<TokioNet>,
}

impl TokioClientTransport {
    /// The transport on the runtime behind `handle`.
    pub fn new(handle: tokio::runtime::Handle) -> Self {
        Self {
            inner: NetTransport::new(TokioNet { handle }),
        }
    }

    /// The transport on the runtime the calling task or thread runs in.
    ///
    /// # Panics
    /// Outside a tokio runtime (use [`new`](Self::new) with a handle there).
    pub fn current() -> Self {
        Self::new(tokio::runtime::Handle::current())
    }
}

crate::runtimes::net_client::net_transport_api!(TokioClientTransport);
