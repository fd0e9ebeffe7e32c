//! Handshake, state events, retries and backoff, the `:auto` downgrade, disconnect, reconnect and break.

use super::*;

// ---- Handshake, open, state events ---------------------------------------

#[test]
fn ws_handshake_opens_with_first_open_and_the_handshake_event() {
    let mut s = Sim::of(ChskType::Ws);
    s.core.connect(s.now);
    let out = s.drain();
    assert_eq!(out.len(), 1, "{out:?}");
    let sock = only_socket(&out);
    assert!(!s.core.state().open);

    s.msg(sock, HANDSHAKE);
    let out = s.drain();
    assert!(
        matches!(out[0], Output::StateChanged(_)),
        "state first: {out:?}"
    );
    assert_eq!(
        events(&out),
        [r#"[:chsk/handshake ["alice" nil {:x 1} true]]"#]
    );
    let c = &changes(&out)[0];
    assert!(c.open_changed && c.opened && !c.closed && c.first_open);
    assert_eq!(
        c.to_event().to_string(),
        "[:chsk/state [{:type :ws, :open? false, :ever-opened? false} \
         {:type :ws, :open? true, :ever-opened? true, :uid \"alice\", :handshake-data {:x 1}, \
         :open-changed? true, :opened? true, :first-open? true} true]]"
    );
    let st = s.core.state();
    assert_eq!(
        (st.chsk_type, st.open, st.ever_opened),
        (ChskType::Ws, true, true)
    );
    assert_eq!(st.uid, Some(Value::from("alice")));
    assert_eq!(st.handshake_data, Some(v("{:x 1}")));

    // A second handshake of the same implementation is not the first.
    s.core.reconnect(s.now);
    let out = s.drain();
    let c = &changes(&out)[0];
    assert!(c.closed && !c.opened && c.open_changed);
    assert_eq!(last_close(&s), Some(CloseReason::RequestedReconnect));
    assert_eq!(closes(&out), [(sock, 1000, "CLOSE_NORMAL")]);
    let sock2 = only_socket(&out);
    s.msg(sock2, HANDSHAKE);
    let out = s.drain();
    assert_eq!(
        events(&out),
        [r#"[:chsk/handshake ["alice" nil {:x 1} false]]"#]
    );
    let c = &changes(&out)[0];
    assert!(c.opened && !c.first_open);
}

#[test]
fn state_events_come_in_order_with_old_new_and_open_changed() {
    let mut s = Sim::new(ClientConfig {
        ws_kalive: None,
        ..config(ChskType::Ws)
    });
    let s1 = s.open_ws();
    let t_close = s.udt();
    s.close(s1, 1006, false);
    let out = s.drain();
    let c = changes(&out);
    assert_eq!(c.len(), 1);
    assert!(c[0].closed && c[0].open_changed && !c[0].new.open);
    assert_eq!(
        c[0].new.last_close,
        Some(LastClose {
            udt: t_close,
            reason: CloseReason::Unexpected
        })
    );
    assert_eq!(
        c[0].new.last_ws_close,
        Some(LastWsClose {
            udt: t_close,
            code: 1006,
            reason: String::new(),
            clean: false
        })
    );
    assert!(
        matches!(out.last(), Some(Output::ConnectWs { .. })),
        "state change, then the immediate retry: {out:?}"
    );
    let s2 = only_socket(&out);

    // Not open: no open change, two changes (the close, then the backoff time).
    s.advance(ms(5));
    s.close(s2, 1006, false);
    let out = s.drain();
    let c = changes(&out);
    assert_eq!(c.len(), 2);
    assert!(c.iter().all(|c| !c.open_changed && !c.opened && !c.closed));
    assert_eq!(
        c[0].new.last_ws_close.as_ref().map(|c| c.udt),
        Some(s.udt())
    );
    assert_eq!(c[0].new.udt_next_reconnect, None);
    assert!(c[1].new.udt_next_reconnect.is_some());
    assert_eq!(
        c[1].old, c[0].new,
        "each change starts where the previous ended"
    );
    assert!(c[1].to_event().to_string().ends_with(" false]]"));
    assert!(sockets(&out).is_empty());
}

// ---- Retries and backoff -------------------------------------------------

#[test]
fn ws_close_retries_at_once_then_after_the_exp_backoff() {
    let mut s = Sim::new(ClientConfig {
        ws_kalive: None,
        ..config(ChskType::Ws)
    });
    let mut expected_rng = XorShift64::new(SEED);
    let mut sock = s.connect_ws();
    s.close(sock, 1006, false);
    sock = only_socket(&s.drain());
    for attempt in 2..=16u32 {
        let expected = exp_backoff(attempt, &mut || expected_rng.next_f64());
        let b = 1u64 << attempt;
        assert!(
            (ms(b * 500)..ms(b * 1000)).contains(&expected),
            "attempt {attempt}: {expected:?}"
        );
        s.close(sock, 1006, false);
        assert!(sockets(&s.drain()).is_empty());
        assert_eq!(
            s.core.state().udt_next_reconnect,
            Some(s.udt() + expected.as_millis() as i64)
        );
        s.advance(expected - ms(1));
        assert!(
            sockets(&s.drain()).is_empty(),
            "attempt {attempt} too early"
        );
        s.advance(ms(1));
        sock = only_socket(&s.drain());
    }
}

#[test]
fn the_retry_count_resets_only_on_handshake() {
    let mut s = Sim::new(ClientConfig {
        ws_kalive: None,
        ..config(ChskType::Ws)
    });
    let s1 = s.connect_ws();
    s.close(s1, 1006, false);
    let s2 = only_socket(&s.drain());
    s.close(s2, 1006, false);
    assert!(sockets(&s.drain()).is_empty(), "attempt 2 waits");
    s.advance(secs(4));
    let s3 = only_socket(&s.drain());
    s.msg(s3, HANDSHAKE);
    s.drain();
    s.close(s3, 1000, true);
    let out = s.drain();
    assert_eq!(last_close(&s), Some(CloseReason::Clean));
    assert_eq!(sockets(&out).len(), 1, "after a handshake, attempt 1 again");
}

#[test]
fn a_custom_backoff_gets_the_attempt_and_the_rng() {
    let mut s = Sim::new(ClientConfig {
        ws_kalive: None,
        backoff: Arc::new(|attempt, rng| {
            let u = rng();
            assert!((0.0..1.0).contains(&u));
            secs(u64::from(attempt))
        }),
        ..config(ChskType::Ws)
    });
    let mut sock = s.connect_ws();
    s.close(sock, 1006, false);
    sock = only_socket(&s.drain());
    s.close(sock, 1006, false);
    s.advance(ms(1999));
    assert!(sockets(&s.drain()).is_empty());
    s.advance(ms(1));
    sock = only_socket(&s.drain());
    s.close(sock, 1006, false);
    s.advance(secs(3));
    assert_eq!(sockets(&s.drain()).len(), 1);
}

// ---- :auto downgrade -------------------------------------------------------

#[test]
fn auto_downgrades_to_ajax_on_a_ws_error_before_the_first_handshake() {
    let mut s = Sim::of(ChskType::Auto);
    let sock = s.connect_ws();
    s.core.ws_error(s.now, sock);
    let out = s.drain();
    assert_eq!(
        changes(&out)[0].new.last_ws_error,
        Some(LastWsError { udt: s.udt() })
    );
    assert_eq!(closes(&out), [(sock, 1000, "CLOSE_NORMAL")]);
    let (r1, handshake) = only_poll(&out);
    assert!(handshake);
    assert_eq!(s.core.transport(), Transport::Ajax);
    assert_eq!(last_close(&s), None, "it never opened");

    // The old socket's close is no longer ours.
    s.close(sock, 1006, false);
    assert!(s.drain().is_empty());
    assert_eq!(s.core.state().last_ws_close, None);

    s.poll_done(r1, Ok(HANDSHAKE));
    let out = s.drain();
    assert_eq!(s.core.state().chsk_type, ChskType::Ajax);
    assert_eq!(
        events(&out),
        [r#"[:chsk/handshake ["alice" nil {:x 1} true]]"#]
    );
    let (r2, handshake) = only_poll(&out);
    assert!(!handshake);

    // Never back to ws: an Ajax failure retries Ajax.
    s.poll_done(r2, Err(AjaxError::Status(502)));
    let out = s.drain();
    assert!(sockets(&out).is_empty());
    assert!(only_poll(&out).1);
    assert_eq!(last_close(&s), Some(CloseReason::Unexpected));
}

#[test]
fn auto_does_not_downgrade_once_the_ws_has_handshaken() {
    let mut s = Sim::of(ChskType::Auto);
    let s1 = s.open_ws();
    s.core.ws_error(s.now, s1);
    let out = s.drain();
    assert!(polls(&out).is_empty() && closes(&out).is_empty());
    s.close(s1, 1006, false);
    let s2 = only_socket(&s.drain());
    s.core.ws_error(s.now, s2);
    assert!(
        polls(&s.drain()).is_empty(),
        "the implementation has opened"
    );
    assert_eq!(s.core.transport(), Transport::Ws);
}

#[test]
fn auto_reconnect_starts_over_from_a_fresh_ws() {
    let mut s = Sim::of(ChskType::Auto);
    let s1 = s.connect_ws();
    s.core.ws_error(s.now, s1);
    let r1 = only_poll(&s.drain()).0;
    s.poll_done(r1, Ok(HANDSHAKE));
    let r2 = only_poll(&s.drain()).0;

    s.core.reconnect(s.now);
    let out = s.drain();
    assert_eq!(aborts(&out), [r2]);
    assert_eq!(last_close(&s), Some(CloseReason::RequestedReconnect));
    let s2 = only_socket(&out);
    assert_eq!(s.core.transport(), Transport::Ws);
    s.msg(s2, HANDSHAKE);
    let out = s.drain();
    assert_eq!(
        events(&out),
        [r#"[:chsk/handshake ["alice" nil {:x 1} true]]"#],
        "a fresh implementation: first? again"
    );
    assert!(
        !changes(&out)[0].first_open,
        "but not the state's first open"
    );

    // A fresh implementation can downgrade again.
    s.core.reconnect(s.now);
    let s3 = only_socket(&s.drain());
    s.core.ws_error(s.now, s3);
    assert!(only_poll(&s.drain()).1);
}

// ---- Disconnect, reconnect, break -----------------------------------------

#[test]
fn disconnect_stops_retries_and_stale_timers_do_nothing() {
    let mut s = Sim::of(ChskType::Ws);
    let s1 = s.open_ws();
    s.core.disconnect(s.now);
    let out = s.drain();
    assert_eq!(last_close(&s), Some(CloseReason::RequestedDisconnect));
    assert_eq!(closes(&out), [(s1, 1000, "CLOSE_NORMAL")]);
    // Its close is still recorded, but not retried.
    s.core.ws_closed(s.now, s1, 1000, "CLOSE_NORMAL", true);
    let out = s.drain();
    assert_eq!(changes(&out).len(), 1);
    assert_eq!(
        s.core.state().last_ws_close.as_ref().map(|c| c.code),
        Some(1000)
    );
    assert_eq!(last_close(&s), Some(CloseReason::RequestedDisconnect));
    assert!(sockets(&out).is_empty());
    s.advance(secs(3600));
    assert!(s.drain().is_empty(), "keep-alive timers are stale");
    assert_eq!(
        s.core.send(s.now, &ev("[:my/ev 1]")),
        Err(SendError::Closed)
    );

    // With a backoff wait pending.
    let mut s = Sim::of(ChskType::Ws);
    let s1 = s.connect_ws();
    s.close(s1, 1006, false);
    let s2 = only_socket(&s.drain());
    s.close(s2, 1006, false);
    s.drain();
    assert!(s.core.state().udt_next_reconnect.is_some());
    s.core.disconnect(s.now);
    let out = s.drain();
    assert_eq!(changes(&out)[0].new.udt_next_reconnect, None);
    assert!(closes(&out).is_empty(), "that socket is already closed");
    s.advance(secs(3600));
    assert!(s.drain().is_empty(), "the backoff timer is stale");
}

#[test]
fn reconnect_skips_a_pending_backoff() {
    let mut s = Sim::new(ClientConfig {
        ws_kalive: None,
        ..config(ChskType::Ws)
    });
    let s1 = s.connect_ws();
    s.close(s1, 1006, false);
    let s2 = only_socket(&s.drain());
    s.close(s2, 1006, false);
    s.drain();
    s.core.reconnect(s.now);
    let s3 = only_socket(&s.drain());
    s.advance(secs(60));
    assert!(s.drain().is_empty(), "the old backoff timer is stale");
    // The count restarted at 0: the next close retries at once.
    s.close(s3, 1006, false);
    assert_eq!(sockets(&s.drain()).len(), 1);
}

#[test]
fn break_connection_closing_the_ws_is_retried_as_a_close() {
    let mut s = Sim::of(ChskType::Ws);
    let s1 = s.open_ws();
    s.core.break_connection(s.now, true);
    let out = s.drain();
    assert_eq!(out.len(), 1);
    assert_eq!(closes(&out), [(s1, 3000, "CLOSE_ABNORMAL")]);
    assert!(s.core.state().open, "open until the close arrives");
    s.core.ws_closed(s.now, s1, 3000, "CLOSE_ABNORMAL", true);
    let out = s.drain();
    assert_eq!(last_close(&s), Some(CloseReason::Clean));
    assert_eq!(sockets(&out).len(), 1);
}

#[test]
fn break_connection_without_close_is_found_by_the_next_send() {
    let mut s = Sim::of(ChskType::Ws);
    let s1 = s.open_ws();
    s.core.break_connection(s.now, false);
    assert_eq!(closes(&s.drain()), [(s1, 3000, "CLOSE_ABNORMAL")]);
    s.core.ws_closed(s.now, s1, 3000, "CLOSE_ABNORMAL", true);
    assert!(s.drain().is_empty(), "a detached socket's close is ignored");
    assert!(s.core.state().open, "half-dead: still believed open");

    let id = s
        .core
        .send_with_reply(s.now, &ev("[:my/req 1]"), secs(5))
        .unwrap();
    let out = s.drain();
    assert!(matches!(out[0], Output::Reply { .. }));
    assert_eq!(replies(&out), [(id, Err(CallbackError::Error))]);
    assert_eq!(last_close(&s), Some(CloseReason::WsError));
    assert_eq!(sockets(&out).len(), 1);
}

#[test]
fn break_connection_without_close_is_found_by_the_keep_alive_ping() {
    let mut s = Sim::of(ChskType::Ws);
    s.open_ws();
    s.core.break_connection(s.now, false);
    s.drain();
    s.advance(secs(10));
    assert!(s.drain().is_empty(), "the handshake was traffic");
    s.advance(secs(10));
    let out = s.drain();
    assert_eq!(last_close(&s), Some(CloseReason::WsPingTimeout));
    assert_eq!(sockets(&out).len(), 1);
}

#[test]
fn break_connection_on_ajax_aborts_the_poll_and_retries() {
    let mut s = Sim::of(ChskType::Ajax);
    let r = s.open_ajax();
    s.core.break_connection(s.now, true);
    let out = s.drain();
    assert_eq!(aborts(&out), [r]);
    assert_eq!(last_close(&s), Some(CloseReason::Unexpected));
    let (r2, handshake) = only_poll(&out);
    assert!(handshake && r2 != r);
    s.poll_done(r, Ok(HANDSHAKE));
    assert!(s.drain().is_empty(), "the aborted poll's answer is ignored");
}

#[test]
fn a_failed_ws_write_reconnects_with_ws_error() {
    let mut s = Sim::of(ChskType::Ws);
    let s1 = s.open_ws();
    s.core.ws_send_failed(s.now, s1);
    let out = s.drain();
    assert_eq!(last_close(&s), Some(CloseReason::WsError));
    assert_eq!(closes(&out), [(s1, 1000, "CLOSE_NORMAL")]);
    let s2 = only_socket(&out);
    s.msg(s1, HANDSHAKE);
    assert!(
        s.drain().is_empty(),
        "frames of a replaced socket are ignored"
    );
    s.core.ws_send_failed(s.now, s1);
    assert!(s.drain().is_empty());
    s.msg(s2, HANDSHAKE);
    assert!(s.core.state().open);
}
