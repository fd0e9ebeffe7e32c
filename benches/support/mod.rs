//! What the server benchmarks share: WebSockets on an in-memory channel,
//! and connections polled by hand.
#![allow(unreachable_pub)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use futures_util::{Sink, Stream};
use sente::channel::{ChannelError, Inbound, Outbound};
use sente::server::{ChannelSocketServer, GetResponse};

/// A WebSocket that takes every frame, counts the data frames, and never
/// sends one.
pub struct CountingChannel(pub Arc<AtomicU64>);

impl Stream for CountingChannel {
    type Item = Result<Inbound, ChannelError>;
    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Pending
    }
}

impl Sink<Outbound> for CountingChannel {
    type Error = ChannelError;
    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ChannelError>> {
        Poll::Ready(Ok(()))
    }
    fn start_send(self: Pin<&mut Self>, item: Outbound) -> Result<(), ChannelError> {
        if matches!(item, Outbound::Message(_)) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ChannelError>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ChannelError>> {
        Poll::Ready(Ok(()))
    }
}

/// A served WebSocket, polled by the benchmark itself.
pub type Connection = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A WebSocket of user `uid` on `server` (its `user_id_fn` reads the `uid`
/// parameter), counting its frames in `frames`.
pub fn connect(server: &ChannelSocketServer, uid: &str, frames: Arc<AtomicU64>) -> Connection {
    let (head, ()) = http::Request::get(format!("/chsk?client-id=c-{uid}&uid={uid}"))
        .header("upgrade", "websocket")
        .body(())
        .expect("a request")
        .into_parts();
    let GetResponse::Upgrade(accept) = smol::block_on(server.handle_get(head)) else {
        panic!("an upgrade")
    };
    Box::pin(server.serve_websocket(accept, CountingChannel(frames)))
}

/// Polls a connection once (it writes what is queued); it must not end.
pub fn poll_once(conn: &mut Connection) {
    let mut cx = Context::from_waker(Waker::noop());
    assert!(
        conn.as_mut().poll(&mut cx).is_pending(),
        "the connection ended"
    );
}
