//! What a web server must offer the channel-socket server: Sente's
//! `IServerChan` for WebSockets, as a neutral stream of incoming messages and
//! a sink of outgoing ones.
//!
//! An adapter (one per web framework, in `runtimes/`) upgrades the request,
//! wraps the framework's WebSocket in a [`ServerChannel`], and hands it to
//! [`ChannelSocketServer::serve_websocket`](crate::server::ChannelSocketServer::serve_websocket).
//! Ajax needs no channel: the neutral HTTP handlers answer `http` requests.

use std::sync::Arc;

use futures_util::{Sink, Stream};

use crate::codec::Packed;

/// A message from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A text or binary data message (control frames are the adapter's business).
    Message(Packed),
    /// The client closed the connection (a close frame, or end of stream).
    Closed,
}

/// A message to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// A data message: a text frame for [`Packed::Text`], binary for [`Packed::Binary`].
    Message(Arc<Packed>),
    /// Close the connection with this code and reason.
    Close {
        /// The close code (1000 for a normal close).
        code: u16,
        /// The reason text.
        reason: &'static str,
    },
}

/// Why a channel failed. The connection is then treated as closed.
#[derive(Debug, thiserror::Error)]
#[error("channel failed: {0}")]
pub struct ChannelError(pub Box<dyn std::error::Error + Send + Sync>);

impl ChannelError {
    /// Wraps any error.
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(e))
    }

    /// The close frame the server should answer with, when the channel
    /// failed because the client broke the WebSocket protocol (a
    /// [`ProtocolError`](crate::ws::ProtocolError): 1002, 1007 or 1009 and
    /// its reason); `None` for I/O errors and the like.
    pub fn close_code(&self) -> Option<(u16, &'static str)> {
        self.0
            .downcast_ref::<crate::ws::ProtocolError>()
            .map(|p| (p.code, p.reason))
    }
}

/// A server-side WebSocket as the channel-socket server sees it: a stream of
/// [`Inbound`] messages and a sink of [`Outbound`] ones.
///
/// The server drives both halves from one task, sends nothing after a
/// [`Outbound::Close`], and treats the end of the stream or any error as the
/// connection closing (exactly once).
pub trait ServerChannel:
    Stream<Item = Result<Inbound, ChannelError>>
    + Sink<Outbound, Error = ChannelError>
    + Send
    + Unpin
    + 'static
{
}

impl<T> ServerChannel for T where
    T: Stream<Item = Result<Inbound, ChannelError>>
        + Sink<Outbound, Error = ChannelError>
        + Send
        + Unpin
        + 'static
{
}
