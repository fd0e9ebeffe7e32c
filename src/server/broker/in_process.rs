//! Servers in one process joined as one cluster: every push and presence
//! change reaches the other nodes at once, nothing is lost. For tests of a
//! cluster without a backend, and as the model of what a broker does. It
//! shares Ajax clients ([`Broker::shares_ajax`]) unless made with
//! [`InProcessHub::sticky_ajax`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use std::collections::{HashMap, HashSet};

use super::mailboxes::{Mailboxes, decode_mail};
use super::{AJAX_MAILBOX_BYTES, Broker, BrokerFuture, BrokerStats, ClusterNode, ClusterPush};
use crate::event::Event;
use crate::event::ids;
use crate::runtime::Runtime;
use crate::server::ServerEventMsg;
use crate::server::types::ConnectedUids;
use crate::value::Value;

/// The meeting point of the [`InProcessBroker`]s of one cluster.
#[derive(Debug, Clone)]
pub struct InProcessHub {
    brokers: Arc<Mutex<Vec<Weak<InProcessBroker>>>>,
    /// On how many nodes each user is connected.
    nodes_per_uid: Arc<Mutex<HashMap<Value, usize>>>,
    /// The Ajax clients and their mail; `None` when Ajax is sticky.
    mailboxes: Option<Arc<Mutex<Mailboxes>>>,
}

impl Default for InProcessHub {
    fn default() -> Self {
        Self {
            brokers: Arc::default(),
            nodes_per_uid: Arc::default(),
            mailboxes: Some(Arc::new(Mutex::new(Mailboxes::new(AJAX_MAILBOX_BYTES)))),
        }
    }
}

impl InProcessHub {
    /// A hub with no node yet, sharing Ajax clients (mailboxes of
    /// [`AJAX_MAILBOX_BYTES`] each).
    pub fn new() -> Self {
        Self::default()
    }

    /// A hub with no node yet whose nodes do not share Ajax clients: each
    /// Ajax client keeps to the node of its handshake.
    pub fn sticky_ajax() -> Self {
        Self {
            mailboxes: None,
            ..Self::default()
        }
    }

    /// A broker for one more node of this hub's cluster.
    pub fn broker(&self) -> Arc<InProcessBroker> {
        let broker = Arc::new(InProcessBroker {
            hub: self.clone(),
            node: Mutex::new(None),
            runtime: Mutex::new(None),
            lost: AtomicU64::new(0),
            opened: Mutex::new(HashSet::new()),
            published: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
        });
        let mut brokers = lock(&self.brokers);
        brokers.retain(|b| b.strong_count() > 0);
        brokers.push(Arc::downgrade(&broker));
        broker
    }

    /// The other nodes' live brokers.
    fn others(&self, me: &InProcessBroker) -> Vec<Arc<InProcessBroker>> {
        lock(&self.brokers)
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|b| !std::ptr::eq(&**b, me))
            .collect()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One node's broker in an [`InProcessHub`].
#[derive(Debug)]
pub struct InProcessBroker {
    hub: InProcessHub,
    node: Mutex<Option<Weak<dyn ClusterNode>>>,
    runtime: Mutex<Option<Arc<dyn Runtime>>>,
    /// Pushes dropped from full mailboxes.
    lost: AtomicU64,
    /// The users this node counts as connected in the hub.
    opened: Mutex<HashSet<Value>>,
    published: AtomicU64,
    delivered: AtomicU64,
}

impl InProcessBroker {
    fn node(&self) -> Option<Arc<dyn ClusterNode>> {
        lock(&self.node).as_ref().and_then(Weak::upgrade)
    }

    fn now(&self) -> std::time::Instant {
        lock(&self.runtime)
            .as_ref()
            .map_or_else(std::time::Instant::now, |r| r.now())
    }

    fn count_lost(&self, dropped: u64) {
        if dropped > 0 {
            self.lost.fetch_add(dropped, Ordering::Relaxed);
            tracing::warn!(
                dropped,
                "in-process broker: Ajax mailbox full, oldest pushes dropped"
            );
        }
    }

    fn mailboxes(&self) -> Result<MutexGuard<'_, Mailboxes>, super::MailboxError> {
        self.hub
            .mailboxes
            .as_deref()
            .map(lock)
            .ok_or_else(|| super::MailboxError("this hub's Ajax is sticky".into()))
    }
}

impl Broker for InProcessBroker {
    fn start(self: Arc<Self>, runtime: Arc<dyn Runtime>, node: Weak<dyn ClusterNode>) {
        *lock(&self.node) = Some(node);
        *lock(&self.runtime) = Some(runtime);
    }

    fn publish(&self, push: &ClusterPush) {
        self.published.fetch_add(1, Ordering::Relaxed);
        let mut mailed = false;
        // A close command closes polls; it is not mail.
        if let Ok(mut boxes) = self.mailboxes()
            && !push.event.is(ids::CLOSE)
            && boxes.wants(&push.target)
        {
            match super::codec::encode_event(&push.event) {
                Ok(encoded) => {
                    let dropped = boxes.mail(self.now(), &push.target, &encoded);
                    drop(boxes);
                    self.count_lost(dropped);
                    mailed = true;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "in-process broker: a push that does not encode, not mailed")
                }
            }
        }
        let others = self.hub.others(self);
        for other in &others {
            if let Some(node) = other.node() {
                other.delivered.fetch_add(1, Ordering::Relaxed);
                node.deliver(push.clone());
            }
        }
        if mailed {
            for node in others.iter().filter_map(|b| b.node()).chain(self.node()) {
                node.mail_arrived(&push.target);
            }
        }
    }

    fn shares_ajax(&self) -> bool {
        self.hub.mailboxes.is_some()
    }

    fn register_ajax(
        &self,
        uid: &Value,
        client_id: &str,
        ttl: std::time::Duration,
    ) -> BrokerFuture<bool> {
        let known = self
            .mailboxes()
            .map(|mut b| b.register(self.now(), uid, client_id, ttl));
        Box::pin(async move { known })
    }

    fn take_mail(&self, uid: &Value, client_id: &str, hold: &str) -> BrokerFuture<Vec<Event>> {
        let taken = self.mailboxes().map(|mut b| b.take(uid, client_id, hold));
        Box::pin(async move { Ok(decode_mail(taken?)) })
    }

    fn settle_mail(
        &self,
        uid: &Value,
        client_id: &str,
        hold: &str,
        delivered: bool,
    ) -> BrokerFuture<()> {
        let dropped = self
            .mailboxes()
            .map(|mut b| b.settle(uid, client_id, hold, delivered));
        if let Ok(dropped) = dropped {
            self.count_lost(dropped);
        }
        Box::pin(async move { dropped.map(drop) })
    }

    fn local_presence_changed(&self) {
        for other in self.hub.others(self) {
            if let Some(node) = other.node() {
                node.remote_presence_changed();
            }
        }
    }

    fn remote_uids(&self) -> ConnectedUids {
        let mut all = ConnectedUids::default();
        for other in self.hub.others(self) {
            if let Some(node) = other.node() {
                let uids = node.local_uids();
                all.ws.extend(uids.ws);
                all.ajax.extend(uids.ajax);
                all.any.extend(uids.any);
            }
        }
        all
    }

    fn uidport(&self, msg: ServerEventMsg) -> Option<ServerEventMsg> {
        let uid = msg.uid().clone();
        let mut counts = lock(&self.hub.nodes_per_uid);
        if msg.event().is(ids::UIDPORT_OPEN) {
            if !lock(&self.opened).insert(uid.clone()) {
                return None;
            }
            let n = counts.entry(uid).or_insert(0);
            *n += 1;
            (*n == 1).then_some(msg)
        } else {
            if !lock(&self.opened).remove(&uid) {
                return None;
            }
            let n = counts.entry(uid.clone()).or_insert(1);
            *n -= 1;
            if *n > 0 {
                return None;
            }
            counts.remove(&uid);
            Some(msg)
        }
    }

    fn stats(&self) -> BrokerStats {
        BrokerStats {
            published: self.published.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            lost: self.lost.load(Ordering::Relaxed),
            connected: true,
            ..BrokerStats::default()
        }
    }
}

impl Drop for InProcessBroker {
    /// A node gone: its users leave the cluster unless another node has
    /// them, and a live node tells its application.
    fn drop(&mut self) {
        let opened = std::mem::take(&mut *lock(&self.opened));
        let mut closed = Vec::new();
        {
            let mut counts = lock(&self.hub.nodes_per_uid);
            for uid in opened {
                let n = counts.entry(uid.clone()).or_insert(1);
                *n -= 1;
                if *n == 0 {
                    counts.remove(&uid);
                    closed.push(uid);
                }
            }
        }
        let witness = self.hub.others(self).into_iter().find_map(|b| b.node());
        if let Some(node) = witness {
            for uid in closed {
                node.emit_uidport_close(uid);
            }
        }
    }
}
