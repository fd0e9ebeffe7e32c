//! The cluster's Ajax clients in Redis: who is registered (a sorted set
//! per user, `{ns}:ajax:{uid}`, scored by expiry; `{ns}:ajax-uids` lists
//! the users), and each client's mailbox (`{ns}:mail:…`, a list of encoded
//! pushes, with its byte count beside it).
//!
//! The publisher puts a batch's pushes in the mailboxes and then writes
//! the batch's stream entry, in one script (the pushes' bytes go once): a
//! node that reads the entry finds the mail there. The script skips
//! pushes whose sequence number it has mailed already (a batch published
//! again after a lost answer), so mail is put once.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::MultiplexedConnection;

use super::{ClusterNode, Outgoing, RedisBroker, lock};
use crate::edn;
use crate::event::Event;
use crate::server::broker::codec::EVENT_START;
use crate::server::broker::mailboxes::decode_mail;
use crate::server::broker::{BrokerFuture, ClusterPush, MailboxError, PushTarget};
use crate::value::Value;

/// Publishes a batch: puts its pushes in the mailboxes of their targets'
/// registered clients, then adds the batch's entry to the stream. KEYS:
/// the stream. ARGV: namespace, node, mailbox bound (bytes), ttl (ms),
/// stream length, the entry's framed items, and what to mail: per push,
/// as fields `{length}:{text}`, its sequence number, the kind (`uids`,
/// `all`, `client`), where its text starts in the items and its length,
/// the client id (for `client`), the number of users, the users. When the
/// cluster has no Ajax client, nothing is read but one count. Returns
/// `{mailed, dropped}`.
const PUBLISH_SCRIPT: &str = r"
local ns, node = ARGV[1], ARGV[2]
local max, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local items, meta = ARGV[6], ARGV[7]
local users = ns .. ':ajax-uids'
local mailed, lost = 0, 0
if #meta > 0 and redis.call('SCARD', users) > 0 then
  local p = 1
  local function field()
    local colon = string.find(meta, ':', p, true)
    local n = tonumber(string.sub(meta, p, colon - 1))
    local v = string.sub(meta, colon + 1, colon + n)
    p = colon + n + 1
    return v
  end
  local seqkey = ns .. ':mail-seq:' .. node
  local last = tonumber(redis.call('GET', seqkey) or '-1')
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local top = last
  while p <= #meta do
    local seq, kind = tonumber(field()), field()
    local start, len = tonumber(field()), tonumber(field())
    local client, n = field(), tonumber(field())
    local uids = {}
    for j = 1, n do uids[j] = field() end
    if seq > last then
      if seq > top then top = seq end
      local item = string.sub(items, start + 1, start + len)
      if kind == 'all' then uids = redis.call('SMEMBERS', users) end
      for _, uid in ipairs(uids) do
        if kind == 'all' or redis.call('SISMEMBER', users, uid) == 1 then
          local reg = ns .. ':ajax:' .. uid
          redis.call('ZREMRANGEBYSCORE', reg, '-inf', now)
          local clients = {}
          if kind == 'client' then
            if redis.call('ZSCORE', reg, client) then clients = {client} end
          else
            clients = redis.call('ZRANGE', reg, 0, -1)
          end
          if redis.call('EXISTS', reg) == 0 then redis.call('SREM', users, uid) end
          for _, c in ipairs(clients) do
            local box = ns .. ':mail:' .. #uid .. ':' .. uid .. c
            local size = ns .. ':mailbytes:' .. #uid .. ':' .. uid .. c
            redis.call('RPUSH', box, item)
            local bytes = redis.call('INCRBY', size, #item)
            while bytes > max do
              local old = redis.call('LPOP', box)
              if not old then break end
              bytes = redis.call('INCRBY', size, -#old)
              lost = lost + 1
            end
            redis.call('PEXPIRE', box, ttl)
            redis.call('PEXPIRE', size, ttl)
            mailed = mailed + 1
          end
        end
      end
    end
  end
  if top > last then redis.call('SET', seqkey, top, 'PX', 86400000) end
end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], '*', 'o', node, 'd', items)
return {mailed, lost}";

/// Loads the publish script into Redis's script cache; answers its digest
/// (for `EVALSHA`: the script's text then goes once per connection).
pub(super) fn load_publish_script() -> redis::Cmd {
    redis::cmd("SCRIPT").arg("LOAD").arg(PUBLISH_SCRIPT).take()
}

/// Registers a client until now + ttl; KEYS: its user's set, the users;
/// ARGV: client, ttl ms, uid. Returns 1 when it was registered already.
/// Drops the user's clients registered no longer, and from the users a
/// couple of random ones registered no longer.
const REGISTER_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local old = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
for _, uid in ipairs(redis.call('SRANDMEMBER', KEYS[2], 2)) do
  if redis.call('EXISTS', ARGV[4] .. uid) == 0 then redis.call('SREM', KEYS[2], uid) end
end
redis.call('SADD', KEYS[2], ARGV[3])
if old and tonumber(old) > now then return 1 else return 0 end";

/// Takes a mailbox into a poll's hold; KEYS: the list, its byte count,
/// the hold; ARGV: ttl ms. Returns everything the hold has, oldest first
/// (what an earlier take whose answer was lost moved there too).
const TAKE_SCRIPT: &str = r"
local held = redis.call('LRANGE', KEYS[3], 0, -1)
local new = redis.call('LRANGE', KEYS[1], 0, -1)
if #new > 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
  for _, item in ipairs(new) do
    redis.call('RPUSH', KEYS[3], item)
    held[#held + 1] = item
  end
end
if #held > 0 then redis.call('PEXPIRE', KEYS[3], ARGV[1]) end
return held";

/// Ends a poll's hold; KEYS: the list, its byte count, the hold; ARGV:
/// delivered (1 or 0), max bytes, ttl ms. Not delivered: the held items go
/// back at the list's front, in order. Returns how many of the newest were
/// dropped to keep the bound.
const SETTLE_SCRIPT: &str = r"
if ARGV[1] == '1' then
  redis.call('DEL', KEYS[3])
  return 0
end
local held = redis.call('LRANGE', KEYS[3], 0, -1)
redis.call('DEL', KEYS[3])
if #held == 0 then return 0 end
local bytes = 0
for i = #held, 1, -1 do
  redis.call('LPUSH', KEYS[1], held[i])
  bytes = bytes + #held[i]
end
local total = redis.call('INCRBY', KEYS[2], bytes)
local lost = 0
while total > tonumber(ARGV[2]) do
  local old = redis.call('RPOP', KEYS[1])
  if not old then break end
  total = redis.call('INCRBY', KEYS[2], -#old)
  lost = lost + 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return lost";

/// Whose mailboxes a push goes to, as the publish script reads it.
#[derive(Debug)]
pub(super) struct MailTarget {
    kind: &'static str,
    client: String,
    /// The length of the event's text in the encoded push.
    event_len: usize,
    uids: Vec<String>,
    /// For waking this node's polls once mailed.
    target: PushTarget,
}

fn uid_text(uid: &Value) -> String {
    edn::to_string(uid).unwrap_or_else(|_| uid.to_string())
}

impl RedisBroker {
    /// The mail of a push, when Ajax clients are shared.
    pub(super) fn mail_target(
        &self,
        push: &ClusterPush,
        event_len: usize,
    ) -> Option<Arc<MailTarget>> {
        // A close command closes polls; it is not mail.
        if !self.options.shared_ajax || push.event.is(crate::event::ids::CLOSE) {
            return None;
        }
        let (kind, client, uids) = match &push.target {
            PushTarget::Uid(uid) => ("uids", String::new(), vec![uid_text(uid)]),
            PushTarget::Uids(uids) => ("uids", String::new(), uids.iter().map(uid_text).collect()),
            PushTarget::All => ("all", String::new(), Vec::new()),
            PushTarget::Client { uid, client_id } => {
                ("client", client_id.clone(), vec![uid_text(uid)])
            }
        };
        Some(Arc::new(MailTarget {
            kind,
            client,
            event_len,
            uids,
            target: push.target.clone(),
        }))
    }

    /// The script call publishing a batch (`items`, framed, each item's
    /// text at `starts`): its pushes' Ajax mail, then its stream entry; by
    /// the script's digest `sha` once Redis has it ([`load_publish_script`]).
    pub(super) fn publish_command(
        &self,
        sha: Option<&str>,
        batch: &[Outgoing],
        starts: &[usize],
        items: String,
    ) -> redis::Cmd {
        let mut meta = String::new();
        let mut field = |text: &str| {
            meta.push_str(&text.len().to_string());
            meta.push(':');
            meta.push_str(text);
        };
        for (e, start) in batch.iter().zip(starts) {
            let (Some(seq), Some(mail)) = (e.seq, &e.mail) else {
                continue;
            };
            // The event's own text in the push's, after its kind's letter.
            field(&seq.to_string());
            field(mail.kind);
            field(&(start + 1 + EVENT_START).to_string());
            field(&mail.event_len.to_string());
            field(&mail.client);
            field(&mail.uids.len().to_string());
            for uid in &mail.uids {
                field(uid);
            }
        }
        let mut cmd = match sha {
            Some(sha) => redis::cmd("EVALSHA").arg(sha).take(),
            None => redis::cmd("EVAL").arg(PUBLISH_SCRIPT).take(),
        };
        cmd.arg(1)
            .arg(self.key("pushes"))
            .arg(&self.options.namespace)
            .arg(&self.node_id)
            .arg(self.options.ajax_mailbox_bytes)
            .arg(self.ajax_ttl_ms.load(Ordering::Relaxed))
            .arg(self.options.stream_len)
            .arg(items)
            .arg(meta);
        cmd
    }

    /// The publish script answered (`reply`): counts what it dropped, and
    /// wakes this node's polls for the mailed pushes.
    pub(super) fn mailed(
        &self,
        reply: Option<&redis::Value>,
        batch: &[Outgoing],
        node: &Weak<dyn ClusterNode>,
    ) {
        let counts: Option<(u64, u64)> =
            reply.and_then(|v| redis::from_redis_value(v.clone()).ok());
        // Unread, the reply counts as mail, so that no poll misses a wake.
        let (mailed, dropped) = counts.unwrap_or((1, 0));
        if dropped > 0 {
            self.lost.fetch_add(dropped, Ordering::Relaxed);
            tracing::warn!(
                dropped,
                "redis broker: Ajax mailbox full, oldest pushes dropped"
            );
        }
        // Nothing mailed (the usual case without Ajax clients): no poll to wake.
        if mailed == 0 {
            return;
        }
        if let Some(node) = node.upgrade() {
            for mail in batch.iter().filter_map(|e| e.mail.as_ref()) {
                node.mail_arrived(&mail.target);
            }
        }
    }

    fn mailbox_keys(&self, uid: &Value, client_id: &str) -> (String, String) {
        let uid = uid_text(uid);
        let ns = &self.options.namespace;
        (
            format!("{ns}:mail:{}:{uid}{client_id}", uid.len()),
            format!("{ns}:mailbytes:{}:{uid}{client_id}", uid.len()),
        )
    }

    /// Runs `cmd` on the mailboxes' connection (made when needed, dropped
    /// on a failure). With `retry`, a command that failed on a connection
    /// made earlier (Redis restarted since) runs once more on a new one:
    /// for commands that may run twice.
    fn mail_call<T: redis::FromRedisValue + Send + 'static>(
        &self,
        cmd: redis::Cmd,
        retry: bool,
    ) -> BrokerFuture<T> {
        let cached = lock(&self.mail_conn).clone();
        let cell = self.mail_conn.clone();
        let client = self.client.clone();
        Box::pin(async move {
            let connect = || async {
                let config = redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(Duration::from_secs(2)))
                    .set_response_timeout(Some(Duration::from_secs(2)));
                let c: MultiplexedConnection = client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
                    .map_err(|e| MailboxError(e.to_string()))?;
                *lock(&cell) = Some(c.clone());
                Ok::<_, MailboxError>(c)
            };
            let fresh = cached.is_none();
            let mut conn = match cached {
                Some(c) => c,
                None => connect().await?,
            };
            match cmd.query_async::<T>(&mut conn).await {
                Ok(v) => Ok(v),
                Err(e) => {
                    *lock(&cell) = None;
                    if !retry || fresh {
                        return Err(MailboxError(e.to_string()));
                    }
                    let mut conn = connect().await?;
                    cmd.query_async::<T>(&mut conn).await.map_err(|e| {
                        *lock(&cell) = None;
                        MailboxError(e.to_string())
                    })
                }
            }
        })
    }

    pub(super) fn register_ajax_client(
        &self,
        uid: &Value,
        client_id: &str,
        ttl: Duration,
    ) -> BrokerFuture<bool> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.ajax_ttl_ms.store(ttl_ms, Ordering::Relaxed);
        let text = uid_text(uid);
        let ns = &self.options.namespace;
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(REGISTER_SCRIPT)
            .arg(2)
            .arg(format!("{ns}:ajax:{text}"))
            .arg(format!("{ns}:ajax-uids"))
            .arg(client_id)
            .arg(ttl_ms)
            .arg(&text)
            .arg(format!("{ns}:ajax:"));
        let call = self.mail_call::<i64>(cmd, true);
        Box::pin(async move { Ok(call.await? == 1) })
    }

    fn hold_key(&self, hold: &str) -> String {
        format!("{}:mailheld:{hold}", self.options.namespace)
    }

    pub(super) fn take_ajax_mail(
        &self,
        uid: &Value,
        client_id: &str,
        hold: &str,
    ) -> BrokerFuture<Vec<Event>> {
        let (mailbox, size) = self.mailbox_keys(uid, client_id);
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(TAKE_SCRIPT)
            .arg(3)
            .arg(mailbox)
            .arg(size)
            .arg(self.hold_key(hold))
            .arg(self.ajax_ttl_ms.load(Ordering::Relaxed));
        // Taking again for the same hold gives the same: it may run twice.
        let call = self.mail_call::<Vec<String>>(cmd, true);
        Box::pin(async move { Ok(decode_mail(call.await?)) })
    }

    pub(super) fn settle_ajax_mail(
        &self,
        uid: &Value,
        client_id: &str,
        hold: &str,
        delivered: bool,
    ) -> BrokerFuture<()> {
        let (mailbox, size) = self.mailbox_keys(uid, client_id);
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(SETTLE_SCRIPT)
            .arg(3)
            .arg(mailbox)
            .arg(size)
            .arg(self.hold_key(hold))
            .arg(if delivered { 1 } else { 0 })
            .arg(self.options.ajax_mailbox_bytes)
            .arg(self.ajax_ttl_ms.load(Ordering::Relaxed));
        // Settling twice settles once: the hold is gone after the first.
        let call = self.mail_call::<u64>(cmd, true);
        let lost = self.lost.clone();
        Box::pin(async move {
            let dropped = call.await?;
            if dropped > 0 {
                lost.fetch_add(dropped, Ordering::Relaxed);
                tracing::warn!(
                    dropped,
                    "redis broker: Ajax mailbox full, newest pushes put back dropped"
                );
            }
            Ok(())
        })
    }
}
