//! What the server's handles and tasks share: the options, and the state
//! split into shards by user id, each behind its own lock.
//!
//! A shard holds a [`ServerCore`] for the users whose uid hashes to it, the
//! routes to their connections' queues and the deadline armed for its timer
//! task. Every change to a shard goes through one path,
//! [`Shared::with_shard`]: lock, run the change on the core, carry out the
//! core's outputs, unlock, and hand the events to the caller to deliver.
//! Connections of unrelated users do not wait on each other's locks; what
//! spans users (a broadcast, [`connected_uids`](ConnectedUids)) visits the
//! shards one after the other.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::core::ServerCore;
use super::event_msg::ServerEventMsg;
use super::options::ServerOptions;
use super::request::ChskRequest;
use super::types::*;
use crate::channel::Outbound;
use crate::packer::{Packed, Packer};
use crate::runtime::Runtime;
use crate::value::Value;

/// Where the core's outputs for a channel go.
#[derive(Debug)]
pub(crate) enum Route {
    Ws(super::frame_queue::FrameSender),
    Poll(async_channel::Sender<Option<Arc<Packed>>>),
    Post(async_channel::Sender<Arc<Packed>>),
}

/// Connection ids carry their shard in their top bits, so that a reply or
/// a closed connection finds its shard without a lookup.
const SHARD_SHIFT: u32 = 48;

/// The most shards a server may have ([`ServerOptions::lock_shards`]).
pub const MAX_LOCK_SHARDS: usize = 256;

/// One shard's state, behind its lock.
#[derive(Debug)]
pub(crate) struct State {
    core: ServerCore,
    routes: FastMap<ConnId, Route>,
    requests: FastMap<ConnId, Arc<ChskRequest>>,
    /// The deadline the shard's timer task sleeps until.
    armed: Option<Instant>,
    /// The core's `connected_uids` version last seen.
    uids_version: u64,
}

impl State {
    /// The shard's core.
    pub(crate) fn core(&mut self) -> &mut ServerCore {
        &mut self.core
    }

    /// Routes the core's outputs for `conn` to `route`; the events of the
    /// connection carry `request`.
    pub(crate) fn add_route(
        &mut self,
        conn: ConnId,
        route: Route,
        request: Option<Arc<ChskRequest>>,
    ) {
        self.routes.insert(conn, route);
        if let Some(request) = request {
            self.requests.insert(conn, request);
        }
    }

    /// Forgets the route and request of `conn`.
    pub(crate) fn remove_route(&mut self, conn: ConnId) {
        self.routes.remove(&conn);
        self.requests.remove(&conn);
    }

    /// Makes the timer task sleep afresh (it just ran the due timers).
    pub(crate) fn disarm(&mut self) {
        self.armed = None;
    }
}

/// One shard: its state and the waker of its timer task. Aligned to two
/// cache lines, so that the locks of neighbouring shards do not share one.
#[derive(Debug)]
#[repr(align(128))]
pub(crate) struct Shard {
    state: Mutex<State>,
    timer_wake: async_channel::Sender<()>,
}

impl Shard {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the core half-updated in
        // a way that matters more than stopping the server; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The deadline the timer task should sleep until.
    pub(crate) fn armed(&self) -> Option<Instant> {
        self.lock().armed
    }
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) runtime: Arc<dyn Runtime>,
    /// The core's packer, for unpacking and packing outside the locks.
    pub(crate) packer: Arc<dyn Packer>,
    pub(crate) options: ServerOptions,
    shards: Box<[Shard]>,
    /// Which shard a uid belongs to (one seed for the server's life).
    shard_hasher: foldhash::fast::RandomState,
    pub(crate) events: async_channel::Sender<ServerEventMsg>,
    /// Bumped whenever a shard's connected users change.
    uids_version: AtomicU64,
    pub(crate) uids_changed: event_listener::Event,
    /// What the POST bodies being received hold.
    pub(crate) post_bodies: super::post_body::BodyBudget,
    /// Set once the shutdown began: new requests are refused.
    pub(crate) shutting_down: AtomicBool,
    /// Notified when the shutdown begins.
    pub(crate) shutdown_begun: event_listener::Event,
    /// Notified whenever a request or connection ends.
    pub(crate) conn_ended: event_listener::Event,
    /// What the broker holds (weakly) of this server, when it has one.
    pub(crate) cluster_link: std::sync::OnceLock<Arc<dyn super::broker::ClusterNode>>,
    /// The polls held for Ajax clients the cluster shares.
    pub(crate) mail_waiters: super::shared_ajax::MailWaiters,
    /// Pushes dropped since the start (the driver's count).
    pushes_dropped: AtomicU64,
}

impl Shared {
    /// The broker, when it shares Ajax clients.
    pub(crate) fn ajax_broker(&self) -> Option<Arc<dyn super::broker::Broker>> {
        self.options.broker.clone().filter(|b| b.shares_ajax())
    }

    /// The shared state of a server, with one core per shard, and the
    /// receivers of the shards' timer wakes (one per shard, in order).
    pub(crate) fn new(
        runtime: Arc<dyn Runtime>,
        packer: Arc<dyn Packer>,
        options: ServerOptions,
        events: async_channel::Sender<ServerEventMsg>,
    ) -> Result<(Self, Vec<async_channel::Receiver<()>>), super::ConfigError> {
        let count = options.lock_shards.clamp(1, MAX_LOCK_SHARDS);
        let mut shards = Vec::with_capacity(count);
        let mut wakes = Vec::with_capacity(count);
        for index in 0..count {
            let mut core = ServerCore::new(options.config.clone(), packer.clone())?
                .with_first_conn_id((index as u64) << SHARD_SHIFT);
            if options.broker.as_ref().is_some_and(|b| b.shares_ajax()) {
                core = core.with_ajax_in_mailboxes();
            }
            let (timer_wake, wake_rx) = async_channel::bounded(1);
            shards.push(Shard {
                state: Mutex::new(State {
                    core,
                    routes: FastMap::default(),
                    requests: FastMap::default(),
                    armed: None,
                    uids_version: 0,
                }),
                timer_wake,
            });
            wakes.push(wake_rx);
        }
        let post_bodies = super::post_body::BodyBudget::new(options.max_pending_post_bytes);
        let shared = Self {
            runtime,
            packer,
            options,
            shards: shards.into_boxed_slice(),
            shard_hasher: foldhash::fast::RandomState::default(),
            events,
            uids_version: AtomicU64::new(0),
            uids_changed: event_listener::Event::new(),
            post_bodies,
            shutting_down: AtomicBool::new(false),
            shutdown_begun: event_listener::Event::new(),
            conn_ended: event_listener::Event::new(),
            cluster_link: std::sync::OnceLock::new(),
            mail_waiters: Default::default(),
            pushes_dropped: AtomicU64::new(0),
        };
        Ok((shared, wakes))
    }

    /// True once a shutdown began.
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    /// How many shards the state is split into.
    pub(crate) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The shard at `index` (below [`shard_count`](Self::shard_count)).
    pub(crate) fn shard(&self, index: usize) -> &Shard {
        &self.shards[index]
    }

    /// The shard of user `uid` (as the core registers it: see `push_uid`).
    pub(crate) fn shard_of_uid(&self, uid: &Value) -> usize {
        (self.shard_hasher.hash_one(uid) % self.shards.len() as u64) as usize
    }

    /// The shard whose core gave out `conn`.
    pub(crate) fn shard_of_conn(&self, conn: ConnId) -> usize {
        ((conn.get() >> SHARD_SHIFT) as usize).min(self.shards.len() - 1)
    }

    /// The version of the connected users: changes whenever they do.
    pub(crate) fn uids_version(&self) -> u64 {
        self.uids_version.load(Ordering::Acquire)
    }

    /// Reads shard `index` under its lock (nothing changes, no output).
    pub(crate) fn read_shard<T>(&self, index: usize, f: impl FnOnce(&State) -> T) -> T {
        f(&self.shards[index].lock())
    }

    /// The one path into a shard's core: under the shard's lock, runs `f`
    /// with the time now, then carries out the core's outputs (frames to
    /// connections' queues, answers to held requests, closes, the timer).
    /// Returns `f`'s result and the events for the application, for the
    /// caller to deliver once the lock is released.
    pub(crate) fn with_shard<T>(
        self: &Arc<Self>,
        index: usize,
        f: impl FnOnce(&mut State, Instant) -> T,
    ) -> (T, Vec<ServerEventMsg>) {
        let now = self.runtime.now();
        let shard = &self.shards[index];
        let mut st = shard.lock();
        let result = f(&mut st, now);
        let events = self.apply(shard, &mut st);
        (result, events)
    }

    /// Carries out the core's outputs; returns the events for the application.
    fn apply(self: &Arc<Self>, shard: &Shard, st: &mut State) -> Vec<ServerEventMsg> {
        let mut events = Vec::new();
        while let Some(out) = st.core.poll_output() {
            match out {
                Output::Transmit { conn, payload } => {
                    let Some(Route::Ws(frames)) = st.routes.get(&conn) else {
                        continue;
                    };
                    if frames.push(Outbound::Message(payload)).is_err() {
                        // A slow consumer: give up on it with a close frame
                        // that does not wait behind its backlog, and let the
                        // core keep later pushes for the client's reconnect.
                        if let Some((frames, bytes)) = frames.abort(1008, "send queue full") {
                            tracing::warn!(
                                conn = conn.get(),
                                dropped_frames = frames,
                                dropped_bytes = bytes,
                                limit = self.options.max_queued_bytes,
                                "closing a slow WebSocket consumer (1008): its send queue is full"
                            );
                        }
                        let now = self.runtime.now();
                        st.core.ws_closed(now, conn);
                    }
                }
                Output::RespondPoll { conn, payload } => {
                    if let Some(Route::Poll(tx)) = st.routes.remove(&conn) {
                        let _ = tx.try_send(Some(payload));
                    }
                }
                Output::RespondPost { post, payload } => {
                    if let Some(Route::Post(tx)) = st.routes.remove(&post) {
                        let _ = tx.try_send(payload);
                    }
                }
                Output::Close { conn, reason } => {
                    tracing::debug!(conn = conn.get(), ?reason, "closing");
                    match st.routes.get(&conn) {
                        Some(Route::Ws(frames)) => match reason {
                            // Asked for: after what is queued.
                            CloseReason::Requested => frames.close(1000, ""),
                            CloseReason::ShuttingDown => frames.close(1001, "going away"),
                            // The peer is unresponsive: what is queued
                            // for it would never be read. 1000 without a
                            // reason, as Sente on http-kit sends.
                            CloseReason::PingTimeout => {
                                if let Some((frames, bytes)) = frames.abort(1000, "") {
                                    tracing::info!(
                                        conn = conn.get(),
                                        dropped_frames = frames,
                                        dropped_bytes = bytes,
                                        "closing an unresponsive WebSocket: no message since the ping"
                                    );
                                }
                            }
                        },
                        Some(Route::Poll(tx)) => {
                            let _ = tx.try_send(None);
                        }
                        _ => {}
                    }
                }
                Output::Event(inc) => {
                    let request = st.requests.get(&inc.conn).cloned();
                    let msg = ServerEventMsg {
                        event: inc.event,
                        uid: inc.uid,
                        client_id: inc.client_id,
                        transport: inc.transport,
                        request,
                        reply_to: inc.reply,
                        server: Arc::downgrade(self),
                    };
                    match &self.options.broker {
                        // This node's first or last connection of the user:
                        // the cluster's only if no other node has the user.
                        Some(broker)
                            if msg.event.is(crate::event::ids::UIDPORT_OPEN)
                                || msg.event.is(crate::event::ids::UIDPORT_CLOSE) =>
                        {
                            events.extend(broker.uidport(msg))
                        }
                        _ => events.push(msg),
                    }
                }
                Output::PushDropped {
                    uid,
                    client_id,
                    events: n,
                    reason,
                } => {
                    self.pushes_dropped.fetch_add(n as u64, Ordering::Relaxed);
                    tracing::warn!(%uid, %client_id, events = n, ?reason, "push dropped");
                }
            }
        }
        let next = st.core.poll_timeout();
        if next.is_some() && (st.armed.is_none() || next < st.armed) {
            st.armed = next;
            let _ = shard.timer_wake.try_send(());
        }
        let version = st.core.connected_uids_version();
        if version != st.uids_version {
            st.uids_version = version;
            self.uids_version.fetch_add(1, Ordering::AcqRel);
            self.uids_changed.notify(usize::MAX);
            if let Some(broker) = &self.options.broker {
                // A broker does not call back into the node from here.
                broker.local_presence_changed();
            }
        }
        events
    }

    /// The users connected on the other nodes changed.
    pub(crate) fn remote_presence_changed(&self) {
        self.uids_version.fetch_add(1, Ordering::AcqRel);
        self.uids_changed.notify(usize::MAX);
    }

    /// The connected users of the cluster: this node's, and the other
    /// nodes' as the broker last heard.
    pub(crate) fn connected_uids(&self) -> ConnectedUids {
        let mut all = self.local_connected_uids();
        if let Some(broker) = &self.options.broker {
            let remote = broker.remote_uids();
            all.ws.extend(remote.ws);
            all.ajax.extend(remote.ajax);
            all.any.extend(remote.any);
        }
        all
    }

    /// The connected users of every shard of this node, merged.
    pub(crate) fn local_connected_uids(&self) -> ConnectedUids {
        let mut all = ConnectedUids::default();
        for index in 0..self.shards.len() {
            self.read_shard(index, |st| {
                let c = st.core.connected_uids();
                all.ws.extend(c.ws.iter().cloned());
                all.ajax.extend(c.ajax.iter().cloned());
                all.any.extend(c.any.iter().cloned());
            });
        }
        all
    }

    /// The stats of every shard, added up.
    pub(crate) fn stats(&self) -> ServerStats {
        let mut sum = ServerStats {
            post_body_bytes: self.post_bodies.held(),
            pushes_dropped: self.pushes_dropped.load(Ordering::Relaxed),
            ..ServerStats::default()
        };
        for index in 0..self.shards.len() {
            self.read_shard(index, |st| {
                let s = st.core.stats();
                sum.connected_uids += s.connected_uids;
                sum.ws_clients += s.ws_clients;
                sum.ajax_clients += s.ajax_clients;
                sum.ws_connections += s.ws_connections;
                sum.posts_awaiting_reply += s.posts_awaiting_reply;
                sum.send_buffers += s.send_buffers;
                sum.timers += s.timers;
                sum.routes += st.routes.len();
                sum.requests += st.requests.len();
            });
        }
        sum
    }

    /// Ajax POSTs still waiting for their reply, in every shard.
    pub(crate) fn posts_awaiting_reply(&self) -> usize {
        (0..self.shards.len())
            .map(|i| self.read_shard(i, |st| st.core.posts_awaiting_reply()))
            .sum()
    }

    /// Requests and connections still routed to, in every shard.
    pub(crate) fn route_count(&self) -> usize {
        (0..self.shards.len())
            .map(|i| self.read_shard(i, |st| st.routes.len()))
            .sum()
    }

    /// How many channels user `uid` has open.
    pub(crate) fn open_channel_count(&self, uid: &Value) -> usize {
        self.read_shard(self.shard_of_uid(uid), |st| st.core.open_channel_count(uid))
    }
}
