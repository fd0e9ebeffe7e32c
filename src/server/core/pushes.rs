//! Pushes: per-user send buffers (Sente's `send-buf-ms-ws`/`-ajax`
//! windows), batches, broadcasts packed once, and pushes to one client.

use std::sync::Arc;
use std::time::Instant;

use super::{BATCH_LEVELS, ServerCore, Timer, TimerKey};
use crate::event::{Event, ids};
use crate::packer::{Packed, Packer};
use crate::server::types::*;
use crate::value::Value;
use crate::wire;

/// Events buffered for one user and transport before a batch goes out.
/// Each was checked when sent ([`Packer::check_pack`](crate::Packer::check_pack))
/// to pack where it sits in a batch. The events are shared: a broadcast
/// puts the same event in every user's buffer.
#[derive(Debug)]
pub(super) struct SendBuffer {
    events: Vec<Arc<Event>>,
    /// About what the events pack to.
    bytes: usize,
    serial: u64,
    /// The flush at the end of the window.
    pub(super) timer: Option<TimerKey>,
}

/// Batches packed during one sweep of flushes (the timers due at one
/// instant, or one broadcast flushed at once), by the events they hold:
/// users whose windows hold the same events get the same packed batch.
#[derive(Debug, Default)]
pub(super) struct BatchMemo {
    batches: FastMap<BatchKey, MemoBatch>,
}

/// Which transport (WebSocket or not) and the events' addresses, in order.
type BatchKey = (bool, Vec<usize>);

/// A packed batch with its events, kept alive so their addresses stay theirs.
#[derive(Debug)]
struct MemoBatch {
    _events: Vec<Arc<Event>>,
    packed: Arc<Packed>,
}

/// The event of a push, with what checking it found per transport: the
/// size it packs to where it sits in a batch, or why it cannot be packed.
/// It can be checked before the core's lock is taken (the driver does), or
/// by the core, for the transports its users have clients on.
#[derive(Debug)]
pub(crate) struct CheckedPush {
    event: Arc<Event>,
    sizes: [Option<Result<usize, crate::packer::PackError>>; 2],
}

impl CheckedPush {
    /// An event not checked yet.
    pub(crate) fn new(event: Event) -> Self {
        Self::shared(Arc::new(event))
    }

    /// An event not checked yet, shared with others (a push from another
    /// node, not copied).
    pub(crate) fn shared(event: Arc<Event>) -> Self {
        Self {
            event,
            sizes: [None, None],
        }
    }

    /// The event, to share.
    pub(crate) fn shared_event(&self) -> &Arc<Event> {
        &self.event
    }

    /// Checks the event for transport `t` once; later calls reuse it.
    ///
    /// # Errors
    /// [`SendError::Unpackable`] when the packer cannot pack it there.
    pub(crate) fn check(&mut self, packer: &dyn Packer, t: Transport) -> Result<usize, SendError> {
        let event = &self.event;
        let result = self.sizes[transport_index(t)].get_or_insert_with(|| {
            // The data sits in the event vector `[id data]`, one level
            // below the event; the id (a keyword) packs anywhere.
            packer
                .check_pack(t == Transport::Ws, event.data(), BATCH_LEVELS + 1)
                .map(|size| size + event.id().as_str().len() + 4)
        });
        result.clone().map_err(SendError::Unpackable)
    }

    /// Whether the event is `[:chsk/close]`, Sente's command to close the
    /// users' connections.
    fn is_close_command(&self) -> bool {
        self.event.is(ids::CLOSE) && !self.event.has_data_element()
    }
}

fn transport_index(t: Transport) -> usize {
    match t {
        Transport::Ws => 0,
        Transport::Ajax => 1,
    }
}

/// Sente's uid rules for a push: `nil` is refused, and
/// `:sente/all-users-without-uid` means `:sente/nil-uid`.
pub(crate) fn push_uid(uid: &Value) -> Result<Value, SendError> {
    match uid {
        Value::Nil => Err(SendError::NilUid),
        v if v.is_keyword("sente/all-users-without-uid") => Ok(Value::keyword(wire::NIL_UID)),
        v => Ok(v.clone()),
    }
}

impl ServerCore {
    /// Pushes an event to every client of a user, on both transports.
    /// Events are buffered for `send_buf_ws` / `send_buf_ajax` and go out as
    /// one batch per transport, or at once with `flush`. Sending
    /// `[:chsk/close]` closes the user's connections (Sente's command; prefer
    /// [`close_uid`](Self::close_uid)).
    ///
    /// Returns the number of clients the event was queued for (0 when the
    /// user has none: the event is discarded, as in Sente).
    ///
    /// # Errors
    /// [`SendError::NilUid`] for a `nil` user id (`:sente/all-users-without-uid`
    /// is accepted and means `:sente/nil-uid`); [`SendError::Unpackable`]
    /// when the packer cannot pack the event where it sits in a batch
    /// (nothing is queued).
    pub fn send(
        &mut self,
        now: Instant,
        uid: &Value,
        event: Event,
        flush: bool,
    ) -> Result<usize, SendError> {
        self.send_many(now, std::iter::once(uid), event, flush)
    }

    /// Pushes one event to every client of each of `uids`, as
    /// [`send`](Self::send) does for one: per-user buffering and batching
    /// are kept (each user's events stay in order), and users whose windows
    /// end up holding the same events share one packed batch (the event is
    /// not copied per user either).
    ///
    /// Returns the number of clients the event was queued for.
    ///
    /// # Errors
    /// As [`send`](Self::send), checked before anything is queued: a `nil`
    /// among `uids`, or an event that cannot be packed.
    pub fn send_many<'a>(
        &mut self,
        now: Instant,
        uids: impl IntoIterator<Item = &'a Value>,
        event: Event,
        flush: bool,
    ) -> Result<usize, SendError> {
        let uids = uids
            .into_iter()
            .map(push_uid)
            .collect::<Result<Vec<Value>, SendError>>()?;
        self.push_checked(now, &uids, &mut CheckedPush::new(event), flush)
    }

    /// [`send_many`](Self::send_many) to users already mapped by
    /// `push_uid`, with an event that may be checked already.
    pub(crate) fn push_checked(
        &mut self,
        now: Instant,
        uids: &[Value],
        checked: &mut CheckedPush,
        flush: bool,
    ) -> Result<usize, SendError> {
        if checked.is_close_command() {
            return Ok(uids.iter().map(|u| self.close_uid(u)).sum());
        }
        // Check first, for each transport that has clients among them: a
        // refused event queues nothing for anyone.
        let mut reached = 0;
        let transports = self.push_transports();
        for uid in uids {
            for &t in transports {
                let n = self.client_count(t, uid);
                if n > 0 {
                    checked.check(&*self.packer, t)?;
                    reached += n;
                }
            }
        }
        if flush && uids.len() > 1 {
            self.batch_memo = Some(BatchMemo::default());
        }
        for uid in uids {
            for &t in transports {
                if self.client_count(t, uid) > 0 {
                    self.buffer(now, t, uid, checked, flush)?;
                }
            }
        }
        self.batch_memo = None;
        Ok(reached)
    }

    /// Pushes one event to every connected user
    /// ([`connected_uids`](Self::connected_uids)`.any`): Sente's idiom of
    /// looping `send` over `connected-uids`, in one call that packs each
    /// distinct batch once.
    ///
    /// Returns the number of clients the event was queued for.
    ///
    /// # Errors
    /// [`SendError::Unpackable`] as for [`send`](Self::send).
    pub fn broadcast(
        &mut self,
        now: Instant,
        event: Event,
        flush: bool,
    ) -> Result<usize, SendError> {
        self.broadcast_checked(now, &mut CheckedPush::new(event), flush)
    }

    /// [`broadcast`](Self::broadcast) with an event that may be checked already.
    pub(crate) fn broadcast_checked(
        &mut self,
        now: Instant,
        checked: &mut CheckedPush,
        flush: bool,
    ) -> Result<usize, SendError> {
        let uids: Vec<Value> = self.connected.any.iter().cloned().collect();
        self.push_checked(now, &uids, checked, flush)
    }

    /// Pushes one event to one client (one tab or device) of a user, at
    /// once. Pushes buffered for the user are flushed first, so the client
    /// gets its events in the order they were sent. A client without an
    /// open channel (between polls, within its reconnect grace) keeps it
    /// for when it is back.
    ///
    /// Returns whether the user has such a client.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_to_client(
        &mut self,
        now: Instant,
        uid: &Value,
        client_id: &str,
        event: Event,
    ) -> Result<bool, SendError> {
        let uid = push_uid(uid)?;
        self.send_to_client_checked(now, &uid, client_id, &mut CheckedPush::new(event))
    }

    /// [`send_to_client`](Self::send_to_client) to a user already mapped
    /// by `push_uid`, with an event that may be checked already.
    pub(crate) fn send_to_client_checked(
        &mut self,
        now: Instant,
        uid: &Value,
        client_id: &str,
        checked: &mut CheckedPush,
    ) -> Result<bool, SendError> {
        for &t in self.push_transports() {
            let Some(cid) = self
                .clients(t)
                .get(uid)
                .and_then(|m| m.get_key_value(client_id))
                .map(|(cid, _)| cid.clone())
            else {
                continue;
            };
            checked.check(&*self.packer, t)?;
            self.flush(now, t, uid);
            let packed =
                wire::pack_push_batch(&*self.packer, t == Transport::Ws, [&*checked.event])
                    .map_err(SendError::Unpackable)?;
            self.send_batch(now, t, uid, Arc::new(packed), 1, Some(&cid));
            return Ok(true);
        }
        Ok(false)
    }

    /// Adds the event to the user's buffer for `t`, flushing it when asked
    /// or full, else starting its window.
    fn buffer(
        &mut self,
        now: Instant,
        t: Transport,
        uid: &Value,
        checked: &mut CheckedPush,
        flush: bool,
    ) -> Result<(), SendError> {
        let size = checked.check(&*self.packer, t)?;
        let key = (t, uid.clone());
        if flush && !self.buffers.contains_key(&key) {
            // No window open: the event goes alone, without a buffer (the
            // shard's map is left as it was).
            self.send_events(now, t, uid, vec![checked.event.clone()]);
            return Ok(());
        }
        let serial = self.next_serial;
        let buf = self
            .buffers
            .entry(key.clone())
            .or_insert_with(|| SendBuffer {
                events: Vec::new(),
                bytes: 0,
                serial,
                timer: None,
            });
        let fresh = buf.events.is_empty();
        buf.bytes += size;
        buf.events.push(checked.event.clone());
        let full = buf.bytes >= self.config.max_buffered_bytes;
        if flush || full {
            self.flush(now, t, uid);
        } else if fresh {
            self.next_serial += 1;
            let delay = match t {
                Transport::Ws => self.config.send_buf_ws,
                Transport::Ajax => self.config.send_buf_ajax,
            };
            let timer = self.schedule(
                now + delay,
                Timer::Flush {
                    transport: t,
                    uid: uid.clone(),
                    serial,
                },
            );
            if let Some(buf) = self.buffers.get_mut(&key) {
                buf.timer = Some(timer);
            }
        }
        Ok(())
    }

    /// The serial of the user's open window on `t`, if any.
    pub(super) fn buffer_serial(&self, t: Transport, uid: &Value) -> Option<u64> {
        self.buffers.get(&(t, uid.clone())).map(|b| b.serial)
    }

    /// Flushes every open window (a graceful shutdown).
    pub(super) fn flush_all(&mut self, now: Instant) {
        let buffered: Vec<(Transport, Value)> = self.buffers.keys().cloned().collect();
        self.batch_memo = Some(BatchMemo::default());
        for (t, uid) in buffered {
            self.flush(now, t, &uid);
        }
        self.batch_memo = None;
    }

    /// Sends the user's buffered events on one transport as one batch.
    pub(super) fn flush(&mut self, now: Instant, t: Transport, uid: &Value) {
        let Some(buf) = self.buffers.remove(&(t, uid.clone())) else {
            return;
        };
        self.cancel(buf.timer);
        self.send_events(now, t, uid, buf.events);
    }

    /// Sends `events` to the user's clients on `t` as one batch.
    fn send_events(&mut self, now: Instant, t: Transport, uid: &Value, events: Vec<Arc<Event>>) {
        if events.is_empty() {
            return;
        }
        let ws = t == Transport::Ws;
        let count = events.len();
        if let Some(packed) = self.memoized(ws, &events) {
            return self.send_batch(now, t, uid, packed, count, None);
        }
        // One batch for the window. Should it fail to pack as a whole (each
        // event was checked when sent, so it should not), each event goes
        // as a batch of its own, in order; only one that fails alone is
        // dropped, and reported.
        match wire::pack_push_batch(&*self.packer, ws, events.iter().map(|e| &**e)) {
            Ok(p) => {
                let packed = Arc::new(p);
                self.memoize(ws, events, &packed);
                self.send_batch(now, t, uid, packed, count, None);
            }
            Err(e) => {
                tracing::warn!(%uid, events = count, error = %e,
                    "a push batch did not pack; its events go one by one");
                for event in &events {
                    match wire::pack_push_batch(&*self.packer, ws, [&**event]) {
                        Ok(p) => self.send_batch(now, t, uid, Arc::new(p), 1, None),
                        Err(e) => self.drop_for_all(t, uid, DropReason::PackFailed(e.to_string())),
                    }
                }
            }
        }
    }

    /// The batch already packed in this sweep for these events, if any.
    fn memoized(&self, ws: bool, events: &[Arc<Event>]) -> Option<Arc<Packed>> {
        let memo = self.batch_memo.as_ref()?;
        let key = (ws, events.iter().map(|e| Arc::as_ptr(e) as usize).collect());
        memo.batches.get(&key).map(|m| m.packed.clone())
    }

    /// Remembers a packed batch for the rest of the sweep (the events are
    /// kept alive with it, so their addresses stay theirs).
    fn memoize(&mut self, ws: bool, events: Vec<Arc<Event>>, packed: &Arc<Packed>) {
        let Some(memo) = self.batch_memo.as_mut() else {
            return;
        };
        let key = (ws, events.iter().map(|e| Arc::as_ptr(e) as usize).collect());
        memo.batches.insert(
            key,
            MemoBatch {
                _events: events,
                packed: packed.clone(),
            },
        );
    }

    /// Hands one packed batch to every client of the user on `t` (or only
    /// to `only`): written to open channels, kept for those without one.
    fn send_batch(
        &mut self,
        now: Instant,
        t: Transport,
        uid: &Value,
        packed: Arc<Packed>,
        count: usize,
        only: Option<&Arc<str>>,
    ) {
        let max_pending = self.config.max_pending_bytes;
        let mut dropped = Vec::new();
        let mut answered = Vec::new();
        let clients = match t {
            Transport::Ws => self.ws_clients.get_mut(uid),
            Transport::Ajax => self.ajax_clients.get_mut(uid),
        };
        if let Some(clients) = clients {
            for (cid, c) in clients.iter_mut() {
                if only.is_some_and(|o| o != cid) {
                    continue;
                }
                match (t, c.channel) {
                    (Transport::Ws, Some(conn)) => self.outputs.push_back(Output::Transmit {
                        conn,
                        payload: packed.clone(),
                    }),
                    (Transport::Ajax, Some(conn)) => {
                        self.outputs.push_back(Output::RespondPoll {
                            conn,
                            payload: packed.clone(),
                        });
                        answered.push((cid.clone(), conn));
                    }
                    (_, None) => {
                        for n in c.pending.push(packed.clone(), count, max_pending) {
                            dropped.push((cid.clone(), n));
                        }
                    }
                }
            }
        }
        for (cid, n) in dropped {
            self.drop_batch(uid, &cid, n, DropReason::QueueFull);
        }
        // An answered poll ends its request: the client's grace period starts.
        for (cid, conn) in answered {
            self.detach(now, Transport::Ajax, uid, &cid, conn);
        }
    }

    /// Reports one event lost for every client of the user on `t`.
    fn drop_for_all(&mut self, t: Transport, uid: &Value, reason: DropReason) {
        let ids: Vec<Arc<str>> = self
            .clients(t)
            .get(uid)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for cid in ids {
            self.drop_batch(uid, &cid, 1, reason.clone());
        }
    }

    pub(super) fn drop_batch(
        &mut self,
        uid: &Value,
        client_id: &Arc<str>,
        events: usize,
        reason: DropReason,
    ) {
        self.outputs.push_back(Output::PushDropped {
            uid: uid.clone(),
            client_id: client_id.clone(),
            events,
            reason,
        });
    }

    /// Sends the batches that waited for a client now that it has a channel.
    pub(super) fn deliver_pending(&mut self, t: Transport, uid: &Value, client_id: &Arc<str>) {
        let Some(c) = self
            .clients_mut(t)
            .get_mut(uid)
            .and_then(|m| m.get_mut(client_id))
        else {
            return;
        };
        let Some(conn) = c.channel else { return };
        let batches = c.pending.take_all();
        for (payload, _) in batches {
            self.outputs.push_back(Output::Transmit { conn, payload });
        }
    }

    /// Closes every WebSocket and held long-poll of a user. The clients will
    /// reconnect unless the application then refuses them.
    ///
    /// Returns how many channels were closed.
    pub fn close_uid(&mut self, uid: &Value) -> usize {
        let mut conns: Vec<ConnId> = Vec::new();
        for t in [Transport::Ws, Transport::Ajax] {
            if let Some(m) = self.clients(t).get(uid) {
                conns.extend(m.values().filter_map(|c| c.channel));
            }
        }
        for &conn in &conns {
            self.outputs.push_back(Output::Close {
                conn,
                reason: CloseReason::Requested,
            });
        }
        conns.len()
    }
}
