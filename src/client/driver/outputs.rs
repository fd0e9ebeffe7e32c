//! Carrying out the client core's outputs: spawning the I/O tasks, queuing
//! frames, routing replies, arming the timer and handing events to the
//! application, in the order the core gave them.

use std::any::Any;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::host::Host;
use super::io;
use super::outbox::Outbox;
use super::routes::{Deferred, Routes};
use crate::channel::Outbound;
use crate::client::core::ClientCore;
use crate::client::event_msg::ClientEventMsg;
use crate::client::types::{Output, RequestId};

/// The driver's state besides the core, where the outputs go.
pub(super) struct Targets<'a> {
    pub(super) routes: &'a mut Routes,
    pub(super) outbox: &'a mut Outbox,
    /// The deadline the timer task sleeps until.
    pub(super) armed: &'a mut Option<Instant>,
    /// Counts state changes, for the state watches.
    pub(super) state_version: &'a mut u64,
}

/// Carries out `core`'s outputs for `host`; returns the callbacks to run
/// once the lock is released.
pub(super) fn apply<H: Host>(
    host: &Arc<H>,
    core: &mut ClientCore,
    to: Targets<'_>,
) -> Vec<Deferred> {
    let cx = host.context();
    let mut deferred = Vec::new();
    let now = cx.runtime.now();
    let origin = || Arc::downgrade(host) as Weak<dyn Any + Send + Sync>;
    while let Some(out) = core.poll_output() {
        match out {
            Output::ConnectWs { socket } => {
                let queue = cx.options.max_queued_frames.max(1);
                let (frames, frames_rx) = async_channel::bounded(queue);
                let (kill, kill_rx) = async_channel::bounded(1);
                to.routes.add_socket(socket, frames, kill);
                let task = io::run_ws(Arc::downgrade(host), socket, frames_rx, kill_rx);
                cx.runtime.spawn(Box::pin(task));
            }
            Output::Transmit { socket, payload } => {
                if !to
                    .routes
                    .queue_frame(socket, Outbound::Message(Arc::new(payload)))
                {
                    tracing::warn!(socket = socket.get(), "WebSocket send queue full or gone");
                    to.routes.kill_socket(socket);
                    core.ws_send_failed(now, socket);
                }
            }
            Output::CloseWs {
                socket,
                code,
                reason,
            } => {
                if !to
                    .routes
                    .queue_frame(socket, Outbound::Close { code, reason })
                {
                    to.routes.kill_socket(socket);
                }
            }
            Output::AjaxPoll {
                request,
                handshake,
                udt,
                timeout,
            } => {
                let kind = io::AjaxKind::Poll { handshake };
                spawn_ajax(host, to.routes, request, kind, udt, timeout);
            }
            Output::AjaxPost {
                request,
                payload,
                udt,
                timeout,
            } => {
                let kind = io::AjaxKind::Post { payload };
                spawn_ajax(host, to.routes, request, kind, udt, timeout);
            }
            Output::AbortAjax { request } => {
                // Dropping the sender wakes the task, which gives up.
                to.routes.end_request(request);
            }
            Output::StateChanged(change) => {
                *to.state_version = to.state_version.wrapping_add(1);
                cx.state_changed.notify(usize::MAX);
                to.outbox.push(ClientEventMsg {
                    event: change.to_event(),
                    change: Some(change),
                    client: origin(),
                });
            }
            Output::Event(event) => to.outbox.push(ClientEventMsg {
                event,
                change: None,
                client: origin(),
            }),
            Output::Reply { id, result } => to.routes.reply(id, result, &mut deferred),
        }
    }
    let next = core.poll_timeout();
    if next.is_some() && (to.armed.is_none() || next < *to.armed) {
        *to.armed = next;
        let _ = cx.timer_wake.try_send(());
    }
    to.outbox.flush(host);
    deferred
}

/// Starts an Ajax request's task; dropping its abort sender aborts it.
fn spawn_ajax<H: Host>(
    host: &Arc<H>,
    routes: &mut Routes,
    request: RequestId,
    kind: io::AjaxKind,
    udt: i64,
    timeout: Duration,
) {
    let (abort, abort_rx) = async_channel::bounded(1);
    routes.add_request(request, abort);
    let task = io::run_ajax(Arc::downgrade(host), request, kind, udt, timeout, abort_rx);
    host.context().runtime.spawn(Box::pin(task));
}
