//! The sans-IO server state machine, by concern: the registry of clients
//! ([`clients`]), WebSocket connections ([`ws`]), Ajax ([`ajax`]), pushes
//! and their buffers ([`pushes`]), replies ([`replies`]), deadlines and
//! outputs ([`timers`]), and the graceful shutdown ([`shutdown`]).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use indexmap::IndexMap;

use crate::server::config::{ConfigError, ServerConfig};
use crate::server::pending::PendingBatches;
use crate::server::types::*;
use pushes::{BatchMemo, SendBuffer};
pub(crate) use pushes::{CheckedPush, push_uid};

mod ajax;
mod clients;
mod pushes;
mod replies;
mod shutdown;
mod timers;
mod ws;

pub use replies::pack_reply;

use crate::event::{Event, ids};
use crate::packer::{PackError, Packed, PackedRef, Packer};
use crate::value::Value;
use crate::wire::{self, WireError};

/// One client (tab, device) of a user on one transport: Sente's conns entry.
#[derive(Debug)]
struct Client {
    /// The open channel: the WebSocket, or the held long-poll.
    channel: Option<ConnId>,
    /// The id of the latest channel (Sente's conn-id): a grace timer or
    /// long-poll timeout for an older one is stale.
    generation: ConnId,
    /// Packed push batches waiting for the client to have a channel again.
    pending: PendingBatches,
    /// The held long-poll's timeout.
    poll_timer: Option<TimerKey>,
    /// The end of the grace period, while the client has no channel.
    grace_timer: Option<TimerKey>,
}

/// A scheduled deadline's key, to cancel it.
type TimerKey = (Instant, u64);

/// A live WebSocket.
#[derive(Debug)]
struct WsConn {
    uid: Value,
    client_id: Arc<str>,
    last_inbound: Instant,
    /// Set when a server ping went out with no message since.
    ping_sent_at: Option<Instant>,
    /// The next keep-alive check.
    keepalive: Option<TimerKey>,
}

#[derive(Debug, Clone, PartialEq)]
enum Timer {
    Flush {
        transport: Transport,
        uid: Value,
        serial: u64,
    },
    KeepAlive {
        conn: ConnId,
    },
    LongPoll {
        uid: Value,
        client_id: Arc<str>,
        conn: ConnId,
    },
    PostReply {
        post: ConnId,
    },
    Grace {
        transport: Transport,
        uid: Value,
        client_id: Arc<str>,
        generation: ConnId,
    },
}

/// How far below the top of a push batch (`[[event …] nil]`) an event sits.
const BATCH_LEVELS: usize = 2;

type Clients = FastMap<Value, IndexMap<Arc<str>, Client, foldhash::fast::RandomState>>;

/// The server half of Sente as a state machine: no sockets, no clock, no
/// tasks. A driver feeds it what happened and carries out what it asks.
///
/// # How to drive it
/// * **Inputs** (`handle_*`-style calls, each taking the current `Instant`):
///   [`ws_open`](Self::ws_open), [`ws_message`](Self::ws_message),
///   [`ws_closed`](Self::ws_closed), [`ajax_get`](Self::ajax_get),
///   [`ajax_poll_closed`](Self::ajax_poll_closed),
///   [`ajax_post`](Self::ajax_post), [`ajax_post_closed`](Self::ajax_post_closed),
///   and [`handle_timeout`](Self::handle_timeout) when the deadline from
///   [`poll_timeout`](Self::poll_timeout) has passed.
/// * **Application calls**: [`send`](Self::send), [`reply`](Self::reply),
///   [`close_uid`](Self::close_uid), [`connected_uids`](Self::connected_uids).
/// * **Outputs**: after any call, drain [`poll_output`](Self::poll_output)
///   and carry each [`Output`] out in order, then re-arm the timer with
///   [`poll_timeout`](Self::poll_timeout).
#[derive(Debug)]
pub struct ServerCore {
    config: ServerConfig,
    packer: Arc<dyn Packer>,
    /// The next connection id (WebSockets, polls, POSTs).
    next_conn: u64,
    /// The next timer's sequence number (orders timers due at one instant).
    next_timer: u64,
    /// The next send buffer's serial (a flush timer for an older window is stale).
    next_serial: u64,
    ws_clients: Clients,
    ajax_clients: Clients,
    ws_conns: FastMap<ConnId, WsConn>,
    /// POSTs waiting for their reply, with their timeout.
    posts: FastMap<ConnId, TimerKey>,
    buffers: FastMap<(Transport, Value), SendBuffer>,
    timers: BTreeMap<(Instant, u64), Timer>,
    outputs: VecDeque<Output>,
    /// While a sweep of flushes runs: the batches packed so far in it.
    batch_memo: Option<BatchMemo>,
    connected: ConnectedUids,
    connected_version: u64,
    /// Pushes for Ajax clients are the cluster's to deliver (their
    /// mailboxes): this core holds their polls, never their pushes.
    ajax_in_mailboxes: bool,
}

impl std::fmt::Debug for dyn Packer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Packer({})", self.name())
    }
}

impl ServerCore {
    /// A core with this configuration and packer.
    ///
    /// # Errors
    /// [`ConfigError`] when the configuration is one Sente would refuse.
    pub fn new(config: ServerConfig, packer: Arc<dyn Packer>) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            config,
            packer,
            next_conn: 1,
            next_timer: 0,
            next_serial: 0,
            ws_clients: FastMap::default(),
            ajax_clients: FastMap::default(),
            ws_conns: FastMap::default(),
            posts: FastMap::default(),
            buffers: FastMap::default(),
            timers: BTreeMap::new(),
            outputs: VecDeque::new(),
            batch_memo: None,
            connected: ConnectedUids::default(),
            connected_version: 0,
            ajax_in_mailboxes: false,
        })
    }

    /// The same core, leaving the pushes for Ajax clients to the cluster's
    /// mailboxes (a broker that shares Ajax clients): pushes reach its
    /// WebSocket clients only, and its long-polls are answered with
    /// [`ajax_answer_poll`](Self::ajax_answer_poll).
    pub fn with_ajax_in_mailboxes(mut self) -> Self {
        self.ajax_in_mailboxes = true;
        self
    }

    /// The transports this core delivers pushes on.
    fn push_transports(&self) -> &'static [Transport] {
        if self.ajax_in_mailboxes {
            &[Transport::Ws]
        } else {
            &[Transport::Ws, Transport::Ajax]
        }
    }

    /// The same core, giving out connection ids from `base + 1` on (a
    /// sharded driver gives each shard its own range).
    pub(crate) fn with_first_conn_id(mut self, base: u64) -> Self {
        self.next_conn = base + 1;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The packer.
    pub fn packer(&self) -> &Arc<dyn Packer> {
        &self.packer
    }

    fn fresh_id(&mut self) -> ConnId {
        let id = ConnId(self.next_conn);
        self.next_conn += 1;
        id
    }

    fn emit_event(
        &mut self,
        event: Event,
        uid: &Value,
        client_id: &Arc<str>,
        transport: Transport,
        conn: ConnId,
        reply: Option<ReplyTo>,
    ) {
        self.outputs.push_back(Output::Event(Box::new(Incoming {
            event,
            uid: uid.clone(),
            client_id: client_id.clone(),
            transport,
            conn,
            reply,
        })));
    }
}
