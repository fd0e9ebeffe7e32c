//! The bounded queue of frames waiting to be written to one WebSocket, and
//! its kill switch.
//!
//! A bounded `async_channel` allocates all its slots up front (40 KiB for
//! 1024 frames, per connection, idle or not); this queue allocates only for
//! the frames it holds and counts them against the bound. When a peer stops
//! reading, the queue fills and the driver kills the connection: the kill
//! ends it even while a write is blocked on the full socket.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::channel::Outbound;

#[derive(Debug, Default)]
struct State {
    queued: AtomicUsize,
    killed: AtomicBool,
    on_kill: event_listener::Event,
}

/// The sending side, held by the driver.
#[derive(Debug, Clone)]
pub(crate) struct FrameSender {
    tx: async_channel::Sender<Outbound>,
    state: Arc<State>,
    limit: usize,
}

/// The receiving side, held by the connection.
#[derive(Debug)]
pub(crate) struct FrameReceiver {
    rx: async_channel::Receiver<Outbound>,
    state: Arc<State>,
}

/// A queue that holds at most `limit` frames.
pub(crate) fn frame_queue(limit: usize) -> (FrameSender, FrameReceiver) {
    let (tx, rx) = async_channel::unbounded();
    let state = Arc::new(State::default());
    (
        FrameSender {
            tx,
            state: state.clone(),
            limit: limit.max(1),
        },
        FrameReceiver { rx, state },
    )
}

impl FrameSender {
    /// Queues a frame; gives it back when the queue is full or closed.
    pub(crate) fn push(&self, frame: Outbound) -> Result<(), Outbound> {
        if self.state.queued.fetch_add(1, Ordering::AcqRel) >= self.limit {
            self.state.queued.fetch_sub(1, Ordering::AcqRel);
            return Err(frame);
        }
        self.tx.try_send(frame).map_err(|e| {
            self.state.queued.fetch_sub(1, Ordering::AcqRel);
            e.into_inner()
        })
    }

    /// Queues a frame, or kills the connection when it cannot be queued.
    pub(crate) fn push_or_kill(&self, frame: Outbound) {
        if self.push(frame).is_err() {
            self.kill();
        }
    }

    /// Ends the connection now, whatever it is doing.
    pub(crate) fn kill(&self) {
        self.state.killed.store(true, Ordering::Release);
        self.state.on_kill.notify(usize::MAX);
    }
}

impl FrameReceiver {
    /// The next frame; `None` once every sender is gone.
    pub(crate) async fn recv(&self) -> Option<Outbound> {
        let frame = self.rx.recv().await.ok()?;
        self.state.queued.fetch_sub(1, Ordering::AcqRel);
        Some(frame)
    }

    /// The next frame if one is queued now.
    pub(crate) fn try_recv(&self) -> Option<Outbound> {
        let frame = self.rx.try_recv().ok()?;
        self.state.queued.fetch_sub(1, Ordering::AcqRel);
        Some(frame)
    }

    /// Completes once the connection is killed.
    pub(crate) async fn killed(&self) {
        loop {
            if self.state.killed.load(Ordering::Acquire) {
                return;
            }
            let listener = self.state.on_kill.listen();
            if self.state.killed.load(Ordering::Acquire) {
                return;
            }
            listener.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close() -> Outbound {
        Outbound::Close {
            code: 1000,
            reason: "",
        }
    }

    #[test]
    fn holds_at_most_the_limit() {
        let (tx, rx) = frame_queue(2);
        assert!(tx.push(close()).is_ok());
        assert!(tx.push(close()).is_ok());
        assert!(tx.push(close()).is_err(), "full");
        assert!(rx.try_recv().is_some());
        assert!(tx.push(close()).is_ok(), "room again");
        assert!(rx.try_recv().is_some());
        assert!(rx.try_recv().is_some());
        assert!(rx.try_recv().is_none());
        drop(rx);
        assert!(tx.push(close()).is_err(), "closed");
    }

    #[test]
    fn a_full_queue_kills() {
        let (tx, rx) = frame_queue(1);
        tx.push_or_kill(close());
        assert!(futures_util::FutureExt::now_or_never(rx.killed()).is_none());
        tx.push_or_kill(close());
        assert!(futures_util::FutureExt::now_or_never(rx.killed()).is_some());
    }
}
