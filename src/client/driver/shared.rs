//! The driver's shared state: the sans-IO [`ClientCore`] and where its
//! outputs go, behind one lock. Its fields are private to this file; the
//! one way in is [`Shared::with_state`]: lock, run a closure on the core
//! with the time now, carry out the core's outputs, unlock, run the
//! callbacks that were due (as the server's `Shared::with_shard`).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::context::Context;
use super::host::{Host, WsEnd};
use super::outbox::Outbox;
use super::outputs::{self, Targets};
use super::routes::{Deferred, ReplySlot, Routes};
use crate::client::core::ClientCore;
use crate::client::event_msg::ClientEventMsg;
use crate::client::state::ClientState;
use crate::client::types::{AjaxError, RequestId, SendError, SocketId};
use crate::codec::PackedRef;
use crate::event::Event;

/// What the lock guards.
struct State {
    core: ClientCore,
    routes: Routes,
    outbox: Outbox,
    armed: Option<Instant>,
    state_version: u64,
}

pub(super) struct Shared {
    cx: Context,
    state: Mutex<State>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelSocketClient")
            .field("options", &self.cx.options)
            .field("transport", &self.cx.transport)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// The shared state of a new client, and its timer task started.
    pub(super) fn start(
        cx: Context,
        core: ClientCore,
        timer_wake: async_channel::Receiver<()>,
    ) -> Arc<Self> {
        let runtime = cx.runtime.clone();
        let shared = Arc::new(Self {
            cx,
            state: Mutex::new(State {
                core,
                routes: Routes::default(),
                outbox: Outbox::default(),
                armed: None,
                state_version: 0,
            }),
        });
        runtime.spawn(Box::pin(crate::runtime::timer_loop(
            Arc::downgrade(&shared),
            timer_wake,
            |s: &Self| crate::runtime::sleep_until_armed(&*s.cx.runtime, s.lock().armed),
            |s: Arc<Self>| async move { s.fire_timers() },
        )));
        shared
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the core half-updated
        // in a way that matters more than stopping the client; carry on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The one path into the core: under the lock, runs `f` with the time
    /// now, then carries out the core's outputs; once the lock is
    /// released, runs the reply callbacks that came due.
    fn with_state<T>(self: &Arc<Self>, f: impl FnOnce(&mut State, Instant) -> T) -> T {
        let now = self.cx.runtime.now();
        let mut guard = self.lock();
        let st = &mut *guard;
        let result = f(st, now);
        let targets = Targets {
            routes: &mut st.routes,
            outbox: &mut st.outbox,
            armed: &mut st.armed,
            state_version: &mut st.state_version,
        };
        let deferred = outputs::apply(self, &mut st.core, targets);
        drop(guard);
        run_deferred(deferred);
        result
    }

    /// [`with_state`](Self::with_state) for a closure that needs only the core.
    pub(super) fn with_core<T>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut ClientCore, Instant) -> T,
    ) -> T {
        self.with_state(|st, now| f(&mut st.core, now))
    }

    /// Sends `event` for a reply that goes to `slot`; on failure gives the
    /// slot back.
    pub(super) fn send_with_reply(
        self: &Arc<Self>,
        event: &Event,
        timeout: Duration,
        slot: ReplySlot,
    ) -> Result<(), (SendError, ReplySlot)> {
        self.with_state(
            |st, now| match st.core.send_with_reply(now, event, timeout) {
                Ok(id) => {
                    st.routes.await_reply(id, slot);
                    Ok(())
                }
                Err(e) => Err((e, slot)),
            },
        )
    }

    /// Reads the core, without carrying out anything.
    pub(super) fn read<T>(&self, f: impl FnOnce(&ClientCore) -> T) -> T {
        f(&self.lock().core)
    }

    /// The state and its version, when the version is not `seen`.
    pub(super) fn state_if_changed(&self, seen: u64) -> Option<(u64, ClientState)> {
        let st = self.lock();
        (st.state_version != seen).then(|| (st.state_version, st.core.state().clone()))
    }

    /// Runs the timers due now and what they ask for.
    fn fire_timers(self: &Arc<Self>) {
        self.with_state(|st, now| {
            st.core.handle_timeout(now);
            st.armed = None;
        });
    }
}

impl Host for Shared {
    fn context(&self) -> &Context {
        &self.cx
    }

    fn ws_message(self: &Arc<Self>, socket: SocketId, packed: PackedRef<'_>) {
        self.with_core(|core, now| core.ws_message(now, socket, packed));
    }

    fn ws_ended(self: &Arc<Self>, socket: SocketId, end: &WsEnd) {
        self.with_state(|st, now| {
            st.routes.forget_socket(socket);
            if end.send_failed {
                st.core.ws_send_failed(now, socket);
            }
            if end.error {
                st.core.ws_error(now, socket);
            }
            st.core
                .ws_closed(now, socket, end.code, &end.reason, end.clean);
        });
    }

    fn ajax_done(
        self: &Arc<Self>,
        request: RequestId,
        poll: bool,
        outcome: Result<PackedRef<'_>, AjaxError>,
    ) {
        self.with_state(|st, now| {
            // Aborted meanwhile: the core no longer waits for it.
            if !st.routes.end_request(request) {
                return;
            }
            if poll {
                st.core.ajax_poll_done(now, request, outcome);
            } else {
                st.core.ajax_post_done(now, request, outcome);
            }
        });
    }

    fn outbox_pending(&self) -> Option<event_listener::EventListener> {
        let listener = self.cx.outbox_drained.listen();
        (!self.lock().outbox.is_empty()).then_some(listener)
    }

    fn next_for_app(&self) -> Option<ClientEventMsg> {
        self.lock().outbox.next_for_pump()
    }
}

/// Runs callbacks collected under the lock.
fn run_deferred(deferred: Vec<Deferred>) {
    for (callback, result) in deferred {
        callback(result);
    }
}
