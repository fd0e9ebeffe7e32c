//! The stream of events a server or a client hands the application
//! (Sente's `ch-recv`): an owned type, so that sente's API does not change
//! with the channel crate underneath.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;

/// The events of a server ([`ServerEvents`](crate::server::ServerEvents))
/// or a client ([`ClientEvents`](crate::client::ClientEvents)), in order.
/// Bounded: while it is full, the producer waits (backpressure, nothing is
/// dropped). Read it with [`recv`](Self::recv), as a [`Stream`], or give it
/// to a [router](crate::router). Clones share the events (each event goes
/// to one reader). It ends once the server or client is gone and the
/// events it holds have been read.
#[derive(Debug)]
pub struct EventStream<M> {
    rx: Pin<Box<async_channel::Receiver<M>>>,
}

/// The event stream ended: its server or client is gone and every event
/// was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the event stream ended")]
pub struct EventsEnded;

/// Why [`EventStream::try_recv`] returned no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TryRecvError {
    /// No event right now.
    #[error("no event yet")]
    Empty,
    /// The stream ended.
    #[error("the event stream ended")]
    Ended,
}

impl<M> EventStream<M> {
    pub(crate) fn new(rx: async_channel::Receiver<M>) -> Self {
        Self { rx: Box::pin(rx) }
    }

    /// The next event, waiting for one.
    ///
    /// # Errors
    /// [`EventsEnded`] once the stream ended.
    pub async fn recv(&self) -> Result<M, EventsEnded> {
        self.rx.recv().await.map_err(|_| EventsEnded)
    }

    /// The next event if one is waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`] when none is, [`TryRecvError::Ended`] once
    /// the stream ended.
    pub fn try_recv(&self) -> Result<M, TryRecvError> {
        self.rx.try_recv().map_err(|e| match e {
            async_channel::TryRecvError::Empty => TryRecvError::Empty,
            async_channel::TryRecvError::Closed => TryRecvError::Ended,
        })
    }

    /// How many events are waiting.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// True when no event is waiting.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }
}

impl<M> Clone for EventStream<M> {
    fn clone(&self) -> Self {
        Self::new((*self.rx).clone())
    }
}

impl<M> Stream for EventStream<M> {
    type Item = M;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<M>> {
        self.rx.as_mut().poll_next(cx)
    }
}

#[cfg(all(test, feature = "smol"))]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[test]
    fn read_by_recv_try_recv_or_as_a_stream_then_ended() {
        smol::block_on(async {
            let (tx, rx) = async_channel::bounded(4);
            let mut events = EventStream::new(rx);
            assert_eq!(events.try_recv(), Err(TryRecvError::Empty));
            for n in 0..3 {
                tx.send(n).await.unwrap();
            }
            assert_eq!((events.len(), events.is_empty()), (3, false));
            assert_eq!(events.recv().await, Ok(0));
            assert_eq!(events.try_recv(), Ok(1));
            let other = events.clone();
            assert_eq!(other.recv().await, Ok(2), "clones share the events");
            tx.send(3).await.unwrap();
            drop(tx);
            assert_eq!(events.next().await, Some(3));
            assert_eq!(events.next().await, None);
            assert_eq!(events.recv().await, Err(EventsEnded));
            assert_eq!(events.try_recv(), Err(TryRecvError::Ended));
        });
    }
}
