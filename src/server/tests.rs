//! Deterministic tests of the server core with a virtual clock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::edn;
use crate::event::Event;
use crate::packer::{EdnPacker, PackError, Packed, PackedRef};
use crate::value::Value;

struct Sim {
    core: ServerCore,
    now: Instant,
    t0: Instant,
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn v(text: &str) -> Value {
    edn::from_str(text).unwrap()
}

fn ev(text: &str) -> Event {
    Event::from_value(v(text)).unwrap()
}

fn text(p: &Packed) -> &str {
    match p {
        Packed::Text(s) => s,
        Packed::Binary(_) => panic!("binary"),
    }
}

impl Sim {
    fn new() -> Self {
        Self::with(ServerConfig::default())
    }

    fn with(config: ServerConfig) -> Self {
        let now = Instant::now();
        Self {
            core: ServerCore::new(config, Arc::new(EdnPacker::new())).unwrap(),
            now,
            t0: now,
        }
    }

    /// Moves the virtual clock forward, firing every deadline on the way.
    fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        while let Some(at) = self.core.poll_timeout() {
            if at > target {
                break;
            }
            self.now = self.now.max(at);
            self.core.handle_timeout(self.now);
        }
        self.now = target;
    }

    fn elapsed_ms(&self) -> u128 {
        (self.now - self.t0).as_millis()
    }

    fn drain(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.core.poll_output()).collect()
    }

    fn ws(&mut self, uid: &str, cid: &str) -> ConnId {
        self.core
            .ws_open(self.now, Value::from(uid), cid, &Value::Nil)
            .unwrap()
    }

    fn msg(&mut self, conn: ConnId, s: &str) {
        self.core.ws_message(self.now, conn, PackedRef::Text(s));
    }
}

/// The frames sent to `conn`, as text.
fn frames(out: &[Output], conn: ConnId) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Transmit { conn: c, payload } if *c == conn => Some(text(payload).to_owned()),
            _ => None,
        })
        .collect()
}

fn events(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event(i) => Some(i.event.to_string()),
            _ => None,
        })
        .collect()
}

fn incoming(out: &[Output]) -> Vec<Incoming> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event(i) => Some((**i).clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn ws_open_sends_the_handshake_first_and_opens_the_port_once_per_user() {
    let mut s = Sim::new();
    let a = s.ws("alice", "tab-1");
    let out = s.drain();
    assert_eq!(
        frames(&out, a),
        [r#"[[:chsk/handshake ["alice" nil nil]] nil]"#]
    );
    assert!(
        matches!(&out[0], Output::Transmit { .. }),
        "handshake is the first output"
    );
    assert_eq!(events(&out), [r#"[:chsk/uidport-open "alice"]"#]);
    let _b = s.ws("alice", "tab-2");
    assert_eq!(
        events(&s.drain()),
        Vec::<String>::new(),
        "a second tab opens nothing"
    );
    let c = s.core.connected_uids();
    assert!(c.ws.contains(&Value::from("alice")) && c.any.contains(&Value::from("alice")));
    assert!(c.ajax.is_empty());
    assert_eq!(s.core.client_count(Transport::Ws, &Value::from("alice")), 2);
}

#[test]
fn handshake_carries_handshake_data_and_the_nil_uid() {
    let mut s = Sim::new();
    let a = s
        .core
        .ws_open(s.now, Value::keyword("sente/nil-uid"), "c", &v("{:x 1}"))
        .unwrap();
    assert_eq!(
        frames(&s.drain(), a),
        ["[[:chsk/handshake [:sente/nil-uid nil {:x 1}]] nil]"]
    );
    assert_eq!(
        s.core.ws_open(s.now, Value::from("u"), " ", &Value::Nil),
        Err(ConnectError::MissingClientId)
    );
}

#[test]
fn events_with_and_without_reply() {
    let mut s = Sim::new();
    let a = s.ws("alice", "c1");
    s.drain();
    s.msg(a, r#"[[:echo/echo {:n 1, :s "hi"}] "ab12cd"]"#);
    let got = incoming(&s.drain());
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].event, ev(r#"[:echo/echo {:n 1, :s "hi"}]"#));
    assert_eq!(
        (got[0].uid.clone(), &*got[0].client_id),
        (Value::from("alice"), "c1")
    );
    let to = got[0].reply.clone().expect("a reply was asked");
    assert!(s.core.reply(&to, &v(r#"{:n 1, :s "hi"}"#)).unwrap());
    assert_eq!(frames(&s.drain(), a), [r#"[{:n 1, :s "hi"} "ab12cd"]"#]);
    s.msg(a, "[[:echo/echo {:n 2}] nil]");
    assert!(incoming(&s.drain())[0].reply.is_none());
}

#[test]
fn client_pings_get_pong_and_surface_as_events() {
    let mut s = Sim::new();
    let a = s.ws("u", "c");
    s.drain();
    s.msg(a, r#"[[:chsk/ws-ping] "p1ng00"]"#);
    let out = s.drain();
    assert_eq!(frames(&out, a), [r#"["pong" "p1ng00"]"#]);
    let got = incoming(&out);
    assert_eq!(got[0].event.to_string(), "[:chsk/ws-ping]");
    assert!(got[0].reply.is_none());
    s.msg(a, "[[:chsk/ws-pong] nil]");
    let out = s.drain();
    assert!(frames(&out, a).is_empty());
    assert_eq!(events(&out), ["[:chsk/ws-pong]"]);
}

#[test]
fn bad_packages_and_bad_events_keep_the_connection_working() {
    let mut s = Sim::new();
    let a = s.ws("u", "c");
    s.drain();
    s.msg(a, "{not edn");
    let got = incoming(&s.drain());
    assert!(got[0].event.is("chsk/bad-package"));
    assert_eq!(
        got[0].event.data().get(&Value::keyword("raw")),
        Some(&Value::from("{not edn"))
    );
    s.msg(a, r#"[[:no-ns 1] "cb1"]"#);
    let got = incoming(&s.drain());
    assert_eq!(got[0].event.to_string(), "[:chsk/bad-event [:no-ns 1]]");
    assert!(
        got[0].reply.is_some(),
        "the reply function is kept, as in Sente"
    );
    s.msg(a, r#"[[:echo/echo 7] "after1"]"#);
    let to = incoming(&s.drain())[0].reply.clone().unwrap();
    s.core.reply(&to, &Value::from(7)).unwrap();
    assert_eq!(frames(&s.drain(), a), [r#"[7 "after1"]"#]);
}

#[test]
fn pushes_within_the_buffer_window_go_as_one_batch() {
    let mut s = Sim::new();
    let a = s.ws("alice", "c");
    s.drain();
    assert_eq!(
        s.core
            .send(s.now, &Value::from("alice"), ev("[:app/news 1]"), false),
        Ok(1)
    );
    s.advance(ms(10));
    s.core
        .send(s.now, &Value::from("alice"), ev("[:app/news 2]"), false)
        .unwrap();
    s.advance(ms(19));
    assert!(frames(&s.drain(), a).is_empty(), "nothing before 30 ms");
    s.advance(ms(1));
    assert_eq!(
        frames(&s.drain(), a),
        ["[[[:app/news 1] [:app/news 2]] nil]"]
    );
    assert_eq!(s.elapsed_ms(), 30);
    // flush sends at once, with what was buffered before it.
    s.core
        .send(s.now, &Value::from("alice"), ev("[:app/news 3]"), false)
        .unwrap();
    s.core
        .send(
            s.now,
            &Value::from("alice"),
            ev(r#"[:echo/pushed "now"]"#),
            true,
        )
        .unwrap();
    assert_eq!(
        frames(&s.drain(), a),
        [r#"[[[:app/news 3] [:echo/pushed "now"]] nil]"#]
    );
    s.advance(ms(100));
    assert!(
        frames(&s.drain(), a).is_empty(),
        "the stale flush timer does nothing"
    );
}

#[test]
fn a_push_reaches_every_tab_of_the_user_packed_once() {
    let mut s = Sim::new();
    let a = s.ws("alice", "tab-1");
    let b = s.ws("alice", "tab-2");
    let other = s.ws("bob", "tab-3");
    s.drain();
    assert_eq!(
        s.core
            .send(s.now, &Value::from("alice"), ev("[:a/b 1]"), true),
        Ok(2)
    );
    let out = s.drain();
    let payloads: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::Transmit { payload, .. } => Some(payload.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(payloads.len(), 2);
    assert!(
        Arc::ptr_eq(&payloads[0], &payloads[1]),
        "packed once, shared"
    );
    assert_eq!(frames(&out, a), frames(&out, b));
    assert!(frames(&out, other).is_empty());
    assert_eq!(
        s.core
            .send(s.now, &Value::from("nobody"), ev("[:a/b 1]"), true),
        Ok(0)
    );
    assert_eq!(
        s.core.send(s.now, &Value::Nil, ev("[:a/b 1]"), true),
        Err(SendError::NilUid)
    );
}

#[test]
fn the_buffer_bound_forces_a_flush() {
    let mut s = Sim::with(ServerConfig {
        // Each event counts about 15 bytes (`[:a/b 0]` estimated: 7 for
        // the vector and id, 8 for an integer); the third passes 40.
        max_buffered_bytes: 40,
        ..ServerConfig::default()
    });
    let a = s.ws("u", "c");
    s.drain();
    for i in 0..3 {
        s.core
            .send(
                s.now,
                &Value::from("u"),
                Event::named("a/b", i).unwrap(),
                false,
            )
            .unwrap();
    }
    assert_eq!(
        frames(&s.drain(), a),
        ["[[[:a/b 0] [:a/b 1] [:a/b 2]] nil]"]
    );
}

#[test]
fn keep_alive_pings_an_idle_connection_and_closes_it_without_an_answer() {
    let mut s = Sim::new();
    let a = s.ws("u", "c");
    s.drain();
    s.advance(ms(12_499));
    assert!(frames(&s.drain(), a).is_empty());
    s.advance(ms(1));
    assert_eq!(
        frames(&s.drain(), a),
        ["[:chsk/ws-ping nil]"],
        "ping after 12.5 s idle"
    );
    s.advance(ms(9_999));
    assert!(s.drain().is_empty());
    s.advance(ms(1));
    assert_eq!(
        s.drain(),
        [Output::Close {
            conn: a,
            reason: CloseReason::PingTimeout
        }]
    );
    assert_eq!(s.elapsed_ms(), 22_500);
}

#[test]
fn keep_alive_counts_from_the_last_inbound_message() {
    let mut s = Sim::new();
    let a = s.ws("u", "c");
    s.drain();
    s.advance(ms(10_000));
    s.msg(a, "[[:app/x 1] nil]");
    s.drain();
    s.advance(ms(12_499));
    assert!(
        frames(&s.drain(), a).is_empty(),
        "activity at 10 s pushes the ping to 22.5 s"
    );
    s.advance(ms(1));
    assert_eq!(frames(&s.drain(), a), ["[:chsk/ws-ping nil]"]);
    s.advance(ms(3_000));
    s.msg(a, "[[:chsk/ws-pong] nil]");
    s.drain();
    s.advance(ms(7_000));
    assert!(
        s.drain().iter().all(|o| !matches!(o, Output::Close { .. })),
        "the pong saved it"
    );
    s.advance(ms(5_500));
    assert_eq!(
        frames(&s.drain(), a),
        ["[:chsk/ws-ping nil]"],
        "next ping 12.5 s after the pong"
    );
}

#[test]
fn keep_alive_can_be_disabled_or_ping_only() {
    let mut s = Sim::with(ServerConfig {
        ws_kalive: None,
        ..ServerConfig::default()
    });
    s.ws("u", "c");
    s.drain();
    assert_eq!(s.core.poll_timeout(), None);
    let mut s = Sim::with(ServerConfig {
        ws_ping_timeout: None,
        ..ServerConfig::default()
    });
    let a = s.ws("u", "c");
    s.drain();
    s.advance(ms(60_000));
    let out = s.drain();
    assert_eq!(
        frames(&out, a).len(),
        4,
        "a ping every 12.5 s, never a close"
    );
    assert!(out.iter().all(|o| !matches!(o, Output::Close { .. })));
}

#[test]
fn uidport_close_after_the_grace_period_and_not_on_reconnect() {
    let mut s = Sim::new();
    let uid = Value::from("alice");
    let a = s.ws("alice", "tab-1");
    let b = s.ws("alice", "tab-2");
    s.drain();
    s.core.ws_closed(s.now, a);
    s.advance(ms(5_000));
    assert!(
        events(&s.drain()).is_empty(),
        "closing one tab closes nothing"
    );
    // tab-2 reloads within the grace period: no events.
    s.core.ws_closed(s.now, b);
    s.advance(ms(2_000));
    let b2 = s.ws("alice", "tab-2");
    s.advance(ms(5_000));
    assert!(events(&s.drain()).is_empty());
    assert!(s.core.connected_uids().ws.contains(&uid));
    s.core.ws_closed(s.now, b2);
    s.advance(ms(2_499));
    assert!(events(&s.drain()).is_empty());
    assert!(
        s.core.connected_uids().any.contains(&uid),
        "still connected within the grace"
    );
    s.advance(ms(1));
    assert_eq!(events(&s.drain()), [r#"[:chsk/uidport-close "alice"]"#]);
    assert!(s.core.connected_uids().any.is_empty());
    s.core.ws_closed(s.now, b2); // a second close is harmless
    assert!(s.drain().is_empty());
}

#[test]
fn a_replaced_channel_closing_is_ignored() {
    let mut s = Sim::new();
    let old = s.ws("u", "c");
    let new = s.ws("u", "c");
    s.drain();
    s.core.ws_closed(s.now, old);
    s.advance(ms(10_000));
    assert!(events(&s.drain()).is_empty());
    s.core
        .send(s.now, &Value::from("u"), ev("[:a/b]"), true)
        .unwrap();
    let out = s.drain();
    assert_eq!(frames(&out, new), ["[[[:a/b]] nil]"]);
}

#[test]
fn pushes_wait_for_a_ws_client_reconnecting_within_the_grace() {
    let mut s = Sim::new();
    let a = s.ws("u", "c");
    s.drain();
    s.core.ws_closed(s.now, a);
    s.core
        .send(s.now, &Value::from("u"), ev("[:a/b 1]"), true)
        .unwrap();
    assert!(s.drain().is_empty());
    s.advance(ms(1_000));
    let a2 = s.ws("u", "c");
    let out = s.drain();
    assert_eq!(
        frames(&out, a2),
        [
            r#"[[:chsk/handshake ["u" nil nil]] nil]"#,
            "[[[:a/b 1]] nil]"
        ]
    );
}

#[test]
fn pending_batches_are_bounded_and_dropped_loudly() {
    let mut s = Sim::with(ServerConfig {
        // Two batches of one event: 2 × (16 + 64) bytes.
        max_pending_bytes: 160,
        ..ServerConfig::default()
    });
    let a = s.ws("u", "c");
    s.drain();
    s.core.ws_closed(s.now, a);
    for i in 0..3 {
        s.core
            .send(
                s.now,
                &Value::from("u"),
                Event::named("a/b", i).unwrap(),
                true,
            )
            .unwrap();
    }
    let out = s.drain();
    assert!(matches!(
        &out[..],
        [Output::PushDropped {
            events: 1,
            reason: DropReason::QueueFull,
            ..
        }]
    ));
    s.advance(ms(2_500));
    let out = s.drain();
    let dropped = out
        .iter()
        .filter(|o| {
            matches!(
                o,
                Output::PushDropped {
                    reason: DropReason::ClientGone,
                    ..
                }
            )
        })
        .count();
    assert_eq!(dropped, 2, "the client never came back");
    assert_eq!(events(&out), [r#"[:chsk/uidport-close "u"]"#]);
}

#[test]
fn too_many_clients_per_user_are_refused() {
    let mut s = Sim::with(ServerConfig {
        max_clients_per_uid: 2,
        ..ServerConfig::default()
    });
    s.ws("u", "1");
    s.ws("u", "2");
    let e = s
        .core
        .ws_open(s.now, Value::from("u"), "3", &Value::Nil)
        .unwrap_err();
    assert!(matches!(e, ConnectError::TooManyClients { limit: 2, .. }));
    assert!(
        s.core
            .ws_open(s.now, Value::from("u"), "2", &Value::Nil)
            .is_ok(),
        "a known client may reconnect"
    );
    assert!(
        s.core
            .ajax_get(s.now, Value::from("u"), "3", true, &Value::Nil)
            .is_ok(),
        "the bound is per transport"
    );
}

fn respond_polls(out: &[Output]) -> Vec<(ConnId, String)> {
    out.iter()
        .filter_map(|o| match o {
            Output::RespondPoll { conn, payload } => Some((*conn, text(payload).to_owned())),
            _ => None,
        })
        .collect()
}

#[test]
fn ajax_handshake_poll_push_and_timeout() {
    let mut s = Sim::new();
    let uid = Value::from("ajax-cid-1");
    let hs = s
        .core
        .ajax_get(s.now, uid.clone(), "ajax-cid-1", true, &Value::Nil)
        .unwrap();
    let AjaxGet::Respond(body) = hs else {
        panic!("handshake is answered at once")
    };
    assert_eq!(
        text(&body),
        r#"[[:chsk/handshake ["ajax-cid-1" nil nil]] nil]"#
    );
    assert!(
        s.core.connected_uids().any.is_empty(),
        "a handshake does not connect the uid"
    );
    let AjaxGet::Held(poll) = s
        .core
        .ajax_get(s.now, uid.clone(), "ajax-cid-1", false, &Value::Nil)
        .unwrap()
    else {
        panic!("a poll is held")
    };
    assert_eq!(events(&s.drain()), [r#"[:chsk/uidport-open "ajax-cid-1"]"#]);
    assert!(s.core.connected_uids().ajax.contains(&uid));
    s.core
        .send(s.now, &uid, ev("[:echo/pushed {:x 42}]"), false)
        .unwrap();
    s.advance(ms(99));
    assert!(respond_polls(&s.drain()).is_empty());
    s.advance(ms(1));
    assert_eq!(
        respond_polls(&s.drain()),
        [(poll, "[[[:echo/pushed {:x 42}]] nil]".to_owned())]
    );
    // The client repolls; 20 s later the poll times out.
    let AjaxGet::Held(poll2) = s
        .core
        .ajax_get(s.now, uid.clone(), "ajax-cid-1", false, &Value::Nil)
        .unwrap()
    else {
        panic!()
    };
    s.advance(ms(19_999));
    assert!(respond_polls(&s.drain()).is_empty());
    s.advance(ms(1));
    assert_eq!(
        respond_polls(&s.drain()),
        [(poll2, "[:chsk/timeout nil]".to_owned())]
    );
    // No repoll: the port closes after the Ajax grace (5 s).
    s.advance(ms(4_999));
    assert!(events(&s.drain()).is_empty());
    s.advance(ms(1));
    assert_eq!(
        events(&s.drain()),
        [r#"[:chsk/uidport-close "ajax-cid-1"]"#]
    );
}

#[test]
fn an_unknown_ajax_client_gets_a_handshake() {
    let mut s = Sim::new();
    let r = s
        .core
        .ajax_get(s.now, Value::from("u"), "c", false, &Value::Nil)
        .unwrap();
    assert!(matches!(r, AjaxGet::Respond(b) if text(&b).starts_with("[[:chsk/handshake")));
}

#[test]
fn a_core_with_ajax_in_mailboxes_holds_polls_of_known_clients_and_no_pushes() {
    let now = Instant::now();
    let mut core = ServerCore::new(ServerConfig::default(), Arc::new(EdnPacker::new()))
        .unwrap()
        .with_ajax_in_mailboxes();
    let uid = Value::from("u");
    // A poll from a client this core never saw, which the cluster knows:
    // held, not a handshake.
    let AjaxGet::Held(poll) = core.ajax_poll_known(now, uid.clone(), "c").unwrap() else {
        panic!("held")
    };
    let ws = core.ws_open(now, uid.clone(), "w", &Value::Nil).unwrap();
    let _ = std::iter::from_fn(|| core.poll_output()).count();
    // A push reaches the WebSocket only: the Ajax client's is in its mailbox.
    assert_eq!(core.send(now, &uid, ev("[:t/x 1]"), true), Ok(1));
    let out: Vec<Output> = std::iter::from_fn(|| core.poll_output()).collect();
    assert_eq!(frames(&out, ws), ["[[[:t/x 1]] nil]"]);
    assert!(respond_polls(&out).is_empty(), "{out:?}");
    // Answered with mail: out of the core once, the grace period starts.
    assert!(core.ajax_answer_poll(now, &uid, "c", poll));
    assert!(!core.ajax_answer_poll(now, &uid, "c", poll), "once");
    // A poll the core answered first (its timeout) is not answered again.
    let AjaxGet::Held(poll2) = core.ajax_poll_known(now, uid.clone(), "c").unwrap() else {
        panic!("held")
    };
    let later = now + ServerConfig::default().lp_timeout;
    core.handle_timeout(later);
    let out: Vec<Output> = std::iter::from_fn(|| core.poll_output()).collect();
    assert_eq!(
        respond_polls(&out),
        [(poll2, "[:chsk/timeout nil]".to_owned())]
    );
    assert!(!core.ajax_answer_poll(later, &uid, "c", poll2));
    assert!(matches!(
        core.ajax_poll_known(now, uid, " "),
        Err(ConnectError::MissingClientId)
    ));
}

#[test]
fn ajax_pushes_between_polls_wait_for_the_next_poll() {
    let mut s = Sim::new();
    let uid = Value::from("u");
    s.core
        .ajax_get(s.now, uid.clone(), "c", true, &Value::Nil)
        .unwrap();
    s.core.send(s.now, &uid, ev("[:a/b 1]"), true).unwrap();
    s.core.send(s.now, &uid, ev("[:a/b 2]"), true).unwrap();
    let r = s
        .core
        .ajax_get(s.now, uid.clone(), "c", false, &Value::Nil)
        .unwrap();
    assert!(
        matches!(&r, AjaxGet::Respond(b) if text(b) == "[[[:a/b 1]] nil]"),
        "{r:?}"
    );
    let r = s
        .core
        .ajax_get(s.now, uid.clone(), "c", false, &Value::Nil)
        .unwrap();
    assert!(
        matches!(&r, AjaxGet::Respond(b) if text(b) == "[[[:a/b 2]] nil]"),
        "{r:?}"
    );
    assert!(matches!(
        s.core
            .ajax_get(s.now, uid, "c", false, &Value::Nil)
            .unwrap(),
        AjaxGet::Held(_)
    ));
}

#[test]
fn a_second_poll_answers_the_first() {
    let mut s = Sim::new();
    let uid = Value::from("u");
    s.core
        .ajax_get(s.now, uid.clone(), "c", true, &Value::Nil)
        .unwrap();
    let AjaxGet::Held(p1) = s
        .core
        .ajax_get(s.now, uid.clone(), "c", false, &Value::Nil)
        .unwrap()
    else {
        panic!()
    };
    s.drain();
    let AjaxGet::Held(p2) = s
        .core
        .ajax_get(s.now, uid.clone(), "c", false, &Value::Nil)
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        respond_polls(&s.drain()),
        [(p1, "[:chsk/timeout nil]".to_owned())]
    );
    s.core.send(s.now, &uid, ev("[:a/b]"), true).unwrap();
    assert_eq!(
        respond_polls(&s.drain()),
        [(p2, "[[[:a/b]] nil]".to_owned())]
    );
}

#[test]
fn ajax_posts_reply_once_or_time_out() {
    let mut s = Sim::new();
    let uid = Value::from("u");
    let r = s
        .core
        .ajax_post(
            s.now,
            uid.clone(),
            "c",
            PackedRef::Text("[[:echo/echo {:n 2}] nil]"),
        )
        .unwrap();
    assert!(matches!(&r, AjaxPost::Respond(b) if text(b) == "[:chsk/dummy-cb-200 nil]"));
    assert!(incoming(&s.drain())[0].reply.is_none());
    let AjaxPost::AwaitReply(post) = s
        .core
        .ajax_post(
            s.now,
            uid.clone(),
            "c",
            PackedRef::Text(r#"[[:echo/echo {:n 1, :s "hi there"}] :ajax]"#),
        )
        .unwrap()
    else {
        panic!()
    };
    let got = incoming(&s.drain());
    assert_eq!(got[0].transport, Transport::Ajax);
    let to = got[0].reply.clone().unwrap();
    assert!(s.core.reply(&to, &v(r#"{:n 1, :s "hi there"}"#)).unwrap());
    assert!(!s.core.reply(&to, &v(":again")).unwrap(), "at most once");
    let out = s.drain();
    assert!(
        matches!(&out[..], [Output::RespondPost { post: p, payload }] if *p == post && text(payload) == r#"[{:n 1, :s "hi there"} nil]"#)
    );
    s.advance(ms(30_000));
    assert!(s.drain().is_empty(), "the timeout is stale once replied");
    // Sente <= 1.20's marker 0 works; silence gives :chsk/timeout after 20 s.
    let AjaxPost::AwaitReply(post) = s
        .core
        .ajax_post(s.now, uid, "c", PackedRef::Text("[[:echo/echo 9] 0]"))
        .unwrap()
    else {
        panic!()
    };
    s.drain();
    s.advance(ms(20_000));
    let out = s.drain();
    assert!(
        matches!(&out[..], [Output::RespondPost { post: p, payload }] if *p == post && text(payload) == "[:chsk/timeout nil]")
    );
}

#[test]
fn a_bad_ajax_post_is_an_error_and_an_event() {
    let mut s = Sim::new();
    let e = s
        .core
        .ajax_post(s.now, Value::from("u"), "c", PackedRef::Text("[[:a/b"))
        .unwrap_err();
    assert!(matches!(e, crate::wire::WireError::Unpack(_)));
    assert!(incoming(&s.drain())[0].event.is("chsk/bad-package"));
}

#[test]
fn close_uid_closes_every_channel_of_the_user() {
    let mut s = Sim::new();
    let a = s.ws("u", "1");
    let b = s.ws("u", "2");
    s.ws("v", "3");
    s.core
        .ajax_get(s.now, Value::from("u"), "4", true, &Value::Nil)
        .unwrap();
    let AjaxGet::Held(p) = s
        .core
        .ajax_get(s.now, Value::from("u"), "4", false, &Value::Nil)
        .unwrap()
    else {
        panic!()
    };
    s.drain();
    assert_eq!(
        s.core
            .send(s.now, &Value::from("u"), ev("[:chsk/close]"), false),
        Ok(3)
    );
    let closed: Vec<ConnId> = s
        .drain()
        .iter()
        .filter_map(|o| match o {
            Output::Close {
                conn,
                reason: CloseReason::Requested,
            } => Some(*conn),
            _ => None,
        })
        .collect();
    assert_eq!(closed, [a, b, p]);
}

#[test]
fn config_is_validated_like_sente() {
    let bad = ServerConfig {
        lp_timeout: Duration::from_secs(60),
        ..ServerConfig::default()
    };
    assert!(matches!(
        ServerCore::new(bad, Arc::new(EdnPacker::new())),
        Err(ConfigError::LpTimeoutTooLong(_))
    ));
    let bad = ServerConfig {
        send_buf_ws: Duration::ZERO,
        ..ServerConfig::default()
    };
    assert_eq!(bad.validate(), Err(ConfigError::ZeroSendBuffer));
    assert_eq!(ServerConfig::default().ws_idle_window(), Some(ms(12_500)));
}

/// An event that cannot be packed where it sits in a batch is refused to
/// its sender, and the other events of the same window still go out.
#[test]
fn an_unpackable_event_is_refused_at_send_and_spoils_no_batch() {
    let mut s = Sim::with(ServerConfig::default());
    let a = s.ws("u", "c");
    s.drain();
    let uid = Value::from("u");
    // Data that reads within the bound but sits two levels deeper in a
    // batch: too deep to pack there.
    let mut deep = Value::Nil;
    for _ in 0..crate::edn::DEFAULT_MAX_DEPTH - 2 {
        deep = Value::vector([deep]);
    }
    s.core
        .send(s.now, &uid, Event::named("a/ok", 1).unwrap(), false)
        .unwrap();
    assert!(matches!(
        s.core
            .send(s.now, &uid, Event::named("a/deep", deep).unwrap(), false),
        Err(SendError::Unpackable(PackError::TooDeep { .. }))
    ));
    s.core
        .send(s.now, &uid, Event::named("a/ok", 2).unwrap(), false)
        .unwrap();
    s.advance(ms(30));
    assert_eq!(frames(&s.drain(), a), ["[[[:a/ok 1] [:a/ok 2]] nil]"]);
}

/// The handshake is packed before the client is registered: a uid the
/// packer cannot represent refuses the connection, and leaves nothing behind.
#[test]
fn an_unpackable_handshake_refuses_the_connection() {
    let mut s = Sim::with(ServerConfig::default());
    let mut deep = Value::Nil;
    for _ in 0..crate::edn::DEFAULT_MAX_DEPTH + 44 {
        deep = Value::vector([deep]);
    }
    assert!(matches!(
        s.core.ws_open(s.now, deep.clone(), "c", &Value::Nil),
        Err(ConnectError::Handshake(_))
    ));
    assert!(matches!(
        s.core.ajax_get(s.now, Value::from("u"), "c", true, &deep),
        Err(ConnectError::Handshake(_))
    ));
    assert!(s.drain().is_empty());
    assert!(s.core.connected_uids().any.is_empty());
}

/// Every deadline is cancelled when what it was for goes first: closed
/// WebSockets, answered polls and POSTs, flushed buffers and clients back
/// within their grace leave no timer behind (churn cannot pile them up).
#[test]
fn no_timer_outlives_what_it_is_for() {
    let mut s = Sim::with(ServerConfig::default());
    let uid = Value::from("u");
    // A WebSocket that comes back within its grace, then leaves.
    let a = s.ws("u", "c");
    s.core.ws_closed(s.now, a);
    let b = s.ws("u", "c");
    assert_eq!(s.core.stats().timers, 1, "only b's keep-alive");
    // A buffered push flushed early (flush) cancels its window's timer.
    s.core
        .send(s.now, &uid, Event::named("a/b", 1).unwrap(), false)
        .unwrap();
    s.core
        .send(s.now, &uid, Event::named("a/b", 2).unwrap(), true)
        .unwrap();
    assert_eq!(s.core.stats().timers, 1);
    s.core.ws_closed(s.now, b);
    assert_eq!(s.core.stats().timers, 1, "only the grace");
    s.advance(ms(2_500));
    assert_eq!(s.core.stats().timers, 0);
    // Ajax: a poll answered by a push, a POST answered by its reply.
    s.core
        .ajax_get(s.now, uid.clone(), "p", true, &Value::Nil)
        .unwrap();
    let held = s
        .core
        .ajax_get(s.now, uid.clone(), "p", false, &Value::Nil)
        .unwrap();
    assert!(matches!(held, AjaxGet::Held(_)));
    s.core
        .send(s.now, &uid, Event::named("a/b", 3).unwrap(), true)
        .unwrap();
    let post = s
        .core
        .ajax_post(s.now, uid.clone(), "p", PackedRef::Text("[[:a/q 1] :ajax]"))
        .unwrap();
    let AjaxPost::AwaitReply(post) = post else {
        panic!("a reply is awaited")
    };
    s.core
        .reply(&ReplyTo::Ajax { post }, &Value::from(1))
        .unwrap();
    s.drain();
    assert_eq!(
        s.core.stats().timers,
        1,
        "only p's grace after its answered poll"
    );
    s.advance(ms(5_000));
    assert_eq!(s.core.stats(), ServerStats::default());
}

/// The payloads sent to `conn`.
fn payloads(out: &[Output], conn: ConnId) -> Vec<Arc<Packed>> {
    out.iter()
        .filter_map(|o| match o {
            Output::Transmit { conn: c, payload } if *c == conn => Some(payload.clone()),
            _ => None,
        })
        .collect()
}

/// A broadcast keeps per-user batching and order, and users whose windows
/// hold the same events share one packed batch (one pack, not one per user).
#[test]
fn a_broadcast_packs_each_distinct_batch_once() {
    let mut s = Sim::with(ServerConfig::default());
    let a = s.ws("u1", "c");
    let b = s.ws("u2", "c");
    let c = s.ws("u3", "c");
    s.drain();
    s.core
        .send(
            s.now,
            &Value::from("u1"),
            Event::named("a/only", 1).unwrap(),
            false,
        )
        .unwrap();
    assert_eq!(
        s.core
            .broadcast(s.now, Event::named("a/all", 2).unwrap(), false),
        Ok(3)
    );
    assert_eq!(
        s.core
            .broadcast(s.now, Event::named("a/all", 3).unwrap(), false),
        Ok(3)
    );
    s.advance(ms(30));
    let out = s.drain();
    assert_eq!(
        frames(&out, a),
        ["[[[:a/only 1] [:a/all 2] [:a/all 3]] nil]"]
    );
    assert_eq!(frames(&out, b), ["[[[:a/all 2] [:a/all 3]] nil]"]);
    assert_eq!(frames(&out, c), frames(&out, b));
    let (pb, pc) = (payloads(&out, b), payloads(&out, c));
    assert!(
        Arc::ptr_eq(&pb[0], &pc[0]),
        "u2 and u3 share one packed batch"
    );
    // Flushed at once, the same.
    s.core
        .broadcast(s.now, Event::named("a/now", 4).unwrap(), true)
        .unwrap();
    let out = s.drain();
    let (pa, pb) = (payloads(&out, a), payloads(&out, b));
    assert_eq!(text(&pa[0]), "[[[:a/now 4]] nil]");
    assert!(Arc::ptr_eq(&pa[0], &pb[0]));
    // Sending to several users refuses a nil uid before queueing anything.
    let uids = [Value::from("u1"), Value::Nil];
    assert_eq!(
        s.core
            .send_many(s.now, &uids, Event::named("a/x", 5).unwrap(), true),
        Err(SendError::NilUid)
    );
    assert!(s.drain().is_empty());
}

/// A push to one client-id reaches that tab only, after what was buffered
/// for the user (order kept), and waits for a client that is away.
#[test]
fn a_push_to_one_client_reaches_that_tab_only() {
    let mut s = Sim::with(ServerConfig::default());
    let one = s.ws("u", "tab-1");
    let two = s.ws("u", "tab-2");
    s.drain();
    let uid = Value::from("u");
    s.core
        .send(s.now, &uid, Event::named("a/all", 1).unwrap(), false)
        .unwrap();
    assert_eq!(
        s.core
            .send_to_client(s.now, &uid, "tab-2", Event::named("a/two", 2).unwrap()),
        Ok(true)
    );
    let out = s.drain();
    assert_eq!(frames(&out, one), ["[[[:a/all 1]] nil]"]);
    assert_eq!(
        frames(&out, two),
        ["[[[:a/all 1]] nil]", "[[[:a/two 2]] nil]"]
    );
    assert_eq!(
        s.core
            .send_to_client(s.now, &uid, "tab-3", Event::named("a/x", 3).unwrap()),
        Ok(false)
    );
    // Away within its grace: kept, delivered when it is back.
    s.core.ws_closed(s.now, two);
    s.core
        .send_to_client(s.now, &uid, "tab-2", Event::named("a/later", 4).unwrap())
        .unwrap();
    assert!(frames(&s.drain(), one).is_empty());
    let back = s.ws("u", "tab-2");
    assert!(frames(&s.drain(), back).contains(&"[[[:a/later 4]] nil]".to_owned()));
}

#[test]
fn client_events_tell_each_tab_arriving_and_leaving_when_enabled() {
    let mut s = Sim::with(ServerConfig {
        client_events: true,
        ..ServerConfig::default()
    });
    let a = s.ws("alice", "tab-1");
    assert_eq!(
        events(&s.drain()),
        [
            r#"[:chsk/client-open "tab-1"]"#,
            r#"[:chsk/uidport-open "alice"]"#
        ]
    );
    let b = s.ws("alice", "tab-2");
    let out = s.drain();
    assert_eq!(events(&out), [r#"[:chsk/client-open "tab-2"]"#]);
    let ev = &incoming(&out)[0];
    assert_eq!(
        (ev.uid.clone(), &*ev.client_id, ev.transport),
        (Value::from("alice"), "tab-2", Transport::Ws)
    );
    // tab-1 reloads within its grace: it never left.
    s.core.ws_closed(s.now, a);
    s.advance(ms(1_000));
    let a2 = s.ws("alice", "tab-1");
    s.advance(ms(5_000));
    assert!(events(&s.drain()).is_empty(), "a reload is no arrival");
    // tab-2 leaves for good: its close after the grace, the user stays.
    s.core.ws_closed(s.now, b);
    s.advance(ms(2_499));
    assert!(events(&s.drain()).is_empty(), "within the grace");
    s.advance(ms(1));
    assert_eq!(events(&s.drain()), [r#"[:chsk/client-close "tab-2"]"#]);
    // The last tab: the client's close, then the user's.
    s.core.ws_closed(s.now, a2);
    s.advance(ms(2_500));
    assert_eq!(
        events(&s.drain()),
        [
            r#"[:chsk/client-close "tab-1"]"#,
            r#"[:chsk/uidport-close "alice"]"#
        ]
    );
    // An Ajax client arrives with its handshake and leaves after its grace.
    let hs = s
        .core
        .ajax_get(s.now, Value::from("bob"), "phone", true, &Value::Nil)
        .unwrap();
    assert!(matches!(hs, AjaxGet::Respond(_)));
    assert_eq!(events(&s.drain()), [r#"[:chsk/client-open "phone"]"#]);
    s.advance(ms(5_000));
    assert_eq!(events(&s.drain()), [r#"[:chsk/client-close "phone"]"#]);
}

#[test]
fn client_events_are_off_by_default_as_in_sente() {
    let mut s = Sim::new();
    let a = s.ws("alice", "tab-1");
    s.ws("alice", "tab-2");
    assert_eq!(events(&s.drain()), [r#"[:chsk/uidport-open "alice"]"#]);
    s.core.ws_closed(s.now, a);
    s.advance(ms(2_500));
    assert!(events(&s.drain()).is_empty());
}
