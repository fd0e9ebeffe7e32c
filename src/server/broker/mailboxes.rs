//! Ajax mailboxes in memory, for the [`InProcessBroker`](super::InProcessBroker):
//! the registered Ajax clients of a cluster and the pushes waiting for
//! each, bounded in bytes. The model of what the Redis broker keeps in
//! Redis.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::PushTarget;
use crate::event::Event;
use crate::value::Value;

/// One registered client's mailbox.
#[derive(Debug)]
struct Mailbox {
    /// Registered until then.
    until: Instant,
    /// Encoded pushes, oldest first.
    items: VecDeque<String>,
    bytes: usize,
    /// What each poll took and has not settled, by its hold token.
    holds: HashMap<String, Vec<String>>,
}

/// The registered Ajax clients of a cluster, by user, with their mail.
#[derive(Debug)]
pub(super) struct Mailboxes {
    by_uid: HashMap<Value, HashMap<String, Mailbox>>,
    max_bytes: usize,
    /// Registrations so far: every [`SWEEP_EVERY`] they sweep every user.
    registrations: u64,
}

/// How many registrations go between two sweeps of every user's clients.
const SWEEP_EVERY: u64 = 256;

impl Mailboxes {
    pub(super) fn new(max_bytes: usize) -> Self {
        Self {
            by_uid: HashMap::new(),
            max_bytes,
            registrations: 0,
        }
    }

    /// Registers a client until `now + ttl`; returns whether it was
    /// registered already.
    pub(super) fn register(
        &mut self,
        now: Instant,
        uid: &Value,
        client_id: &str,
        ttl: Duration,
    ) -> bool {
        self.registrations += 1;
        if self.registrations.is_multiple_of(SWEEP_EVERY) {
            // Users nobody pushes to any more would otherwise stay.
            self.by_uid.retain(|_, clients| {
                clients.retain(|_, m| m.until > now);
                !clients.is_empty()
            });
        }
        self.expire(now, uid);
        let clients = self.by_uid.entry(uid.clone()).or_default();
        match clients.get_mut(client_id) {
            Some(m) => {
                m.until = now + ttl;
                true
            }
            None => {
                clients.insert(
                    client_id.to_owned(),
                    Mailbox {
                        until: now + ttl,
                        items: VecDeque::new(),
                        bytes: 0,
                        holds: HashMap::new(),
                    },
                );
                false
            }
        }
    }

    /// Forgets the user's clients registered no longer.
    fn expire(&mut self, now: Instant, uid: &Value) {
        if let Some(clients) = self.by_uid.get_mut(uid) {
            clients.retain(|_, m| m.until > now);
            if clients.is_empty() {
                self.by_uid.remove(uid);
            }
        }
    }

    /// Whether any registered client may want a push for `target` (so that
    /// a push nobody polls for is not even encoded).
    pub(super) fn wants(&self, target: &PushTarget) -> bool {
        match target {
            PushTarget::Uid(uid) | PushTarget::Client { uid, .. } => self.by_uid.contains_key(uid),
            PushTarget::Uids(uids) => uids.iter().any(|u| self.by_uid.contains_key(u)),
            PushTarget::All => !self.by_uid.is_empty(),
        }
    }

    /// Puts an encoded event in the mailboxes of `target`'s registered
    /// clients; returns how many pushes were dropped to keep the bound.
    pub(super) fn mail(&mut self, now: Instant, target: &PushTarget, encoded: &str) -> u64 {
        let uids: Vec<Value> = match target {
            PushTarget::Uid(uid) | PushTarget::Client { uid, .. } => vec![uid.clone()],
            PushTarget::Uids(uids) => uids.clone(),
            PushTarget::All => self.by_uid.keys().cloned().collect(),
        };
        let only = match target {
            PushTarget::Client { client_id, .. } => Some(client_id.as_str()),
            _ => None,
        };
        let mut dropped = 0;
        for uid in uids {
            self.expire(now, &uid);
            let Some(clients) = self.by_uid.get_mut(&uid) else {
                continue;
            };
            for (client_id, m) in clients.iter_mut() {
                if only.is_some_and(|o| o != client_id) {
                    continue;
                }
                m.items.push_back(encoded.to_owned());
                m.bytes += encoded.len();
                while m.bytes > self.max_bytes {
                    let Some(old) = m.items.pop_front() else {
                        break;
                    };
                    m.bytes -= old.len();
                    dropped += 1;
                }
            }
        }
        dropped
    }

    /// Takes a client's mail into the poll's `hold`, oldest first; returns
    /// all the hold has (what earlier takes for the poll held too).
    pub(super) fn take(&mut self, uid: &Value, client_id: &str, hold: &str) -> Vec<String> {
        let Some(m) = self.by_uid.get_mut(uid).and_then(|c| c.get_mut(client_id)) else {
            return Vec::new();
        };
        m.bytes = 0;
        let new: Vec<String> = m.items.drain(..).collect();
        if new.is_empty() && !m.holds.contains_key(hold) {
            return Vec::new();
        }
        let held = m.holds.entry(hold.to_owned()).or_default();
        held.extend(new);
        held.clone()
    }

    /// Ends a poll's hold: forgotten when `delivered`, else put back at the
    /// front; returns how many pushes were dropped to keep the bound.
    pub(super) fn settle(
        &mut self,
        uid: &Value,
        client_id: &str,
        hold: &str,
        delivered: bool,
    ) -> u64 {
        let Some(m) = self.by_uid.get_mut(uid).and_then(|c| c.get_mut(client_id)) else {
            return 0;
        };
        let held = m.holds.remove(hold).unwrap_or_default();
        if delivered {
            return 0;
        }
        self.put_back(uid, client_id, held)
    }

    /// Puts taken mail back at the front; returns how many pushes were
    /// dropped to keep the bound (the newest: those taken first stay first).
    fn put_back(&mut self, uid: &Value, client_id: &str, items: Vec<String>) -> u64 {
        let Some(m) = self.by_uid.get_mut(uid).and_then(|c| c.get_mut(client_id)) else {
            return items.len() as u64;
        };
        for item in items.into_iter().rev() {
            m.bytes += item.len();
            m.items.push_front(item);
        }
        let mut dropped = 0;
        while m.bytes > self.max_bytes {
            let Some(old) = m.items.pop_back() else { break };
            m.bytes -= old.len();
            dropped += 1;
        }
        dropped
    }
}

/// The events of a mailbox's items; one that does not read is skipped
/// (and logged).
pub(crate) fn decode_mail(items: Vec<String>) -> Vec<Event> {
    items
        .iter()
        .filter_map(|item| match super::codec::decode_event(item) {
            Ok(event) => Some(event),
            Err(e) => {
                tracing::warn!(error = %e, "Ajax mail that does not read, skipped");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(target: PushTarget, n: i64) -> (PushTarget, String) {
        let encoded = super::super::codec::encode_event(&Event::from_data("t/n", &n).unwrap());
        (target, encoded.unwrap())
    }

    #[test]
    fn mail_reaches_registered_clients_once_in_order() {
        let t0 = Instant::now();
        let mut boxes = Mailboxes::new(1 << 20);
        let ann = Value::from("ann");
        assert!(!boxes.register(t0, &ann, "tab1", Duration::from_secs(10)));
        assert!(boxes.register(t0, &ann, "tab1", Duration::from_secs(10)));
        assert!(!boxes.register(t0, &ann, "tab2", Duration::from_secs(10)));
        for n in 0..3 {
            let (p, e) = push(PushTarget::Uid(ann.clone()), n);
            assert_eq!(boxes.mail(t0, &p, &e), 0);
        }
        let (p, e) = push(
            PushTarget::Client {
                uid: ann.clone(),
                client_id: "tab2".into(),
            },
            9,
        );
        boxes.mail(t0, &p, &e);
        assert_eq!(boxes.take(&ann, "tab1", "p1").len(), 3);
        assert_eq!(
            boxes.take(&ann, "tab1", "p1").len(),
            3,
            "again for the same poll"
        );
        assert_eq!(boxes.settle(&ann, "tab1", "p1", true), 0);
        assert!(boxes.take(&ann, "tab1", "p2").is_empty(), "delivered once");
        let tab2 = boxes.take(&ann, "tab2", "p3");
        assert_eq!(tab2.len(), 4);
        assert_eq!(boxes.settle(&ann, "tab2", "p3", false), 0);
        assert_eq!(boxes.take(&ann, "tab2", "p4"), tab2, "put back in order");
    }

    #[test]
    fn registrations_expire_and_the_bound_drops_the_oldest() {
        let t0 = Instant::now();
        let mut boxes = Mailboxes::new(40);
        let bob = Value::from("bob");
        boxes.register(t0, &bob, "tab", Duration::from_secs(1));
        let mut dropped = 0;
        for n in 0..10 {
            let (p, e) = push(PushTarget::All, n);
            dropped += boxes.mail(t0, &p, &e);
        }
        assert!(dropped > 0);
        let kept = boxes.take(&bob, "tab", "p");
        assert_eq!(kept.len() as u64 + dropped, 10);
        assert!(
            kept.last().unwrap().contains(" 9]"),
            "the newest kept: {kept:?}"
        );
        let later = t0 + Duration::from_secs(2);
        assert!(
            !boxes.register(later, &bob, "tab", Duration::from_secs(1)),
            "expired"
        );
        let (p, e) = push(PushTarget::Uid(Value::from("nobody")), 1);
        assert_eq!(boxes.mail(later, &p, &e), 0);
    }
}
