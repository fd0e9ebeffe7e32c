//! The sans-IO server state machine.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use indexmap::IndexMap;

use crate::server::config::{ConfigError, ServerConfig};
use crate::server::pending::PendingBatches;
use crate::server::types::*;
use pushes::{BatchMemo, SendBuffer};

mod pushes;

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
        })
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

    fn schedule(&mut self, at: Instant, timer: Timer) -> TimerKey {
        let seq = self.next_timer;
        self.next_timer += 1;
        self.timers.insert((at, seq), timer);
        (at, seq)
    }

    /// Cancels a deadline that is no longer needed (its owner went away
    /// first), so timers never outlive what they are for.
    fn cancel(&mut self, key: Option<TimerKey>) {
        if let Some(key) = key {
            self.timers.remove(&key);
        }
    }

    fn clients_mut(&mut self, t: Transport) -> &mut Clients {
        match t {
            Transport::Ws => &mut self.ws_clients,
            Transport::Ajax => &mut self.ajax_clients,
        }
    }

    fn clients(&self, t: Transport) -> &Clients {
        match t {
            Transport::Ws => &self.ws_clients,
            Transport::Ajax => &self.ajax_clients,
        }
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

    /// Registers a client (or replaces its channel) and counts the user as
    /// connected, with `chsk/uidport-open` on the user's first connection.
    fn attach(
        &mut self,
        t: Transport,
        uid: &Value,
        client_id: &Arc<str>,
        channel: Option<ConnId>,
        generation: ConnId,
    ) -> Result<(), ConnectError> {
        let limit = self.config.max_clients_per_uid;
        // Most users have one tab: room for one, not the four a first
        // insert would reserve; more grow the map as usual.
        let clients = self
            .clients_mut(t)
            .entry(uid.clone())
            .or_insert_with(|| IndexMap::with_capacity_and_hasher(1, Default::default()));
        let full = clients.len() >= limit;
        match clients.get_mut(client_id) {
            Some(c) => {
                c.channel = channel;
                c.generation = generation;
                // Back within its grace, or a poll replacing a poll.
                let stale = [c.grace_timer.take(), c.poll_timer.take()];
                for key in stale.into_iter().flatten() {
                    self.timers.remove(&key);
                }
            }
            None if full => {
                if clients.is_empty() {
                    self.clients_mut(t).remove(uid);
                }
                return Err(ConnectError::TooManyClients {
                    uid: uid.to_string(),
                    transport: t.as_str(),
                    limit,
                });
            }
            None => {
                clients.insert(
                    client_id.clone(),
                    Client {
                        channel,
                        generation,
                        pending: PendingBatches::default(),
                        poll_timer: None,
                        grace_timer: None,
                    },
                );
            }
        }
        Ok(())
    }

    /// Sente's `connect-uid!`: adds the uid to the transport's set and to
    /// `any`; true when it was not in `any` before.
    fn connect_uid(&mut self, t: Transport, uid: &Value) -> bool {
        let set = match t {
            Transport::Ws => &mut self.connected.ws,
            Transport::Ajax => &mut self.connected.ajax,
        };
        let mut changed = set.insert(uid.clone());
        let newly = self.connected.any.insert(uid.clone());
        changed |= newly;
        if changed {
            self.connected_version += 1;
        }
        newly
    }

    /// Recomputes the uid's membership from the registry; true when it left `any`.
    fn recompute_uid(&mut self, uid: &Value) -> bool {
        let ws = self.ws_clients.get(uid).is_some_and(|c| !c.is_empty());
        let ajax = self.ajax_clients.get(uid).is_some_and(|c| !c.is_empty());
        let mut changed = false;
        for (set, present) in [
            (&mut self.connected.ws, ws),
            (&mut self.connected.ajax, ajax),
        ] {
            changed |= if present {
                set.insert(uid.clone())
            } else {
                set.shift_remove(uid)
            };
        }
        let was_any = self.connected.any.contains(uid);
        if !(ws || ajax) && was_any {
            self.connected.any.shift_remove(uid);
            changed = true;
        }
        if changed {
            self.connected_version += 1;
        }
        was_any && !(ws || ajax)
    }

    /// Which users are connected, by transport.
    pub fn connected_uids(&self) -> &ConnectedUids {
        &self.connected
    }

    /// A number that changes whenever [`connected_uids`](Self::connected_uids) does.
    pub fn connected_uids_version(&self) -> u64 {
        self.connected_version
    }

    /// Number of clients (tabs, devices) of a user over a transport.
    pub fn client_count(&self, t: Transport, uid: &Value) -> usize {
        self.clients(t).get(uid).map_or(0, IndexMap::len)
    }

    /// What the core holds now (the driver's fields left at 0).
    pub fn stats(&self) -> ServerStats {
        let count = |c: &Clients| c.values().map(IndexMap::len).sum();
        ServerStats {
            connected_uids: self.connected.any.len(),
            ws_clients: count(&self.ws_clients),
            ajax_clients: count(&self.ajax_clients),
            ws_connections: self.ws_conns.len(),
            posts_awaiting_reply: self.posts.len(),
            send_buffers: self.buffers.len(),
            timers: self.timers.len(),
            routes: 0,
            requests: 0,
            post_body_bytes: 0,
        }
    }

    /// Number of open channels of a user (WebSockets and held long-polls):
    /// its clients that are not between polls or within a reconnect grace.
    pub fn open_channel_count(&self, uid: &Value) -> usize {
        [Transport::Ws, Transport::Ajax]
            .into_iter()
            .filter_map(|t| self.clients(t).get(uid))
            .flat_map(|m| m.values())
            .filter(|c| c.channel.is_some())
            .count()
    }

    // ---- WebSocket ----------------------------------------------------------

    /// A WebSocket upgrade was accepted: sends the handshake, registers the
    /// client (replacing an older channel of the same client id), starts the
    /// keep-alive, and delivers pushes that waited for this client.
    ///
    /// # Errors
    /// [`ConnectError`] when the client id is blank or the user has too many
    /// clients; the driver should then refuse the upgrade.
    pub fn ws_open(
        &mut self,
        now: Instant,
        uid: Value,
        client_id: &str,
        handshake_data: &Value,
    ) -> Result<ConnId, ConnectError> {
        if client_id.trim().is_empty() {
            return Err(ConnectError::MissingClientId);
        }
        let client_id: Arc<str> = Arc::from(client_id);
        let hs = wire::pack_handshake(&*self.packer, true, &uid, handshake_data)
            .map_err(ConnectError::Handshake)?;
        let conn = self.fresh_id();
        self.attach(Transport::Ws, &uid, &client_id, Some(conn), conn)?;
        self.outputs.push_back(Output::Transmit {
            conn,
            payload: Arc::new(hs),
        });
        self.ws_conns.insert(
            conn,
            WsConn {
                uid: uid.clone(),
                client_id: client_id.clone(),
                last_inbound: now,
                ping_sent_at: None,
                keepalive: None,
            },
        );
        if let Some(window) = self.config.ws_idle_window() {
            self.schedule_keep_alive(now + window, conn);
        }
        self.deliver_pending(Transport::Ws, &uid, &client_id);
        if self.connect_uid(Transport::Ws, &uid) {
            self.emit_event(
                Event::reserved(ids::UIDPORT_OPEN, Some(uid.clone())),
                &uid,
                &client_id,
                Transport::Ws,
                conn,
                None,
            );
        }
        Ok(conn)
    }

    /// A frame arrived on a WebSocket. Answers client pings with `"pong"`,
    /// and delivers the event (or `chsk/bad-package` when it does not unpack;
    /// the connection stays open).
    pub fn ws_message(&mut self, now: Instant, conn: ConnId, payload: PackedRef<'_>) {
        let message = wire::read_client_message(&*self.packer, true, payload);
        self.ws_decoded(now, conn, message, payload);
    }

    /// [`ws_message`](Self::ws_message) for a frame the driver already
    /// unpacked with [`wire::read_client_message`] (outside any lock it
    /// holds around the core); `payload` is the frame, for
    /// `chsk/bad-package`.
    pub fn ws_decoded(
        &mut self,
        now: Instant,
        conn: ConnId,
        message: Result<wire::ClientMessage, WireError>,
        payload: PackedRef<'_>,
    ) {
        let Some(c) = self.ws_conns.get_mut(&conn) else {
            return;
        };
        c.last_inbound = now;
        c.ping_sent_at = None;
        let (uid, client_id) = (c.uid.clone(), c.client_id.clone());
        match message {
            Ok(msg) => {
                if msg.is_ping() {
                    if let Some(cb) = &msg.cb
                        && let Ok(pong) = wire::pack_pong(&*self.packer, cb)
                    {
                        self.outputs.push_back(Output::Transmit {
                            conn,
                            payload: Arc::new(pong),
                        });
                    }
                    self.emit_event(msg.event, &uid, &client_id, Transport::Ws, conn, None);
                } else {
                    let reply = msg.cb.map(|cb| ReplyTo::Ws { conn, cb });
                    self.emit_event(msg.event, &uid, &client_id, Transport::Ws, conn, reply);
                }
            }
            Err(e) => self.bad_package(&uid, &client_id, Transport::Ws, conn, payload, &e),
        }
    }

    fn bad_package(
        &mut self,
        uid: &Value,
        client_id: &Arc<str>,
        t: Transport,
        conn: ConnId,
        payload: PackedRef<'_>,
        e: &WireError,
    ) {
        tracing::info!(%uid, %client_id, transport = ?t, error = %e, "bad package");
        let raw = match payload {
            PackedRef::Text(s) => Value::from(s),
            PackedRef::Binary(b) => Value::Bytes(Arc::from(b)),
        };
        let data = Value::map([
            (Value::keyword("raw"), raw),
            (Value::keyword("error"), Value::from(e.to_string())),
        ]);
        self.emit_event(
            Event::reserved(ids::BAD_PACKAGE, Some(data)),
            uid,
            client_id,
            t,
            conn,
            None,
        );
    }

    /// A WebSocket closed (for any reason, possibly more than once). If it
    /// was the client's current channel, the client is removed after the
    /// grace period unless it reconnects.
    pub fn ws_closed(&mut self, now: Instant, conn: ConnId) {
        let Some(c) = self.ws_conns.remove(&conn) else {
            return;
        };
        self.cancel(c.keepalive);
        self.detach(now, Transport::Ws, &c.uid, &c.client_id, conn);
    }

    /// The channel `conn` of a client ended: start its grace period if it was current.
    fn detach(
        &mut self,
        now: Instant,
        t: Transport,
        uid: &Value,
        client_id: &Arc<str>,
        conn: ConnId,
    ) {
        let grace = match t {
            Transport::Ws => self.config.grace_ws,
            Transport::Ajax => self.config.grace_ajax,
        };
        let Some(client) = self
            .clients_mut(t)
            .get_mut(uid)
            .and_then(|m| m.get_mut(client_id))
        else {
            return;
        };
        if client.channel != Some(conn) {
            return; // a stale channel, replaced by a reconnect
        }
        client.channel = None;
        let generation = client.generation;
        let poll_timer = client.poll_timer.take();
        self.cancel(poll_timer);
        let key = self.schedule(
            now + grace,
            Timer::Grace {
                transport: t,
                uid: uid.clone(),
                client_id: client_id.clone(),
                generation,
            },
        );
        if let Some(c) = self
            .clients_mut(t)
            .get_mut(uid)
            .and_then(|m| m.get_mut(client_id))
        {
            c.grace_timer = Some(key);
        }
    }

    // ---- Ajax ---------------------------------------------------------------

    /// An Ajax GET: a handshake (when `handshake` is set, or the client is
    /// unknown, e.g. after a server restart) or a long-poll.
    ///
    /// # Errors
    /// [`ConnectError`] when the client id is blank or the user has too many clients.
    pub fn ajax_get(
        &mut self,
        now: Instant,
        uid: Value,
        client_id: &str,
        handshake: bool,
        handshake_data: &Value,
    ) -> Result<AjaxGet, ConnectError> {
        if client_id.trim().is_empty() {
            return Err(ConnectError::MissingClientId);
        }
        let client_id: Arc<str> = Arc::from(client_id);
        let conn = self.fresh_id();
        let known = self
            .ajax_clients
            .get(&uid)
            .is_some_and(|m| m.contains_key(&client_id));
        if handshake || !known {
            let hs = wire::pack_handshake(&*self.packer, false, &uid, handshake_data)
                .map_err(ConnectError::Handshake)?;
            self.attach(Transport::Ajax, &uid, &client_id, Some(conn), conn)?;
            // The answer ends this request at once: the grace period starts.
            self.detach(now, Transport::Ajax, &uid, &client_id, conn);
            return Ok(AjaxGet::Respond(Arc::new(hs)));
        }
        // A poll replaces any poll still held for this client: answer the old one.
        let old = self
            .ajax_clients
            .get(&uid)
            .and_then(|m| m.get(&client_id))
            .and_then(|c| c.channel);
        if let Some(old) = old
            && let Ok(t) = wire::pack_lp_timeout(&*self.packer)
        {
            self.outputs.push_back(Output::RespondPoll {
                conn: old,
                payload: Arc::new(t),
            });
        }
        self.attach(Transport::Ajax, &uid, &client_id, Some(conn), conn)?;
        if self.connect_uid(Transport::Ajax, &uid) {
            self.emit_event(
                Event::reserved(ids::UIDPORT_OPEN, Some(uid.clone())),
                &uid,
                &client_id,
                Transport::Ajax,
                conn,
                None,
            );
        }
        if let Some(batch) = self.take_pending(&uid, &client_id) {
            self.detach(now, Transport::Ajax, &uid, &client_id, conn);
            return Ok(AjaxGet::Respond(batch));
        }
        let key = self.schedule(
            now + self.config.lp_timeout,
            Timer::LongPoll {
                uid: uid.clone(),
                client_id: client_id.clone(),
                conn,
            },
        );
        if let Some(c) = self
            .ajax_clients
            .get_mut(&uid)
            .and_then(|m| m.get_mut(&client_id))
        {
            c.poll_timer = Some(key);
        }
        Ok(AjaxGet::Held(conn))
    }

    fn take_pending(&mut self, uid: &Value, client_id: &Arc<str>) -> Option<Arc<Packed>> {
        let c = self.ajax_clients.get_mut(uid)?.get_mut(client_id)?;
        c.pending.pop_front().map(|(p, _)| p)
    }

    /// A held long-poll's request went away before it was answered (the
    /// client aborted, the connection dropped).
    pub fn ajax_poll_closed(&mut self, now: Instant, uid: &Value, client_id: &str, conn: ConnId) {
        let client_id: Arc<str> = Arc::from(client_id);
        self.detach(now, Transport::Ajax, uid, &client_id, conn);
    }

    /// An Ajax POST carrying one event. Delivers the event (or
    /// `chsk/bad-event`); when no reply was asked, answers at once with
    /// `[:chsk/dummy-cb-200 nil]`, otherwise waits for [`reply`](Self::reply)
    /// or `lp_timeout`.
    ///
    /// # Errors
    /// [`WireError`] when the body does not unpack to an envelope; the event
    /// `chsk/bad-package` is delivered too, and the driver answers 400.
    pub fn ajax_post(
        &mut self,
        now: Instant,
        uid: Value,
        client_id: &str,
        payload: PackedRef<'_>,
    ) -> Result<AjaxPost, WireError> {
        let message = wire::read_client_message(&*self.packer, false, payload);
        self.ajax_post_decoded(now, uid, client_id, message, payload)
    }

    /// [`ajax_post`](Self::ajax_post) for a body the driver already
    /// unpacked with [`wire::read_client_message`] (outside any lock it
    /// holds around the core); `payload` is the body, for
    /// `chsk/bad-package`.
    ///
    /// # Errors
    /// As [`ajax_post`](Self::ajax_post).
    pub fn ajax_post_decoded(
        &mut self,
        now: Instant,
        uid: Value,
        client_id: &str,
        message: Result<wire::ClientMessage, WireError>,
        payload: PackedRef<'_>,
    ) -> Result<AjaxPost, WireError> {
        let client_id: Arc<str> = Arc::from(client_id);
        let post = self.fresh_id();
        let msg = match message {
            Ok(msg) => msg,
            Err(e) => {
                self.bad_package(&uid, &client_id, Transport::Ajax, post, payload, &e);
                return Err(e);
            }
        };
        if !msg.wants_reply() {
            let dummy = wire::pack_dummy_reply(&*self.packer)?;
            self.emit_event(msg.event, &uid, &client_id, Transport::Ajax, post, None);
            return Ok(AjaxPost::Respond(Arc::new(dummy)));
        }
        let key = self.schedule(now + self.config.lp_timeout, Timer::PostReply { post });
        self.posts.insert(post, key);
        self.emit_event(
            msg.event,
            &uid,
            &client_id,
            Transport::Ajax,
            post,
            Some(ReplyTo::Ajax { post }),
        );
        Ok(AjaxPost::AwaitReply(post))
    }

    /// A POST waiting for its reply went away; a later reply is dropped.
    pub fn ajax_post_closed(&mut self, post: ConnId) {
        let key = self.posts.remove(&post);
        self.cancel(key);
    }

    /// Replies to an event. Over WebSocket the reply goes at once as
    /// `[reply cb]` (and may be sent more than once, as in Sente); over Ajax it
    /// is the POST's body, at most once.
    ///
    /// Returns whether the reply was handed to a live channel.
    ///
    /// # Errors
    /// [`PackError`] when the packer cannot represent the reply.
    pub fn reply(&mut self, to: &ReplyTo, value: &Value) -> Result<bool, PackError> {
        // Nothing to pack for a reply nobody waits for.
        let live = match to {
            ReplyTo::Ws { conn, .. } => self.ws_conns.contains_key(conn),
            ReplyTo::Ajax { post } => self.posts.contains_key(post),
        };
        if !live {
            return Ok(false);
        }
        let packed = pack_reply(&*self.packer, to, value)?;
        Ok(self.reply_packed(to, Arc::new(packed)))
    }

    /// [`reply`](Self::reply) with the reply already packed by
    /// [`pack_reply`] (the driver packs outside any lock it holds around
    /// the core). Returns whether it was handed to a live channel.
    pub fn reply_packed(&mut self, to: &ReplyTo, packed: Arc<Packed>) -> bool {
        match to {
            ReplyTo::Ws { conn, .. } => {
                if !self.ws_conns.contains_key(conn) {
                    return false;
                }
                self.outputs.push_back(Output::Transmit {
                    conn: *conn,
                    payload: packed,
                });
                true
            }
            ReplyTo::Ajax { post } => {
                let Some(key) = self.posts.remove(post) else {
                    return false;
                };
                self.cancel(Some(key));
                self.outputs.push_back(Output::RespondPost {
                    post: *post,
                    payload: packed,
                });
                true
            }
        }
    }
}

/// Packs a reply as it goes to its channel: `[reply cb]` over WebSocket,
/// `[reply nil]` as an Ajax POST's body.
///
/// # Errors
/// [`PackError`] when the packer cannot represent `value`.
pub fn pack_reply(packer: &dyn Packer, to: &ReplyTo, value: &Value) -> Result<Packed, PackError> {
    match to {
        ReplyTo::Ws { cb, .. } => wire::pack_ws_reply(packer, value, cb),
        ReplyTo::Ajax { .. } => wire::pack_ajax_reply(packer, value),
    }
}

impl ServerCore {
    // ---- Shutdown -----------------------------------------------------------

    /// The first step of a graceful shutdown: flushes every buffered push
    /// and answers every held long-poll (with its batch, or
    /// `[:chsk/timeout nil]`: the client polls again, on another node).
    pub fn drain(&mut self, now: Instant) {
        self.flush_all(now);
        let held: Vec<(Value, Arc<str>, ConnId)> = self
            .ajax_clients
            .iter()
            .flat_map(|(uid, m)| {
                m.iter()
                    .filter_map(|(cid, c)| c.channel.map(|conn| (uid.clone(), cid.clone(), conn)))
            })
            .collect();
        let Ok(timeout) = wire::pack_lp_timeout(&*self.packer).map(Arc::new) else {
            return;
        };
        for (uid, cid, conn) in held {
            self.outputs.push_back(Output::RespondPoll {
                conn,
                payload: timeout.clone(),
            });
            self.detach(now, Transport::Ajax, &uid, &cid, conn);
        }
    }

    /// The last step of a graceful shutdown: closes every WebSocket (after
    /// what is queued for it) with [`CloseReason::ShuttingDown`], and answers
    /// every Ajax POST still waiting for its reply with `[:chsk/timeout nil]`.
    pub fn close_all(&mut self) {
        let conns: Vec<ConnId> = self.ws_conns.keys().copied().collect();
        for conn in conns {
            self.outputs.push_back(Output::Close {
                conn,
                reason: CloseReason::ShuttingDown,
            });
        }
        let posts: Vec<(ConnId, TimerKey)> = self.posts.drain().collect();
        for (_, key) in &posts {
            self.timers.remove(key);
        }
        if let Ok(timeout) = wire::pack_lp_timeout(&*self.packer).map(Arc::new) {
            for (post, _) in posts {
                self.outputs.push_back(Output::RespondPost {
                    post,
                    payload: timeout.clone(),
                });
            }
        }
    }

    /// How many Ajax POSTs wait for their reply.
    pub fn posts_awaiting_reply(&self) -> usize {
        self.posts.len()
    }
}

impl ServerCore {
    // ---- Time and outputs ---------------------------------------------------

    /// The next deadline: call [`handle_timeout`](Self::handle_timeout) once
    /// it has passed. `None` when nothing is scheduled.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.keys().next().map(|&(at, _)| at)
    }

    /// The next thing for the driver to do, in order; `None` when there is
    /// nothing left.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Runs every timer due at `now`: push flushes, keep-alive pings and ping
    /// timeouts, long-poll and POST timeouts, and the end of grace periods.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Windows that end together and hold the same events (a broadcast)
        // share one packed batch.
        self.batch_memo = Some(BatchMemo::default());
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let timer = entry.remove();
            self.fire(now, timer);
        }
        self.batch_memo = None;
    }

    fn fire(&mut self, now: Instant, timer: Timer) {
        match timer {
            Timer::Flush {
                transport,
                uid,
                serial,
            } => {
                if self.buffer_serial(transport, &uid) == Some(serial) {
                    self.flush(now, transport, &uid);
                }
            }
            Timer::KeepAlive { conn } => self.keep_alive(now, conn),
            Timer::LongPoll {
                uid,
                client_id,
                conn,
            } => {
                let held = self
                    .ajax_clients
                    .get(&uid)
                    .and_then(|m| m.get(&client_id))
                    .is_some_and(|c| c.channel == Some(conn));
                if held {
                    if let Ok(t) = wire::pack_lp_timeout(&*self.packer) {
                        self.outputs.push_back(Output::RespondPoll {
                            conn,
                            payload: Arc::new(t),
                        });
                    }
                    self.detach(now, Transport::Ajax, &uid, &client_id, conn);
                }
            }
            Timer::PostReply { post } => {
                if self.posts.remove(&post).is_some()
                    && let Ok(t) = wire::pack_lp_timeout(&*self.packer)
                {
                    self.outputs.push_back(Output::RespondPost {
                        post,
                        payload: Arc::new(t),
                    });
                }
            }
            Timer::Grace {
                transport,
                uid,
                client_id,
                generation,
            } => self.end_grace(transport, &uid, &client_id, generation),
        }
    }

    /// Sente's keep-alive, measured from the last inbound message rather than
    /// in fixed windows (so the idle time before a ping is exactly the window,
    /// not up to twice it: Sente's #455).
    fn keep_alive(&mut self, now: Instant, conn: ConnId) {
        let (Some(window), Some(c)) = (self.config.ws_idle_window(), self.ws_conns.get_mut(&conn))
        else {
            return;
        };
        if let Some(sent) = c.ping_sent_at {
            if c.last_inbound < sent {
                self.outputs.push_back(Output::Close {
                    conn,
                    reason: CloseReason::PingTimeout,
                });
                // Gone from now on: later pushes wait for the client's
                // reconnect instead of going to a dead connection.
                self.ws_closed(now, conn);
                return;
            }
            c.ping_sent_at = None;
        }
        let idle_until = c.last_inbound + window;
        if now < idle_until {
            self.schedule_keep_alive(idle_until, conn);
            return;
        }
        match wire::pack_server_ping(&*self.packer) {
            Ok(ping) => self.outputs.push_back(Output::Transmit {
                conn,
                payload: Arc::new(ping),
            }),
            Err(_) => return,
        }
        match self.config.ws_ping_timeout {
            Some(p) => {
                c.ping_sent_at = Some(now);
                self.schedule_keep_alive(now + p, conn);
            }
            None => {
                c.last_inbound = now; // ping again a full window from now
                self.schedule_keep_alive(now + window, conn);
            }
        }
    }

    /// Schedules the connection's next keep-alive check, remembering it so
    /// that the connection's close cancels it.
    fn schedule_keep_alive(&mut self, at: Instant, conn: ConnId) {
        let key = self.schedule(at, Timer::KeepAlive { conn });
        if let Some(c) = self.ws_conns.get_mut(&conn) {
            c.keepalive = Some(key);
        }
    }

    /// The grace period of a client's last channel ended: if it did not come
    /// back, forget it, and close the user's port if it was the last client.
    fn end_grace(&mut self, t: Transport, uid: &Value, client_id: &Arc<str>, generation: ConnId) {
        let Some(clients) = self.clients_mut(t).get_mut(uid) else {
            return;
        };
        let stale = clients
            .get(client_id)
            .is_none_or(|c| c.generation != generation || c.channel.is_some());
        if stale {
            return;
        }
        let gone = clients.shift_remove(client_id);
        if clients.is_empty() {
            self.clients_mut(t).remove(uid);
        }
        for (_, n) in gone.map(|mut c| c.pending.take_all()).unwrap_or_default() {
            self.drop_batch(uid, client_id, n, DropReason::ClientGone);
        }
        if self.recompute_uid(uid) {
            self.emit_event(
                Event::reserved(ids::UIDPORT_CLOSE, Some(uid.clone())),
                uid,
                client_id,
                t,
                generation,
                None,
            );
        }
    }
}
