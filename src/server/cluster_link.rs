//! The server as its broker sees it: a [`ClusterNode`] holding the server
//! weakly, so that a broker never keeps a dropped server alive.

use std::sync::{Arc, Weak};

use super::broker::{ClusterNode, ClusterPush};
use super::driver::ChannelSocketServer;
use super::shared::Shared;
use super::types::ConnectedUids;

pub(crate) struct ClusterLink {
    pub(crate) shared: Weak<Shared>,
}

impl ClusterNode for ClusterLink {
    fn deliver(&self, push: ClusterPush) {
        if let Some(shared) = self.shared.upgrade() {
            ChannelSocketServer { shared }.deliver_remote(push);
        }
    }

    fn remote_presence_changed(&self) {
        if let Some(shared) = self.shared.upgrade() {
            shared.remote_presence_changed();
        }
    }

    fn local_uids(&self) -> ConnectedUids {
        self.shared
            .upgrade()
            .map(|shared| shared.local_connected_uids())
            .unwrap_or_default()
    }
}

/// Starts the server's broker, if it has one.
pub(crate) fn start_broker(shared: &Arc<Shared>) {
    let Some(broker) = shared.options.broker.clone() else {
        return;
    };
    let link: Arc<dyn ClusterNode> = Arc::new(ClusterLink {
        shared: Arc::downgrade(shared),
    });
    let weak = Arc::downgrade(&link);
    if shared.cluster_link.set(link).is_ok() {
        broker.start(shared.runtime.clone(), weak);
    }
}
