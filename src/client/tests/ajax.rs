//! The Ajax long-poll loop and POSTs.

use super::*;

// ---- Ajax --------------------------------------------------------------------

#[test]
fn ajax_poll_loop_handshakes_repolls_and_delivers() {
    let mut s = Sim::of(ChskType::Ajax);
    s.core.connect(s.now);
    let out = s.drain();
    assert!(matches!(
        out[..],
        [Output::AjaxPoll { handshake: true, udt, timeout, .. }]
            if udt == WALL_MS as i64 && timeout == secs(60)
    ));
    let r1 = only_poll(&out).0;

    s.poll_done(r1, Ok(HANDSHAKE));
    let out = s.drain();
    let c = &changes(&out)[0];
    assert!(c.opened && c.first_open && c.new.chsk_type == ChskType::Ajax);
    assert_eq!(
        events(&out),
        [r#"[:chsk/handshake ["alice" nil {:x 1} true]]"#]
    );
    let (r2, handshake) = only_poll(&out);
    assert!(!handshake);

    s.poll_done(r2, Ok("[:chsk/timeout nil]"));
    let out = s.drain();
    assert_eq!(out.len(), 1, "a long-poll timeout only repolls: {out:?}");
    let r3 = only_poll(&out).0;

    s.poll_done(r3, Err(AjaxError::Timeout));
    let out = s.drain();
    assert_eq!(out.len(), 1, "an XHR timeout only repolls: {out:?}");
    let r4 = only_poll(&out).0;

    s.poll_done(r4, Ok("[[[:my/a 1] [:my/b 2]] nil]"));
    let out = s.drain();
    assert!(matches!(out[0], Output::AjaxPoll { .. }), "repoll first");
    assert_eq!(events(&out), ["[:my/a 1]", "[:my/b 2]"]);
    let r5 = only_poll(&out).0;
    s.poll_done(r1, Ok("[[[:my/stale 1]] nil]"));
    assert!(s.drain().is_empty(), "an old request is ignored");

    // Errors: closed, retried at once, then after the backoff.
    s.poll_done(r5, Err(AjaxError::Status(500)));
    let out = s.drain();
    assert!(changes(&out)[0].closed);
    assert_eq!(last_close(&s), Some(CloseReason::Unexpected));
    let (r6, handshake) = only_poll(&out);
    assert!(handshake);
    s.poll_done(r6, Err(AjaxError::Network("refused".into())));
    let out = s.drain();
    assert!(polls(&out).is_empty());
    let wait = exp_backoff(2, &mut {
        let mut rng = XorShift64::new(SEED);
        move || rng.next_f64()
    });
    assert_eq!(
        s.core.state().udt_next_reconnect,
        Some(s.udt() + wait.as_millis() as i64)
    );
    s.advance(wait - ms(1));
    assert!(s.drain().is_empty());
    s.advance(ms(1));
    let r7 = only_poll(&s.drain()).0;
    s.poll_done(r7, Ok(HANDSHAKE));
    let out = s.drain();
    assert_eq!(
        events(&out),
        [r#"[:chsk/handshake ["alice" nil {:x 1} false]]"#]
    );
    assert_eq!(s.core.state().udt_next_reconnect, None);
}

#[test]
fn ajax_polls_time_out_in_the_core() {
    let mut s = Sim::of(ChskType::Ajax);
    let r = s.open_ajax();
    s.advance(secs(60) - ms(1));
    assert!(s.drain().is_empty());
    s.advance(ms(1));
    let out = s.drain();
    assert_eq!(aborts(&out), [r]);
    assert!(!only_poll(&out).1);
    assert!(changes(&out).is_empty(), "no state change");
}

#[test]
fn ajax_a_poll_body_that_does_not_unpack_is_a_failure() {
    let mut s = Sim::of(ChskType::Ajax);
    let r = s.open_ajax();
    // Unpacks (EDN reads "" as nil, as Clojure's reader does) but is no
    // batch: dropped, and the loop goes on, as in Sente.
    s.poll_done(r, Ok(""));
    let out = s.drain();
    assert!(changes(&out).is_empty() && events(&out).is_empty());
    let r = only_poll(&out).0;
    assert_eq!(s.core.stats().bad_messages, 1);
    // Does not unpack: a failure.
    s.poll_done(r, Ok("{not edn"));
    let out = s.drain();
    assert_eq!(last_close(&s), Some(CloseReason::Unexpected));
    assert!(only_poll(&out).1);
    assert_eq!(s.core.stats().bad_messages, 2);
}

#[test]
fn ajax_posts_reply_and_fail_as_sente_does() {
    let mut s = Sim::of(ChskType::Ajax);
    s.open_ajax();

    let id = s
        .core
        .send_with_reply(s.now, &ev("[:my/req {:n 1}]"), secs(5))
        .unwrap();
    let p = posts(&s.drain());
    assert_eq!(p[0].1, "[[:my/req {:n 1}] :ajax]");
    assert_eq!(p[0].2, secs(5));
    s.post_done(p[0].0, Ok("[{:ok true} nil]"));
    assert_eq!(replies(&s.drain()), [(id, Ok(v("{:ok true}")))]);

    s.core.send(s.now, &ev("[:my/ev 1]")).unwrap();
    let p = posts(&s.drain());
    assert_eq!((p[0].1.as_str(), p[0].2), ("[[:my/ev 1] nil]", secs(60)));
    s.post_done(p[0].0, Ok("[:chsk/dummy-cb-200 nil]"));
    assert!(s.drain().is_empty());
    s.core.send(s.now, &ev("[:my/ev 2]")).unwrap();
    let r = posts(&s.drain())[0].0;
    s.post_done(r, Ok("[:surprise nil]"));
    assert_eq!(s.core.stats().replies_without_callback, 1);

    // XHR timeout: chsk/timeout, state unchanged.
    let id = s
        .core
        .send_with_reply(s.now, &ev("[:my/req]"), secs(5))
        .unwrap();
    let r = posts(&s.drain())[0].0;
    s.post_done(r, Err(AjaxError::Timeout));
    let out = s.drain();
    assert_eq!(replies(&out), [(id, Err(CallbackError::Timeout))]);
    assert!(changes(&out).is_empty());

    // The core's own deadline does the same, aborting the request.
    let id = s
        .core
        .send_with_reply(s.now, &ev("[:my/req]"), secs(2))
        .unwrap();
    let r = posts(&s.drain())[0].0;
    s.advance(secs(2));
    let out = s.drain();
    assert_eq!(aborts(&out), [r]);
    assert_eq!(replies(&out), [(id, Err(CallbackError::Timeout))]);
    s.post_done(r, Ok("[:late nil]"));
    assert!(s.drain().is_empty());

    // Empty body: chsk/error, still open.
    let id = s
        .core
        .send_with_reply(s.now, &ev("[:my/req]"), secs(5))
        .unwrap();
    let r = posts(&s.drain())[0].0;
    s.post_done(r, Ok(""));
    assert_eq!(replies(&s.drain()), [(id, Err(CallbackError::Error))]);
    assert!(s.core.state().open);

    // Another error: closed (unexpected), then chsk/error.
    let id = s
        .core
        .send_with_reply(s.now, &ev("[:my/req]"), secs(5))
        .unwrap();
    let other = s
        .core
        .send_with_reply(s.now, &ev("[:my/req]"), secs(5))
        .unwrap();
    let p = posts(&s.drain());
    s.post_done(p[0].0, Err(AjaxError::Status(403)));
    let out = s.drain();
    assert!(matches!(out[0], Output::StateChanged(_)));
    assert_eq!(replies(&out), [(id, Err(CallbackError::Error))]);
    assert_eq!(last_close(&s), Some(CloseReason::Unexpected));
    // A POST that then succeeds opens the client again, as in Sente.
    s.post_done(p[1].0, Ok("[:ok nil]"));
    let out = s.drain();
    assert_eq!(replies(&out), [(other, Ok(Value::keyword("ok")))]);
    assert!(changes(&out)[0].opened);
}
