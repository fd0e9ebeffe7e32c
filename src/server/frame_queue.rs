//! The bounded queue of frames waiting to be written to one WebSocket, and
//! its kill switch.
//!
//! A bounded `async_channel` allocates all its slots up front (40 KiB for
//! 1024 frames, per connection, idle or not); this queue allocates only for
//! the frames it holds and counts them against the bound, and wakes its one
//! receiver through a stored waker (no listener allocations). When a peer
//! stops reading, the queue fills and the driver kills the connection: the
//! kill ends it even while a write is blocked on the full socket.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::channel::Outbound;
use crate::inline_deque::InlineDeque;

#[derive(Debug, Default)]
struct State {
    frames: Mutex<Frames>,
    killed: AtomicBool,
}

#[derive(Debug, Default)]
struct Frames {
    queue: InlineDeque<Outbound>,
    senders: usize,
    receiver_gone: bool,
    /// The receiver's task, woken by a frame, a kill, or the last sender leaving.
    waker: Option<Waker>,
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

    fn wake(&self) {
        let waker = self.lock().waker.take();
        if let Some(w) = waker {
            w.wake();
        }
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
        let waker = {
            let mut f = self.state.lock();
            f.senders -= 1;
            if f.senders == 0 { f.waker.take() } else { None }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Drop for FrameReceiver {
    fn drop(&mut self) {
        let mut f = self.state.lock();
        f.receiver_gone = true;
        f.queue.clear();
        f.waker = None;
    }
}

impl FrameSender {
    /// Queues a frame; gives it back when the queue is full or closed.
    pub(crate) fn push(&self, frame: Outbound) -> Result<(), Outbound> {
        let waker = {
            let mut f = self.state.lock();
            if f.receiver_gone || f.queue.len() >= self.limit {
                return Err(frame);
            }
            f.queue.push_back(frame);
            f.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
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
        self.state.wake();
    }
}

impl FrameReceiver {
    /// The next frame: `Ready(None)` once every sender is gone and the
    /// queue is empty; `Pending` (the task woken on the next frame, kill or
    /// last sender leaving) while it is empty.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<Outbound>> {
        let mut f = self.state.lock();
        if let Some(frame) = Self::pop(&mut f) {
            return Poll::Ready(Some(frame));
        }
        if f.senders == 0 {
            return Poll::Ready(None);
        }
        Self::register(&mut f, cx);
        Poll::Pending
    }

    /// The next frame if one is queued now.
    #[cfg(test)]
    fn try_recv(&self) -> Option<Outbound> {
        Self::pop(&mut self.state.lock())
    }

    /// True once the connection is killed; otherwise the task is woken when
    /// it is (or on the next frame).
    pub(crate) fn poll_killed(&self, cx: &mut Context<'_>) -> bool {
        if self.state.killed.load(Ordering::Acquire) {
            return true;
        }
        Self::register(&mut self.state.lock(), cx);
        // A kill between the load and the registration found no waker.
        self.state.killed.load(Ordering::Acquire)
    }

    fn register(f: &mut Frames, cx: &mut Context<'_>) {
        match &f.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => f.waker = Some(cx.waker().clone()),
        }
    }

    /// Pops a frame (an emptied queue holds no memory: one frame is kept
    /// inline, more in an overflow given back once drained).
    fn pop(f: &mut Frames) -> Option<Outbound> {
        f.queue.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A waker that counts its wakes.
    struct CountWaker(AtomicUsize);

    impl std::task::Wake for CountWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn count_waker() -> (Waker, Arc<CountWaker>) {
        let count = Arc::new(CountWaker(AtomicUsize::new(0)));
        (Waker::from(count.clone()), count)
    }

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
    fn a_full_queue_kills_and_wakes_the_receiver() {
        let (waker, wakes) = count_waker();
        let mut cx = Context::from_waker(&waker);
        let (tx, rx) = frame_queue(1);
        tx.push_or_kill(close());
        assert!(!rx.poll_killed(&mut cx));
        tx.push_or_kill(close());
        assert_eq!(
            wakes.0.load(Ordering::SeqCst),
            1,
            "the kill woke the receiver"
        );
        assert!(rx.poll_killed(&mut cx));
    }

    #[test]
    fn frames_and_the_last_sender_leaving_wake_the_receiver() {
        let (waker, wakes) = count_waker();
        let mut cx = Context::from_waker(&waker);
        let (tx, rx) = frame_queue(8);
        assert!(rx.poll_recv(&mut cx).is_pending());
        tx.push(close()).unwrap();
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert!(matches!(rx.poll_recv(&mut cx), Poll::Ready(Some(_))));
        assert!(rx.poll_recv(&mut cx).is_pending());
        let tx2 = tx.clone();
        drop(tx);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "a sender is left");
        drop(tx2);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 2);
        assert!(matches!(rx.poll_recv(&mut cx), Poll::Ready(None)));
    }
}
