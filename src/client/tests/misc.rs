//! The debug aid, the clock, the configuration, backoff and reply values.

use super::*;

// ---- Debug aid, clock, config ------------------------------------------------

#[test]
fn bad_conn_rate_one_fails_every_connection() {
    let mut s = Sim::new(ClientConfig {
        bad_conn_rate: 1.0,
        ws_kalive: None,
        ..config(ChskType::Ws)
    });
    s.core.connect(s.now);
    s.advance(secs(24 * 3600));
    let out = s.drain();
    assert!(sockets(&out).is_empty());
    let st = s.core.state();
    assert!(!st.open && st.last_ws_error.is_some());
    assert_eq!(
        st.last_ws_close.as_ref().map(|c| (c.code, c.clean)),
        Some((1006, false))
    );
    assert!(
        s.core.stats().simulated_failures >= 10,
        "{:?}",
        s.core.stats()
    );

    // :auto downgrades, and Ajax fails too.
    let mut s = Sim::new(ClientConfig {
        bad_conn_rate: 1.0,
        ..config(ChskType::Auto)
    });
    s.core.connect(s.now);
    s.advance(secs(24 * 3600));
    let out = s.drain();
    assert!(sockets(&out).is_empty() && polls(&out).is_empty());
    assert_eq!(s.core.transport(), Transport::Ajax);
    assert!(s.core.stats().simulated_failures >= 10);
}

#[test]
fn bad_conn_rate_fails_ajax_sends_too() {
    let mut s = Sim::new(ClientConfig {
        bad_conn_rate: 0.5,
        ..config(ChskType::Ajax)
    });
    // Drive until open (polls may fail too), then send until one fails.
    s.core.connect(s.now);
    let mut opened = false;
    for _ in 0..200 {
        let out = s.drain();
        if let Some((r, _)) = polls(&out).first() {
            s.poll_done(*r, Ok(HANDSHAKE));
        } else {
            s.advance(secs(60));
        }
        if s.core.state().open {
            opened = true;
            break;
        }
    }
    assert!(opened);
    s.drain();
    let before = s.core.stats().simulated_failures;
    let mut failed = None;
    for _ in 0..64 {
        let id = s
            .core
            .send_with_reply(s.now, &ev("[:my/req]"), secs(5))
            .unwrap();
        let out = s.drain();
        if !replies(&out).is_empty() {
            failed = Some((id, out));
            break;
        }
    }
    let (id, out) = failed.expect("one send in 64 fails at rate 0.5");
    assert_eq!(replies(&out), [(id, Err(CallbackError::Error))]);
    assert!(posts(&out).is_empty());
    assert_eq!(last_close(&s), Some(CloseReason::Unexpected));
    assert!(s.core.stats().simulated_failures > before);
}

#[test]
fn udt_comes_from_the_wall_clock_base() {
    let mut s = Sim::of(ChskType::Ws);
    assert_eq!(s.udt(), WALL_MS as i64);
    let sock = s.connect_ws();
    s.advance(ms(1500));
    s.core.ws_error(s.now, sock);
    assert_eq!(
        s.core.state().last_ws_error,
        Some(LastWsError {
            udt: WALL_MS as i64 + 1500
        })
    );
    assert_eq!(
        s.core.udt(s.now - secs(2)),
        WALL_MS as i64 + 1500 - 2000,
        "before the base"
    );
}

#[test]
fn config_defaults_and_validation() {
    let c = ClientConfig::default();
    assert_eq!(c.chsk_type, ChskType::Auto);
    assert_eq!(c.ws_kalive, Some(secs(20)));
    assert_eq!(c.keep_alive_tick(), Some(secs(10)));
    assert_eq!(c.ws_ping_timeout, secs(5));
    assert_eq!(c.ajax_timeout, secs(60));
    assert_eq!(c.max_pending_callbacks, 1024);
    assert!(!c.wrap_recv_evs);
    assert_eq!(c.bad_conn_rate, 0.0);
    let id = uuid::Uuid::parse_str(&c.client_id).unwrap();
    assert_eq!((c.client_id.len(), id.get_version_num()), (36, 4));
    assert_ne!(c.client_id, ClientConfig::default().client_id);
    assert_eq!((c.backoff)(2, &mut || 0.0), secs(2));
    assert!(c.validate().is_ok());

    let bad = |f: fn(&mut ClientConfig)| {
        let mut c = ClientConfig::default();
        f(&mut c);
        c.validate().unwrap_err()
    };
    assert_eq!(
        bad(|c| c.client_id = " ".into()),
        ConfigError::BlankClientId
    );
    assert_eq!(
        bad(|c| c.ajax_timeout = Duration::ZERO),
        ConfigError::ZeroDuration("ajax_timeout")
    );
    assert_eq!(
        bad(|c| c.ws_kalive = Some(Duration::from_nanos(1))),
        ConfigError::ZeroDuration("ws_kalive")
    );
    assert_eq!(
        bad(|c| c.max_pending_callbacks = 0),
        ConfigError::PendingCallbacksOutOfRange(0)
    );
    assert_eq!(
        bad(|c| c.bad_conn_rate = 1.5),
        ConfigError::BadConnRate(1.5)
    );
    assert!(matches!(
        bad(|c| c.bad_conn_rate = f64::NAN),
        ConfigError::BadConnRate(_)
    ));
}

#[test]
fn exp_backoff_is_encores_formula_uncapped() {
    for n in 1..=40u32 {
        let b = 1u64 << n.min(36);
        assert_eq!(exp_backoff(n, &mut || 0.0), ms(b * 500));
        assert_eq!(exp_backoff(n, &mut || 0.25), ms(b * 625));
        assert!(exp_backoff(n, &mut || 0.999_999) < ms(b * 1000));
    }
    assert_eq!(exp_backoff(2, &mut || f64::NAN), ms(2000));
    let mut r = XorShift64::new(1);
    let draws: Vec<f64> = (0..1000).map(|_| r.next_f64()).collect();
    assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
    assert_eq!(XorShift64::new(9).next_u64(), XorShift64::new(9).next_u64());
    assert_ne!(
        XorShift64::new(9).next_u64(),
        XorShift64::new(10).next_u64()
    );
}

#[test]
fn callback_errors_map_to_sente_values() {
    for (e, kw) in [
        (CallbackError::Closed, "chsk/closed"),
        (CallbackError::Timeout, "chsk/timeout"),
        (CallbackError::Error, "chsk/error"),
    ] {
        assert_eq!(e.to_value(), Value::keyword(kw));
        assert_eq!(Value::from(e), Value::keyword(kw));
        assert_eq!(CallbackError::from_value(&Value::keyword(kw)), Some(e));
        assert_eq!(CallbackError::classify(Value::keyword(kw)), Err(e));
        assert_eq!(CallbackError::into_reply_value(Err(e)), Value::keyword(kw));
        assert_eq!(e.to_string(), format!(":{kw}"));
    }
    assert_eq!(CallbackError::classify(v("{:a 1}")), Ok(v("{:a 1}")));
    assert_eq!(CallbackError::from_value(&Value::from("pong")), None);
    assert_eq!(CallbackError::into_reply_value(Ok(v("1"))), v("1"));
}
