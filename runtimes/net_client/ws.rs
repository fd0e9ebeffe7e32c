//! A client WebSocket on async-tungstenite as the driver's
//! [`ClientWebSocket`](crate::client::ClientWebSocket).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::Message;
use async_tungstenite::tungstenite::protocol::CloseFrame;
use futures_util::{Sink, Stream};

use crate::channel::{ChannelError, Outbound};
use crate::client::WsIncoming;
use crate::packer::Packed;

/// A client WebSocket: tungstenite messages as [`WsIncoming`], with the
/// server adapter's sink of [`Outbound`] frames.
#[derive(Debug)]
pub(super) struct TungsteniteClient<S>(pub(super) WebSocketStream<S>);

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
