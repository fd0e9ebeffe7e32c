//! The inputs' and outputs' types of the client core.

use std::fmt;
use std::time::Duration;

use super::state::StateChange;
use crate::event::{Event, ids};
use crate::packer::{PackError, Packed};
use crate::value::Value;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $name(pub(crate) u64);

        impl $name {
            /// The raw number, for logs.
            pub fn get(self) -> u64 {
                self.0
            }
        }
    };
}

id_type!(
    /// Identifies one WebSocket the core asked for. Never reused by a core.
    SocketId
);
id_type!(
    /// Identifies one Ajax request (a long-poll GET or a POST). Never reused.
    RequestId
);
id_type!(
    /// Identifies a request awaiting a reply; the reply comes out as
    /// [`Output::Reply`] with the same id. Never reused.
    CallbackId
);

/// Why a reply did not come: Sente's reserved reply values.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, thiserror::Error)]
pub enum CallbackError {
    /// `:chsk/closed`: the connection was not open; nothing was sent.
    #[error(":chsk/closed")]
    Closed,
    /// `:chsk/timeout`: no reply within the timeout.
    #[error(":chsk/timeout")]
    Timeout,
    /// `:chsk/error`: the request failed (send error, HTTP error, bad body).
    #[error(":chsk/error")]
    Error,
}

impl CallbackError {
    /// The reply value's keyword name: `"chsk/closed"`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => ids::CLOSED,
            Self::Timeout => ids::TIMEOUT,
            Self::Error => ids::ERROR,
        }
    }

    /// The reply value Sente hands the callback: `:chsk/closed`, …
    pub fn to_value(self) -> Value {
        Value::keyword(self.as_str())
    }

    /// Recognises Sente's error reply values (`cb-error?`).
    pub fn from_value(v: &Value) -> Option<Self> {
        [Self::Closed, Self::Timeout, Self::Error]
            .into_iter()
            .find(|e| v.is_keyword(e.as_str()))
    }

    /// Sorts a reply value the way `cb-success?` does: the three error
    /// keywords become `Err`, anything else is the reply.
    pub fn classify(reply: Value) -> Result<Value, Self> {
        match Self::from_value(&reply) {
            Some(e) => Err(e),
            None => Ok(reply),
        }
    }

    /// The value Sente's callback would receive for `result`.
    pub fn into_reply_value(result: Result<Value, Self>) -> Value {
        result.unwrap_or_else(Self::to_value)
    }
}

impl From<CallbackError> for Value {
    fn from(e: CallbackError) -> Self {
        e.to_value()
    }
}

/// Why a send did not go out.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The connection is not open (Sente answers `:chsk/closed` at once and
    /// returns false). Nothing is queued.
    #[error("the channel socket is not open (:chsk/closed)")]
    Closed,
    /// Already `limit` replies are awaited.
    #[error("{limit} replies are already awaited (max_pending_callbacks)")]
    TooManyPendingCallbacks {
        /// The configured bound.
        limit: usize,
    },
    /// The packer could not pack the event.
    #[error(transparent)]
    Pack(#[from] PackError),
}

impl SendError {
    /// The reply value Sente's callback would get for this failure:
    /// `:chsk/closed` when not open, `:chsk/error` otherwise.
    pub fn as_callback_error(&self) -> CallbackError {
        match self {
            Self::Closed => CallbackError::Closed,
            _ => CallbackError::Error,
        }
    }
}

/// How an Ajax request failed (reported by the driver).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AjaxError {
    /// The request timed out (the core also raises this itself at the
    /// request's deadline).
    #[error("the request timed out")]
    Timeout,
    /// The request was aborted.
    #[error("the request was aborted")]
    Aborted,
    /// The server answered with this non-2xx HTTP status.
    #[error("HTTP status {0}")]
    Status(u16),
    /// A network error (connection refused, reset, DNS, …).
    #[error("network error: {0}")]
    Network(String),
}

/// What the core asks its driver to do, in order. See
/// [`ClientCore::poll_output`](super::ClientCore::poll_output).
#[derive(Clone, PartialEq)]
pub enum Output {
    /// Open a WebSocket to the ws URL with `client-id` (and the CSRF token)
    /// in the query string (PROTOCOL.md §3.3). Report what happens with
    /// [`ws_message`](super::ClientCore::ws_message),
    /// [`ws_error`](super::ClientCore::ws_error) and
    /// [`ws_closed`](super::ClientCore::ws_closed); a connection that cannot
    /// be made is an error then a close (code 1006, not clean).
    ConnectWs {
        /// The new socket.
        socket: SocketId,
    },
    /// Send this frame on the WebSocket (text or binary as the payload says).
    Transmit {
        /// The socket.
        socket: SocketId,
        /// The packed message.
        payload: Packed,
    },
    /// Close the WebSocket with this code and reason.
    CloseWs {
        /// The socket.
        socket: SocketId,
        /// 1000 (`CLOSE_NORMAL`) or 3000 (`CLOSE_ABNORMAL`).
        code: u16,
        /// The reason text.
        reason: &'static str,
    },
    /// Issue an Ajax long-poll `GET` with `udt`, `client-id` and, when
    /// `handshake`, `handshake?=1` (PROTOCOL.md §3.4). Report its end with
    /// [`ajax_poll_done`](super::ClientCore::ajax_poll_done).
    AjaxPoll {
        /// The request.
        request: RequestId,
        /// Ask for a handshake (the client is not open).
        handshake: bool,
        /// The `udt` cache-buster, ms since the Unix epoch.
        udt: i64,
        /// The request's timeout; the core enforces it too.
        timeout: Duration,
    },
    /// Issue an Ajax `POST` carrying `payload` (PROTOCOL.md §3.5). Report
    /// its end with [`ajax_post_done`](super::ClientCore::ajax_post_done).
    AjaxPost {
        /// The request.
        request: RequestId,
        /// `[event :ajax]` (reply wanted) or `[event nil]`.
        payload: Packed,
        /// The `udt` form field, ms since the Unix epoch.
        udt: i64,
        /// The request's timeout; the core enforces it too.
        timeout: Duration,
    },
    /// Abort this Ajax request; its result will be ignored.
    AbortAjax {
        /// The request.
        request: RequestId,
    },
    /// The state changed: deliver [`StateChange::to_event`]
    /// (`[:chsk/state [old new open-changed?]]`) and update watchers.
    StateChanged(Box<StateChange>),
    /// An event for the application: `[:chsk/handshake …]`, a pushed event
    /// (wrapped as `[:chsk/recv ev]` when configured), `[:chsk/ws-ping]`.
    Event(Event),
    /// The outcome of a [`send_with_reply`](super::ClientCore::send_with_reply).
    Reply {
        /// The id `send_with_reply` returned.
        id: CallbackId,
        /// The reply, or why there is none.
        result: Result<Value, CallbackError>,
    },
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConnectWs { socket } => write!(f, "ConnectWs({})", socket.0),
            Self::Transmit { socket, payload } => {
                write!(f, "Transmit({}, {payload:?})", socket.0)
            }
            Self::CloseWs {
                socket,
                code,
                reason,
            } => write!(f, "CloseWs({}, {code}, {reason:?})", socket.0),
            Self::AjaxPoll {
                request, handshake, ..
            } => write!(f, "AjaxPoll({}, handshake: {handshake})", request.0),
            Self::AjaxPost {
                request, payload, ..
            } => write!(f, "AjaxPost({}, {payload:?})", request.0),
            Self::AbortAjax { request } => write!(f, "AbortAjax({})", request.0),
            Self::StateChanged(c) => write!(f, "StateChanged({})", c.to_event()),
            Self::Event(e) => write!(f, "Event({e})"),
            Self::Reply { id, result } => write!(f, "Reply({}, {result:?})", id.0),
        }
    }
}

/// Counters of what the core dropped, for logs and tests.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ClientStats {
    /// Replies for no awaited request (it timed out, or was never made), and
    /// Ajax POST replies other than `:chsk/dummy-cb-200` when none was asked.
    pub replies_without_callback: u64,
    /// Messages that did not unpack or fit no shape.
    pub bad_messages: u64,
    /// Connection activities failed on purpose by `bad_conn_rate`.
    pub simulated_failures: u64,
}
