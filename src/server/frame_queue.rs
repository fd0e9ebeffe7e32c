//! The bounded queue of frames waiting to be written to one WebSocket, and
//! its kill switch.
//!
//! A bounded `async_channel` allocates all its slots up front (40 KiB for
//! 1024 frames, per connection, idle or not); this queue allocates only for
//! the frames it holds and counts them against the bound. When a peer stops
//! reading, the queue fills and the driver kills the connection: the kill
//! ends it even while a write is blocked on the full socket.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::channel::Outbound;

#[derive(Debug, Default)]
struct State {
    frames: Mutex<Frames>,
    /// Notified when a frame is queued or the senders are gone.
    on_frame: event_listener::Event,
    killed: AtomicBool,
    on_kill: event_listener::Event,
}

#[derive(Debug, Default)]
struct Frames {
    queue: VecDeque<Outbound>,
    senders: usize,
    receiver_gone: bool,
}

/// The sending side, held by the driver.
#[derive(Debug)]
pub(crate) struct FrameSender {
    state: Arc<State>,
    limit: usize,
}

/// The receiving side, held by the connection.
#[derive(Debug)]
pub(crate) struct FrameReceiver {
    state: Arc<State>,
}

/// A queue that holds at most `limit` frames.
pub(crate) fn frame_queue(limit: usize) -> (FrameSender, FrameReceiver) {
    let state = Arc::new(State::default());
    state.lock().senders = 1;
    (
        FrameSender {
            state: state.clone(),
            limit: limit.max(1),
        },
        FrameReceiver { state },
    )
}

impl State {
    fn lock(&self) -> std::sync::MutexGuard<'_, Frames> {
        self.frames.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clone for FrameSender {
    fn clone(&self) -> Self {
        self.state.lock().senders += 1;
        Self {
            state: self.state.clone(),
            limit: self.limit,
        }
    }
}

impl Drop for FrameSender {
    fn drop(&mut self) {
        let last = {
            let mut f = self.state.lock();
            f.senders -= 1;
            f.senders == 0
        };
        if last {
            self.state.on_frame.notify(usize::MAX);
        }
    }
}

impl Drop for FrameReceiver {
    fn drop(&mut self) {
        let mut f = self.state.lock();
        f.receiver_gone = true;
        f.queue = VecDeque::new();
    }
}

impl FrameSender {
    /// Queues a frame; gives it back when the queue is full or closed.
    pub(crate) fn push(&self, frame: Outbound) -> Result<(), Outbound> {
        {
            let mut f = self.state.lock();
            if f.receiver_gone || f.queue.len() >= self.limit {
                return Err(frame);
            }
            f.queue.push_back(frame);
        }
        self.state.on_frame.notify(1);
        Ok(())
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
    /// The next frame; `None` once every sender is gone and the queue is empty.
    pub(crate) async fn recv(&self) -> Option<Outbound> {
        loop {
            let listener = {
                let mut f = self.state.lock();
                if let Some(frame) = Self::pop(&mut f) {
                    return Some(frame);
                }
                if f.senders == 0 {
                    return None;
                }
                self.state.on_frame.listen()
            };
            listener.await;
        }
    }

    /// The next frame if one is queued now.
    pub(crate) fn try_recv(&self) -> Option<Outbound> {
        Self::pop(&mut self.state.lock())
    }

    /// Pops a frame; an emptied queue gives its memory back, so an idle
    /// connection holds none.
    fn pop(f: &mut Frames) -> Option<Outbound> {
        let frame = f.queue.pop_front()?;
        if f.queue.is_empty() {
            f.queue = VecDeque::new();
        }
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
