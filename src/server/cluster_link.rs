//! The server as its broker sees it: a [`ClusterNode`] holding the server
//! weakly, so that a broker never keeps a dropped server alive.

use std::sync::{Arc, Weak};

use super::broker::{ClusterNode, ClusterPush};
use super::driver::ChannelSocketServer;
use super::event_msg::ServerEventMsg;
use super::shared::Shared;
use super::types::{ConnectedUids, Transport};
use crate::event::{Event, ids};
use crate::value::Value;

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

    fn mail_arrived(&self, target: &super::broker::PushTarget) {
        if let Some(shared) = self.shared.upgrade() {
            shared.mail_waiters.wake(target);
        }
    }

    fn local_uids(&self) -> ConnectedUids {
        self.shared
            .upgrade()
            .map(|shared| shared.local_connected_uids())
            .unwrap_or_default()
    }

    fn emit(&self, msg: ServerEventMsg) {
        if let Some(shared) = self.shared.upgrade() {
            ChannelSocketServer { shared }.deliver_detached(vec![msg]);
        }
    }

    fn emit_uidport_close(&self, uid: Value) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let msg = ServerEventMsg {
            event: Event::reserved(ids::UIDPORT_CLOSE, Some(uid.clone())),
            uid,
            client_id: Arc::from(""),
            transport: Transport::Ws,
            request: None,
            reply_to: None,
            server: Arc::downgrade(&shared),
        };
        ChannelSocketServer { shared }.deliver_detached(vec![msg]);
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
