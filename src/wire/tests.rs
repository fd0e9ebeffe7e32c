//! Every message of sente-transcripts.md (real Sente 1.21 on http-kit),
//! packed with the EDN packer to the exact bytes captured, and read back.

use super::*;
use crate::edn;
use crate::event::Event;
use crate::packer::{EdnPacker, PackedRef};

const P: &EdnPacker = &EdnPacker::new();

fn v(text: &str) -> Value {
    edn::from_str(text).unwrap()
}

fn ev(text: &str) -> Event {
    Event::from_value(v(text)).unwrap()
}

fn text(packed: Result<crate::Packed, PackError>) -> String {
    match packed.unwrap() {
        crate::Packed::Text(s) => s,
        other => panic!("expected text, got {other:?}"),
    }
}

#[test]
fn server_messages_match_the_transcripts_byte_for_byte() {
    let cases: &[(String, &str)] = &[
        (
            text(pack_handshake(
                P,
                false,
                &Value::from("ajax-cid-1"),
                &Value::Nil,
            )),
            r#"[[:chsk/handshake ["ajax-cid-1" nil nil]] nil]"#,
        ),
        (
            text(pack_handshake(
                P,
                true,
                &Value::from("ws-cid-1"),
                &Value::Nil,
            )),
            r#"[[:chsk/handshake ["ws-cid-1" nil nil]] nil]"#,
        ),
        (
            text(pack_handshake(
                P,
                true,
                &Value::from("jvm-user"),
                &Value::Nil,
            )),
            r#"[[:chsk/handshake ["jvm-user" nil nil]] nil]"#,
        ),
        (
            text(pack_handshake(
                P,
                true,
                &Value::keyword(NIL_UID),
                &Value::Nil,
            )),
            r#"[[:chsk/handshake [:sente/nil-uid nil nil]] nil]"#,
        ),
        (
            text(pack_ajax_reply(P, &v(r#"{:n 1, :s "hi there"}"#))),
            r#"[{:n 1, :s "hi there"} nil]"#,
        ),
        (text(pack_dummy_reply(P)), "[:chsk/dummy-cb-200 nil]"),
        (text(pack_ajax_reply(P, &v(":ok"))), "[:ok nil]"),
        (
            text(pack_push_batch(P, false, &[ev("[:echo/pushed {:x 42}]")])),
            "[[[:echo/pushed {:x 42}]] nil]",
        ),
        (text(pack_lp_timeout(P)), "[:chsk/timeout nil]"),
        (
            text(pack_ws_reply(
                P,
                &v(r#"{:n 1, :s "hi"}"#),
                &v(r#""ab12cd""#),
            )),
            r#"[{:n 1, :s "hi"} "ab12cd"]"#,
        ),
        (
            text(pack_ws_reply(P, &v(":ok"), &v(r#""pu5h01""#))),
            r#"[:ok "pu5h01"]"#,
        ),
        (
            text(pack_push_batch(P, true, &[ev("[:echo/pushed {:x 42}]")])),
            "[[[:echo/pushed {:x 42}]] nil]",
        ),
        (
            text(pack_push_batch(P, true, &[ev(r#"[:echo/pushed "now"]"#)])),
            r#"[[[:echo/pushed "now"]] nil]"#,
        ),
        (
            text(pack_pong(P, &v(r#""p1ng00""#))),
            r#"["pong" "p1ng00"]"#,
        ),
        (text(pack_server_ping(P)), "[:chsk/ws-ping nil]"),
        (
            text(pack_ws_reply(P, &v("7"), &v(r#""after1""#))),
            r#"[7 "after1"]"#,
        ),
        (
            text(pack_ws_reply(
                P,
                &v("{:ws 1, :ajax 0, :any 1}"),
                &v(r#""67cf1d""#),
            )),
            r#"[{:ws 1, :ajax 0, :any 1} "67cf1d"]"#,
        ),
        (
            text(pack_ws_reply(
                P,
                &v(r#"{:n 1, :s "from jvm"}"#),
                &v(r#""00febc""#),
            )),
            r#"[{:n 1, :s "from jvm"} "00febc"]"#,
        ),
        (
            text(pack_push_batch(
                P,
                true,
                &[ev("[:my/ev 1]"), ev("[:my/ev2 {:b 2}]")],
            )),
            "[[[:my/ev 1] [:my/ev2 {:b 2}]] nil]",
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
}

#[test]
fn client_messages_match_the_transcripts_byte_for_byte() {
    let cases: &[(String, &str)] = &[
        (
            text(pack_client_event(
                P,
                false,
                &ev(r#"[:echo/echo {:n 1, :s "hi there"}]"#),
                Some("x"),
            )),
            r#"[[:echo/echo {:n 1, :s "hi there"}] :ajax]"#,
        ),
        (
            text(pack_client_event(
                P,
                false,
                &ev("[:echo/echo {:n 2}]"),
                None,
            )),
            "[[:echo/echo {:n 2}] nil]",
        ),
        (
            text(pack_client_event(
                P,
                false,
                &ev("[:echo/push {:x 42}]"),
                Some("x"),
            )),
            "[[:echo/push {:x 42}] :ajax]",
        ),
        (
            text(pack_client_event(
                P,
                true,
                &ev(r#"[:echo/echo {:n 1, :s "hi"}]"#),
                Some("ab12cd"),
            )),
            r#"[[:echo/echo {:n 1, :s "hi"}] "ab12cd"]"#,
        ),
        (
            text(pack_client_event(P, true, &ev("[:echo/echo {:n 2}]"), None)),
            "[[:echo/echo {:n 2}] nil]",
        ),
        (
            text(pack_client_event(
                P,
                true,
                &ev("[:echo/push {:x 42}]"),
                Some("pu5h01"),
            )),
            r#"[[:echo/push {:x 42}] "pu5h01"]"#,
        ),
        (
            text(pack_client_event(
                P,
                true,
                &ev(r#"[:echo/push-flush "now"]"#),
                None,
            )),
            r#"[[:echo/push-flush "now"] nil]"#,
        ),
        (
            text(pack_client_ping(P, "p1ng00")),
            r#"[[:chsk/ws-ping] "p1ng00"]"#,
        ),
        (text(pack_client_pong(P)), "[[:chsk/ws-pong] nil]"),
        (
            text(pack_client_event(
                P,
                true,
                &ev("[:echo/echo 7]"),
                Some("after1"),
            )),
            r#"[[:echo/echo 7] "after1"]"#,
        ),
        (
            text(pack_client_event(
                P,
                true,
                &ev("[:echo/uids]"),
                Some("67cf1d"),
            )),
            r#"[[:echo/uids] "67cf1d"]"#,
        ),
        (
            text(pack_client_event(
                P,
                true,
                &ev("[:echo/echo 0]"),
                Some("926269"),
            )),
            r#"[[:echo/echo 0] "926269"]"#,
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
}

fn client(text: &str) -> ClientMessage {
    read_client_message(P, true, PackedRef::Text(text)).unwrap()
}

fn server(text: &str) -> ServerMessage {
    read_server_message(P, true, PackedRef::Text(text)).unwrap()
}

#[test]
fn server_reads_client_messages_of_every_era() {
    let m = client(r#"[[:echo/echo {:n 1, :s "hi"}] "ab12cd"]"#);
    assert_eq!(m.event, ev(r#"[:echo/echo {:n 1, :s "hi"}]"#));
    assert_eq!(m.cb, Some(v(r#""ab12cd""#)));
    let m = client("[[:echo/echo {:n 2}] nil]");
    assert!(!m.wants_reply());
    // Sente <= 1.20: 1-element wrapper for no cb; Ajax marker 0; 1.21: :ajax.
    assert!(!client("[[:echo/echo 5]]").wants_reply());
    assert_eq!(client("[[:echo/echo 9] 0]").cb, Some(Value::Int(0)));
    assert!(client("[[:echo/echo 9] :ajax]").wants_reply());
    assert!(!client("[[:echo/echo 9] false]").wants_reply());
    // Sente <= 1.17: + and - prefixes.
    let m = client(r#"+[[:a/b] "x"]"#);
    assert_eq!((m.event, m.cb), (ev("[:a/b]"), Some(Value::from("x"))));
    assert_eq!(client("-[:a/b 1]").event, ev("[:a/b 1]"));
    // Pings and pongs.
    assert!(client(r#"[[:chsk/ws-ping] "p1ng00"]"#).is_ping());
    assert!(client("[[:chsk/ws-pong] nil]").is_pong());
}

#[test]
fn bad_events_become_chsk_bad_event_and_bad_envelopes_are_errors() {
    assert_eq!(
        client("[[:no-namespace 1] nil]").event,
        ev("[:chsk/bad-event [:no-namespace 1]]")
    );
    assert_eq!(
        client("[{:a 1} \"cb\"]").event,
        ev("[:chsk/bad-event {:a 1}]")
    );
    assert!(client("[[:x 1] \"cb\"]").wants_reply());
    for bad in ["{:a 1}", "[]", "[1 2 3]", ":chsk/ws-ping", "nil", ""] {
        let e = read_client_message(P, true, PackedRef::Text(bad)).unwrap_err();
        assert!(matches!(e, WireError::BadEnvelope { .. }), "{bad}: {e}");
    }
    let e = read_client_message(P, true, PackedRef::Text("{not edn")).unwrap_err();
    assert!(matches!(e, WireError::Unpack(_)));
}

#[test]
fn client_reads_server_messages() {
    assert_eq!(
        server(r#"[[:chsk/handshake ["ws-cid-1" nil nil]] nil]"#),
        ServerMessage::Handshake {
            uid: Value::from("ws-cid-1"),
            data: Value::Nil
        }
    );
    // Sente <= 1.13: [uid csrf-token data]; 1.14 - 1.20 may send 2 elements.
    assert_eq!(
        server(r#"[[:chsk/handshake ["u" nil {:x 1}]]]"#),
        ServerMessage::Handshake {
            uid: Value::from("u"),
            data: v("{:x 1}")
        }
    );
    assert_eq!(
        server(r#"[[:chsk/handshake [:sente/nil-uid nil]] nil]"#),
        ServerMessage::Handshake {
            uid: Value::keyword(NIL_UID),
            data: Value::Nil
        }
    );
    assert_eq!(server("[:chsk/ws-ping nil]"), ServerMessage::Ping);
    assert_eq!(server("[:chsk/ws-ping]"), ServerMessage::Ping);
    assert_eq!(
        server(r#"["pong" "p1ng00"]"#),
        ServerMessage::Reply {
            value: Value::from("pong"),
            cb: Value::from("p1ng00")
        }
    );
    assert_eq!(server("[:chsk/timeout nil]"), ServerMessage::Timeout);
    assert_eq!(
        server("[[[:echo/pushed {:x 42}] [:a/b]] nil]"),
        ServerMessage::Push(vec![ev("[:echo/pushed {:x 42}]"), ev("[:a/b]")])
    );
    // Reserved or invalid pushed events are flagged, the rest of the batch survives.
    assert_eq!(
        server("[[[:chsk/state 1] [:nope] [:a/b]] nil]"),
        ServerMessage::Push(vec![
            ev("[:chsk/bad-event [:chsk/state 1]]"),
            ev("[:chsk/bad-event [:nope]]"),
            ev("[:a/b]")
        ])
    );
    assert!(matches!(
        read_server_message(P, true, PackedRef::Text("[42 nil]")),
        Err(WireError::BadEnvelope { .. })
    ));
    assert!(matches!(
        read_server_message(P, true, PackedRef::Text("[[:chsk/handshake 1] nil]")),
        Err(WireError::BadEnvelope { .. })
    ));
}

#[test]
fn ajax_replies() {
    assert_eq!(
        read_ajax_reply(P, PackedRef::Text("[:chsk/dummy-cb-200 nil]")).unwrap(),
        v(":chsk/dummy-cb-200")
    );
    assert_eq!(
        read_ajax_reply(P, PackedRef::Text(r#"[{:n 1, :s "hi there"} nil]"#)).unwrap(),
        v(r#"{:n 1, :s "hi there"}"#)
    );
    assert_eq!(read_ajax_reply(P, PackedRef::Text("[9]")).unwrap(), v("9"));
    assert!(read_ajax_reply(P, PackedRef::Text("")).is_err());
}
