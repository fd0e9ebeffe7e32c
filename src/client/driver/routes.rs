//! Where the core's outputs go: the frame queue of each WebSocket task, the
//! abort handle of each Ajax request, and the reply slot of each awaited
//! callback. Owned by the driver's state, under its lock.

use std::collections::HashMap;

use crate::channel::Outbound;
use crate::client::types::{CallbackError, CallbackId, RequestId, SocketId};
use crate::value::Value;

/// Where a reply goes.
pub(super) enum ReplySlot {
    /// To an awaiting [`ChannelSocketClient::send_with_reply`](super::ChannelSocketClient::send_with_reply).
    Channel(async_channel::Sender<Result<Value, CallbackError>>),
    /// To a [`ChannelSocketClient::send_with_callback`](super::ChannelSocketClient::send_with_callback) callback.
    Callback(Box<dyn FnOnce(Result<Value, CallbackError>) + Send>),
}

/// A callback to run once the lock is released.
pub(super) type Deferred = (
    Box<dyn FnOnce(Result<Value, CallbackError>) + Send>,
    Result<Value, CallbackError>,
);

/// The frames queue of one WebSocket task.
#[derive(Debug)]
struct SocketRoute {
    frames: async_channel::Sender<Outbound>,
    kill: async_channel::Sender<()>,
}

#[derive(Default)]
pub(super) struct Routes {
    sockets: HashMap<SocketId, SocketRoute>,
    /// Dropping a request's sender aborts it.
    requests: HashMap<RequestId, async_channel::Sender<()>>,
    replies: HashMap<CallbackId, ReplySlot>,
}

impl Routes {
    pub(super) fn add_socket(
        &mut self,
        socket: SocketId,
        frames: async_channel::Sender<Outbound>,
        kill: async_channel::Sender<()>,
    ) {
        self.sockets.insert(socket, SocketRoute { frames, kill });
    }

    pub(super) fn forget_socket(&mut self, socket: SocketId) {
        self.sockets.remove(&socket);
    }

    /// Queues `frame` for the socket's task; `false` when the queue is
    /// full or the socket gone.
    pub(super) fn queue_frame(&self, socket: SocketId, frame: Outbound) -> bool {
        self.sockets
            .get(&socket)
            .is_some_and(|r| r.frames.try_send(frame).is_ok())
    }

    /// Stops the socket's task at once.
    pub(super) fn kill_socket(&self, socket: SocketId) {
        if let Some(route) = self.sockets.get(&socket) {
            let _ = route.kill.try_send(());
        }
    }

    pub(super) fn add_request(&mut self, request: RequestId, abort: async_channel::Sender<()>) {
        self.requests.insert(request, abort);
    }

    /// Forgets the request; `false` when it was aborted already.
    pub(super) fn end_request(&mut self, request: RequestId) -> bool {
        self.requests.remove(&request).is_some()
    }

    pub(super) fn await_reply(&mut self, id: CallbackId, slot: ReplySlot) {
        self.replies.insert(id, slot);
    }

    /// Delivers a reply: at once to a channel, or as a callback to run once
    /// the lock is released (pushed on `deferred`).
    pub(super) fn reply(
        &mut self,
        id: CallbackId,
        result: Result<Value, CallbackError>,
        deferred: &mut Vec<Deferred>,
    ) {
        match self.replies.remove(&id) {
            Some(ReplySlot::Channel(tx)) => {
                let _ = tx.try_send(result);
            }
            Some(ReplySlot::Callback(cb)) => deferred.push((cb, result)),
            None => {}
        }
    }
}
