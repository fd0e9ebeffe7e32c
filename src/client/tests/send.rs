//! Keep-alive pings, sending, replies and received events over WebSocket.

use super::*;

// ---- Keep-alive ------------------------------------------------------------

#[test]
fn keep_alive_pings_after_an_idle_tick_and_reconnects_without_pong() {
    let mut s = Sim::of(ChskType::Ws);
    let s1 = s.open_ws();
    s.advance(secs(10));
    assert!(s.drain().is_empty(), "the handshake counted as traffic");
    s.advance(secs(10));
    let f = frames(&s.drain());
    assert_eq!(f.len(), 1);
    let cb = cb_of(&f[0]);
    assert_eq!(f[0], format!(r#"[[:chsk/ws-ping] "{cb}"]"#));
    assert!(
        cb.len() == 6
            && cb
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(s.core.pending_callbacks(), 1);

    s.advance(ms(4999));
    assert!(s.drain().is_empty());
    s.advance(ms(1));
    let out = s.drain();
    assert_eq!(last_close(&s), Some(CloseReason::WsPingTimeout));
    assert_eq!(closes(&out), [(s1, 1000, "CLOSE_NORMAL")]);
    assert_eq!(sockets(&out).len(), 1);
    assert_eq!(s.core.pending_callbacks(), 0);
}

#[test]
fn a_pong_keeps_the_connection_and_traffic_suppresses_pings() {
    let mut s = Sim::of(ChskType::Ws);
    let s1 = s.open_ws();
    s.advance(secs(20));
    let cb = cb_of(&frames(&s.drain())[0]);
    s.msg(s1, &format!(r#"["pong" "{cb}"]"#));
    assert!(s.drain().is_empty(), "a pong is not delivered");
    s.advance(secs(10));
    assert!(
        s.drain().is_empty(),
        "no reconnect, no ping: there was traffic"
    );
    s.advance(secs(10));
    assert_eq!(frames(&s.drain()).len(), 1, "idle again: ping");
    assert_eq!(s.core.stats().replies_without_callback, 0);

    // Sending every 5 s: never idle for a tick.
    let mut s = Sim::of(ChskType::Ws);
    s.open_ws();
    for _ in 0..24 {
        s.advance(secs(5));
        s.core.send(s.now, &ev("[:my/tick]")).unwrap();
    }
    let f = frames(&s.drain());
    assert_eq!(f.len(), 24);
    assert!(f.iter().all(|f| f == "[[:my/tick] nil]"));
}

#[test]
fn keep_alive_reconnects_a_socket_that_never_handshook() {
    let mut s = Sim::of(ChskType::Ws);
    let s1 = s.connect_ws();
    s.advance(secs(10));
    let out = s.drain();
    assert_eq!(closes(&out), [(s1, 1000, "CLOSE_NORMAL")]);
    assert_eq!(sockets(&out).len(), 1);
    assert_eq!(last_close(&s), None, "it never opened");
}

#[test]
fn keep_alive_does_not_ping_during_a_backoff_wait() {
    let mut s = Sim::new(ClientConfig {
        backoff: Arc::new(|_, _| secs(45)),
        ..config(ChskType::Ws)
    });
    let s1 = s.connect_ws();
    s.close(s1, 1006, false);
    let s2 = only_socket(&s.drain());
    s.close(s2, 1006, false);
    s.advance(secs(44));
    assert!(sockets(&s.drain()).is_empty());
    s.advance(secs(1));
    assert_eq!(sockets(&s.drain()).len(), 1);
}

#[test]
fn server_pings_are_answered_and_surface_as_events() {
    let mut s = Sim::of(ChskType::Ws);
    let s1 = s.open_ws();
    s.msg(s1, "[:chsk/ws-ping nil]");
    let out = s.drain();
    assert_eq!(frames(&out), ["[[:chsk/ws-pong] nil]"]);
    assert_eq!(events(&out), ["[:chsk/ws-ping]"]);

    let mut s = Sim::new(ClientConfig {
        wrap_recv_evs: true,
        ..config(ChskType::Ws)
    });
    let s1 = s.open_ws();
    s.msg(s1, "[:chsk/ws-ping nil]");
    assert_eq!(events(&s.drain()), ["[:chsk/recv [:chsk/ws-ping]]"]);
}

// ---- Sending and replies ---------------------------------------------------

#[test]
fn sends_while_closed_are_refused_as_chsk_closed() {
    let mut s = Sim::of(ChskType::Ws);
    s.connect_ws();
    let e = ev("[:my/ev 1]");
    assert_eq!(s.core.send(s.now, &e), Err(SendError::Closed));
    let err = s.core.send_with_reply(s.now, &e, secs(1)).unwrap_err();
    assert_eq!(err, SendError::Closed);
    assert_eq!(
        err.as_callback_error().to_value(),
        Value::keyword("chsk/closed")
    );
    assert!(s.drain().is_empty(), "nothing is queued");
    assert_eq!(s.core.pending_callbacks(), 0);
}

#[test]
fn a_reply_timeout_gives_chsk_timeout_and_a_late_reply_is_counted() {
    let mut s = Sim::of(ChskType::Ws);
    let s1 = s.open_ws();
    let id = s
        .core
        .send_with_reply(s.now, &ev("[:my/req 1]"), secs(3))
        .unwrap();
    let f = frames(&s.drain());
    let cb = cb_of(&f[0]);
    assert_eq!(f, [format!(r#"[[:my/req 1] "{cb}"]"#)]);
    s.advance(ms(2999));
    assert!(s.drain().is_empty());
    s.advance(ms(1));
    assert_eq!(replies(&s.drain()), [(id, Err(CallbackError::Timeout))]);
    s.msg(s1, &format!(r#"[{{:late true}} "{cb}"]"#));
    assert!(s.drain().is_empty());
    assert_eq!(s.core.stats().replies_without_callback, 1);
    assert_eq!(s.core.pending_callbacks(), 0);
}

#[test]
fn replies_are_routed_by_callback_id() {
    let mut s = Sim::of(ChskType::Ws);
    let s1 = s.open_ws();
    let a = s
        .core
        .send_with_reply(s.now, &ev("[:my/a]"), secs(9))
        .unwrap();
    let b = s
        .core
        .send_with_reply(s.now, &ev("[:my/b]"), secs(9))
        .unwrap();
    let f = frames(&s.drain());
    let (cb_a, cb_b) = (cb_of(&f[0]), cb_of(&f[1]));
    assert_ne!(cb_a, cb_b);
    s.msg(s1, &format!(r#"[:chsk/error "{cb_b}"]"#));
    s.msg(s1, &format!(r#"[{{:a 1}} "{cb_a}"]"#));
    assert_eq!(
        replies(&s.drain()),
        [(b, Err(CallbackError::Error)), (a, Ok(v("{:a 1}")))]
    );
    s.advance(secs(10));
    assert!(s.drain().is_empty(), "their deadlines were cancelled");
}

#[test]
fn pending_callbacks_are_bounded() {
    let mut s = Sim::new(ClientConfig {
        max_pending_callbacks: 2,
        ..config(ChskType::Ws)
    });
    let s1 = s.open_ws();
    let e = ev("[:my/req]");
    s.core.send_with_reply(s.now, &e, secs(9)).unwrap();
    s.core.send_with_reply(s.now, &e, secs(9)).unwrap();
    assert_eq!(
        s.core.send_with_reply(s.now, &e, secs(9)),
        Err(SendError::TooManyPendingCallbacks { limit: 2 })
    );
    s.core.send(s.now, &e).unwrap();
    let f = frames(&s.drain());
    assert_eq!(f.len(), 3, "sends without reply are not bounded");
    s.msg(s1, &format!(r#"[:ok "{}"]"#, cb_of(&f[0])));
    s.drain();
    assert!(s.core.send_with_reply(s.now, &e, secs(9)).is_ok());
}

#[test]
fn pushes_are_delivered_one_by_one_and_reserved_ones_as_bad_events() {
    let mut s = Sim::of(ChskType::Ws);
    let s1 = s.open_ws();
    s.msg(s1, "[[[:my/a 1] [:my/b] [:chsk/state 1] 42] nil]");
    let got = events(&s.drain());
    assert_eq!(got[..2], ["[:my/a 1]", "[:my/b]"]);
    assert_eq!(got.len(), 4);
    assert!(got[2..].iter().all(|e| e.starts_with("[:chsk/bad-event ")));
    s.msg(s1, "{not edn");
    assert!(s.drain().is_empty());
    assert_eq!(s.core.stats().bad_messages, 1);
    assert!(s.core.state().open, "a bad frame does not close");
}

#[test]
fn wrap_recv_evs_wraps_pushes_but_not_the_handshake() {
    let mut s = Sim::new(ClientConfig {
        wrap_recv_evs: true,
        ..config(ChskType::Ws)
    });
    let s1 = s.connect_ws();
    s.msg(s1, HANDSHAKE);
    assert_eq!(
        events(&s.drain()),
        [r#"[:chsk/handshake ["alice" nil {:x 1} true]]"#]
    );
    s.msg(s1, "[[[:my/a 1]] nil]");
    assert_eq!(events(&s.drain()), ["[:chsk/recv [:my/a 1]]"]);
}
