//! The channel socket on a hyper 1.x HTTP/1.1 server driven by smol.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use smol::net::{TcpListener, TcpStream};
use smol_hyper::rt::{FuturesIo, SmolTimer};

use crate::runtimes::hyper_handler;
use crate::runtimes::hyper_io::{HyperIo, Reclaimed};
use crate::server::ChannelSocketServer;
use crate::ws::WsChannel;

/// The request type the server hands your handler.
pub type Request = hyper::Request<hyper::body::Incoming>;
/// The response body type.
pub type Body = Full<Bytes>;
/// The response type your handler returns.
pub type Response = hyper::Response<Body>;

/// Serves the channel socket for one request on its path: GET (WebSocket
/// upgrade, Ajax handshake or long-poll) and POST (Ajax events). Call it
/// from your own handler for the path you mount the channel socket at;
/// other methods get 405.
pub async fn handle(chsk: &ChannelSocketServer, req: Request) -> Response {
    let max = chsk.options().max_message_size;
    let server = chsk.clone();
    hyper_handler::handle(chsk, req, move |on_upgrade, accept| {
        // This task ends once the upgrade is through; the connection gets
        // a task of its own holding only its state.
        smol::spawn(async move {
            let upgraded = match on_upgrade.await {
                Ok(u) => u,
                Err(e) => return tracing::info!(error = %e, "WebSocket upgrade failed"),
            };
            // Take the TCP stream back from hyper when it is ours
            // (connections from `serve`): hyper's 8 KiB read buffer then
            // goes, instead of staying with every connection.
            match upgraded.downcast::<FuturesIo<TcpStream>>() {
                Ok(parts) => {
                    // Take `parts` apart: a partial move would keep hyper's
                    // read buffer for the connection's life.
                    let hyper::upgrade::Parts { io, read_buf, .. } = parts;
                    let io = Reclaimed::new(read_buf, io.into_inner());
                    smol::spawn(server.serve_websocket(accept, WsChannel::new(io, max))).detach();
                }
                Err(upgraded) => {
                    let io = HyperIo(upgraded);
                    smol::spawn(server.serve_websocket(accept, WsChannel::new(io, max))).detach();
                }
            }
        })
        .detach();
    })
    .await
}

/// The path [`listen`] serves the channel socket at: Sente's default, and
/// the clients' (`http://host:port/chsk`).
pub const DEFAULT_PATH: &str = "/chsk";

/// Binds `addr` and serves the channel socket at [`DEFAULT_PATH`]
/// (`/chsk`; other paths get 404) until the server
/// [shuts down](ChannelSocketServer::shutdown): [`serve_until`] with
/// [`handle`], for an application that needs no routes of its own.
///
/// ```no_run
/// use sente::server::{ChannelSocketServer, CsrfCheck};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (chsk, _events) = ChannelSocketServer::builder().csrf(CsrfCheck::Skip).build()?;
/// smol::block_on(sente::runtimes::smol::listen(&chsk, "127.0.0.1:8080"))?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// When `addr` cannot be bound (in use, not an address, no permission),
/// or as [`serve`] when the listener becomes unusable.
pub async fn listen(
    chsk: &ChannelSocketServer,
    addr: impl smol::net::AsyncToSocketAddrs,
) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    let server = chsk.clone();
    let handler = move |req: Request| {
        let chsk = server.clone();
        async move {
            if req.uri().path() == DEFAULT_PATH {
                handle(&chsk, req).await
            } else {
                let mut not_found = Response::new(Body::default());
                *not_found.status_mut() = hyper::StatusCode::NOT_FOUND;
                not_found
            }
        }
    };
    serve_until(listener, handler, chsk.on_shutdown()).await
}

/// Accepts connections on `listener` and serves each with HTTP/1.1 (with
/// upgrades) on smol, calling `handler` for every request. Sets
/// `TCP_NODELAY` on every connection.
///
/// A failed `accept` does not stop the server: an error of one connection
/// (aborted, reset) is skipped, and running out of resources (file
/// descriptors, memory, buffers) is logged and retried after a pause that
/// doubles from [`ACCEPT_BACKOFF_MIN`] up to [`ACCEPT_BACKOFF_MAX`], so the
/// server serves again as soon as connections close.
///
/// ```no_run
/// use sente::runtimes::smol::{self as chsk_smol, SmolRuntime};
/// use sente::server::{ChannelSocketServer, ServerOptions, CsrfCheck};
/// use sente::packer::EdnPacker;
///
/// # fn main() -> std::io::Result<()> {
/// smol::block_on(async {
///     let opts = ServerOptions::default().csrf(CsrfCheck::Skip);
///     let (chsk, events) = ChannelSocketServer::new(SmolRuntime, EdnPacker::new(), opts)
///         .expect("valid options");
///     smol::spawn(async move {
///         while let Ok(msg) = events.recv().await {
///             let _ = msg.reply(msg.data().clone());
///         }
///     })
///     .detach();
///     let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
///     chsk_smol::serve(listener, move |req| {
///         let chsk = chsk.clone();
///         async move {
///             if req.uri().path() == "/chsk" {
///                 chsk_smol::handle(&chsk, req).await
///             } else {
///                 hyper::Response::builder().status(404).body(Default::default()).unwrap()
///             }
///         }
///     })
///     .await
/// })
/// # }
/// ```
///
/// # Errors
/// Only when the listener itself is unusable (`accept` fails with
/// `InvalidInput`, e.g. a socket that is not listening).
pub async fn serve<H, F>(listener: TcpListener, handler: H) -> io::Result<()>
where
    H: Fn(Request) -> F + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    serve_until(listener, handler, std::future::pending()).await
}

/// [`serve`] until `stop` resolves, then stops accepting and returns
/// `Ok(())`; connections already accepted go on. With
/// [`ChannelSocketServer::on_shutdown`] as `stop`, a
/// [`shutdown`](ChannelSocketServer::shutdown) also stops the listener.
///
/// # Errors
/// As [`serve`].
pub async fn serve_until<H, F>(
    listener: TcpListener,
    handler: H,
    stop: impl Future<Output = ()>,
) -> io::Result<()>
where
    H: Fn(Request) -> F + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    serve_with(listener, handler, ServeOptions::default(), stop).await
}

/// The HTTP server's own bounds, for [`serve_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// How long a client may take to send a request's headers, counted
    /// from the connection's start or the end of the previous response
    /// (default 30 s). A connection past it is closed: slowloris clients
    /// and idle connections cannot hold descriptors forever.
    pub header_read_timeout: Duration,
    /// The most headers a request may carry (default 100; more is answered
    /// 431).
    pub max_headers: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            max_headers: 100,
        }
    }
}

/// [`serve_until`] with the HTTP server's bounds set by `options`.
///
/// # Errors
/// As [`serve`].
pub async fn serve_with<H, F>(
    listener: TcpListener,
    handler: H,
    options: ServeOptions,
    stop: impl Future<Output = ()>,
) -> io::Result<()>
where
    H: Fn(Request) -> F + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    let handler = Arc::new(handler);
    let mut backoff = ACCEPT_BACKOFF_MIN;
    let mut stop = std::pin::pin!(stop);
    loop {
        let accept = std::pin::pin!(listener.accept());
        let accepted = match futures_util::future::select(accept, stop.as_mut()).await {
            futures_util::future::Either::Left((accepted, _)) => accepted,
            futures_util::future::Either::Right(((), _)) => return Ok(()),
        };
        let stream = match accepted {
            Ok((stream, _peer)) => {
                backoff = ACCEPT_BACKOFF_MIN;
                stream
            }
            Err(e) => match accept_error_action(&e) {
                AcceptError::Skip => continue,
                AcceptError::Fatal => return Err(e),
                AcceptError::Pause => {
                    tracing::warn!(error = %e, pause_ms = backoff.as_millis() as u64, "accept failed; pausing");
                    smol::Timer::after(backoff).await;
                    backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        smol::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let fut = handler(req);
                async move { Ok::<_, std::convert::Infallible>(fut.await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(SmolTimer::new())
                .header_read_timeout(options.header_read_timeout)
                .max_headers(options.max_headers)
                .serve_connection(FuturesIo::new(stream), service)
                .with_upgrades();
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "HTTP connection ended with an error");
            }
        })
        .detach();
    }
}

/// The first pause after `accept` fails for want of resources.
pub const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
/// The longest pause between `accept` retries.
pub const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// What [`serve`] does after a failed `accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AcceptError {
    /// The error was one connection's: accept the next at once.
    Skip,
    /// Out of resources (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`, …): pause, retry.
    Pause,
    /// The listener is unusable.
    Fatal,
}

fn accept_error_action(e: &io::Error) -> AcceptError {
    use io::ErrorKind::*;
    match e.kind() {
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted | WouldBlock => {
            AcceptError::Skip
        }
        InvalidInput => AcceptError::Fatal,
        _ => AcceptError::Pause,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_errors_pause_skip_or_stop() {
        // EMFILE and ENFILE: out of file descriptors.
        assert_eq!(
            accept_error_action(&io::Error::from_raw_os_error(24)),
            AcceptError::Pause
        );
        assert_eq!(
            accept_error_action(&io::Error::from_raw_os_error(23)),
            AcceptError::Pause
        );
        assert_eq!(
            accept_error_action(&io::Error::from(io::ErrorKind::ConnectionAborted)),
            AcceptError::Skip
        );
        assert_eq!(
            accept_error_action(&io::Error::from(io::ErrorKind::InvalidInput)),
            AcceptError::Fatal
        );
    }
}
