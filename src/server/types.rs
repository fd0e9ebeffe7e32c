//! The inputs' and outputs' types of the server core.

use std::sync::Arc;

use crate::event::Event;
use crate::packer::Packed;
use crate::value::{Set, Value};

// Shared with the client (`crate::transport`); here for `types::*` users.
pub use crate::transport::Transport;

/// Identifies one channel: a WebSocket connection, one Ajax long-poll or
/// handshake request, or one Ajax POST. Never reused by a core.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ConnId(pub(crate) u64);

impl ConnId {
    /// The raw number, for logs.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// Where a reply to an incoming event goes.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplyTo {
    /// Over the WebSocket that sent the event, as `[reply cb]`.
    Ws {
        /// The connection.
        conn: ConnId,
        /// The client's callback id, echoed back.
        cb: Value,
    },
    /// As the body of the Ajax POST that carried the event, at most once.
    Ajax {
        /// The POST.
        post: ConnId,
    },
}

/// An event for the application, with where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Incoming {
    /// The event (`[:chsk/bad-event x]` when the client sent something else).
    pub event: Event,
    /// The user id of the connection.
    pub uid: Value,
    /// The client id (one per browser tab or native client).
    pub client_id: Arc<str>,
    /// The transport it came over.
    pub transport: Transport,
    /// The channel it came over (the WebSocket, the POST, or the poll that
    /// triggered a `chsk/uidport-*` event).
    pub conn: ConnId,
    /// Present only when the client asked for a reply.
    pub reply: Option<ReplyTo>,
}

/// Why the core asks for a WebSocket to be closed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CloseReason {
    /// No message arrived within `ws_ping_timeout` after a server ping.
    PingTimeout,
    /// The application closed the user's connections ([`close_uid`](super::ServerCore::close_uid)).
    Requested,
    /// The server is shutting down ([`close_all`](super::ServerCore::close_all)):
    /// close frame 1001 "going away", after what is queued.
    ShuttingDown,
}

/// Why a push batch will never reach a client.
#[derive(Clone, PartialEq, Debug)]
pub enum DropReason {
    /// The client's queue of undelivered batches was full; the oldest went.
    QueueFull,
    /// The client did not come back within the grace period.
    ClientGone,
    /// The packer could not pack the batch.
    PackFailed(String),
}

/// What the core asks its driver to do, in order. See [`ServerCore::poll_output`](super::ServerCore::poll_output).
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// Send this frame on a WebSocket (text or binary as the payload says).
    Transmit {
        /// The connection.
        conn: ConnId,
        /// The packed message, shared by every connection it goes to.
        payload: Arc<Packed>,
    },
    /// Answer a held Ajax long-poll with status 200 and this body, then end that request.
    RespondPoll {
        /// The poll.
        conn: ConnId,
        /// The body.
        payload: Arc<Packed>,
    },
    /// Answer an Ajax POST with status 200 and this body.
    RespondPost {
        /// The POST.
        post: ConnId,
        /// The body.
        payload: Arc<Packed>,
    },
    /// Close this WebSocket (code 1000), or drop this held poll without an answer.
    Close {
        /// The connection or poll.
        conn: ConnId,
        /// Why.
        reason: CloseReason,
    },
    /// An event for the application's handler.
    Event(Box<Incoming>),
    /// A push batch that will never reach a client: log it.
    PushDropped {
        /// The user.
        uid: Value,
        /// The client.
        client_id: Arc<str>,
        /// How many events the batch held.
        events: usize,
        /// Why.
        reason: DropReason,
    },
}

/// Which users are connected, by transport (Sente's `connected-uids`).
///
/// A user counts as connected over a transport from its first connection
/// until its last one has been gone for the grace period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectedUids {
    /// Users with a WebSocket client.
    pub ws: Set,
    /// Users with an Ajax client.
    pub ajax: Set,
    /// Users with either.
    pub any: Set,
}

/// What the server holds right now, for monitoring and leak checks
/// ([`ChannelSocketServer::stats`](super::ChannelSocketServer::stats)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Users with a WebSocket or Ajax client (Sente's `connected-uids :any`).
    pub connected_uids: usize,
    /// WebSocket clients (client ids), open or within their grace period.
    pub ws_clients: usize,
    /// Ajax clients, polling or between polls.
    pub ajax_clients: usize,
    /// Open WebSocket connections.
    pub ws_connections: usize,
    /// Ajax POSTs waiting for their reply.
    pub posts_awaiting_reply: usize,
    /// Users with pushes buffered for the next batch.
    pub send_buffers: usize,
    /// Scheduled deadlines (flushes, keep-alives, long-polls, graces).
    pub timers: usize,
    /// Requests and connections the driver routes to (WebSockets, held
    /// polls, POSTs awaiting replies); 0 for the bare core.
    pub routes: usize,
    /// Requests kept for the events of open connections; 0 for the bare core.
    pub requests: usize,
    /// Bytes held by POST bodies being received; 0 for the bare core.
    pub post_body_bytes: usize,
    /// Pushes dropped since the server started (each also logged as
    /// `push dropped`): a client's queue full, a client that did not come
    /// back within its grace period (for a WebSocket client that
    /// reconnected to another node of a cluster, the pushes held for it
    /// here), a batch the packer refused; 0 for the bare core.
    pub pushes_dropped: u64,
}

/// Why a connection was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The user already has `max_clients_per_uid` clients on this transport.
    #[error("user {uid} already has {limit} {transport} clients")]
    TooManyClients {
        /// The user id, as EDN.
        uid: String,
        /// The transport.
        transport: &'static str,
        /// The limit.
        limit: usize,
    },
    /// The request carried no client id.
    #[error(
        "Client's Ring request doesn't have a client id. Does your server have the necessary keyword Ring middleware (`wrap-params` & `wrap-keyword-params`)?"
    )]
    MissingClientId,
    /// The handshake cannot be packed: the user id or the handshake data
    /// has no representation in the server's packer. The driver answers
    /// 500 (Ajax) or closes with 1011 (WebSocket).
    #[error("the handshake cannot be packed: {0}")]
    Handshake(crate::packer::PackError),
}

impl ConnectError {
    /// The HTTP status an Ajax request refused for this reason is answered
    /// with: 429 for too many clients, 400 for a missing client id, 500 for
    /// a handshake that cannot be packed.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::TooManyClients { .. } => 429,
            Self::MissingClientId => 400,
            Self::Handshake(_) => 500,
        }
    }

    /// The WebSocket close code for this refusal: 1008 (policy), or 1011
    /// (a server error) for a handshake that cannot be packed.
    pub fn close_code(&self) -> u16 {
        match self {
            Self::Handshake(_) => 1011,
            _ => 1008,
        }
    }
}

/// Why a push was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Sending to a `nil` user id is not supported (as in Sente); use
    /// `:sente/nil-uid` for anonymous connections.
    #[error("cannot send to a nil user id; anonymous connections share the uid :sente/nil-uid")]
    NilUid,
    /// The server's packer cannot pack the event where it sits in a push
    /// batch (`[[event …] nil]`: two levels below the top), e.g. data nested
    /// deeper than the packer's bound less those levels, or a value the
    /// format has no representation for. Nothing was queued.
    #[error("the event cannot be packed in a push batch: {0}")]
    Unpackable(crate::packer::PackError),
}

/// The answer to an Ajax GET.
#[derive(Clone, Debug, PartialEq)]
pub enum AjaxGet {
    /// Answer now with this body (a handshake, or pushes that were waiting).
    Respond(Arc<Packed>),
    /// Hold the request; the core will answer it through
    /// [`Output::RespondPoll`] with a push batch or the long-poll timeout.
    Held(ConnId),
}

/// The answer to an Ajax POST.
#[derive(Clone, Debug, PartialEq)]
pub enum AjaxPost {
    /// No reply was asked for: answer now with `[:chsk/dummy-cb-200 nil]`.
    Respond(Arc<Packed>),
    /// Wait for [`Output::RespondPost`]: the handler's reply, or
    /// `[:chsk/timeout nil]` after `lp_timeout`.
    AwaitReply(ConnId),
}

/// A hash map with foldhash (randomly seeded per process): the server's
/// per-connection maps are on every message's path, where SipHash costs.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
