//! The events on their way to the application, in order: handed to its
//! channel directly while it has room, else by one pump task that waits
//! for room. While events wait here, the reading tasks wait too
//! ([`app_caught_up`](super::host::app_caught_up)): the client's
//! backpressure.

use std::collections::VecDeque;
use std::sync::{Arc, Weak};

use super::host::Host;
use crate::client::event_msg::ClientEventMsg;

#[derive(Default)]
pub(super) struct Outbox {
    /// Events not yet accepted by the application's channel, in order.
    queue: VecDeque<ClientEventMsg>,
    /// A task is moving the queue into the channel.
    pumping: bool,
}

impl Outbox {
    pub(super) fn push(&mut self, msg: ClientEventMsg) {
        self.queue.push_back(msg);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Moves events into the application's channel while it has room;
    /// when it is full, starts the pump task for `host`.
    pub(super) fn flush<H: Host>(&mut self, host: &Arc<H>) {
        if self.pumping {
            return;
        }
        let cx = host.context();
        while let Some(msg) = self.queue.pop_front() {
            match cx.events.try_send(msg) {
                Ok(()) => {}
                Err(async_channel::TrySendError::Full(msg)) => {
                    self.queue.push_front(msg);
                    self.pumping = true;
                    cx.runtime.spawn(Box::pin(pump(Arc::downgrade(host))));
                    return;
                }
                Err(async_channel::TrySendError::Closed(_)) => {
                    tracing::debug!("client event stream dropped; event discarded");
                }
            }
        }
        cx.outbox_drained.notify(usize::MAX);
    }

    /// The next event for the pump; `None` (the pump stops) when empty.
    pub(super) fn next_for_pump(&mut self) -> Option<ClientEventMsg> {
        let next = self.queue.pop_front();
        if next.is_none() {
            self.pumping = false;
        }
        next
    }
}

/// Moves the outbox into the channel, waiting for room, until it is empty.
async fn pump<H: Host>(host: Weak<H>) {
    loop {
        let Some(h) = host.upgrade() else { return };
        let Some(next) = h.next_for_app() else {
            h.context().outbox_drained.notify(usize::MAX);
            return;
        };
        let events = h.context().events.clone();
        drop(h);
        if events.send(next).await.is_err() {
            tracing::debug!("client event stream dropped; event discarded");
        }
    }
}
