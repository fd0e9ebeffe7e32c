//! Ajax clients shared by a cluster: a long-poll held on any node, served
//! from the client's mailbox that the broker keeps
//! ([`Broker::shares_ajax`](super::broker::Broker::shares_ajax)).
//!
//! The handshake registers the client with the cluster; a poll registers it
//! again and, when the cluster knew it, is held here even if this node has
//! never seen the client. The poll takes whatever waits in the mailbox; when
//! nothing does, it waits for [`MailWaiters::wake`] (the broker says pushes
//! for the client's user were mailed) or for the core's own answer (the
//! poll timeout, a newer poll, a close).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::future::{Either, select};

use super::broker::{Broker, PushTarget};
use super::driver::ChannelSocketServer;
use super::http::{DropGuard, GetResponse, body_response, poll_response};
use super::request::ChskRequest;
use super::security::text_response;
use super::types::ConnId;
use crate::event::Event;
use crate::packer::Packed;
use crate::value::Value;

/// What taking a client's mail for its held poll came to.
enum Taken {
    /// The poll is out of the core: answer it with these.
    Answered(Vec<Event>),
    /// There was mail, but the core had answered the poll: it went back.
    PutBack,
    /// No mail (or the mailbox was unreachable): the poll waits.
    Nothing,
}

/// Margin added to a registration past the poll timeout and the grace.
const REGISTRATION_MARGIN: Duration = Duration::from_secs(5);

/// The polls this node holds for shared Ajax clients, by user, to wake
/// when their mail arrives.
#[derive(Debug, Default)]
pub(crate) struct MailWaiters {
    by_uid: Mutex<HashMap<Value, Vec<Waiter>>>,
    next_id: std::sync::atomic::AtomicU64,
}

#[derive(Debug)]
struct Waiter {
    id: u64,
    client_id: Arc<str>,
    wake: async_channel::Sender<()>,
}

/// One held poll's place among the waiters; leaves it when dropped.
struct WaiterSlot<'a> {
    waiters: &'a MailWaiters,
    uid: Value,
    id: u64,
    woken: async_channel::Receiver<()>,
}

impl Drop for WaiterSlot<'_> {
    fn drop(&mut self) {
        let mut by_uid = self.waiters.lock();
        if let Some(list) = by_uid.get_mut(&self.uid) {
            list.retain(|w| w.id != self.id);
            if list.is_empty() {
                by_uid.remove(&self.uid);
            }
        }
    }
}

impl MailWaiters {
    fn lock(&self) -> MutexGuard<'_, HashMap<Value, Vec<Waiter>>> {
        self.by_uid.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self, uid: &Value, client_id: &Arc<str>) -> WaiterSlot<'_> {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // One pending wake is enough: the poll takes the whole mailbox.
        let (wake, woken) = async_channel::bounded(1);
        self.lock().entry(uid.clone()).or_default().push(Waiter {
            id,
            client_id: client_id.clone(),
            wake,
        });
        WaiterSlot {
            waiters: self,
            uid: uid.clone(),
            id,
            woken,
        }
    }

    /// Wakes the polls held for `target`'s clients.
    pub(crate) fn wake(&self, target: &PushTarget) {
        let by_uid = self.lock();
        let wake_uid = |uid: &Value, only: Option<&str>| {
            for w in by_uid.get(uid).into_iter().flatten() {
                if only.is_none_or(|c| *w.client_id == *c) {
                    let _ = w.wake.try_send(());
                }
            }
        };
        match target {
            PushTarget::Uid(uid) => wake_uid(uid, None),
            PushTarget::Uids(uids) => uids.iter().for_each(|u| wake_uid(u, None)),
            PushTarget::Client { uid, client_id } => wake_uid(uid, Some(client_id)),
            PushTarget::All => {
                for w in by_uid.values().flatten() {
                    let _ = w.wake.try_send(());
                }
            }
        }
    }
}

impl ChannelSocketServer {
    /// How long the cluster keeps an Ajax client registered after its
    /// handshake or a poll: a poll's timeout, the Ajax grace, a margin.
    fn ajax_registration(&self) -> Duration {
        let config = &self.shared.options.config;
        config.lp_timeout + config.grace_ajax + REGISTRATION_MARGIN
    }

    /// An Ajax GET (handshake or long-poll) under a broker that shares
    /// Ajax clients.
    pub(super) async fn shared_ajax_get(
        &self,
        broker: Arc<dyn Broker>,
        req: ChskRequest,
        uid: Value,
        handshake_data: Value,
        handshake: bool,
    ) -> GetResponse {
        let client_id: Arc<str> = Arc::from(req.client_id.as_str());
        let known = match broker
            .register_ajax(&uid, &client_id, self.ajax_registration())
            .await
        {
            Ok(known) => known,
            Err(e) => {
                tracing::warn!(error = %e, "Ajax request refused: the cluster is unreachable");
                return GetResponse::Respond(text_response(503, "Cluster unavailable"));
            }
        };
        let (tx, rx) = async_channel::bounded(1);
        if handshake || !known {
            // Answered at once: the handshake holds no poll.
            let opened = self
                .open_ajax_get(&uid, req, tx, |core, now| {
                    core.ajax_get(now, uid.clone(), &client_id, true, &handshake_data)
                })
                .await;
            return opened.err().unwrap_or_else(|| {
                GetResponse::Respond(text_response(500, "Handshake not answered"))
            });
        }
        // Among the waiters before the first look at the mailbox: no
        // mail arriving in between goes unnoticed.
        let slot = self.shared.mail_waiters.add(&uid, &client_id);
        let opened = self
            .open_ajax_get(&uid, req, tx, |core, now| {
                core.ajax_poll_known(now, uid.clone(), &client_id)
            })
            .await;
        let conn = match opened {
            Ok(conn) => conn,
            Err(response) => return response,
        };
        // What this poll takes from the mailbox is held for it until settled.
        let hold: Arc<str> = Arc::from(uuid::Uuid::new_v4().simple().to_string());
        let (server, guard_broker, guard_hold) = (self.clone(), broker.clone(), hold.clone());
        let guard_uid = uid.clone();
        let guard_client = client_id.clone();
        let mut guard = DropGuard(Some(move || {
            server.poll_gone(conn, &guard_uid, &guard_client);
            server.settle_later(&guard_broker, &guard_uid, &guard_client, &guard_hold);
        }));
        let answer = loop {
            match self
                .take_for_poll(&broker, &uid, &client_id, conn, &hold)
                .await
            {
                Taken::Answered(mail) => {
                    guard.0 = None;
                    self.forget(conn);
                    return GetResponse::Respond(self.mail_response(mail));
                }
                // The core answered the poll meanwhile: that answer goes.
                Taken::PutBack => break rx.recv().await,
                Taken::Nothing => {}
            }
            match select(Box::pin(rx.recv()), Box::pin(slot.woken.recv())).await {
                Either::Left((answer, _)) => break answer,
                Either::Right(_) => continue,
            }
        };
        guard.0 = None;
        self.forget(conn);
        drop(slot);
        // Whatever a take whose answer was lost held for this poll goes back.
        self.settle_later(&broker, &uid, &client_id, &hold);
        poll_response(answer)
    }

    /// Takes the client's mail for its held poll `conn` into the poll's
    /// `hold`, in a task of its own: should the poll's request go away while
    /// the broker answers, the task still ends, and settles the hold.
    async fn take_for_poll(
        &self,
        broker: &Arc<dyn Broker>,
        uid: &Value,
        client_id: &Arc<str>,
        conn: ConnId,
        hold: &Arc<str>,
    ) -> Taken {
        let (tx, rx) = async_channel::bounded(1);
        let (server, broker) = (self.clone(), broker.clone());
        let (uid, client_id, hold) = (uid.clone(), client_id.clone(), hold.clone());
        self.shared.runtime.spawn(Box::pin(async move {
            let mail = match broker.take_mail(&uid, &client_id, &hold).await {
                Ok(mail) if !mail.is_empty() => mail,
                Ok(_) => return drop(tx.try_send(Taken::Nothing)),
                Err(e) => {
                    // A take that ran but whose answer was lost left the
                    // mail in the hold: the next take gives it again.
                    tracing::warn!(error = %e, "Ajax mailbox unreachable; the poll waits");
                    return drop(tx.try_send(Taken::Nothing));
                }
            };
            let delivered = server.answer_with_mail(&uid, &client_id, conn) && {
                let sent = tx.try_send(Taken::Answered(mail));
                // Not sent: the poll's request went away meanwhile.
                sent.is_ok()
            };
            server
                .settle(&*broker, &uid, &client_id, &hold, delivered)
                .await;
            if !delivered {
                // The core answered the poll meanwhile (its timeout, a newer poll).
                let _ = tx.try_send(Taken::PutBack);
            }
        }));
        rx.recv().await.unwrap_or(Taken::Nothing)
    }

    /// Settles a poll's hold: forgotten once `delivered`, else put back at
    /// the front of the client's mailbox, and the client's polls held here
    /// woken (a newer poll may be waiting for it).
    async fn settle(
        &self,
        broker: &dyn Broker,
        uid: &Value,
        client_id: &Arc<str>,
        hold: &str,
        delivered: bool,
    ) {
        match broker.settle_mail(uid, client_id, hold, delivered).await {
            Ok(()) if delivered => {}
            Ok(()) => self.shared.mail_waiters.wake(&PushTarget::Client {
                uid: uid.clone(),
                client_id: client_id.to_string(),
            }),
            Err(e) => tracing::warn!(error = %e,
                "Ajax mail held for a poll not settled: it stays held until the client's registration ends"),
        }
    }

    /// [`settle`](Self::settle) a poll's hold, not delivered, in a task of
    /// its own (the poll ended without mail, or went away).
    fn settle_later(
        &self,
        broker: &Arc<dyn Broker>,
        uid: &Value,
        client_id: &Arc<str>,
        hold: &Arc<str>,
    ) {
        let (server, broker) = (self.clone(), broker.clone());
        let (uid, client_id, hold) = (uid.clone(), client_id.clone(), hold.clone());
        self.shared.runtime.spawn(Box::pin(async move {
            server
                .settle(&*broker, &uid, &client_id, &hold, false)
                .await;
        }));
    }

    /// Takes the held poll `conn` out of the core to answer it with mail;
    /// false when the core answered it meanwhile.
    fn answer_with_mail(&self, uid: &Value, client_id: &str, conn: ConnId) -> bool {
        let shard = self.shared.shard_of_conn(conn);
        self.in_shard(shard, |core, now| {
            core.ajax_answer_poll(now, uid, client_id, conn)
        })
    }

    /// The pushes as one poll answer; one the packer refuses is dropped
    /// (and logged), the others go.
    fn mail_response(&self, mail: Vec<Event>) -> crate::server::security::HttpResponse {
        let packer = &*self.shared.packer;
        let packed: Packed = match crate::wire::pack_push_batch(packer, false, &mail) {
            Ok(p) => p,
            Err(_) => {
                let good: Vec<&Event> = mail
                    .iter()
                    .filter(|ev| {
                        let ok = crate::wire::pack_push_batch(packer, false, [*ev]).is_ok();
                        if !ok {
                            tracing::warn!(event = %ev.id(), "Ajax mail the packer refuses, dropped");
                        }
                        ok
                    })
                    .collect();
                match crate::wire::pack_push_batch(packer, false, good) {
                    Ok(p) => p,
                    Err(e) => return text_response(500, &e.to_string()),
                }
            }
        };
        body_response(&packed)
    }
}
