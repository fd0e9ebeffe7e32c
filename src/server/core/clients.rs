//! The registry: each user's clients per transport, attaching and
//! detaching channels, and `connected_uids`.

use std::sync::Arc;
use std::time::Instant;

use super::*;

impl ServerCore {
    pub(super) fn clients_mut(&mut self, t: Transport) -> &mut Clients {
        match t {
            Transport::Ws => &mut self.ws_clients,
            Transport::Ajax => &mut self.ajax_clients,
        }
    }

    pub(super) fn clients(&self, t: Transport) -> &Clients {
        match t {
            Transport::Ws => &self.ws_clients,
            Transport::Ajax => &self.ajax_clients,
        }
    }

    /// Registers a client (or replaces its channel) and counts the user as
    /// connected, with `chsk/uidport-open` on the user's first connection.
    pub(super) fn attach(
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
                if self.config.client_events {
                    let data = Value::from(&**client_id);
                    let event = Event::reserved(ids::CLIENT_OPEN, Some(data));
                    self.emit_event(event, uid, client_id, t, generation, None);
                }
            }
        }
        Ok(())
    }

    /// Sente's `connect-uid!`: adds the uid to the transport's set and to
    /// `any`; true when it was not in `any` before.
    pub(super) fn connect_uid(&mut self, t: Transport, uid: &Value) -> bool {
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
    pub(super) fn recompute_uid(&mut self, uid: &Value) -> bool {
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
            pushes_dropped: 0,
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

    /// The channel `conn` of a client ended: start its grace period if it was current.
    pub(super) fn detach(
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
}
