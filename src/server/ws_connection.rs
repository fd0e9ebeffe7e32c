//! One WebSocket's life on the server, as a hand-written future.
//!
//! The connection reads the client's messages into the core, writes the
//! frames the driver queues for it, and ends on a kill, the end of the
//! writer, or the reader's end plus a grace period for the writer (to send
//! a close frame). Written out by hand, its state is its fields: a few
//! hundred bytes per idle connection, where nested `async` blocks (a reader
//! and a writer in a `select`) took kilobytes.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use super::driver::ChannelSocketServer;
use super::event_msg::ServerEventMsg;
use super::frame_queue::{FrameReceiver, FrameSender};
use super::types::ConnId;
use crate::channel::{Inbound, Outbound, ServerChannel};
use crate::runtime::BoxFuture;

/// Messages read in one poll before other tasks get a turn.
const MESSAGES_PER_POLL: usize = 32;
/// How long the writer may go on (to send a close frame) once the reader ended.
pub(crate) const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// The future [`ChannelSocketServer::serve_websocket`] returns.
pub(crate) struct WsConnection<C> {
    server: ChannelSocketServer,
    /// `None` for a refused connection: it only sends its close frame.
    conn: Option<ConnId>,
    channel: C,
    frames: FrameReceiver,
    closer: FrameSender,
    /// Events on their way to a full application stream: nothing more is
    /// read until they are in (backpressure).
    delivering: Option<BoxFuture<()>>,
    /// A frame taken from the queue that the channel has not taken yet.
    unsent: Option<Outbound>,
    /// While flushing: whether a close frame was among the frames.
    flushing: Option<bool>,
    reading: bool,
    /// Once the reader ended: the writer's remaining time.
    grace: Option<BoxFuture<()>>,
    finished: bool,
}

impl<C> std::fmt::Debug for WsConnection<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsConnection")
            .field("conn", &self.conn)
            .field("reading", &self.reading)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl<C: ServerChannel> WsConnection<C> {
    /// A connection whose registration is done (`conn`), or a refused one
    /// (`None`, with its close frame queued), delivering `events` first.
    pub(crate) fn new(
        server: ChannelSocketServer,
        conn: Option<ConnId>,
        channel: C,
        (closer, frames): (FrameSender, FrameReceiver),
        events: Vec<ServerEventMsg>,
    ) -> Self {
        let delivering = server.try_deliver(events);
        Self {
            reading: conn.is_some(),
            server,
            conn,
            channel,
            frames,
            closer,
            delivering,
            unsent: None,
            flushing: None,
            grace: None,
            finished: false,
        }
    }

    /// Writes queued frames, flushing after each run of them. Ready when the
    /// writer is done: a close frame sent, a write failed, or no sender left.
    fn poll_writer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if let Some(closing) = self.flushing {
                if ready!(Pin::new(&mut self.channel).poll_flush(cx)).is_err() {
                    return Poll::Ready(());
                }
                if closing {
                    let _ = ready!(Pin::new(&mut self.channel).poll_close(cx));
                    return Poll::Ready(());
                }
                self.flushing = None;
            }
            // Feed everything queued, then flush it in one go.
            let mut fed: Option<bool> = None;
            loop {
                let frame = match self.unsent.take() {
                    Some(frame) => frame,
                    None => match self.frames.poll_recv(cx) {
                        Poll::Ready(Some(frame)) => frame,
                        Poll::Ready(None) if fed.is_none() => return Poll::Ready(()),
                        Poll::Ready(None) | Poll::Pending => break,
                    },
                };
                match Pin::new(&mut self.channel).poll_ready(cx) {
                    Poll::Pending => {
                        self.unsent = Some(frame);
                        break;
                    }
                    Poll::Ready(Err(_)) => return Poll::Ready(()),
                    Poll::Ready(Ok(())) => {}
                }
                let closing = matches!(frame, Outbound::Close { .. });
                if Pin::new(&mut self.channel).start_send(frame).is_err() {
                    return Poll::Ready(());
                }
                fed = Some(closing);
                if closing {
                    break;
                }
            }
            match fed {
                Some(closing) => self.flushing = Some(closing),
                None => return Poll::Pending,
            }
        }
    }

    /// Reads the client's messages into the core. Ready when the reader is
    /// done: the client closed or failed (the connection is killed), or a
    /// close frame was queued for a message too large or a protocol error.
    fn poll_reader(&mut self, cx: &mut Context<'_>, conn: ConnId) -> Poll<()> {
        for _ in 0..MESSAGES_PER_POLL {
            if let Some(delivering) = &mut self.delivering {
                ready!(delivering.as_mut().poll(cx));
                self.delivering = None;
            }
            let packed = match ready!(Pin::new(&mut self.channel).poll_next(cx)) {
                Some(Ok(Inbound::Message(p))) => p,
                None | Some(Ok(Inbound::Closed)) => {
                    // The client is gone: nothing more to write.
                    self.closer.kill();
                    return Poll::Ready(());
                }
                Some(Err(e)) => {
                    match e.close_code() {
                        // The client broke the protocol: answer with the
                        // close frame it calls for.
                        Some((code, reason)) => {
                            tracing::info!(conn = conn.get(), error = %e, "closing: protocol error");
                            self.closer.close(code, reason);
                        }
                        None => self.closer.kill(),
                    }
                    return Poll::Ready(());
                }
            };
            // The bound for channels that do not enforce it themselves
            // (`WsChannel` refuses such a message on its frame header).
            let max = self.server.shared.options.max_message_size;
            if packed.len() > max {
                tracing::info!(
                    conn = conn.get(),
                    len = packed.len(),
                    max,
                    "closing: message too large"
                );
                let (code, reason) = (1009, "message too large");
                self.closer.close(code, reason);
                return Poll::Ready(());
            }
            let shared = &self.server.shared;
            // Unpacked in this connection's task, before the lock: other
            // connections do not wait on it.
            let message = crate::wire::read_client_message(&*shared.packer, true, packed.as_ref());
            let shard = shared.shard_of_conn(conn);
            let ((), events) = shared.with_shard(shard, |st, now| {
                st.core().ws_decoded(now, conn, message, packed.as_ref());
            });
            self.delivering = self.server.try_deliver(events);
        }
        // A busy client: let other tasks run, then go on.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<C: ServerChannel> Future for WsConnection<C> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(());
        }
        loop {
            // A kill (slow consumer, client gone) ends the connection at
            // once, even while a write is blocked.
            if this.frames.poll_killed(cx) {
                break;
            }
            if this.reading && this.frames.is_aborted() {
                // The server gave up on the client: read nothing more; the
                // frame the channel did not take yet is dropped with the
                // rest, and the close frame goes next (within the grace).
                this.reading = false;
                this.unsent = None;
            }
            if this.poll_writer(cx).is_ready() {
                break;
            }
            match (this.reading, this.conn) {
                (true, Some(conn)) => {
                    if this.poll_reader(cx, conn).is_pending() {
                        return Poll::Pending;
                    }
                    // The reader ended: the writer may still send what is
                    // queued (a close frame), for a while.
                    this.reading = false;
                    continue;
                }
                _ => {
                    let shared = &this.server.shared;
                    let grace = this.grace.get_or_insert_with(|| {
                        shared
                            .runtime
                            .sleep_until(shared.runtime.now() + CLOSE_GRACE)
                    });
                    if grace.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    break;
                }
            }
        }
        this.finish();
        Poll::Ready(())
    }
}

impl<C> WsConnection<C> {
    /// Unregisters the connection (once), telling the core it closed.
    fn finish(&mut self) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        if let Some(conn) = self.conn {
            let shared = &self.server.shared;
            let shard = shared.shard_of_conn(conn);
            let ((), events) = shared.with_shard(shard, |st, now| {
                st.remove_route(conn);
                st.core().ws_closed(now, conn);
            });
            self.server.deliver_detached(events);
            shared.conn_ended.notify(usize::MAX);
        }
    }
}

impl<C> Drop for WsConnection<C> {
    fn drop(&mut self) {
        // Dropped before its end (its task cancelled): unregister all the same.
        self.finish();
    }
}
