//! Carrying out the client core's outputs: spawning the I/O tasks, queuing
//! frames, delivering events in order, routing replies; and the timer task.

use std::sync::{Arc, Weak};
use std::time::Duration;

use super::driver::{
    ChannelSocketClient, Deferred, ReplySlot, Shared, SocketRoute, State, run_deferred,
};
use super::event_msg::ClientEventMsg;
use super::io;
use super::types::{Output, RequestId};
use crate::channel::Outbound;

impl ChannelSocketClient {
    /// Carries out the core's outputs; returns the callbacks to run once
    /// the lock is released.
    pub(crate) fn apply(&self, st: &mut State) -> Vec<Deferred> {
        let mut deferred = Vec::new();
        let now = self.shared.runtime.now();
        while let Some(out) = st.core.poll_output() {
            match out {
                Output::ConnectWs { socket } => {
                    let queue = self.shared.options.max_queued_frames.max(1);
                    let (frames, frames_rx) = async_channel::bounded(queue);
                    let (kill, kill_rx) = async_channel::bounded(1);
                    st.sockets.insert(socket, SocketRoute { frames, kill });
                    let task = io::run_ws(Arc::downgrade(&self.shared), socket, frames_rx, kill_rx);
                    self.shared.runtime.spawn(Box::pin(task));
                }
                Output::Transmit { socket, payload } => {
                    let queued = st.sockets.get(&socket).is_some_and(|r| {
                        r.frames
                            .try_send(Outbound::Message(Arc::new(payload)))
                            .is_ok()
                    });
                    if !queued {
                        tracing::warn!(socket = socket.get(), "WebSocket send queue full or gone");
                        if let Some(route) = st.sockets.get(&socket) {
                            let _ = route.kill.try_send(());
                        }
                        st.core.ws_send_failed(now, socket);
                    }
                }
                Output::CloseWs {
                    socket,
                    code,
                    reason,
                } => {
                    if let Some(route) = st.sockets.get(&socket)
                        && route
                            .frames
                            .try_send(Outbound::Close { code, reason })
                            .is_err()
                    {
                        let _ = route.kill.try_send(());
                    }
                }
                Output::AjaxPoll {
                    request,
                    handshake,
                    udt,
                    timeout,
                } => {
                    let kind = io::AjaxKind::Poll { handshake };
                    self.spawn_ajax(st, request, kind, udt, timeout);
                }
                Output::AjaxPost {
                    request,
                    payload,
                    udt,
                    timeout,
                } => {
                    let kind = io::AjaxKind::Post { payload };
                    self.spawn_ajax(st, request, kind, udt, timeout);
                }
                Output::AbortAjax { request } => {
                    // Dropping the sender wakes the task, which gives up.
                    st.requests.remove(&request);
                }
                Output::StateChanged(change) => {
                    st.state_version = st.state_version.wrapping_add(1);
                    self.shared.state_changed.notify(usize::MAX);
                    st.outbox.push_back(ClientEventMsg {
                        event: change.to_event(),
                        change: Some(change),
                        client: Arc::downgrade(&self.shared),
                    });
                }
                Output::Event(event) => st.outbox.push_back(ClientEventMsg {
                    event,
                    change: None,
                    client: Arc::downgrade(&self.shared),
                }),
                Output::Reply { id, result } => match st.replies.remove(&id) {
                    Some(ReplySlot::Channel(tx)) => {
                        let _ = tx.try_send(result);
                    }
                    Some(ReplySlot::Callback(cb)) => deferred.push((cb, result)),
                    None => {}
                },
            }
        }
        let next = st.core.poll_timeout();
        if next.is_some() && (st.armed.is_none() || next < st.armed) {
            st.armed = next;
            let _ = self.shared.timer_wake.try_send(());
        }
        self.flush_outbox(st);
        deferred
    }

    /// Starts an Ajax request's task; dropping its abort sender aborts it.
    fn spawn_ajax(
        &self,
        st: &mut State,
        request: RequestId,
        kind: io::AjaxKind,
        udt: i64,
        timeout: Duration,
    ) {
        let (abort, abort_rx) = async_channel::bounded(1);
        st.requests.insert(request, abort);
        let shared = Arc::downgrade(&self.shared);
        let task = io::run_ajax(shared, request, kind, udt, timeout, abort_rx);
        self.shared.runtime.spawn(Box::pin(task));
    }

    /// Moves events into the application's channel, in order: directly
    /// while it has room, else through one pump task that waits for room.
    fn flush_outbox(&self, st: &mut State) {
        if st.pumping {
            return;
        }
        while let Some(msg) = st.outbox.pop_front() {
            match self.shared.events.try_send(msg) {
                Ok(()) => {}
                Err(async_channel::TrySendError::Full(msg)) => {
                    st.outbox.push_front(msg);
                    st.pumping = true;
                    let shared = Arc::downgrade(&self.shared);
                    self.shared.runtime.spawn(Box::pin(pump(shared)));
                    return;
                }
                Err(async_channel::TrySendError::Closed(_)) => {
                    tracing::debug!("client event stream dropped; event discarded");
                }
            }
        }
        self.shared.outbox_drained.notify(usize::MAX);
    }
}

/// Moves the outbox into the channel, waiting for room, until it is empty.
async fn pump(shared: Weak<Shared>) {
    loop {
        let Some(s) = shared.upgrade() else { return };
        let next = {
            let mut st = s.lock();
            match st.outbox.pop_front() {
                Some(msg) => msg,
                None => {
                    st.pumping = false;
                    drop(st);
                    s.outbox_drained.notify(usize::MAX);
                    return;
                }
            }
        };
        let events = s.events.clone();
        drop(s);
        if events.send(next).await.is_err() {
            tracing::debug!("client event stream dropped; event discarded");
        }
    }
}

/// Runs the timers due now and what they ask for.
pub(crate) async fn fire_timers(shared: Arc<Shared>) {
    let client = ChannelSocketClient { shared };
    let now = client.shared.runtime.now();
    let deferred = {
        let mut st = client.shared.lock();
        st.core.handle_timeout(now);
        st.armed = None;
        client.apply(&mut st)
    };
    run_deferred(deferred);
}
