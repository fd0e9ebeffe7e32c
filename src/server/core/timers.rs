//! Deadlines and outputs: scheduling, cancelling and firing timers, and
//! the queue of outputs for the driver.

use std::sync::Arc;
use std::time::Instant;

use super::*;

impl ServerCore {
    pub(super) fn schedule(&mut self, at: Instant, timer: Timer) -> TimerKey {
        let seq = self.next_timer;
        self.next_timer += 1;
        self.timers.insert((at, seq), timer);
        (at, seq)
    }

    /// Cancels a deadline that is no longer needed (its owner went away
    /// first), so timers never outlive what they are for.
    pub(super) fn cancel(&mut self, key: Option<TimerKey>) {
        if let Some(key) = key {
            self.timers.remove(&key);
        }
    }

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

    pub(super) fn fire(&mut self, now: Instant, timer: Timer) {
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

    /// The grace period of a client's last channel ended: if it did not come
    /// back, forget it, and close the user's port if it was the last client.
    pub(super) fn end_grace(
        &mut self,
        t: Transport,
        uid: &Value,
        client_id: &Arc<str>,
        generation: ConnId,
    ) {
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
        if self.config.client_events {
            let data = Value::from(&**client_id);
            let event = Event::reserved(ids::CLIENT_CLOSE, Some(data));
            self.emit_event(event, uid, client_id, t, generation, None);
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
