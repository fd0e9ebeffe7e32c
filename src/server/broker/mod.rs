//! Several server nodes acting as one channel-socket server: the
//! [`Broker`] that carries pushes and presence between them.
//!
//! A server without a broker (the default) is one node and pays nothing
//! for this. With one ([`ServerOptions::broker`](super::ServerOptions::broker)),
//! every push — [`send`](super::ChannelSocketServer::send),
//! [`send_many`](super::ChannelSocketServer::send_many),
//! [`broadcast`](super::ChannelSocketServer::broadcast),
//! [`send_to_client`](super::ChannelSocketServer::send_to_client) — is
//! delivered to this node's clients at once, as without a broker, and
//! published for the other nodes, which deliver it to theirs; and
//! [`connected_uids`](super::ChannelSocketServer::connected_uids) (and its
//! watch) show the users of every node.
//!
//! The application sees `chsk/uidport-open` when a user's first
//! connection anywhere in the cluster arrives and `chsk/uidport-close` when
//! the last one anywhere has left ([`Broker::uidport`]).
//!
//! Brokers: [`InProcessBroker`] joins servers in one process (tests, and a
//! model of the contract); `RedisBroker` (feature `redis`) joins processes
//! on one Redis, and says what it guarantees.
//!
//! # Ajax clients on any node
//! A broker that shares Ajax clients ([`Broker::shares_ajax`]; both
//! brokers here do, by default) lets a load balancer send each request of
//! an Ajax client to any node: the handshake to one, a long-poll to
//! another, a POST to a third. The cluster registers each Ajax client when
//! it shakes hands and at every poll (for the poll timeout plus the Ajax
//! grace period); a push for it waits in its mailbox, kept by the broker,
//! until the node holding its next long-poll takes it — once, in the order
//! the pushes were published. A poll on a node that has not seen the
//! client is a poll, not a new handshake, when the cluster knows it.
//! Without sharing, an Ajax client should keep to one node (sticky
//! routing): a node that has not seen its handshake answers its poll with a
//! new handshake, and pushes that wait for it between polls wait on the
//! node that had it.
//!
//! # Limits
//! * A mailbox holds at most [`AJAX_MAILBOX_BYTES`] by default; past it
//!   the oldest pushes are dropped, counted in [`BrokerStats::lost`] and
//!   logged. A client unheard of for longer than its registration loses
//!   its mailbox, as a single node forgets it after its grace period.
//! * What a poll takes from the mailbox is held for that poll until it is
//!   settled: delivered, or put back at the front of the mailbox (the poll
//!   ended meanwhile, its client went away, or the answer of a take was
//!   lost: a take for the same poll gives the held mail again), and the
//!   client's polls on that node woken. A poll held meanwhile on another
//!   node takes put-back mail at its next wake or the client's next poll,
//!   and could take later pushes first. Held mail of a node that dies is
//!   lost when the client's registration ends.
//! * The mail in a poll's answer that cannot be written (the client's
//!   connection died after the answer was made) is lost with it, as with a
//!   single node.
//! * With a broker that shares Ajax clients, a push counts and reaches this
//!   node's WebSocket clients only: what [`send`](super::ChannelSocketServer::send)
//!   and [`send_to_client`](super::ChannelSocketServer::send_to_client)
//!   return says nothing of Ajax clients, whose pushes go by their
//!   mailboxes.
//! * A WebSocket client that reconnects to another node within its grace
//!   period gets the pushes sent from then on; those the node it left held
//!   for it meanwhile are dropped when its grace ends there, counted in
//!   [`ServerStats::pushes_dropped`](super::ServerStats::pushes_dropped) and
//!   logged.
//! * [`close_uid`](super::ChannelSocketServer::close_uid) (and sending
//!   `[:chsk/close]`) closes the user's connections on every node; what it
//!   returns counts this node's.

mod codec;
mod in_process;
pub(super) mod mailboxes;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;

use std::sync::{Arc, Weak};

use crate::event::Event;
use crate::runtime::Runtime;
use crate::value::Value;

#[cfg(feature = "redis")]
pub use self::redis::{RedisBroker, RedisBrokerError, RedisOptions};
pub use codec::{CodecError, decode_push, encode_push};
pub use in_process::{InProcessBroker, InProcessHub};

use super::event_msg::ServerEventMsg;
use super::types::ConnectedUids;

/// The default bound of one Ajax client's mailbox, in bytes of encoded
/// pushes (1 MiB).
pub const AJAX_MAILBOX_BYTES: usize = 1 << 20;

/// A broker operation that may wait for its backend.
pub type BrokerFuture<T> = futures_util::future::BoxFuture<'static, Result<T, MailboxError>>;

/// Why an Ajax mailbox could not be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ajax mailbox: {0}")]
pub struct MailboxError(pub String);

/// Whom a push is for.
#[derive(Debug, Clone, PartialEq)]
pub enum PushTarget {
    /// Every client of one user.
    Uid(Value),
    /// Every client of each of these users.
    Uids(Vec<Value>),
    /// Every connected user.
    All,
    /// One client of one user.
    Client {
        /// The user.
        uid: Value,
        /// The client id.
        client_id: String,
    },
}

/// A push as it travels between nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterPush {
    /// Whom it is for.
    pub target: PushTarget,
    /// The event (shared: a push is not copied to be published).
    pub event: Arc<Event>,
    /// Whether it skips the send-buffer window.
    pub flush: bool,
}

/// What a broker calls on the node it serves (the server implements it).
pub trait ClusterNode: Send + Sync + 'static {
    /// A push published by another node: deliver it to this node's clients.
    fn deliver(&self, push: ClusterPush);
    /// The users connected on the other nodes changed.
    fn remote_presence_changed(&self);
    /// Pushes for `target` were put in the mailboxes of Ajax clients
    /// ([`Broker::shares_ajax`]): the polls this node holds for them take
    /// them.
    fn mail_arrived(&self, target: &PushTarget);
    /// The users connected on this node now, for the broker to share.
    fn local_uids(&self) -> ConnectedUids;
    /// Hands the application an event the broker held back (a
    /// `chsk/uidport-open` or `-close` it decided is the cluster's).
    fn emit(&self, msg: ServerEventMsg);
    /// A user's last connection in the cluster was on a node that died:
    /// hand the application its `chsk/uidport-close`.
    fn emit_uidport_close(&self, uid: Value);
}

/// What a broker counts, for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BrokerStats {
    /// Pushes this node published.
    pub published: u64,
    /// Pushes from other nodes delivered here.
    pub delivered: u64,
    /// Pushes known lost: dropped while unpublished past the buffer's
    /// bound, or missed by this node past the broker's window.
    pub lost: u64,
    /// Bytes of pushes waiting to be published (the broker unreachable).
    pub unpublished_bytes: usize,
    /// Whether the broker is reachable now.
    pub connected: bool,
}

/// Carries pushes and presence between the nodes of a cluster.
///
/// A broker never blocks the server: [`publish`](Self::publish) queues (in
/// a buffer bounded in bytes, with a documented loss past it), and the
/// broker's own tasks talk to its backend, reconnecting by themselves.
pub trait Broker: Send + Sync + std::fmt::Debug + 'static {
    /// Starts the broker's tasks for `node` on `runtime`. Called once, by
    /// the server's constructor; the broker holds the node weakly and
    /// stops when it is gone.
    fn start(self: Arc<Self>, runtime: Arc<dyn Runtime>, node: Weak<dyn ClusterNode>);
    /// Publishes a push for the other nodes (this node has delivered it).
    fn publish(&self, push: &ClusterPush);
    /// The users connected on this node changed: share them.
    fn local_presence_changed(&self);
    /// The users connected on the other nodes, as last heard.
    fn remote_uids(&self) -> ConnectedUids;
    /// The broker's counters.
    fn stats(&self) -> BrokerStats;
    /// This node's first connection of a user arrived, or its last one
    /// left (`msg` is the node's `chsk/uidport-open` or `-close`). The
    /// application should see it once per cluster: when no other node has
    /// the user. Returns the message to deliver now, or `None` when it is
    /// not the cluster's, or will be decided later (then handed to
    /// [`ClusterNode::emit`]). Called under the node's lock: it must not
    /// call back into the node before returning.
    fn uidport(&self, msg: ServerEventMsg) -> Option<ServerEventMsg>;

    /// Whether this broker keeps the cluster's Ajax clients and their
    /// mailboxes (see the [module](self)): then the node leaves every push
    /// for Ajax clients to [`publish`](Self::publish), which puts it in the
    /// mailboxes and calls [`ClusterNode::mail_arrived`] on every node,
    /// and serves long-polls from [`take_mail`](Self::take_mail). The
    /// default: no.
    fn shares_ajax(&self) -> bool {
        false
    }

    /// Registers an Ajax client with the cluster for `ttl` from now (at its
    /// handshake and every poll). Returns whether the cluster knew it
    /// already, or a [`MailboxError`] when the backend is unreachable (the
    /// node then answers 503, and the client retries).
    fn register_ajax(
        &self,
        uid: &Value,
        client_id: &str,
        ttl: std::time::Duration,
    ) -> BrokerFuture<bool> {
        let _ = (uid, client_id, ttl);
        Box::pin(async {
            Err(MailboxError(
                "this broker does not share Ajax clients".into(),
            ))
        })
    }

    /// Takes every push waiting in an Ajax client's mailbox for one poll,
    /// oldest first: into the poll's hold (`hold`, a token unique to the
    /// poll), after what that hold has from earlier takes, so that a take
    /// whose answer was lost gives the same pushes again. Until
    /// [`settle_mail`](Self::settle_mail) the held pushes are the poll's.
    /// A [`MailboxError`] when the backend is unreachable.
    fn take_mail(&self, uid: &Value, client_id: &str, hold: &str) -> BrokerFuture<Vec<Event>> {
        let _ = (uid, client_id, hold);
        Box::pin(async {
            Err(MailboxError(
                "this broker does not share Ajax clients".into(),
            ))
        })
    }

    /// Ends a poll's hold: its pushes were `delivered` (forgotten), or not
    /// (put back at the front of the mailbox, in order, for the next poll).
    /// A [`MailboxError`] when the backend is unreachable: the held pushes
    /// then live as long as the client's registration, and are lost
    /// (logged by the node).
    fn settle_mail(
        &self,
        uid: &Value,
        client_id: &str,
        hold: &str,
        delivered: bool,
    ) -> BrokerFuture<()> {
        let _ = (uid, client_id, hold, delivered);
        Box::pin(async {
            Err(MailboxError(
                "this broker does not share Ajax clients".into(),
            ))
        })
    }
}

impl std::fmt::Debug for dyn ClusterNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterNode")
    }
}
