//! The queue of frames waiting to be written to one WebSocket, bounded in
//! bytes, with its abort and kill switches.
//!
//! A bounded `async_channel` allocates all its slots up front (40 KiB for
//! 1024 frames, per connection, idle or not); this queue allocates only for
//! the frames it holds and counts their bytes against the bound, and wakes
//! its one receiver through a stored waker (no listener allocations).
//!
//! When a peer stops reading, the queue fills and the driver gives up on the
//! connection: [`FrameSender::abort`] drops what is queued and puts a close
//! frame first, so the close does not wait behind the data; the connection
//! then has a short grace to write it before it ends.
//! [`FrameSender::kill`] ends the connection at once, even while a write is
//! blocked on the full socket.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::channel::Outbound;
use crate::inline_deque::InlineDeque;

#[derive(Debug, Default)]
struct State {
    frames: Mutex<Frames>,
    killed: AtomicBool,
    /// Set by an abort (under the frames' lock): only the close frame is
    /// left; nothing more is taken. Read on every poll without the lock.
    aborted: AtomicBool,
}

/// What a queued frame counts for besides its payload (the queue entry, the
/// frame header).
const FRAME_OVERHEAD: usize = 64;

fn cost(frame: &Outbound) -> usize {
    FRAME_OVERHEAD
        + match frame {
            Outbound::Message(p) => p.len(),
            Outbound::Close { reason, .. } => reason.len(),
        }
}

#[derive(Debug, Default)]
struct Frames {
    queue: InlineDeque<Outbound>,
    /// What the queued frames count for, in bytes.
    bytes: usize,
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

/// A queue that holds at most `limit` bytes of frames (one frame, however
/// large, always fits in an empty queue).
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
        f.bytes = 0;
        f.waker = None;
    }
}

impl FrameSender {
    /// Queues a frame; gives it back when the queue is full, aborted or closed.
    pub(crate) fn push(&self, frame: Outbound) -> Result<(), Outbound> {
        let waker = {
            let mut f = self.state.lock();
            let cost = cost(&frame);
            let full = !f.queue.is_empty() && f.bytes + cost > self.limit;
            if f.receiver_gone || self.state.aborted.load(Ordering::Acquire) || full {
                return Err(frame);
            }
            f.bytes += cost;
            f.queue.push_back(frame);
            f.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Queues the close frame `code` after what is queued, or, when the
    /// queue is full, aborts with it (ahead of the dropped backlog). Nothing
    /// happens on an aborted or closed queue.
    pub(crate) fn close(&self, code: u16, reason: &'static str) {
        if self.push(Outbound::Close { code, reason }).is_err() {
            self.abort(code, reason);
        }
    }

    /// Gives up on the connection: drops every queued frame and queues the
    /// close frame `code` alone; later frames are refused. Returns how many
    /// frames and bytes were dropped; `None` when the queue was already
    /// aborted or its connection gone (nothing is done then).
    pub(crate) fn abort(&self, code: u16, reason: &'static str) -> Option<(usize, usize)> {
        let waker = {
            let mut f = self.state.lock();
            if self.state.aborted.load(Ordering::Acquire) || f.receiver_gone {
                return None;
            }
            let dropped = (f.queue.len(), f.bytes);
            f.queue.clear();
            let close = Outbound::Close { code, reason };
            f.bytes = cost(&close);
            f.queue.push_back(close);
            self.state.aborted.store(true, Ordering::Release);
            (f.waker.take(), dropped)
        };
        if let Some(w) = waker.0 {
            w.wake();
        }
        Some(waker.1)
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

    /// True once the queue was aborted: the close frame is all that is left
    /// to write.
    pub(crate) fn is_aborted(&self) -> bool {
        self.state.aborted.load(Ordering::Acquire)
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
        let frame = f.queue.pop_front()?;
        f.bytes -= cost(&frame);
        Some(frame)
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

    fn message(len: usize) -> Outbound {
        Outbound::Message(Arc::new(crate::packer::Packed::Text("x".repeat(len))))
    }

    #[test]
    fn holds_at_most_the_limit_in_bytes() {
        let (tx, rx) = frame_queue(2 * (100 + FRAME_OVERHEAD));
        assert!(tx.push(message(100)).is_ok());
        assert!(tx.push(message(100)).is_ok());
        assert!(tx.push(message(1)).is_err(), "full");
        assert!(rx.try_recv().is_some());
        assert!(tx.push(message(1)).is_ok(), "room again");
        assert!(tx.push(message(100)).is_err(), "not room for that much");
        assert!(rx.try_recv().is_some());
        assert!(rx.try_recv().is_some());
        assert!(rx.try_recv().is_none());
        // One frame larger than the bound still goes through an empty queue.
        assert!(tx.push(message(10_000)).is_ok());
        assert!(tx.push(message(1)).is_err());
        assert!(rx.try_recv().is_some());
        drop(rx);
        assert!(tx.push(close()).is_err(), "closed");
    }

    #[test]
    fn an_abort_drops_the_queue_and_puts_the_close_frame_first() {
        let (waker, wakes) = count_waker();
        let mut cx = Context::from_waker(&waker);
        let (tx, rx) = frame_queue(1 << 20);
        assert!(rx.poll_recv(&mut cx).is_pending());
        tx.push(message(10)).unwrap();
        tx.push(message(20)).unwrap();
        assert!(!rx.poll_killed(&mut cx), "waits, its waker stored");
        let woken = wakes.0.load(Ordering::SeqCst);
        assert_eq!(
            tx.abort(1008, "send queue full"),
            Some((2, 30 + 2 * FRAME_OVERHEAD))
        );
        assert!(rx.is_aborted());
        assert_eq!(tx.abort(1008, "again"), None, "once");
        assert!(tx.push(message(1)).is_err(), "nothing after the close");
        tx.close(1008, "x");
        assert!(!rx.poll_killed(&mut cx), "an abort is not a kill");
        assert!(wakes.0.load(Ordering::SeqCst) > woken);
        assert_eq!(
            rx.try_recv(),
            Some(Outbound::Close {
                code: 1008,
                reason: "send queue full"
            })
        );
        assert_eq!(rx.try_recv(), None);
    }

    #[test]
    fn a_kill_wakes_the_receiver() {
        let (waker, wakes) = count_waker();
        let mut cx = Context::from_waker(&waker);
        let (tx, rx) = frame_queue(1);
        assert!(!rx.poll_killed(&mut cx));
        tx.kill();
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
