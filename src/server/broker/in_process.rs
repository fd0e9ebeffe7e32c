//! Servers in one process joined as one cluster: every push and presence
//! change reaches the other nodes at once, nothing is lost. For tests of a
//! cluster without a backend, and as the model of what a broker does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use super::{Broker, BrokerStats, ClusterNode, ClusterPush};
use crate::runtime::Runtime;
use crate::server::types::ConnectedUids;

/// The meeting point of the [`InProcessBroker`]s of one cluster.
#[derive(Debug, Clone, Default)]
pub struct InProcessHub {
    brokers: Arc<Mutex<Vec<Weak<InProcessBroker>>>>,
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

    fn stats(&self) -> BrokerStats {
        BrokerStats {
            published: self.published.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            connected: true,
            ..BrokerStats::default()
        }
    }
}
