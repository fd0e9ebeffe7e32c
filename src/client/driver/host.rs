//! The client as its tasks see it: the I/O tasks and the event pump hold a
//! `Weak` of a [`Host`] and report through it, each report one pass of the
//! driver's lock-and-apply. The driver's shared state implements it; the
//! tasks need nothing else of it, so they do not import it.

use std::sync::{Arc, Weak};

use super::context::Context;
use crate::client::event_msg::ClientEventMsg;
use crate::client::types::{AjaxError, RequestId, SocketId};
use crate::codec::PackedRef;

/// How a WebSocket ended, as the core is told.
#[derive(Debug)]
pub(super) struct WsEnd {
    /// Report a WebSocket error first.
    pub(super) error: bool,
    /// Report a failed write first.
    pub(super) send_failed: bool,
    /// The close code (1006 when lost).
    pub(super) code: u16,
    /// The close reason text.
    pub(super) reason: String,
    /// The close handshake completed.
    pub(super) clean: bool,
}

impl WsEnd {
    /// Lost without a close handshake (the browser's 1006).
    pub(super) fn lost(error: bool) -> Self {
        Self {
            error,
            send_failed: false,
            code: 1006,
            reason: String::new(),
            clean: false,
        }
    }
}

/// What the tasks may do to the client. Each method but
/// [`context`](Self::context) is one pass of the lock-and-apply path.
pub(super) trait Host: Send + Sync + 'static {
    /// The fixed parts, read without the lock.
    fn context(&self) -> &Context;

    /// A WebSocket message arrived.
    fn ws_message(self: &Arc<Self>, socket: SocketId, packed: PackedRef<'_>);

    /// A WebSocket ended (its task is done with it).
    fn ws_ended(self: &Arc<Self>, socket: SocketId, end: &WsEnd);

    /// An Ajax request (a poll when `poll`, else a POST) finished with
    /// `outcome`, the body of a 2xx answer.
    fn ajax_done(
        self: &Arc<Self>,
        request: RequestId,
        poll: bool,
        outcome: Result<PackedRef<'_>, AjaxError>,
    );

    /// `None` when the application took every event so far, else a
    /// listener notified when it has (made before looking, so no
    /// notification is missed).
    fn outbox_pending(&self) -> Option<event_listener::EventListener>;

    /// The next event for the application; `None`, and the pump counts as
    /// stopped, when there is none.
    fn next_for_app(&self) -> Option<ClientEventMsg>;
}

/// Waits until the application's channel has taken every event so far (the
/// backpressure point of the reading tasks), or the client is gone.
pub(super) async fn app_caught_up<H: Host>(host: &Weak<H>) {
    loop {
        let Some(h) = host.upgrade() else { return };
        let Some(listener) = h.outbox_pending() else {
            return;
        };
        drop(h);
        listener.await;
    }
}
