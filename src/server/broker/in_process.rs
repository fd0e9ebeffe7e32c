//! Servers in one process joined as one cluster: every push and presence
//! change reaches the other nodes at once, nothing is lost. For tests of a
//! cluster without a backend, and as the model of what a broker does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use std::collections::{HashMap, HashSet};

use super::{Broker, BrokerStats, ClusterNode, ClusterPush};
use crate::event::ids;
use crate::runtime::Runtime;
use crate::server::ServerEventMsg;
use crate::server::types::ConnectedUids;
use crate::value::Value;

/// The meeting point of the [`InProcessBroker`]s of one cluster.
#[derive(Debug, Clone, Default)]
pub struct InProcessHub {
    brokers: Arc<Mutex<Vec<Weak<InProcessBroker>>>>,
    /// On how many nodes each user is connected.
    nodes_per_uid: Arc<Mutex<HashMap<Value, usize>>>,
}

impl InProcessHub {
    /// A hub with no node yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A broker for one more node of this hub's cluster.
    pub fn broker(&self) -> Arc<InProcessBroker> {
        let broker = Arc::new(InProcessBroker {
            hub: self.clone(),
            node: Mutex::new(None),
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
    /// The users this node counts as connected in the hub.
    opened: Mutex<HashSet<Value>>,
    published: AtomicU64,
    delivered: AtomicU64,
}

impl InProcessBroker {
    fn node(&self) -> Option<Arc<dyn ClusterNode>> {
        lock(&self.node).as_ref().and_then(Weak::upgrade)
    }
}

impl Broker for InProcessBroker {
    fn start(self: Arc<Self>, _runtime: Arc<dyn Runtime>, node: Weak<dyn ClusterNode>) {
        *lock(&self.node) = Some(node);
    }

    fn publish(&self, push: &ClusterPush) {
        self.published.fetch_add(1, Ordering::Relaxed);
        for other in self.hub.others(self) {
            if let Some(node) = other.node() {
                other.delivered.fetch_add(1, Ordering::Relaxed);
                node.deliver(push.clone());
            }
        }
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
