//! Pushes: to a user, to several, to everyone, to one client; on this node,
//! and through the [`Broker`](super::broker::Broker) on the others.

use super::broker::{ClusterPush, PushTarget};
use super::core::{CheckedPush, push_uid};
use super::driver::{ChannelSocketServer, SendOptions};
use super::types::*;
use crate::event::Event;
use crate::value::Value;

impl ChannelSocketServer {
    /// Pushes `event` to every client of user `uid` over both transports,
    /// batched per the send-buffer windows (or at once with `flush`).
    ///
    /// Returns the number of this node's clients it was queued for; 0 when
    /// the user has none here (the event is discarded, as in Sente). With a
    /// [`broker`](super::ServerOptions::broker) the push also goes to the
    /// user's clients on the other nodes.
    ///
    /// # Errors
    /// [`SendError::NilUid`] for a `nil` uid; [`SendError::Unpackable`] when
    /// the packer cannot pack the event where it sits in a push batch
    /// (nothing is queued, or published: the error is the caller's to handle).
    pub fn send(
        &self,
        uid: &Value,
        event: Event,
        options: SendOptions,
    ) -> Result<usize, SendError> {
        let uid = push_uid(uid)?;
        let mut checked = self.checked_for_ws(event);
        let reached = self.send_here(&uid, &mut checked, options.flush)?;
        self.publish(PushTarget::Uid(uid), &checked, options.flush);
        Ok(reached)
    }

    /// Pushes `event` to the clients of user `uid` on this node only, as
    /// [`send`](Self::send) does, without publishing it to the other nodes
    /// of a cluster: for what each node computes and sends for itself
    /// (the same on every node), so that users do not get it once per node.
    ///
    /// Returns the number of this node's clients it was queued for.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_local(
        &self,
        uid: &Value,
        event: Event,
        options: SendOptions,
    ) -> Result<usize, SendError> {
        let uid = push_uid(uid)?;
        let mut checked = self.checked_for_ws(event);
        self.send_here(&uid, &mut checked, options.flush)
    }

    /// The users connected on this node only (with a broker,
    /// [`connected_uids`](Self::connected_uids) has the whole cluster's).
    pub fn local_connected_uids(&self) -> ConnectedUids {
        self.shared.local_connected_uids()
    }

    /// Pushes `event` to every client of each of `uids`, batched per user
    /// as [`send`](Self::send) does; users whose windows hold the same
    /// events share one packed batch.
    ///
    /// Returns the number of this node's clients it was queued for.
    ///
    /// # Errors
    /// As [`send`](Self::send), before anything is queued.
    pub fn send_many<'a>(
        &self,
        uids: impl IntoIterator<Item = &'a Value>,
        event: Event,
        options: SendOptions,
    ) -> Result<usize, SendError> {
        let uids = uids
            .into_iter()
            .map(push_uid)
            .collect::<Result<Vec<Value>, SendError>>()?;
        let mut checked = self.checked_for_all(event)?;
        let reached = self.send_many_here(&uids, &mut checked, options.flush)?;
        self.publish(PushTarget::Uids(uids), &checked, options.flush);
        Ok(reached)
    }

    /// Pushes `event` to every connected user (every client of each uid in
    /// [`connected_uids`](Self::connected_uids)`.any`), packing each distinct
    /// batch once for all the connections that get it. Sente's per-user
    /// buffering is kept: each user's pushes stay in order.
    ///
    /// Returns the number of this node's clients it was queued for.
    ///
    /// # Errors
    /// [`SendError::Unpackable`] when the packer cannot pack the event.
    pub fn broadcast(&self, event: Event, options: SendOptions) -> Result<usize, SendError> {
        let mut checked = self.checked_for_all(event)?;
        let reached = self.broadcast_here(&mut checked, options.flush)?;
        self.publish(PushTarget::All, &checked, options.flush);
        Ok(reached)
    }

    /// Pushes `event` to one client (one tab or device) of user `uid`, at
    /// once, after the pushes buffered for the user (so its events stay in
    /// order). A client between polls or reconnecting gets it when back.
    ///
    /// Returns whether the user has a client with that id on this node
    /// (with a broker, the push also goes to the other nodes, where the
    /// client may be; with one that shares Ajax clients, an Ajax client's
    /// push goes by its mailbox and is not counted here).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_to_client(
        &self,
        uid: &Value,
        client_id: &str,
        event: Event,
    ) -> Result<bool, SendError> {
        let uid = push_uid(uid)?;
        let mut checked = self.checked_for_ws(event);
        let found = self.send_to_client_here(&uid, client_id, &mut checked)?;
        let target = PushTarget::Client {
            uid,
            client_id: client_id.to_owned(),
        };
        self.publish(target, &checked, true);
        Ok(found)
    }

    /// The lock shard that holds user `uid`'s state (below
    /// [`ServerOptions::lock_shards`](super::ServerOptions::lock_shards)).
    /// Work on users of different shards never waits on the same lock; an
    /// application that spreads its pushes over threads can group users by it.
    pub fn lock_shard(&self, uid: &Value) -> usize {
        match push_uid(uid) {
            Ok(uid) => self.shared.shard_of_uid(&uid),
            Err(_) => self.shared.shard_of_uid(uid),
        }
    }

    /// Delivers a push another node published to this node's clients.
    pub(crate) fn deliver_remote(&self, push: ClusterPush) {
        let mut checked = CheckedPush::shared(push.event);
        let _ = checked.check(&*self.shared.packer, Transport::Ws);
        let result = match push.target {
            PushTarget::Uid(uid) => push_uid(&uid)
                .and_then(|uid| self.send_here(&uid, &mut checked, push.flush))
                .map(drop),
            PushTarget::Uids(uids) => uids
                .iter()
                .map(push_uid)
                .collect::<Result<Vec<Value>, SendError>>()
                .and_then(|uids| self.send_many_here(&uids, &mut checked, push.flush))
                .map(drop),
            PushTarget::All => self.broadcast_here(&mut checked, push.flush).map(drop),
            PushTarget::Client { uid, client_id } => push_uid(&uid)
                .and_then(|uid| self.send_to_client_here(&uid, &client_id, &mut checked))
                .map(drop),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "a push from another node was not delivered here");
        }
    }

    fn send_here(
        &self,
        uid: &Value,
        checked: &mut CheckedPush,
        flush: bool,
    ) -> Result<usize, SendError> {
        let shard = self.shared.shard_of_uid(uid);
        self.in_shard(shard, |core, now| {
            core.push_checked(now, std::slice::from_ref(uid), checked, flush)
        })
    }

    fn send_many_here(
        &self,
        uids: &[Value],
        checked: &mut CheckedPush,
        flush: bool,
    ) -> Result<usize, SendError> {
        let mut by_shard: Vec<Vec<Value>> = vec![Vec::new(); self.shared.shard_count()];
        for uid in uids {
            by_shard[self.shared.shard_of_uid(uid)].push(uid.clone());
        }
        let mut reached = 0;
        for (shard, uids) in by_shard.iter().enumerate() {
            if !uids.is_empty() {
                reached += self.in_shard(shard, |core, now| {
                    core.push_checked(now, uids, checked, flush)
                })?;
            }
        }
        Ok(reached)
    }

    fn broadcast_here(&self, checked: &mut CheckedPush, flush: bool) -> Result<usize, SendError> {
        let mut reached = 0;
        for shard in 0..self.shared.shard_count() {
            reached += self.in_shard(shard, |core, now| {
                core.broadcast_checked(now, checked, flush)
            })?;
        }
        Ok(reached)
    }

    fn send_to_client_here(
        &self,
        uid: &Value,
        client_id: &str,
        checked: &mut CheckedPush,
    ) -> Result<bool, SendError> {
        let shard = self.shared.shard_of_uid(uid);
        self.in_shard(shard, |core, now| {
            core.send_to_client_checked(now, uid, client_id, checked)
        })
    }

    /// Publishes a push this node delivered for the other nodes, when the
    /// server has a broker.
    fn publish(&self, target: PushTarget, checked: &CheckedPush, flush: bool) {
        if let Some(broker) = &self.shared.options.broker {
            broker.publish(&ClusterPush {
                target,
                event: checked.shared_event().clone(),
                flush,
            });
        }
    }

    /// An event to push, checked for WebSocket clients (the common case)
    /// before any lock is taken (for EDN a walk, for other packers a pack);
    /// the core checks it for Ajax when a user has Ajax clients, and turns
    /// a failed check into the error when a user has WebSocket clients.
    fn checked_for_ws(&self, event: Event) -> CheckedPush {
        let mut checked = CheckedPush::new(event);
        let _ = checked.check(&*self.shared.packer, Transport::Ws);
        checked
    }

    /// An event to push to users of several shards, checked for both
    /// transports before any lock is taken, so that a refused event queues
    /// nothing for anyone.
    fn checked_for_all(&self, event: Event) -> Result<CheckedPush, SendError> {
        let mut checked = CheckedPush::new(event);
        for t in [Transport::Ws, Transport::Ajax] {
            checked.check(&*self.shared.packer, t)?;
        }
        Ok(checked)
    }
}
