//! What the async client needs from the network: open WebSockets and
//! perform Ajax requests. Runtime-neutral; the smol plug is
//! [`SmolClientTransport`](crate::runtimes::smol::SmolClientTransport).
//!
//! The driver ([`ChannelSocketClient`](super::ChannelSocketClient)) builds
//! every request — URLs, query strings, headers, bodies (PROTOCOL.md
//! §3.2–3.5) — and interprets every answer. A transport only moves bytes.

use std::fmt;
use std::time::Duration;

use futures_util::{Sink, Stream};

use super::types::AjaxError;
use crate::channel::{ChannelError, Outbound};
use crate::packer::Packed;
use crate::runtime::BoxFuture;

/// A message from the server on a client WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsIncoming {
    /// A text or binary data message (control frames are the transport's
    /// business: it answers pings itself).
    Message(Packed),
    /// The server's close frame: the close handshake completed (a clean
    /// close, as the browser's `wasClean`).
    Closed {
        /// The close code (1005 when the frame had none).
        code: u16,
        /// The reason text.
        reason: String,
    },
}

/// A client WebSocket as the driver sees it: a stream of [`WsIncoming`]
/// and a sink of [`Outbound`] frames.
///
/// The end of the stream without a close frame, or an error, counts as an
/// unclean close (code 1006). The driver drives both halves from one task
/// and sends nothing after an [`Outbound::Close`].
pub trait ClientWebSocket:
    Stream<Item = Result<WsIncoming, ChannelError>>
    + Sink<Outbound, Error = ChannelError>
    + Send
    + Unpin
    + 'static
{
}

impl<T> ClientWebSocket for T where
    T: Stream<Item = Result<WsIncoming, ChannelError>>
        + Sink<Outbound, Error = ChannelError>
        + Send
        + Unpin
        + 'static
{
}

/// A WebSocket to open.
#[derive(Debug)]
pub struct WsRequest {
    /// The upgrade request: the `ws://` or `wss://` URI with its query
    /// string, and the user's headers. The transport adds the WebSocket
    /// handshake headers (`Host`, `Upgrade`, `Sec-WebSocket-Key`, …).
    pub request: http::Request<()>,
    /// The largest message the client accepts from the server, in bytes.
    pub max_message_size: usize,
    /// How long the TCP connect and the upgrade may take together.
    pub connect_timeout: Duration,
}

/// An Ajax request to perform: a long-poll GET or an event POST.
#[derive(Debug)]
pub struct AjaxRequest {
    /// The request: method, absolute `http://` or `https://` URI with its
    /// query string, headers and body.
    pub request: http::Request<Vec<u8>>,
    /// How long the whole request may take, response body included.
    pub timeout: Duration,
    /// The largest response body accepted, in bytes; a larger one fails
    /// the request.
    pub max_response_size: usize,
}

/// The answer to an [`AjaxRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AjaxResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The whole body.
    pub body: Vec<u8>,
}

/// Opens client WebSockets and performs Ajax requests, on some runtime.
///
/// Implementations hold glue only: the protocol is the driver's.
pub trait ClientTransport: Send + Sync + fmt::Debug + 'static {
    /// Opens a WebSocket: connects, sends the upgrade request, checks the
    /// `101` answer.
    ///
    /// # Errors
    /// [`ChannelError`] when the connection or the upgrade fails (refused,
    /// timed out, an HTTP status other than 101, …); the driver reports it
    /// as a WebSocket error followed by an unclean close.
    fn connect_ws(
        &self,
        request: WsRequest,
    ) -> BoxFuture<Result<Box<dyn ClientWebSocket>, ChannelError>>;

    /// Performs an Ajax request and reads the whole response.
    ///
    /// # Errors
    /// [`AjaxError::Timeout`] past the request's timeout,
    /// [`AjaxError::Network`] when the connection fails or the body is
    /// larger than allowed. Non-2xx statuses are answers, not errors: the
    /// driver maps them.
    fn ajax(&self, request: AjaxRequest) -> BoxFuture<Result<AjaxResponse, AjaxError>>;
}

/// A shared transport is a transport: an `Arc<dyn ClientTransport>` can be
/// given wherever a transport is taken by value.
impl<T: ClientTransport + ?Sized> ClientTransport for std::sync::Arc<T> {
    fn connect_ws(
        &self,
        request: WsRequest,
    ) -> BoxFuture<Result<Box<dyn ClientWebSocket>, ChannelError>> {
        (**self).connect_ws(request)
    }

    fn ajax(&self, request: AjaxRequest) -> BoxFuture<Result<AjaxResponse, AjaxError>> {
        (**self).ajax(request)
    }
}
