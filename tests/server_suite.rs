//! The server over real loopback sockets: WebSocket and Ajax, pushes,
//! keep-alive, grace periods, every rejection path, bad input, the
//! transcripts of the real Sente. One suite, run against every server plug
//! (smol + hyper; async-std + tide with the `tide` feature; tokio + axum
//! with the `axum` feature).

#![cfg(all(feature = "smol", feature = "edn"))]
#[path = "server/harness.rs"]
mod harness;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_tungstenite::tungstenite::Message;
use harness::*;
use sente::server::{AllowedOrigins, CsrfCheck, ServerOptions, text_response};

async fn ws_handshake_then_events_with_and_without_reply(b: Backend) {
    let s = start_echo(b, |o| o).await;
    let (mut ws, hs) = Ws::open(s.addr, "client-id=ws-cid-1&csrf-token=").await;
    assert_eq!(hs, r#"[[:chsk/handshake ["ws-cid-1" nil nil]] nil]"#);
    ws.send(r#"[[:echo/echo {:n 1, :s "hi"}] "ab12cd"]"#).await;
    assert_eq!(ws.recv().await.unwrap(), r#"[{:n 1, :s "hi"} "ab12cd"]"#);
    // No reply asked: nothing comes back; the next reply is the next frame.
    ws.send("[[:echo/echo {:n 2}] nil]").await;
    ws.send(r#"[[:echo/echo 3] "c3"]"#).await;
    assert_eq!(ws.recv().await.unwrap(), r#"[3 "c3"]"#);
    // Sente <= 1.20's 1-element wrapper.
    ws.send("[[:echo/echo 5]]").await;
    ws.send(r#"[[:chsk/ws-ping] "p1ng00"]"#).await;
    assert_eq!(ws.recv().await.unwrap(), r#"["pong" "p1ng00"]"#);
}

async fn ws_uid_param_and_nil_uid(b: Backend) {
    let s = start_echo(b, |o| o).await;
    let (_ws, hs) = Ws::open(s.addr, "uid=jvm-user&client-id=jvm-cid-1").await;
    assert_eq!(hs, r#"[[:chsk/handshake ["jvm-user" nil nil]] nil]"#);
    let anon = start_with(b, ServerOptions::default().csrf(CsrfCheck::Skip), |_| {}).await;
    let (_ws, hs) = Ws::open(anon.addr, "client-id=c").await;
    assert_eq!(hs, "[[:chsk/handshake [:sente/nil-uid nil nil]] nil]");
}

async fn pushes_are_batched_and_flush_goes_at_once(b: Backend) {
    let s = start_echo(b, |o| o.send_buf_ws(Duration::from_millis(300))).await;
    let (mut ws, _) = Ws::open(s.addr, "client-id=c1").await;
    ws.send(r#"[[:echo/push {:x 42}] "pu5h01"]"#).await;
    ws.send(r#"[[:echo/push 2] "pu5h02"]"#).await;
    assert_eq!(ws.recv().await.unwrap(), r#"[:ok "pu5h01"]"#);
    assert_eq!(ws.recv().await.unwrap(), r#"[:ok "pu5h02"]"#);
    assert_eq!(
        ws.recv().await.unwrap(),
        "[[[:echo/pushed {:x 42}] [:echo/pushed 2]] nil]"
    );
    ws.send(r#"[[:echo/push-flush "now"] nil]"#).await;
    assert_eq!(ws.recv().await.unwrap(), r#"[[[:echo/pushed "now"]] nil]"#);
}

async fn a_push_reaches_every_tab_of_the_user(b: Backend) {
    let s = start_echo(b, |o| o).await;
    let (mut a, _) = Ws::open(s.addr, "uid=alice&client-id=tab-1").await;
    let (mut b, _) = Ws::open(s.addr, "uid=alice&client-id=tab-2").await;
    let (mut c, _) = Ws::open(s.addr, "uid=bob&client-id=tab-3").await;
    a.send(r#"[[:echo/uids] "u1"]"#).await;
    assert_eq!(
        a.recv().await.unwrap(),
        r#"[{:ws 2, :ajax 0, :any 2} "u1"]"#
    );
    a.send(r#"[[:echo/push-flush "hi"] nil]"#).await;
    assert_eq!(a.recv().await.unwrap(), r#"[[[:echo/pushed "hi"]] nil]"#);
    assert_eq!(b.recv().await.unwrap(), r#"[[[:echo/pushed "hi"]] nil]"#);
    c.send(r#"[[:echo/broadcast "all"] "b1"]"#).await;
    assert_eq!(c.recv().await.unwrap(), r#"[3 "b1"]"#);
    for ws in [&mut a, &mut b, &mut c] {
        assert_eq!(ws.recv().await.unwrap(), r#"[[[:echo/pushed "all"]] nil]"#);
    }
}

async fn ajax_handshake_post_poll_push_and_long_poll_timeout(b: Backend) {
    let s = start_echo(b, |o| o.lp_timeout(Duration::from_millis(300))).await;
    let addr = s.addr;
    let r = get(
        addr,
        "/chsk?udt=1795412763633&client-id=ajax-cid-1&handshake%3F=1",
        "X-CSRF-Token: \r\n",
    )
    .await;
    assert_eq!(
        (r.status, r.text()),
        (200, r#"[[:chsk/handshake ["ajax-cid-1" nil nil]] nil]"#)
    );
    let r = post_form(addr, "udt=1795412763633&client-id=ajax-cid-1&ppstr=%5B%5B%3Aecho%2Fecho+%7B%3An+1%2C+%3As+%22hi+there%22%7D%5D+%3Aajax%5D", "").await;
    assert_eq!(
        (r.status, r.text()),
        (200, r#"[{:n 1, :s "hi there"} nil]"#)
    );
    let r = post_form(
        addr,
        "udt=1795412763633&client-id=ajax-cid-1&ppstr=%5B%5B%3Aecho%2Fecho+%7B%3An+2%7D%5D+nil%5D",
        "",
    )
    .await;
    assert_eq!((r.status, r.text()), (200, "[:chsk/dummy-cb-200 nil]"));
    // Sente <= 1.20 markers.
    assert_eq!(
        post_form(addr, &ppstr("ajax-cid-1", "[[:echo/echo 9] 0]"), "")
            .await
            .text(),
        "[9 nil]"
    );
    assert_eq!(
        post_form(addr, &ppstr("ajax-cid-1", "[[:echo/echo 10]]"), "")
            .await
            .text(),
        "[:chsk/dummy-cb-200 nil]"
    );
    // A poll held while another connection triggers a push.
    let poll = smol::spawn(get(
        addr,
        "/chsk?udt=1795412763634&client-id=ajax-cid-1",
        "",
    ));
    smol::Timer::after(Duration::from_millis(50)).await;
    let r = post_form(addr, "udt=1795412763633&client-id=ajax-cid-1&ppstr=%5B%5B%3Aecho%2Fpush+%7B%3Ax+42%7D%5D+%3Aajax%5D", "").await;
    assert_eq!(r.text(), "[:ok nil]");
    let r = within("the poll", poll).await;
    assert_eq!(
        (r.status, r.text()),
        (200, "[[[:echo/pushed {:x 42}]] nil]")
    );
    // Nothing to push: the poll ends with the long-poll timeout.
    let r = get(addr, "/chsk?udt=1795412763635&client-id=ajax-cid-1", "").await;
    assert_eq!((r.status, r.text()), (200, "[:chsk/timeout nil]"));
}

async fn ajax_post_without_a_reply_times_out(b: Backend) {
    let s = start_echo(b, |o| o.lp_timeout(Duration::from_millis(200))).await;
    let r = post_form(s.addr, &ppstr("c", "[[:echo/unhandled 1] :ajax]"), "").await;
    assert_eq!((r.status, r.text()), (200, "[:chsk/timeout nil]"));
}

async fn pushes_to_an_ajax_client_between_polls_wait_for_its_next_poll(b: Backend) {
    let s = start_echo(b, |o| o).await;
    get(s.addr, "/chsk?client-id=c&handshake%3F=1", "").await;
    let r = post_form(s.addr, &ppstr("c", "[[:echo/push-flush 1] :ajax]"), "").await;
    assert_eq!(r.text(), "[:ok nil]");
    let r = get(s.addr, "/chsk?client-id=c", "").await;
    assert_eq!(
        r.text(),
        "[[[:echo/pushed 1]] nil]",
        "Sente loses this push after ~2-4 s of retries; we keep it"
    );
}

async fn keep_alive_ping_pong_and_ping_timeout_close(b: Backend) {
    let s = start_echo(b, |o| {
        o.ws_kalive(Some(Duration::from_millis(400)))
            .ws_ping_timeout(Some(Duration::from_millis(300)))
    })
    .await;
    let (mut ws, _) = Ws::open(s.addr, "client-id=ws-cid-nopong").await;
    assert_eq!(ws.recv().await.unwrap(), "[:chsk/ws-ping nil]");
    ws.send("[[:chsk/ws-pong] nil]").await;
    assert_eq!(
        ws.recv().await.unwrap(),
        "[:chsk/ws-ping nil]",
        "pinged again after another idle window"
    );
    // No answer this time: the server closes with 1000.
    match ws.recv_raw().await {
        Some(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 1000),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

async fn uidport_open_and_close_with_the_grace_period(b: Backend) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let (tx, rx) = async_channel::unbounded();
    let log = seen.clone();
    let mut opts = harness::echo::options();
    opts = opts.grace_ws(Duration::from_millis(200));
    let s = start_with(b, opts, move |msg| {
        if msg.id().namespace() == "chsk" {
            log.lock().unwrap().push(msg.event().to_string());
            let _ = tx.try_send(msg.event().to_string());
        }
    })
    .await;
    let (a, _) = Ws::open(s.addr, "uid=alice&client-id=tab-1").await;
    assert_eq!(
        within("open", rx.recv()).await.unwrap(),
        r#"[:chsk/uidport-open "alice"]"#
    );
    let (b, _) = Ws::open(s.addr, "uid=alice&client-id=tab-2").await;
    drop(a);
    // A reconnect of tab-1 within the grace period: no events.
    let (a2, _) = Ws::open(s.addr, "uid=alice&client-id=tab-1").await;
    drop(b);
    drop(a2);
    assert_eq!(
        within("close", rx.recv()).await.unwrap(),
        r#"[:chsk/uidport-close "alice"]"#
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [
            r#"[:chsk/uidport-open "alice"]"#,
            r#"[:chsk/uidport-close "alice"]"#
        ]
    );
    assert!(s.chsk.connected_uids().any.is_empty());
}

async fn bad_packages_and_bad_events_leave_the_connection_working(b: Backend) {
    let s = start_echo(b, |o| o).await;
    let (mut ws, _) = Ws::open(s.addr, "client-id=c").await;
    ws.send("{not edn").await;
    ws.send(r#"[[:no-namespace 1] "x"]"#).await;
    ws.send("[1 2 3]").await;
    ws.send(r#"[[:echo/echo 7] "after1"]"#).await;
    assert_eq!(ws.recv().await.unwrap(), r#"[7 "after1"]"#);
    let r = post_form(s.addr, &ppstr("c", "[[:echo/echo"), "").await;
    assert_eq!(r.status, 400);
    assert!(r.text().starts_with("Bad package"), "{}", r.text());
}

async fn oversized_messages_are_refused(b: Backend) {
    let s = start_echo(b, |o| o.max_message_size(1000)).await;
    let (mut ws, _) = Ws::open(s.addr, "client-id=c").await;
    ws.send(&format!(r#"[[:echo/echo "{}"] "big"]"#, "x".repeat(2000)))
        .await;
    match ws.recv_raw().await {
        Some(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 1009),
        other => panic!("expected a close, got {other:?}"),
    }
    // A frame claiming 2^40 bytes is refused on its header alone.
    let (mut raw, _) = RawWs::open(s.addr, "client-id=c2").await;
    let mut head = vec![0x82, 0x80 | 127];
    head.extend_from_slice(&(1u64 << 40).to_be_bytes());
    head.extend_from_slice(&[1, 2, 3, 4]);
    raw.send_bytes(&head).await;
    assert_eq!(raw.close_code().await, Some(1009));
    let r = post_form(
        s.addr,
        &ppstr(
            "c",
            &format!(r#"[[:echo/echo "{}"] :ajax]"#, "x".repeat(2000)),
        ),
        "",
    )
    .await;
    assert_eq!(r.status, 413);
}

async fn every_rejection_path_has_sente_status_and_body(b: Backend) {
    // Default options: CSRF required, and no token configured → 403 everywhere.
    let s = start_with(b, ServerOptions::default(), |_| {}).await;
    let ws = get(s.addr, "/chsk?client-id=c&csrf-token=x", "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2VudGUtcmVmLWtleS0xNg==\r\nSec-WebSocket-Version: 13\r\n").await;
    assert_eq!((ws.status, ws.text()), (403, "Bad CSRF token"));
    let ajax = get(
        s.addr,
        "/chsk?client-id=c&handshake%3F=1",
        "X-CSRF-Token: x\r\n",
    )
    .await;
    assert_eq!((ajax.status, ajax.text()), (403, "Bad CSRF token"));
    let post = post_form(s.addr, &ppstr("c", "[[:a/b] nil]"), "").await;
    assert_eq!((post.status, post.text()), (403, "Bad CSRF token"));

    let opts = ServerOptions::default()
        .csrf(CsrfCheck::Skip)
        .allowed_origins(AllowedOrigins::Only(vec!["http://site.com".into()]))
        .authorized_fn(|req| req.header("authorization") == Some("Bearer ok"));
    let s = start_with(b, opts, |_| {}).await;
    let r = get(
        s.addr,
        "/chsk?client-id=c&handshake%3F=1",
        "Origin: http://evil.com\r\n",
    )
    .await;
    assert_eq!((r.status, r.text()), (403, "Unauthorized origin"));
    let r = get(
        s.addr,
        "/chsk?client-id=c&handshake%3F=1",
        "Referer: http://site.com.evil.com/\r\n",
    )
    .await;
    assert_eq!(r.status, 403);
    let r = get(
        s.addr,
        "/chsk?client-id=c&handshake%3F=1",
        "Referer: http://site.com/app\r\n",
    )
    .await;
    assert_eq!((r.status, r.text()), (401, "Unauthorized request"));
    let r = get(
        s.addr,
        "/chsk?client-id=c&handshake%3F=1",
        "Origin: http://site.com\r\nAuthorization: Bearer ok\r\n",
    )
    .await;
    assert_eq!(r.status, 200);

    let opts = ServerOptions::default().reject_fn(|_| Some(text_response(429, "slow down")));
    let s = start_with(b, opts, |_| {}).await;
    let r = get(s.addr, "/chsk?client-id=c", "").await;
    assert_eq!((r.status, r.text()), (429, "slow down"));

    // With a CSRF token from the request's extensions, the right token passes.
    let opts =
        ServerOptions::default().csrf(CsrfCheck::Token(Arc::new(|_| Some("tok".to_owned()))));
    let s = start_with(b, opts, |_| {}).await;
    assert_eq!(
        get(
            s.addr,
            "/chsk?client-id=c&handshake%3F=1",
            "X-CSRF-Token: tok\r\n"
        )
        .await
        .status,
        200
    );
    assert_eq!(
        get(
            s.addr,
            "/chsk?client-id=c&handshake%3F=1",
            "X-CSRF-Token: bad\r\n"
        )
        .await
        .status,
        403
    );
    let (_ws, hs) = Ws::open(s.addr, "client-id=c&csrf-token=tok").await;
    assert!(hs.starts_with("[[:chsk/handshake"));
}

/// The raw requests of sente-transcripts.md, replayed byte for byte.
async fn transcript_requests_replayed_give_the_captured_responses(b: Backend) {
    let s = start_echo(b, |o| o.lp_timeout(Duration::from_millis(500))).await;
    let a = s.addr;
    let r = http(a, "GET /chsk?udt=1795412763633&client-id=ajax-cid-1&handshake%3F=1 HTTP/1.1\r\nHost: 127.0.0.1:8090\r\nAccept: */*\r\nX-CSRF-Token: \r\nConnection: close\r\n\r\n").await;
    assert_eq!(
        (r.status, r.text()),
        (200, r#"[[:chsk/handshake ["ajax-cid-1" nil nil]] nil]"#)
    );
    let r = http(a, "POST /chsk HTTP/1.1\r\nHost: 127.0.0.1:8090\r\nContent-Type: application/x-www-form-urlencoded\r\nX-CSRF-Token: \r\nContent-Length: 115\r\nConnection: close\r\n\r\nudt=1795412763633&client-id=ajax-cid-1&ppstr=%5B%5B%3Aecho%2Fecho+%7B%3An+1%2C+%3As+%22hi+there%22%7D%5D+%3Aajax%5D").await;
    assert_eq!(
        (r.status, r.text()),
        (200, r#"[{:n 1, :s "hi there"} nil]"#)
    );
    assert!(r.head.to_ascii_lowercase().contains("content-length: 27"));
    let r = http(a, "POST /chsk HTTP/1.1\r\nHost: 127.0.0.1:8090\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 88\r\nConnection: close\r\n\r\nudt=1795412763633&client-id=ajax-cid-1&ppstr=%5B%5B%3Aecho%2Fecho+%7B%3An+2%7D%5D+nil%5D").await;
    assert_eq!((r.status, r.text()), (200, "[:chsk/dummy-cb-200 nil]"));
    let r = http(a, "GET /chsk?udt=1795412763635&client-id=ajax-cid-1 HTTP/1.1\r\nHost: 127.0.0.1:8090\r\nConnection: close\r\n\r\n").await;
    assert_eq!((r.status, r.text()), (200, "[:chsk/timeout nil]"));
    let r = http(
        a,
        "GET /chsk?udt=1795412763633 HTTP/1.1\r\nHost: 127.0.0.1:8090\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.text(),
        "Client's Ring request doesn't have a client id. Does your server have the necessary keyword Ring middleware (`wrap-params` & `wrap-keyword-params`)?"
    );
    // The WebSocket upgrade of the transcript: same accept key.
    let (status, head, first) = http_head(a, "GET /chsk?client-id=ws-cid-1&csrf-token= HTTP/1.1\r\nHost: 127.0.0.1:8090\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2VudGUtcmVmLWtleS0xNg==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:8090\r\n\r\n").await;
    assert_eq!(status, 101);
    assert!(
        head.contains("sec-websocket-accept: qHdndWTKP1ofoaGQqNYPcZll+Ws="),
        "{head}"
    );
    // The first frame, byte for byte as http-kit sent it: text, FIN, unmasked, 44 bytes.
    let mut want = vec![0x81, 0x2c];
    want.extend_from_slice(br#"[[:chsk/handshake ["ws-cid-1" nil nil]] nil]"#);
    assert_eq!(first, want);
}

async fn connected_uids_can_be_watched(b: Backend) {
    let s = start_echo(b, |o| o.grace_ws(Duration::from_millis(100))).await;
    let mut watch = s.chsk.watch_connected_uids();
    let first = within("the first value", watch.changed()).await.unwrap();
    assert!(first.any.is_empty());
    let (ws, _) = Ws::open(s.addr, "uid=alice&client-id=c").await;
    let now = within("alice connecting", watch.changed()).await.unwrap();
    assert!(now.ws.contains(&sente::Value::from("alice")) && now.ajax.is_empty());
    drop(ws);
    let later = within("alice leaving", watch.changed()).await.unwrap();
    assert!(later.any.is_empty());
}

/// Sente's 1,000-slot sliding buffer loses events under a burst; ours stops
/// reading from the connection instead, and every event arrives, in order.
async fn a_burst_beyond_the_receive_buffer_loses_nothing(b: Backend) {
    let mut opts = harness::echo::options();
    opts = opts.recv_buffer(4);
    let (s, events) = start_raw(b, opts).await;
    let (mut ws, _) = Ws::open(s.addr, "client-id=burst").await;
    const N: i64 = 3000;
    for i in 0..N {
        ws.send(&format!("[[:load/ev {i}] nil]")).await;
    }
    let mut next = 0;
    while next < N {
        let msg = within("the next event", events.recv()).await.unwrap();
        if msg.id().as_str() == "load/ev" {
            assert_eq!(msg.data(), &sente::Value::from(next), "in order, none lost");
            next += 1;
        }
    }
}

/// A client that stops reading is closed once its send queue is full,
/// instead of holding server memory — even while the server's writes are
/// blocked on the full socket.
async fn a_slow_consumer_is_closed(b: Backend) {
    let s = start_echo(b, |o| {
        o.max_queued_bytes(8 * 64 * 1024)
            .grace_ws(Duration::from_millis(50))
    })
    .await;
    let (_ws, _) = Ws::open(s.addr, "uid=slow&client-id=slow").await;
    let uid = sente::Value::from("slow");
    let big = sente::Value::from("x".repeat(64 * 1024));
    let ev = sente::Event::named("load/big", big).unwrap();
    let flush = sente::server::SendOptions { flush: true };
    // The client reads nothing while the server pushes far more than the
    // socket buffers and the 8-frame queue hold; the server must let it go.
    within("the slow consumer to be dropped", async {
        while s.chsk.connected_uids().any.contains(&uid) {
            let _ = s.chsk.send(&uid, ev.clone(), flush);
            smol::Timer::after(Duration::from_millis(1)).await;
        }
    })
    .await;
}

/// A binary packer (gzip around EDN) gives binary frames and octet-stream
/// Ajax bodies, with `binary?=true` in the POST's query.
#[cfg(feature = "gzip")]
async fn binary_packers_use_binary_frames_and_bodies(b: Backend) {
    use sente::Packer;
    use sente::packer::{EdnPacker, GzipPacker, PackedRef};
    let packer = Arc::new(GzipPacker::new(EdnPacker::new()));
    let s = start_with_packer(
        b,
        packer.clone(),
        harness::echo::options(),
        harness::echo::handle,
    )
    .await;
    let unpack = |bytes: &[u8]| {
        packer
            .unpack(true, PackedRef::Binary(bytes))
            .unwrap()
            .to_string()
    };
    let pack = |edn: &str| match packer
        .pack(true, &sente::edn::from_str(edn).unwrap())
        .unwrap()
    {
        sente::Packed::Binary(b) => b,
        sente::Packed::Text(_) => panic!("gzip packs to bytes"),
    };
    let mut ws = Ws::connect(s.addr, "client-id=bin").await;
    let Some(Message::Binary(hs)) = ws.recv_raw().await else {
        panic!("a binary handshake")
    };
    assert_eq!(unpack(&hs), r#"[[:chsk/handshake ["bin" nil nil]] nil]"#);
    ws.0.send(Message::binary(pack(r#"[[:echo/echo {:big "x"}] "b1"]"#)))
        .await
        .unwrap();
    let Some(Message::Binary(reply)) = ws.recv_raw().await else {
        panic!("a binary reply")
    };
    assert_eq!(unpack(&reply), r#"[{:big "x"} "b1"]"#);
    let body = pack("[[:echo/echo 42] :ajax]");
    let mut req = format!(
        "POST /chsk?udt=1&client-id=bin&binary%3F=true HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    let r = http_bytes(s.addr, &req).await;
    assert_eq!(r.status, 200);
    assert!(
        r.head
            .to_ascii_lowercase()
            .contains("content-type: application/octet-stream")
    );
    assert_eq!(unpack(&r.body), "[42 nil]");
}

async fn ws_control_frames_fragments_and_protocol_errors(b: Backend) {
    let s = start_echo(b, |o| o).await;
    let (mut ws, (op, hs)) = RawWs::open(s.addr, "client-id=raw").await;
    assert_eq!(
        (op, hs.as_slice()),
        (1, &br#"[[:chsk/handshake ["raw" nil nil]] nil]"#[..])
    );
    // A ping is answered with a pong carrying its payload; a pong is ignored.
    ws.send_bytes(&client_frame(true, 0xA, b"unasked")).await;
    ws.send_bytes(&client_frame(true, 9, b"hello?")).await;
    assert_eq!(ws.frame().await, Some((0xA, b"hello?".to_vec())));
    // Two events in one write; then one event in three fragments with a
    // ping between them.
    let mut two = client_frame(true, 1, br#"[[:echo/echo 1] "e1"]"#);
    two.extend(client_frame(true, 1, br#"[[:echo/echo 2] "e2"]"#));
    ws.send_bytes(&two).await;
    assert_eq!(ws.frame().await, Some((1, br#"[1 "e1"]"#.to_vec())));
    assert_eq!(ws.frame().await, Some((1, br#"[2 "e2"]"#.to_vec())));
    // "héllo" with the two bytes of é in different fragments.
    let mut parts = client_frame(false, 1, b"[[:echo/echo \"h\xC3");
    parts.extend(client_frame(true, 9, b"p"));
    parts.extend(client_frame(false, 0, b"\xA9l"));
    parts.extend(client_frame(true, 0, br#"lo"] "e3"]"#));
    ws.send_bytes(&parts).await;
    assert_eq!(ws.frame().await, Some((0xA, b"p".to_vec())));
    assert_eq!(
        ws.frame().await,
        Some((1, r#"["héllo" "e3"]"#.as_bytes().to_vec()))
    );
    // The client's close is answered with its code, then the connection ends.
    ws.send_bytes(&client_frame(true, 8, &[0x03, 0xE8, b'b', b'y', b'e']))
        .await;
    assert_eq!(ws.frame().await, Some((8, vec![0x03, 0xE8])));
    assert_eq!(ws.frame().await, None);

    // Broken frames get the close code RFC 6455 calls for.
    let cases: [(&[u8], u16); 4] = [
        (&[0x81, 0x02, b'h', b'i'], 1002),             // unmasked
        (&client_frame(true, 1, &[0xC3, 0x28]), 1007), // text not UTF-8
        (&client_frame(true, 0x3, b"?"), 1002),        // unknown opcode
        (&client_frame(true, 0, b"orphan"), 1002),     // continuation alone
    ];
    for (bytes, code) in cases {
        let (mut ws, _) = RawWs::open(s.addr, "client-id=bad").await;
        ws.send_bytes(bytes).await;
        assert_eq!(ws.close_code().await, Some(code), "{bytes:02x?}");
        assert_eq!(ws.frame().await, None);
    }
}

async fn a_websocket_keeps_its_request_without_the_handshake_headers(b: Backend) {
    let s = start_with(b, ServerOptions::default().csrf(CsrfCheck::Skip), |msg| {
        if msg.id().as_str() == "test/headers" {
            let req = msg.request().expect("the upgrade request");
            let seen = |name: &str| req.header(name).unwrap_or("-").to_owned();
            let _ = msg.reply(sente::Value::from(format!(
                "{} {} {} {}",
                seen("x-app"),
                seen("host"),
                seen("sec-websocket-key"),
                req.param("client-id").unwrap_or("-")
            )));
        }
    })
    .await;
    let stream = smol::net::TcpStream::connect(s.addr).await.unwrap();
    let mut req = async_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("ws://{}/chsk?client-id=hdr", s.addr),
    )
    .unwrap();
    req.headers_mut()
        .insert("x-app", "sente-test".parse().unwrap());
    let (ws, _) = async_tungstenite::client_async(req, stream).await.unwrap();
    let mut ws = Ws(ws);
    ws.recv().await.expect("handshake");
    ws.send(r#"[[:test/headers] "h1"]"#).await;
    assert_eq!(
        ws.recv().await.unwrap(),
        format!(r#"["sente-test {} - hdr" "h1"]"#, s.addr)
    );
}

async fn a_websocket_over_the_per_user_limit_is_closed_with_1008(b: Backend) {
    let s = start_echo(b, |o| o.max_clients_per_uid(1)).await;
    let (_first, (op, _)) = RawWs::open(s.addr, "uid=u&client-id=a").await;
    assert_eq!(op, 1, "the first tab gets its handshake");
    let (mut second, (op, payload)) = RawWs::open(s.addr, "uid=u&client-id=b").await;
    assert_eq!((op, &payload[..2]), (8, &1008u16.to_be_bytes()[..]));
    assert_eq!(second.frame().await, None, "then the connection ends");
}

/// `shutdown`: new requests get 503, buffered pushes are flushed to
/// WebSockets and held polls, a POST's reply still arrives within the
/// drain, WebSockets close with 1001, and the event stream ends.
async fn a_graceful_shutdown_loses_nothing_it_held(b: Backend) {
    let mut opts = echo::options();
    opts = opts.send_buf_ws(Duration::from_secs(10));
    opts = opts.send_buf_ajax(Duration::from_secs(10));
    let (s, events) = start_raw(b, opts).await;
    let (mut ws, _) = Ws::open(s.addr, "client-id=a").await;
    let hs = get(s.addr, "/chsk?client-id=b&handshake%3F=true", "").await;
    assert_eq!(hs.status, 200);
    let addr = s.addr;
    let poll = smol::spawn(async move { get(addr, "/chsk?client-id=b", "").await });
    let post =
        smol::spawn(
            async move { post_form(addr, &ppstr("c", "[[:echo/echo 9] :ajax]"), "").await },
        );
    // The POST's event, held by the "handler" (this test) for now.
    let held = within("the POST's event", async {
        loop {
            let msg = events.recv().await.expect("an event");
            if msg.id().as_str() == "echo/echo" {
                return msg;
            }
        }
    })
    .await;
    // The poll is held too once b is connected on Ajax.
    within("b's poll", async {
        while !s
            .chsk
            .connected_uids()
            .ajax
            .contains(&sente::Value::from("b"))
        {
            smol::future::yield_now().await;
        }
    })
    .await;
    let ev = |n: i64| sente::Event::named("t/x", n).unwrap();
    let buffered = sente::server::SendOptions::default();
    assert_eq!(
        s.chsk.send(&sente::Value::from("a"), ev(1), buffered),
        Ok(1)
    );
    assert_eq!(
        s.chsk.send(&sente::Value::from("b"), ev(2), buffered),
        Ok(1)
    );
    let chsk = s.chsk.clone();
    let stopping = s.chsk.on_shutdown();
    let shutdown = smol::spawn(async move { chsk.shutdown(Duration::from_secs(5)).await });
    within("on_shutdown", stopping).await;
    assert!(s.chsk.is_shutting_down());
    let refused = get(s.addr, "/chsk?client-id=d&handshake%3F=true", "").await;
    assert_eq!(
        (refused.status, refused.text()),
        (503, "Server shutting down")
    );
    // The buffered pushes are flushed: to the WebSocket, and to the poll.
    assert_eq!(ws.recv().await.unwrap(), "[[[:t/x 1]] nil]");
    let polled = within("the poll's answer", poll).await;
    assert_eq!((polled.status, polled.text()), (200, "[[[:t/x 2]] nil]"));
    // The handler still answers within the drain.
    assert_eq!(held.reply(sente::Value::from(9)), Ok(true));
    let posted = within("the POST's answer", post).await;
    assert_eq!((posted.status, posted.text()), (200, "[9 nil]"));
    match ws.recv_raw().await {
        Some(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected a close frame, got {other:?}"),
    }
    drop(ws);
    within("the shutdown", shutdown).await;
    within("the end of the event stream", async {
        while events.recv().await.is_ok() {}
    })
    .await;
}

/// `echo/broadcast` reaches every client of every user exactly once;
/// `echo/tab` reaches the sender's tab only.
async fn a_broadcast_reaches_every_client_once_and_a_tab_push_one_tab(b: Backend) {
    let s = start_echo(b, |o| o).await;
    let mut tabs = Vec::new();
    for (uid, tab) in [("ann", "t1"), ("ann", "t2"), ("bob", "t1"), ("cy", "t1")] {
        let (ws, _) = Ws::open(s.addr, &format!("uid={uid}&client-id={uid}-{tab}")).await;
        tabs.push(ws);
    }
    tabs[3].send(r#"[[:echo/broadcast "hi"] "bc0001"]"#).await;
    let mut replied = false;
    for (i, ws) in tabs.iter_mut().enumerate() {
        let mut got = Vec::new();
        while got.len() < 1 + usize::from(i == 3) {
            got.push(ws.recv().await.expect("a frame"));
        }
        replied |= got.iter().any(|f| f == r#"[4 "bc0001"]"#);
        assert_eq!(
            got.iter()
                .filter(|f| f.as_str() == r#"[[[:echo/pushed "hi"]] nil]"#)
                .count(),
            1,
            "tab {i}: {got:?}"
        );
    }
    assert!(replied, "the sender heard 4 connections were reached");
    tabs[0].send(r#"[[:echo/tab "mine"] "tb0001"]"#).await;
    // The push goes at once, before the handler's reply.
    assert_eq!(
        tabs[0].recv().await.unwrap(),
        r#"[[[:echo/pushed "mine"]] nil]"#
    );
    assert_eq!(tabs[0].recv().await.unwrap(), r#"[true "tb0001"]"#);
    // The other tab of the same user got nothing: its next frame is its own echo.
    tabs[1].send(r#"[[:echo/echo 2] "e00002"]"#).await;
    assert_eq!(tabs[1].recv().await.unwrap(), r#"[2 "e00002"]"#);
}

macro_rules! suite {
    ($backend:ident: $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                smol::block_on(super::$name(super::harness::Backend::$backend));
            }
        )*
        #[cfg(feature = "gzip")]
        #[test]
        fn binary_packers_use_binary_frames_and_bodies() {
            smol::block_on(super::binary_packers_use_binary_frames_and_bodies(super::harness::Backend::$backend));
        }
    };
}

mod smol_hyper {
    suite!(Smol: ws_handshake_then_events_with_and_without_reply, ws_uid_param_and_nil_uid, pushes_are_batched_and_flush_goes_at_once, a_push_reaches_every_tab_of_the_user, ajax_handshake_post_poll_push_and_long_poll_timeout, ajax_post_without_a_reply_times_out, pushes_to_an_ajax_client_between_polls_wait_for_its_next_poll, keep_alive_ping_pong_and_ping_timeout_close, uidport_open_and_close_with_the_grace_period, bad_packages_and_bad_events_leave_the_connection_working, oversized_messages_are_refused, every_rejection_path_has_sente_status_and_body, transcript_requests_replayed_give_the_captured_responses, connected_uids_can_be_watched, a_burst_beyond_the_receive_buffer_loses_nothing, a_slow_consumer_is_closed, ws_control_frames_fragments_and_protocol_errors, a_websocket_keeps_its_request_without_the_handshake_headers, a_websocket_over_the_per_user_limit_is_closed_with_1008, a_graceful_shutdown_loses_nothing_it_held, a_broadcast_reaches_every_client_once_and_a_tab_push_one_tab);
}

#[cfg(feature = "tide")]
mod async_std_tide {
    suite!(Tide: ws_handshake_then_events_with_and_without_reply, ws_uid_param_and_nil_uid, pushes_are_batched_and_flush_goes_at_once, a_push_reaches_every_tab_of_the_user, ajax_handshake_post_poll_push_and_long_poll_timeout, ajax_post_without_a_reply_times_out, pushes_to_an_ajax_client_between_polls_wait_for_its_next_poll, keep_alive_ping_pong_and_ping_timeout_close, uidport_open_and_close_with_the_grace_period, bad_packages_and_bad_events_leave_the_connection_working, oversized_messages_are_refused, every_rejection_path_has_sente_status_and_body, transcript_requests_replayed_give_the_captured_responses, connected_uids_can_be_watched, a_burst_beyond_the_receive_buffer_loses_nothing, a_slow_consumer_is_closed, ws_control_frames_fragments_and_protocol_errors, a_websocket_keeps_its_request_without_the_handshake_headers, a_websocket_over_the_per_user_limit_is_closed_with_1008, a_graceful_shutdown_loses_nothing_it_held, a_broadcast_reaches_every_client_once_and_a_tab_push_one_tab);
}

#[cfg(feature = "axum")]
mod tokio_axum {
    suite!(Axum: ws_handshake_then_events_with_and_without_reply, ws_uid_param_and_nil_uid, pushes_are_batched_and_flush_goes_at_once, a_push_reaches_every_tab_of_the_user, ajax_handshake_post_poll_push_and_long_poll_timeout, ajax_post_without_a_reply_times_out, pushes_to_an_ajax_client_between_polls_wait_for_its_next_poll, keep_alive_ping_pong_and_ping_timeout_close, uidport_open_and_close_with_the_grace_period, bad_packages_and_bad_events_leave_the_connection_working, oversized_messages_are_refused, every_rejection_path_has_sente_status_and_body, transcript_requests_replayed_give_the_captured_responses, connected_uids_can_be_watched, a_burst_beyond_the_receive_buffer_loses_nothing, a_slow_consumer_is_closed, ws_control_frames_fragments_and_protocol_errors, a_websocket_keeps_its_request_without_the_handshake_headers, a_websocket_over_the_per_user_limit_is_closed_with_1008, a_graceful_shutdown_loses_nothing_it_held, a_broadcast_reaches_every_client_once_and_a_tab_push_one_tab);
}
