//! An async-tungstenite WebSocket as a [`ServerChannel`](crate::channel::ServerChannel).

use std::pin::Pin;
use std::task::{Context, Poll};

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::Message;
use async_tungstenite::tungstenite::protocol::CloseFrame;
use async_tungstenite::tungstenite::protocol::WebSocketConfig;
use futures_util::io::{AsyncRead, AsyncWrite};
use futures_util::{Sink, Stream};

use crate::channel::{ChannelError, Inbound, Outbound};
use crate::packer::Packed;

/// The WebSocket settings for a server connection: tungstenite's read buffer
/// at 4 KiB (its 128 KiB default costs ~79 KiB per idle connection) and the
/// message and frame bounds at `max_message_size`.
pub(crate) fn server_config(max_message_size: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(max_message_size))
        .max_frame_size(Some(max_message_size))
}

/// Wraps a tungstenite stream so the server can drive it.
#[derive(Debug)]
pub(crate) struct TungsteniteChannel<S>(pub(crate) WebSocketStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for TungsteniteChannel<S> {
    type Item = Result<Inbound, ChannelError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let msg = match Pin::new(&mut self.0).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(ChannelError::new(e)))),
                Poll::Ready(Some(Ok(m))) => m,
            };
            let inbound = match msg {
                Message::Text(t) => Inbound::Message(Packed::Text(t.as_str().to_owned())),
                Message::Binary(b) => Inbound::Message(Packed::Binary(b.to_vec())),
                Message::Close(_) => Inbound::Closed,
                // tungstenite answers pings itself; pongs and raw frames carry nothing for us.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            };
            return Poll::Ready(Some(Ok(inbound)));
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Outbound> for TungsteniteChannel<S> {
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
            // A payload for one connection (a reply) moves into the frame;
            // a shared one (a push to many) is copied.
            Outbound::Message(p) => match std::sync::Arc::try_unwrap(p) {
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
