//! The client transport on smol: WebSockets with async-tungstenite, Ajax
//! requests with hyper's HTTP/1.1 client, over plain TCP.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::Message;
use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use bytes::Bytes;
use futures_util::{Sink, Stream};
use http_body_util::{BodyExt, Full, Limited};
use smol::net::TcpStream;
use smol_hyper::rt::FuturesIo;

use crate::channel::{ChannelError, Outbound};
use crate::client::{
    AjaxError, AjaxRequest, AjaxResponse, ClientTransport, ClientWebSocket, WsIncoming, WsRequest,
};
use crate::packer::Packed;
use crate::runtime::BoxFuture;

/// Opens WebSockets (async-tungstenite) and performs Ajax requests (hyper's
/// HTTP/1.1 client) on smol, with `TCP_NODELAY`. Ajax connections are kept
/// alive and reused (at most [`MAX_IDLE_CONNECTIONS`] idle ones are kept).
///
/// Plain `ws://` and `http://` only: `wss`/`https` URLs fail (no TLS
/// stack is built in).
#[derive(Debug, Clone, Default)]
pub struct SmolClientTransport {
    idle: Arc<Mutex<Vec<IdleConnection>>>,
}

/// The most idle Ajax connections a transport keeps for reuse.
pub const MAX_IDLE_CONNECTIONS: usize = 8;

/// An HTTP/1.1 connection between requests, with the task that drives it.
#[derive(Debug)]
struct IdleConnection {
    host: String,
    port: u16,
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    /// Drives the connection; dropping it closes the connection.
    _driver: smol::Task<()>,
}

impl SmolClientTransport {
    /// The transport.
    pub fn new() -> Self {
        Self::default()
    }

    /// A live idle connection to `host:port`, if one is kept.
    fn take_idle(&self, host: &str, port: u16) -> Option<IdleConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.retain(|c| !c.sender.is_closed());
        let i = idle
            .iter()
            .position(|c| c.host == host && c.port == port && c.sender.is_ready())?;
        Some(idle.swap_remove(i))
    }

    fn put_idle(&self, conn: IdleConnection) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE_CONNECTIONS && !conn.sender.is_closed() {
            idle.push(conn);
        }
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

/// Host and port of a plain (`ws`/`http`) URI.
fn plain_host_port(uri: &http::Uri, plain: &str) -> Result<(String, u16), String> {
    match uri.scheme_str() {
        Some(s) if s == plain => {}
        Some(s) => return Err(format!("{s}:// is not supported (no TLS): use {plain}://")),
        None => return Err(format!("{uri} has no scheme")),
    }
    let host = uri.host().ok_or_else(|| format!("{uri} has no host"))?;
    // An IPv6 literal comes bracketed.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((host.to_owned(), uri.port_u16().unwrap_or(80)))
}

async fn tcp_connect(host: &str, port: u16) -> io::Result<TcpStream> {
    let stream = TcpStream::connect((host, port)).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// `fut`, or `on_timeout` after `timeout`.
async fn within<T>(timeout: Duration, on_timeout: T, fut: impl Future<Output = T>) -> T {
    smol::future::or(fut, async {
        smol::Timer::after(timeout).await;
        on_timeout
    })
    .await
}

impl ClientTransport for SmolClientTransport {
    fn connect_ws(
        &self,
        request: WsRequest,
    ) -> BoxFuture<Result<Box<dyn ClientWebSocket>, ChannelError>> {
        let timeout = request.connect_timeout;
        Box::pin(within(
            timeout,
            Err(channel_error("the WebSocket connection timed out")),
            open_ws(request),
        ))
    }

    fn ajax(&self, request: AjaxRequest) -> BoxFuture<Result<AjaxResponse, AjaxError>> {
        let timeout = request.timeout;
        Box::pin(within(
            timeout,
            Err(AjaxError::Timeout),
            perform(self.clone(), request),
        ))
    }
}

async fn open_ws(request: WsRequest) -> Result<Box<dyn ClientWebSocket>, ChannelError> {
    let uri = request.request.uri().clone();
    let (host, port) = plain_host_port(&uri, "ws").map_err(channel_error)?;
    let stream = tcp_connect(&host, port).await.map_err(ChannelError::new)?;
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

async fn open_http(host: &str, port: u16) -> Result<IdleConnection, AjaxError> {
    let network = |e: &dyn std::fmt::Display| AjaxError::Network(e.to_string());
    let stream = tcp_connect(host, port).await.map_err(|e| network(&e))?;
    let (sender, conn) = hyper::client::conn::http1::handshake(FuturesIo::new(stream))
        .await
        .map_err(|e| network(&e))?;
    // Dropped with the connection: an aborted request closes it.
    let driver = smol::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "client HTTP connection ended with an error");
        }
    });
    Ok(IdleConnection {
        host: host.to_owned(),
        port,
        sender,
        _driver: driver,
    })
}

async fn perform(
    transport: SmolClientTransport,
    request: AjaxRequest,
) -> Result<AjaxResponse, AjaxError> {
    let network = |e: &dyn std::fmt::Display| AjaxError::Network(e.to_string());
    let (mut parts, body) = request.request.into_parts();
    let (host, port) = plain_host_port(&parts.uri, "http").map_err(|e| network(&e))?;
    if !parts.headers.contains_key(http::header::HOST) {
        let authority = parts.uri.authority().map(|a| a.as_str()).unwrap_or(&host);
        let value = http::HeaderValue::from_str(authority).map_err(|e| network(&e))?;
        parts.headers.insert(http::header::HOST, value);
    }
    // HTTP/1.1 to an origin server: the request target in origin-form.
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = target.parse().map_err(|e| network(&e))?;
    let mut conn = match transport.take_idle(&host, port) {
        Some(c) => c,
        None => open_http(&host, port).await?,
    };
    let req = hyper::Request::from_parts(parts, Full::new(Bytes::from(body)));
    let resp = conn
        .sender
        .send_request(req)
        .await
        .map_err(|e| network(&e))?;
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
    transport.put_idle(conn);
    Ok(AjaxResponse { status, body })
}

/// A client WebSocket: tungstenite messages as [`WsIncoming`], with the
/// server adapter's sink of [`Outbound`] frames.
#[derive(Debug)]
struct TungsteniteClient<S>(WebSocketStream<S>);

impl<S: futures_util::AsyncRead + futures_util::AsyncWrite + Unpin> Stream
    for TungsteniteClient<S>
{
    type Item = Result<WsIncoming, ChannelError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let ws: &mut WebSocketStream<S> = &mut self.0;
        loop {
            let msg = match Pin::new(&mut *ws).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(ChannelError::new(e)))),
                Poll::Ready(Some(Ok(m))) => m,
            };
            let incoming = match msg {
                Message::Text(t) => WsIncoming::Message(Packed::Text(t.as_str().to_owned())),
                Message::Binary(b) => WsIncoming::Message(Packed::Binary(b.to_vec())),
                Message::Close(frame) => match frame {
                    Some(f) => WsIncoming::Closed {
                        code: f.code.into(),
                        reason: f.reason.as_str().to_owned(),
                    },
                    None => WsIncoming::Closed {
                        code: 1005,
                        reason: String::new(),
                    },
                },
                // tungstenite answers pings itself.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            };
            return Poll::Ready(Some(Ok(incoming)));
        }
    }
}

impl<S: futures_util::AsyncRead + futures_util::AsyncWrite + Unpin> Sink<Outbound>
    for TungsteniteClient<S>
{
    type Error = ChannelError;

    fn poll_ready(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ChannelError>> {
        Pin::new(&mut self.0)
            .poll_ready(cx)
            .map_err(ChannelError::new)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Outbound) -> Result<(), ChannelError> {
        let msg = match item {
            Outbound::Message(p) => match Arc::try_unwrap(p) {
                Ok(Packed::Text(s)) => Message::text(s),
                Ok(Packed::Binary(b)) => Message::binary(b),
                Err(shared) => match &*shared {
                    Packed::Text(s) => Message::text(s.as_str()),
                    Packed::Binary(b) => Message::binary(b.clone()),
                },
            },
            Outbound::Close { code, reason } => Message::Close(Some(CloseFrame {
                code: code.into(),
                reason: reason.into(),
            })),
        };
        Pin::new(&mut self.0)
            .start_send(msg)
            .map_err(ChannelError::new)
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ChannelError>> {
        Pin::new(&mut self.0)
            .poll_flush(cx)
            .map_err(ChannelError::new)
    }

    fn poll_close(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ChannelError>> {
        Pin::new(&mut self.0)
            .poll_close(cx)
            .map_err(ChannelError::new)
    }
}
