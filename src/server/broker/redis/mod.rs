//! Server nodes joined on one Redis (feature `redis`).
//!
//! # How
//! * **Pushes** go through one Redis Stream (`{namespace}:pushes`), in
//!   entries of up to 256 pushes stamped with their node, each push with
//!   the node's sequence number. Every
//!   node reads the stream from where it stopped (`XREAD` after the last
//!   id it read), delivers the other nodes' pushes to its clients and skips
//!   its own (delivered when sent). A node whose connection to Redis drops
//!   resumes from its last id when it is back: nothing published meanwhile
//!   is missed, within the stream's window.
//! * **The window**: the stream keeps about [`RedisOptions::stream_len`]
//!   entries (`XADD … MAXLEN ~`; an entry holds one push or more). A node away for longer than that misses
//!   the older ones; it sees the gap in the sequence numbers of each node
//!   and counts it ([`BrokerStats::lost`], logged): a loss is never silent.
//! * **While Redis is unreachable**, a node's pushes wait in a buffer of at
//!   most [`RedisOptions::max_unpublished_bytes`] (oldest dropped past it,
//!   counted as lost and logged) and go out in order once it is back. The
//!   node's own clients get every push at once all the same.
//! * **Presence**: each node keeps its users under `{namespace}:node:{id}`
//!   with a time to live ([`RedisOptions::node_ttl`]), rewritten every
//!   [`RedisOptions::heartbeat`] and at once when they change (the other
//!   nodes are told through the stream). A node that dies without a word
//!   (`kill -9`) has its users gone from every node's `connected_uids`
//!   within `node_ttl` plus one heartbeat.
//! * **`chsk/uidport-open` and `-close` once per cluster**: Redis counts
//!   on how many nodes each user is (`{namespace}:uid-nodes`, updated by
//!   scripts, so two nodes deciding at once agree); the node that takes a
//!   user from none to one tells its application the open, the node that
//!   takes it back to none the close. When a node dies, the first node to
//!   see its presence expire uncounts its users and tells the close of
//!   those it was the last node of. While Redis is unreachable these
//!   events wait (in order) for it.
//! * **Ajax clients on any node** ([`RedisOptions::shared_ajax`], on by
//!   default): each Ajax client is registered under `{namespace}:ajax:{uid}`
//!   (at its handshake and every poll, for the poll timeout plus the Ajax
//!   grace and 5 s), and its pushes wait in its mailbox, a Redis list of at
//!   most [`RedisOptions::ajax_mailbox_bytes`], until a poll on any node
//!   takes them (once: one script moves the list into the poll's hold,
//!   `{namespace}:mailheld:{token}`, until the poll settles it). The
//!   publisher fills the mailboxes by one script per batch, before the
//!   batch's stream entry, skipping pushes it mailed already (by sequence
//!   number); a node that reads the entry wakes its polls for those users.
//!   While Redis is unreachable an Ajax GET is answered 503 (the client
//!   retries with its backoff). A Redis restarted without persistence has
//!   forgotten the registrations and mailboxes: each Ajax client then gets
//!   a new handshake, as from a restarted server, and the pushes mailed to
//!   it before are gone with Redis's memory. Keys are built from the user
//!   id's EDN text: a user id holding a map or a set must be built in the
//!   same order everywhere (their EDN follows insertion order). A broadcast
//!   mails every registered Ajax client in one script: Redis does nothing
//!   else meanwhile (about a microsecond per client).
//!
//! Needs Redis 5 or later (scripts that read the time before writing), one
//! server or a primary with replicas; Redis Cluster is not supported (the
//! scripts build key names).
//! * **Order, once**: the pushes of one node reach each client in the order
//!   that node sent them, and once: a batch published again (its node did
//!   not hear Redis's answer) is recognised by its sequence numbers.
//!
//! Reconnection to Redis is by itself, with a backoff from 100 ms doubling
//! to 5 s; nothing panics while Redis is down.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use redis::streams::StreamReadReply;

use super::codec::decode_push;
use super::{AJAX_MAILBOX_BYTES, Broker, BrokerFuture, BrokerStats, ClusterNode, ClusterPush};
use mailboxes::MailTarget;

mod mailboxes;
use crate::event::ids;
use crate::runtime::Runtime;
use crate::server::ServerEventMsg;
use crate::server::types::ConnectedUids;
use crate::value::Value;

/// The settings of a [`RedisBroker`]: the defaults, changed by one
/// setter per setting (`RedisOptions::default().namespace("app")`).
#[derive(Debug, Clone)]
pub struct RedisOptions {
    namespace: String,
    stream_len: usize,
    heartbeat: Duration,
    node_ttl: Duration,
    max_unpublished_bytes: usize,
    read_block: Duration,
    shared_ajax: bool,
    ajax_mailbox_bytes: usize,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            namespace: "sente".into(),
            stream_len: 10_000,
            heartbeat: Duration::from_secs(1),
            node_ttl: Duration::from_secs(5),
            max_unpublished_bytes: 8 << 20,
            read_block: Duration::from_secs(1),
            shared_ajax: true,
            ajax_mailbox_bytes: AJAX_MAILBOX_BYTES,
        }
    }
}

impl RedisOptions {
    /// The prefix of every key (default `"sente"`): clusters on one Redis
    /// with different namespaces do not meet.
    #[must_use]
    pub fn namespace(mut self, value: impl Into<String>) -> Self {
        self.namespace = value.into();
        self
    }

    crate::setters::setters! {
        /// About how many entries the stream keeps (default 10,000; an entry
        /// holds the pushes a node published at once, one or more): how far a
        /// node may fall behind, or stay away, and still get every push.
        stream_len: usize;
        /// How often a node rewrites its presence (default 1 s).
        heartbeat: Duration;
        /// How long a node's presence lives without a heartbeat (default 5 s).
        node_ttl: Duration;
        /// The bytes of pushes a node keeps while Redis is unreachable
        /// (default 8 MiB; the oldest are dropped past it, counted and logged).
        max_unpublished_bytes: usize;
        /// How long one `XREAD` waits for new entries (default 1 s).
        read_block: Duration;
        /// Whether the nodes share Ajax clients (default true): a client's
        /// requests may reach any node, its pushes wait in its mailbox in Redis
        /// (see the [broker module](super)). False: Ajax clients keep to the
        /// node of their handshake (sticky routing).
        shared_ajax: bool;
        /// The bytes one Ajax client's mailbox holds at most (default
        /// [`AJAX_MAILBOX_BYTES`], 1 MiB); past it the oldest pushes are
        /// dropped, counted in [`BrokerStats::lost`] and logged.
        ajax_mailbox_bytes: usize;
    }
}

/// uidport events waiting for Redis at most; past it the oldest are
/// dropped (and logged).
const MAX_PENDING_UIDPORTS: usize = 65_536;

/// A node's first connection of a user: count the node for the user
/// (once); returns on how many nodes the user is now, or -1.
const OPEN_SCRIPT: &str = "if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then \
  return redis.call('HINCRBY', KEYS[1], ARGV[1], 1) else return -1 end";

/// A node's last connection of a user left: returns on how many nodes the
/// user is still, or -1.
const CLOSE_SCRIPT: &str = "if redis.call('SREM', KEYS[2], ARGV[1]) == 1 then \
  local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1) \
  if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end \
  return n else return -1 end";

/// A dead node's users: uncount them, once (the first node to notice wins);
/// returns the users now on no node.
const REAP_SCRIPT: &str = "if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return {} end \
  local closed = {} \
  for _, uid in ipairs(redis.call('SMEMBERS', KEYS[3])) do \
    local n = redis.call('HINCRBY', KEYS[2], uid, -1) \
    if n <= 0 then redis.call('HDEL', KEYS[2], uid); table.insert(closed, uid) end \
  end \
  redis.call('DEL', KEYS[3]) \
  return closed";

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Entries read or written per round trip.
const BATCH: usize = 256;

/// Why a [`RedisBroker`] could not be made.
#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct RedisBrokerError(#[from] redis::RedisError);

/// An entry waiting to be published.
#[derive(Debug, Clone)]
struct Outgoing {
    /// Its place in the outbox.
    id: u64,
    /// The push's sequence number (pushes only).
    seq: Option<u64>,
    /// The kind's letter, then the data.
    data: String,
    /// Whose Ajax mailboxes the push goes to (pushes, when shared).
    mail: Option<Arc<MailTarget>>,
}

/// Pushes waiting to be published, in order, bounded in bytes.
#[derive(Debug, Default)]
struct Outbox {
    entries: VecDeque<Outgoing>,
    bytes: usize,
    next_id: u64,
    /// The next push's sequence number: the other nodes count the gaps.
    next_push_seq: u64,
}

/// A broker on Redis: see the [module](self) for what it guarantees.
#[derive(Debug)]
pub struct RedisBroker {
    client: redis::Client,
    options: RedisOptions,
    node_id: String,
    outbox: Mutex<Outbox>,
    outbox_ready: event_listener::Event,
    presence_dirty: AtomicBool,
    presence_wake: event_listener::Event,
    remote: Mutex<ConnectedUids>,
    /// This node's uidport events waiting for the cluster's decision.
    uidports: Mutex<VecDeque<ServerEventMsg>>,
    uidports_ready: event_listener::Event,
    published: AtomicU64,
    delivered: AtomicU64,
    lost: Arc<AtomicU64>,
    connected: AtomicBool,
    /// The Ajax mailboxes' connection, made when first needed.
    mail_conn: Arc<Mutex<Option<MultiplexedConnection>>>,
    /// How long an Ajax registration (and its mail) lives, in ms: the
    /// last the server asked for.
    ajax_ttl_ms: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl RedisBroker {
    /// A broker on the Redis at `url` (`redis://host:port/db`). It connects
    /// when the server starts it, and keeps reconnecting by itself.
    ///
    /// # Errors
    /// [`RedisBrokerError`] when `url` is not a Redis URL.
    pub fn new(url: &str, options: RedisOptions) -> Result<Arc<Self>, RedisBrokerError> {
        Ok(Arc::new(Self {
            client: redis::Client::open(url)?,
            options,
            node_id: uuid::Uuid::new_v4().simple().to_string(),
            outbox: Mutex::new(Outbox::default()),
            outbox_ready: event_listener::Event::new(),
            presence_dirty: AtomicBool::new(true),
            presence_wake: event_listener::Event::new(),
            remote: Mutex::new(ConnectedUids::default()),
            uidports: Mutex::new(VecDeque::new()),
            uidports_ready: event_listener::Event::new(),
            published: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            lost: Arc::new(AtomicU64::new(0)),
            connected: AtomicBool::new(false),
            mail_conn: Arc::default(),
            ajax_ttl_ms: AtomicU64::new(90_000),
        }))
    }

    /// This node's id in the cluster.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    fn key(&self, what: &str) -> String {
        format!("{}:{what}", self.options.namespace)
    }

    async fn connect(
        &self,
        response_timeout: Duration,
    ) -> redis::RedisResult<MultiplexedConnection> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(response_timeout));
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    /// Queues an entry (a push, or a presence note) for the publisher.
    fn enqueue(&self, kind: &'static str, data: String, mail: Option<Arc<MailTarget>>) {
        let mut outbox = lock(&self.outbox);
        let id = outbox.next_id;
        outbox.next_id += 1;
        let push_seq = (kind == "P").then(|| {
            outbox.next_push_seq += 1;
            outbox.next_push_seq - 1
        });
        outbox.bytes += data.len();
        outbox.entries.push_back(Outgoing {
            id,
            seq: push_seq,
            data: format!("{kind}{data}"),
            mail,
        });
        let mut dropped = 0u64;
        while outbox.bytes > self.options.max_unpublished_bytes && outbox.entries.len() > 1 {
            if let Some(old) = outbox.entries.pop_front() {
                outbox.bytes -= old.data.len().saturating_sub(1);
                dropped += u64::from(old.data.starts_with('P'));
            }
        }
        drop(outbox);
        if dropped > 0 {
            self.lost.fetch_add(dropped, Ordering::Relaxed);
            tracing::warn!(
                dropped,
                limit = self.options.max_unpublished_bytes,
                "redis broker: unpublished pushes over the bound, oldest dropped"
            );
        }
        self.outbox_ready.notify(1);
    }
}

/// One task's connection to Redis: made when first needed, dropped on a
/// failure, remade after a backoff from 100 ms doubling to 5 s.
struct Link {
    conn: Option<MultiplexedConnection>,
    backoff: Duration,
    response_timeout: Duration,
}

impl Link {
    fn new(response_timeout: Duration) -> Self {
        Self {
            conn: None,
            backoff: BACKOFF_MIN,
            response_timeout,
        }
    }

    /// The connection, connecting first when there is none.
    async fn get(
        &mut self,
        broker: &RedisBroker,
    ) -> redis::RedisResult<&mut MultiplexedConnection> {
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => broker.connect(self.response_timeout).await?,
        };
        Ok(self.conn.insert(conn))
    }

    /// A command went through: the next failure backs off from the start.
    fn worked(&mut self) {
        self.backoff = BACKOFF_MIN;
    }

    /// Connecting or a command failed: logs it, drops the connection and
    /// sleeps the backoff (the caller holds no strong broker meanwhile).
    async fn failed(&mut self, runtime: &dyn Runtime, doing: &str, error: &redis::RedisError) {
        tracing::warn!(%error, "redis broker: {doing} failed; will retry");
        self.conn = None;
        runtime.sleep_until(runtime.now() + self.backoff).await;
        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
    }
}

/// Waits for `listener`, or `period` (to notice a dropped server).
async fn wait_or_tick(
    runtime: &dyn Runtime,
    listener: event_listener::EventListener,
    period: Duration,
) {
    let tick = runtime.sleep_until(runtime.now() + period);
    futures_util::future::select(tick, listener).await;
}

/// Publishes the outbox, in order, reconnecting as needed.
async fn publisher(
    broker: Weak<RedisBroker>,
    node: Weak<dyn ClusterNode>,
    runtime: Arc<dyn Runtime>,
) {
    let mut link = Link::new(Duration::from_secs(5));
    // The publish script's digest on this connection, once loaded.
    let mut script_sha: Option<String> = None;
    loop {
        let Some(b) = broker.upgrade() else { return };
        let listener = b.outbox_ready.listen();
        let batch: Vec<Outgoing> = lock(&b.outbox)
            .entries
            .iter()
            .take(BATCH)
            .cloned()
            .collect();
        if batch.is_empty() {
            drop(b);
            wait_or_tick(&*runtime, listener, Duration::from_secs(1)).await;
            continue;
        }
        // The batch as one stream entry: far fewer entries for Redis to
        // keep and for every node to read.
        let (items, starts) = frame_items(batch.iter().map(|e| (e.seq, e.data.as_str())));
        let mut pipe = redis::pipe();
        let mailing = b.options.shared_ajax;
        if link.conn.is_none() {
            script_sha = None; // a new connection: perhaps a new Redis
        }
        let loading = mailing && script_sha.is_none();
        if loading {
            pipe.add_command(mailboxes::load_publish_script());
        }
        if mailing {
            // One script puts the Ajax mail, then writes the entry: a node
            // that reads the entry finds the mail there.
            pipe.add_command(b.publish_command(script_sha.as_deref(), &batch, &starts, items));
        } else {
            pipe.cmd("XADD")
                .arg(b.key("pushes"))
                .arg("MAXLEN")
                .arg("~")
                .arg(b.options.stream_len)
                .arg("*")
                .arg("o")
                .arg(&b.node_id)
                .arg("d")
                .arg(items)
                .ignore();
        }
        let sent = match link.get(&b).await {
            Ok(c) => pipe.query_async::<Vec<redis::Value>>(c).await,
            Err(e) => Err(e),
        };
        match sent {
            Ok(replies) => {
                link.worked();
                b.connected.store(true, Ordering::Relaxed);
                let mut outbox = lock(&b.outbox);
                // Entries dropped meanwhile went from the front: remove
                // what was published by sequence number.
                let last = batch.last().map_or(0, |e| e.id);
                let mut pushes = 0;
                while outbox.entries.front().is_some_and(|e| e.id <= last) {
                    if let Some(e) = outbox.entries.pop_front() {
                        outbox.bytes -= e.data.len().saturating_sub(1);
                        pushes += u64::from(e.data.starts_with('P'));
                    }
                }
                drop(outbox);
                b.published.fetch_add(pushes, Ordering::Relaxed);
                if loading {
                    script_sha = replies
                        .first()
                        .and_then(|v| redis::from_redis_value(v.clone()).ok());
                }
                if mailing {
                    b.mailed(replies.get(usize::from(loading)), &batch, &node);
                }
            }
            Err(e) => {
                b.connected.store(false, Ordering::Relaxed);
                drop(b);
                link.failed(&*runtime, "publishing", &e).await;
            }
        }
    }
}

/// Reads the stream from where it stopped and delivers the other nodes'
/// pushes; counts the gaps in each node's sequence numbers.
async fn consumer(
    broker: Weak<RedisBroker>,
    node: Weak<dyn ClusterNode>,
    runtime: Arc<dyn Runtime>,
) {
    let mut link: Option<Link> = None;
    let mut last_id: Option<String> = None;
    let mut last_seq: HashMap<String, u64> = HashMap::new();
    loop {
        let Some(b) = broker.upgrade() else { return };
        if node.strong_count() == 0 {
            return;
        }
        let block = b.options.read_block;
        // An XREAD waits `block` for entries: its answer may take that long.
        let link = link.get_or_insert_with(|| Link::new(block + Duration::from_secs(5)));
        let c = match link.get(&b).await {
            Ok(c) => c,
            Err(e) => {
                drop(b);
                link.failed(&*runtime, "connecting to read", &e).await;
                continue;
            }
        };
        let stream = b.key("pushes");
        // The first time: from the stream's end as it is now.
        let from = match &last_id {
            Some(id) => id.clone(),
            None => {
                let newest: redis::RedisResult<redis::streams::StreamRangeReply> =
                    redis::cmd("XREVRANGE")
                        .arg(&stream)
                        .arg("+")
                        .arg("-")
                        .arg("COUNT")
                        .arg(1)
                        .query_async(c)
                        .await;
                match newest {
                    Ok(r) => {
                        let id = r
                            .ids
                            .first()
                            .map_or_else(|| "0-0".to_owned(), |e| e.id.clone());
                        last_id = Some(id.clone());
                        id
                    }
                    Err(e) => {
                        drop(b);
                        link.failed(&*runtime, "reading", &e).await;
                        continue;
                    }
                }
            }
        };
        let read: redis::RedisResult<Option<StreamReadReply>> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(BATCH)
            .arg("BLOCK")
            .arg(block.as_millis() as u64)
            .arg("STREAMS")
            .arg(&stream)
            .arg(&from)
            .query_async(c)
            .await;
        let reply = match read {
            Ok(r) => {
                link.worked();
                r
            }
            Err(e) => {
                drop(b);
                // Resumes from `last_id`, where it stopped.
                link.failed(&*runtime, "reading", &e).await;
                continue;
            }
        };
        let Some(node) = node.upgrade() else { return };
        for entry in reply.into_iter().flat_map(|r| r.keys).flat_map(|k| k.ids) {
            last_id = Some(entry.id.clone());
            let (Some(origin), Some(data)) = (entry.get::<String>("o"), entry.get::<String>("d"))
            else {
                tracing::warn!(id = %entry.id, "redis broker: an entry that is not ours, skipped");
                continue;
            };
            if origin == b.node_id {
                continue;
            }
            let (items, malformed) = read_items(&data);
            if malformed {
                tracing::warn!(id = %entry.id, "redis broker: an entry that does not read to its end");
            }
            for (seq, item) in items {
                if let Some(seq) = seq {
                    match sequence(&mut last_seq, &origin, seq) {
                        // Published twice (its node did not hear Redis's
                        // answer and sent it again): delivered already.
                        Sequence::Again => continue,
                        Sequence::After(0) => {}
                        Sequence::After(missed) => {
                            b.lost.fetch_add(missed, Ordering::Relaxed);
                            tracing::warn!(%origin, missed, "redis broker: pushes missed (past the stream's window)");
                        }
                    }
                }
                match item.split_at_checked(1) {
                    Some(("P", push)) => match decode_push(push) {
                        Ok(push) => {
                            b.delivered.fetch_add(1, Ordering::Relaxed);
                            // Mailed before its entry was written.
                            if b.options.shared_ajax {
                                node.mail_arrived(&push.target);
                            }
                            node.deliver(push);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "redis broker: a push that does not read, skipped")
                        }
                    },
                    Some(("U", _)) => {
                        b.presence_dirty.store(true, Ordering::Release);
                        b.presence_wake.notify(1);
                    }
                    _ => tracing::warn!(id = %entry.id, "redis broker: an unknown item, skipped"),
                }
            }
        }
    }
}

/// Where a push's sequence number falls among its node's.
#[derive(Debug, PartialEq, Eq)]
enum Sequence {
    /// Seen already.
    Again,
    /// New, after this many missed ones.
    After(u64),
}

/// Checks `seq` from `origin` against the last one seen, and records it.
fn sequence(last_seq: &mut HashMap<String, u64>, origin: &str, seq: u64) -> Sequence {
    let verdict = match last_seq.get(origin) {
        Some(&prev) if seq <= prev => return Sequence::Again,
        Some(&prev) => Sequence::After(seq - prev - 1),
        None => Sequence::After(0),
    };
    last_seq.insert(origin.to_owned(), seq);
    verdict
}

/// Items in one stream entry: each `{seq}:{len}:{item}`, `seq` empty for
/// an item that is not a push.
///
/// Returns the text, and where each item starts in it.
fn frame_items<'a>(items: impl Iterator<Item = (Option<u64>, &'a str)>) -> (String, Vec<usize>) {
    let mut out = String::new();
    let mut starts = Vec::new();
    for (seq, item) in items {
        if let Some(seq) = seq {
            out.push_str(&seq.to_string());
        }
        out.push(':');
        out.push_str(&item.len().to_string());
        out.push(':');
        starts.push(out.len());
        out.push_str(item);
    }
    (out, starts)
}

/// Reads what [`frame_items`] wrote; also says whether something that did
/// not read was left at the end.
fn read_items(mut data: &str) -> (Vec<(Option<u64>, &str)>, bool) {
    let mut items = Vec::new();
    while !data.is_empty() {
        let Some((seq, rest)) = data.split_once(':') else {
            return (items, true);
        };
        let Some((len, rest)) = rest.split_once(':') else {
            return (items, true);
        };
        let seq = if seq.is_empty() {
            None
        } else {
            match seq.parse() {
                Ok(seq) => Some(seq),
                Err(_) => return (items, true),
            }
        };
        let Some(item) = len.parse().ok().and_then(|len: usize| rest.get(..len)) else {
            return (items, true);
        };
        items.push((seq, item));
        data = &rest[item.len()..];
    }
    (items, false)
}

/// A node's users as EDN: `{:ws #{…} :ajax #{…}}`.
fn presence_text(uids: &ConnectedUids) -> String {
    let set = |s: &crate::value::Set| Value::Set(Box::new(s.clone()));
    let map = Value::map([
        (Value::keyword("ws"), set(&uids.ws)),
        (Value::keyword("ajax"), set(&uids.ajax)),
    ]);
    crate::edn::to_string(&map).unwrap_or_default()
}

fn read_presence(text: &str, into: &mut ConnectedUids) {
    let Ok(map) = crate::edn::from_str(text) else {
        return;
    };
    for (name, t) in [("ws", 0), ("ajax", 1)] {
        if let Some(Value::Set(uids)) = map.get(&Value::keyword(name)) {
            for uid in uids.iter() {
                if t == 0 {
                    into.ws.insert(uid.clone());
                } else {
                    into.ajax.insert(uid.clone());
                }
                into.any.insert(uid.clone());
            }
        }
    }
}

/// Writes this node's users and reads the other nodes', every heartbeat
/// and whenever this node's or another's change.
async fn presence(
    broker: Weak<RedisBroker>,
    node: Weak<dyn ClusterNode>,
    runtime: Arc<dyn Runtime>,
) {
    let mut link = Link::new(Duration::from_secs(5));
    loop {
        let Some(b) = broker.upgrade() else { return };
        let Some(n) = node.upgrade() else { return };
        let listener = b.presence_wake.listen();
        let announce = b.presence_dirty.swap(false, Ordering::AcqRel);
        let c = match link.get(&b).await {
            Ok(c) => c,
            Err(e) => {
                b.presence_dirty.store(true, Ordering::Release);
                drop((b, n));
                link.failed(&*runtime, "connecting for presence", &e).await;
                continue;
            }
        };
        let nodes_key = b.key("nodes");
        let mine = presence_text(&n.local_uids());
        drop(n);
        let ttl = b.options.node_ttl.as_millis().max(1) as u64;
        let wrote: redis::RedisResult<Vec<String>> = redis::pipe()
            .cmd("SET")
            .arg(b.key(&format!("node:{}", b.node_id)))
            .arg(&mine)
            .arg("PX")
            .arg(ttl)
            .ignore()
            .cmd("SADD")
            .arg(&nodes_key)
            .arg(&b.node_id)
            .ignore()
            .cmd("SMEMBERS")
            .arg(&nodes_key)
            .query_async::<(Vec<String>,)>(c)
            .await
            .map(|(ids,)| ids);
        let result = match wrote {
            Ok(ids) => {
                let others: Vec<String> = ids.into_iter().filter(|id| *id != b.node_id).collect();
                let keys: Vec<String> = others
                    .iter()
                    .map(|id| b.key(&format!("node:{id}")))
                    .collect();
                if keys.is_empty() {
                    Ok((others, Vec::new()))
                } else {
                    redis::cmd("MGET")
                        .arg(&keys)
                        .query_async::<Vec<Option<String>>>(c)
                        .await
                        .map(|texts| (others, texts))
                }
            }
            Err(e) => Err(e),
        };
        match result {
            Ok((others, texts)) => {
                let mut remote = ConnectedUids::default();
                let mut gone = Vec::new();
                for (id, text) in others
                    .iter()
                    .zip(texts.iter().chain(std::iter::repeat(&None)))
                {
                    match text {
                        Some(t) => read_presence(t, &mut remote),
                        None => gone.push(id.clone()),
                    }
                }
                for dead in &gone {
                    // Its presence expired: uncount its users, once in the
                    // cluster; the users it was the last node of leave.
                    let closed: redis::RedisResult<Vec<String>> = redis::cmd("EVAL")
                        .arg(REAP_SCRIPT)
                        .arg(3)
                        .arg(&nodes_key)
                        .arg(b.key("uid-nodes"))
                        .arg(b.key(&format!("node-uids:{dead}")))
                        .arg(dead)
                        .query_async(c)
                        .await;
                    let closed = closed.unwrap_or_default();
                    if !closed.is_empty() {
                        tracing::info!(node = %dead, users = closed.len(), "redis broker: a node died; its users left");
                    }
                    if let Some(n) = node.upgrade() {
                        for uid in closed.iter().filter_map(|t| crate::edn::from_str(t).ok()) {
                            n.emit_uidport_close(uid);
                        }
                    }
                }
                link.worked();
                let changed = {
                    let mut current = lock(&b.remote);
                    let changed = *current != remote;
                    *current = remote;
                    changed
                };
                if changed && let Some(n) = node.upgrade() {
                    n.remote_presence_changed();
                }
                if announce {
                    // Tell the others to read this node's users now.
                    b.enqueue("U", String::new(), None);
                }
            }
            Err(e) => {
                b.presence_dirty.store(true, Ordering::Release);
                drop(b);
                link.failed(&*runtime, "presence", &e).await;
                continue;
            }
        }
        let heartbeat = b.options.heartbeat;
        drop(b);
        wait_or_tick(&*runtime, listener, heartbeat).await;
    }
}

/// Decides, in order, whether this node's uidport events are the
/// cluster's: a user's first node opens it, its last node closes it.
async fn uidports(
    broker: Weak<RedisBroker>,
    node: Weak<dyn ClusterNode>,
    runtime: Arc<dyn Runtime>,
) {
    let mut link = Link::new(Duration::from_secs(5));
    loop {
        let Some(b) = broker.upgrade() else { return };
        let listener = b.uidports_ready.listen();
        let next = lock(&b.uidports).front().map(|m| {
            (
                m.event().is(ids::UIDPORT_OPEN),
                crate::edn::to_string(m.uid()),
            )
        });
        let Some((open, uid)) = next else {
            drop(b);
            wait_or_tick(&*runtime, listener, Duration::from_secs(1)).await;
            continue;
        };
        let uid = uid.unwrap_or_default();
        let mut answer = redis::cmd("EVAL");
        answer
            .arg(if open { OPEN_SCRIPT } else { CLOSE_SCRIPT })
            .arg(2)
            .arg(b.key("uid-nodes"))
            .arg(b.key(&format!("node-uids:{}", b.node_id)))
            .arg(&uid);
        let answer: redis::RedisResult<i64> = match link.get(&b).await {
            Ok(c) => answer.query_async(c).await,
            Err(e) => Err(e),
        };
        match answer {
            Ok(n) => {
                link.worked();
                let msg = lock(&b.uidports).pop_front();
                let cluster_wide = if open { n == 1 } else { n == 0 };
                if cluster_wide && let (Some(msg), Some(node)) = (msg, node.upgrade()) {
                    node.emit(msg);
                }
            }
            Err(e) => {
                drop(b);
                link.failed(&*runtime, "uidport", &e).await;
            }
        }
    }
}

impl Broker for RedisBroker {
    fn start(self: Arc<Self>, runtime: Arc<dyn Runtime>, node: Weak<dyn ClusterNode>) {
        let weak = Arc::downgrade(&self);
        runtime.spawn(Box::pin(publisher(
            weak.clone(),
            node.clone(),
            runtime.clone(),
        )));
        runtime.spawn(Box::pin(consumer(
            weak.clone(),
            node.clone(),
            runtime.clone(),
        )));
        runtime.spawn(Box::pin(uidports(
            weak.clone(),
            node.clone(),
            runtime.clone(),
        )));
        runtime.spawn(Box::pin(presence(weak, node, runtime.clone())));
    }

    fn publish(&self, push: &ClusterPush) {
        match super::codec::encode_push_with_event(push) {
            Ok((text, event_len)) => self.enqueue("P", text, self.mail_target(push, event_len)),
            Err(e) => {
                tracing::warn!(error = %e, "redis broker: a push that does not encode, not published")
            }
        }
    }

    fn local_presence_changed(&self) {
        self.presence_dirty.store(true, Ordering::Release);
        self.presence_wake.notify(1);
    }

    fn remote_uids(&self) -> ConnectedUids {
        lock(&self.remote).clone()
    }

    fn uidport(&self, msg: ServerEventMsg) -> Option<ServerEventMsg> {
        let mut queue = lock(&self.uidports);
        if queue.len() >= MAX_PENDING_UIDPORTS {
            queue.pop_front();
            tracing::warn!(
                "redis broker: too many uidport events waiting for Redis; the oldest dropped"
            );
        }
        queue.push_back(msg);
        drop(queue);
        self.uidports_ready.notify(1);
        None
    }

    fn shares_ajax(&self) -> bool {
        self.options.shared_ajax
    }

    fn register_ajax(&self, uid: &Value, client_id: &str, ttl: Duration) -> BrokerFuture<bool> {
        self.register_ajax_client(uid, client_id, ttl)
    }

    fn take_mail(
        &self,
        uid: &Value,
        client_id: &str,
        hold: &str,
    ) -> BrokerFuture<Vec<crate::event::Event>> {
        self.take_ajax_mail(uid, client_id, hold)
    }

    fn settle_mail(
        &self,
        uid: &Value,
        client_id: &str,
        hold: &str,
        delivered: bool,
    ) -> BrokerFuture<()> {
        self.settle_ajax_mail(uid, client_id, hold, delivered)
    }

    fn stats(&self) -> BrokerStats {
        BrokerStats {
            published: self.published.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            lost: self.lost.load(Ordering::Relaxed),
            unpublished_bytes: lock(&self.outbox).bytes,
            connected: self.connected.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_tell_repeats_and_gaps() {
        let mut seen = HashMap::new();
        assert_eq!(
            sequence(&mut seen, "a", 5),
            Sequence::After(0),
            "the first heard"
        );
        assert_eq!(sequence(&mut seen, "a", 6), Sequence::After(0));
        assert_eq!(
            sequence(&mut seen, "a", 6),
            Sequence::Again,
            "published twice"
        );
        assert_eq!(sequence(&mut seen, "a", 4), Sequence::Again);
        assert_eq!(
            sequence(&mut seen, "a", 10),
            Sequence::After(3),
            "7, 8, 9 missed"
        );
        assert_eq!(sequence(&mut seen, "b", 0), Sequence::After(0), "per node");
    }

    #[test]
    fn items_round_trip_and_bad_ones_stop_the_reading() {
        let items = [(Some(7), "P{:a 1}"), (None, "U"), (Some(8), "P:x:é")];
        let (text, _) = frame_items(items.iter().copied());
        assert_eq!(read_items(&text), (items.to_vec(), false));
        for bad in [
            "7",
            "7:",
            "7:9:P",
            "x:1:P",
            "1:1:é",
            "1:99999999999999999999:P",
        ] {
            let (read, malformed) = read_items(bad);
            assert!(read.is_empty() && malformed, "{bad}");
        }
    }
}
