//! Hostile clients against the echo server over loopback. Each attack runs
//! while a canary client keeps echoing on a connection of its own: the
//! canary must see every reply, none later than [`CANARY_STALL`], and the
//! server must answer the attacker as documented (a status, a close code or
//! an event) and keep serving.

#![cfg(all(feature = "smol", feature = "edn"))]
#[path = "server/canary.rs"]
mod canary;
#[path = "server/harness.rs"]
mod harness;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use canary::Canary;
use harness::*;
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::net::TcpStream;

/// Writes `raw` and reads the response head (the connection stays open
/// for writing: the body may never come).
async fn status_of(stream: &mut TcpStream, raw: &[u8]) -> u16 {
    stream.write_all(raw).await.expect("write");
    within("a response head", async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(
                n > 0,
                "closed before a response: {:?}",
                String::from_utf8_lossy(&buf)
            );
            buf.extend_from_slice(&chunk[..n]);
            if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf);
                return head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .expect("a status");
            }
        }
    })
    .await
}

fn post_head(addr: SocketAddr, content_length: usize) -> String {
    format!(
        "POST /chsk HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {content_length}\r\n\r\n"
    )
}

#[test]
fn post_over_the_limit_is_refused_from_its_header() {
    smol::block_on(async {
        let s = start_echo(Backend::Smol, |o| o).await;
        let canary = Canary::start(s.addr).await;
        // 10 MB declared, none sent: answered 413 at once, not when (never)
        // the body arrives.
        let mut c = TcpStream::connect(s.addr).await.expect("connect");
        assert_eq!(
            status_of(&mut c, post_head(s.addr, 10_000_000).as_bytes()).await,
            413
        );
        canary.check().await;
    });
}

#[test]
fn a_slow_post_body_times_out_with_408() {
    smol::block_on(async {
        let s = start_echo(Backend::Smol, |o| {
            o.post_body_timeout(Duration::from_millis(300))
        })
        .await;
        let canary = Canary::start(s.addr).await;
        let mut c = TcpStream::connect(s.addr).await.expect("connect");
        let mut raw = post_head(s.addr, 100).into_bytes();
        raw.extend_from_slice(b"udt=1&clie");
        assert_eq!(status_of(&mut c, &raw).await, 408);
        canary.check().await;
    });
}

#[test]
fn unfinished_post_bodies_are_bounded_together() {
    smol::block_on(async {
        let s = start_echo(Backend::Smol, |o| {
            o.max_message_size(400_000)
                .max_pending_post_bytes(1_000_000)
                // A body the server takes but never gets ends in 408 soon.
                .post_body_timeout(Duration::from_secs(3))
        })
        .await;
        let canary = Canary::start(s.addr).await;
        // Two bodies of 400 kB declared, half sent, held open: 800 kB held.
        let mut held = Vec::new();
        for _ in 0..2 {
            let mut c = TcpStream::connect(s.addr).await.expect("connect");
            c.write_all(post_head(s.addr, 400_000).as_bytes())
                .await
                .expect("write");
            c.write_all(&vec![b'a'; 200_000]).await.expect("write");
            held.push(c);
        }
        // A third would pass 1 MB: 503 at once. Retried until the two are
        // counted (their headers may still be on their way).
        let deadline = Instant::now() + DEADLINE;
        loop {
            let mut c = TcpStream::connect(s.addr).await.expect("connect");
            let status = status_of(&mut c, post_head(s.addr, 400_000).as_bytes()).await;
            if status == 503 {
                break;
            }
            assert!(
                status == 408 || Instant::now() < deadline,
                "status {status}"
            );
        }
        // Smaller bodies still fit, and are served.
        let small = post_form(s.addr, &ppstr("c1", "[[:echo/echo 7] :ajax]"), "").await;
        assert_eq!((small.status, small.text()), (200, "[7 nil]"));
        // One of the held bodies goes away: there is room again.
        drop(held.pop());
        let deadline = Instant::now() + DEADLINE;
        loop {
            let mut c = TcpStream::connect(s.addr).await.expect("connect");
            if status_of(&mut c, post_head(s.addr, 400_000).as_bytes()).await != 503 {
                break;
            }
            assert!(Instant::now() < deadline, "the budget was not given back");
        }
        canary.check().await;
    });
}

/// Pushes events of `size` bytes to `uid` until the server lets the user go.
async fn push_until_gone(s: &TestServer, uid: &str, size: usize) -> usize {
    let uid = sente::Value::from(uid);
    let big = sente::Value::from("x".repeat(size));
    let ev = sente::Event::named("load/big", big).unwrap();
    let flush = sente::server::SendOptions { flush: true };
    let mut pushed = 0;
    within("the server to let the client go", async {
        while s.chsk.connected_uids().any.contains(&uid) {
            if s.chsk.send(&uid, ev.clone(), flush).unwrap_or(0) > 0 {
                pushed += 1;
            }
            smol::future::yield_now().await;
        }
    })
    .await;
    pushed
}

/// A client that never reads while the server pushes to it: its queue is
/// bounded in bytes, then it is closed with 1008 ahead of its backlog.
#[test]
fn a_client_that_never_reads_is_closed_with_1008() {
    smol::block_on(async {
        let s = start_echo(Backend::Smol, |o| {
            o.max_queued_bytes(1 << 20)
                .grace_ws(Duration::from_millis(50))
        })
        .await;
        let canary = Canary::start(s.addr).await;
        let (mut slow, _) = RawWs::open(s.addr, "uid=slow&client-id=slow-1").await;
        let pushed = push_until_gone(&s, "slow", 64 * 1024).await;
        assert!(pushed > 16, "{pushed} pushes");
        // Reading now: what the socket buffers held, then the close frame.
        let (data, code) = data_then_close(&mut slow).await;
        assert_eq!(code, Some(1008));
        assert!(data < pushed, "{data} of {pushed}");
        canary.check().await;
    });
}

/// A client that neither reads nor answers the keep-alive ping is closed at
/// the ping timeout, its close frame first, not behind what is queued (the
/// queue's bound is far from reached here).
#[test]
fn an_unresponsive_client_is_closed_at_its_ping_timeout() {
    smol::block_on(async {
        let s = start_echo(Backend::Smol, |o| {
            o.max_queued_bytes(1 << 30)
                // Two seconds of pushing before the ping timeout: far more than
                // the socket buffers hold (about 12 MiB on loopback here).
                .ws_kalive(Some(Duration::from_secs(2)))
                .ws_ping_timeout(Some(Duration::from_secs(1)))
                .grace_ws(Duration::from_millis(50))
        })
        .await;
        let canary = Canary::start(s.addr).await;
        let (mut stalled, _) = RawWs::open(s.addr, "uid=stalled&client-id=stalled-1").await;
        let pushed = push_until_gone(&s, "stalled", 64 * 1024).await;
        // What reached the client before the close is what the socket
        // buffers held when the server gave up, not the whole backlog.
        let (data, code) = data_then_close(&mut stalled).await;
        assert_eq!(code, Some(1000));
        eprintln!("{data} of {pushed} pushes reached the unresponsive client before its close");
        assert!(
            data < pushed / 2,
            "{data} of {pushed} pushes arrived before the close: it waited behind them"
        );
        canary.check().await;
    });
}

/// Reads data frames until a close frame: how many, and the close code.
async fn data_then_close(ws: &mut RawWs) -> (usize, Option<u16>) {
    let mut data = 0;
    loop {
        match ws.frame().await {
            Some((8, payload)) => {
                return (
                    data,
                    payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]])),
                );
            }
            Some((1 | 2, _)) => data += 1,
            Some(other) => panic!("unexpected frame {other:?}"),
            None => return (data, None),
        }
    }
}

/// A WebSocket upgrade with a version other than 13 gets 426 (with the
/// version it takes); a missing or malformed key gets 400.
#[test]
fn bad_websocket_upgrades_are_refused_before_the_upgrade() {
    smol::block_on(async {
        let s = start_echo(Backend::Smol, |o| o).await;
        let upgrade = |version: &str, key: &str| {
            format!("Upgrade: websocket\r\nConnection: Upgrade\r\n{version}{key}")
        };
        let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        let r = get(
            s.addr,
            "/chsk?client-id=c",
            &upgrade("Sec-WebSocket-Version: 8\r\n", key),
        )
        .await;
        assert_eq!(r.status, 426);
        assert!(
            r.head
                .to_ascii_lowercase()
                .contains("sec-websocket-version: 13"),
            "{}",
            r.head
        );
        let r = get(s.addr, "/chsk?client-id=c", &upgrade("", key)).await;
        assert_eq!(r.status, 426);
        let v13 = "Sec-WebSocket-Version: 13\r\n";
        for bad_key in [
            "",
            "Sec-WebSocket-Key: c2hvcnQ=\r\n",
            "Sec-WebSocket-Key: not base64!\r\n",
        ] {
            let r = get(s.addr, "/chsk?client-id=c", &upgrade(v13, bad_key)).await;
            assert_eq!(r.status, 400, "{bad_key:?}");
        }
        // The server still upgrades good requests.
        let (_ws, hs) = Ws::open(s.addr, "client-id=ok").await;
        assert!(hs.contains(":chsk/handshake"), "{hs}");
    });
}

/// A small deterministic generator for garbage.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = (self.next() as usize) % max_len;
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// Text made of EDN's own characters, so the reader goes deep into it.
    fn edn_text(&mut self, max_len: usize) -> String {
        const ALPHABET: &[u8] = b"[](){}#_:^\"\\ ,;abc123/.+-eEM N\n";
        let len = (self.next() as usize) % max_len;
        (0..len)
            .map(|_| ALPHABET[(self.next() as usize) % ALPHABET.len()] as char)
            .collect()
    }
}

/// Garbage text and binary frames to the EDN (text) packer: each is a bad
/// package at worst; the connection stays open and keeps echoing.
#[test]
fn garbage_and_binary_frames_leave_the_connection_working() {
    use async_tungstenite::tungstenite::Message;
    smol::block_on(async {
        let (s, events) = start_raw(Backend::Smol, echo::options()).await;
        let bad = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = bad.clone();
        smol::spawn(async move {
            while let Ok(msg) = events.recv().await {
                if msg.id().as_str() == "chsk/bad-package" {
                    counted.fetch_add(1, Ordering::AcqRel);
                }
                echo::handle(msg);
            }
        })
        .detach();
        let canary = Canary::start(s.addr).await;
        let (mut ws, _) = Ws::open(s.addr, "client-id=garbage").await;
        let mut rng = XorShift(0x5EED_5EED_1234_5678);
        let mut sent = 0;
        for round in 0..10 {
            for _ in 0..20 {
                let frame = if rng.next().is_multiple_of(3) {
                    Message::binary(rng.bytes(512))
                } else {
                    Message::text(rng.edn_text(512))
                };
                futures_util::SinkExt::send(&mut ws.0, frame)
                    .await
                    .expect("send");
                sent += 1;
            }
            ws.send(&format!(r#"[[:echo/echo {round}] "g{round:05}"]"#))
                .await;
            loop {
                let got = ws.recv().await.expect("the connection stays open");
                if got == format!(r#"[{round} "g{round:05}"]"#) {
                    break;
                }
                // Garbage that happened to be a valid event may be answered.
            }
        }
        assert!(
            bad.load(Ordering::Acquire) > sent / 2,
            "most garbage is a bad package"
        );
        canary.check().await;
    });
}

/// Ajax handshake then a held poll, as `uid`/`client_id`.
async fn held_poll(addr: SocketAddr, uid: &str, client_id: &str) -> smol::Task<HttpResponse> {
    let hs = get(
        addr,
        &format!("/chsk?client-id={client_id}&uid={uid}&handshake%3F=true"),
        "",
    )
    .await;
    assert_eq!(hs.status, 200, "{}", hs.text());
    let path = format!("/chsk?client-id={client_id}&uid={uid}");
    smol::spawn(async move { get(addr, &path, "").await })
}

/// Another user reusing a victim's client-id (over Ajax and WebSocket)
/// never receives the victim's pushes: clients are kept per user.
#[test]
fn a_foreign_client_id_never_sees_another_users_pushes() {
    smol::block_on(async {
        let s = start_echo(Backend::Smol, |o| o.lp_timeout(Duration::from_millis(800))).await;
        let alice = held_poll(s.addr, "alice", "shared").await;
        let mallory = held_poll(s.addr, "mallory", "shared").await;
        let (mut mallory_ws, _) = Ws::open(s.addr, "uid=mallory&client-id=shared").await;
        within("both polls held", async {
            let u = |n: &str| sente::Value::from(n);
            while !(s.chsk.connected_uids().ajax.contains(&u("alice"))
                && s.chsk.connected_uids().ajax.contains(&u("mallory")))
            {
                smol::future::yield_now().await;
            }
        })
        .await;
        let flush = sente::server::SendOptions { flush: true };
        let secret = sente::Event::named("secret/for-alice", 1).unwrap();
        assert_eq!(
            s.chsk.send(&sente::Value::from("alice"), secret, flush),
            Ok(1)
        );
        let got = within("alice's poll", alice).await;
        assert_eq!(got.text(), "[[[:secret/for-alice 1]] nil]");
        let got = within("mallory's poll", mallory).await;
        assert_eq!(
            got.text(),
            "[:chsk/timeout nil]",
            "mallory's poll only times out"
        );
        // Mallory's WebSocket saw nothing but what it asked for.
        mallory_ws.send(r#"[[:echo/echo "m"] "mm0001"]"#).await;
        assert_eq!(mallory_ws.recv().await.unwrap(), r#"["m" "mm0001"]"#);
    });
}

/// Fifty concurrent polls for one client-id: each new one answers the one
/// it replaces with `[:chsk/timeout nil]`; one is left held, and it gets
/// the next push.
#[test]
fn concurrent_polls_for_one_client_id_leave_one_held() {
    smol::block_on(async {
        let s = start_echo(Backend::Smol, |o| o).await;
        let hs = get(s.addr, "/chsk?client-id=one&uid=u&handshake%3F=true", "").await;
        assert_eq!(hs.status, 200);
        let (tx, rx) = async_channel::unbounded();
        for _ in 0..50 {
            let (addr, tx) = (s.addr, tx.clone());
            smol::spawn(async move {
                let _ = tx
                    .send(get(addr, "/chsk?client-id=one&uid=u", "").await)
                    .await;
            })
            .detach();
        }
        for _ in 0..49 {
            let r = within("a replaced poll's answer", rx.recv())
                .await
                .expect("an answer");
            assert_eq!((r.status, r.text()), (200, "[:chsk/timeout nil]"));
        }
        let flush = sente::server::SendOptions { flush: true };
        let ev = sente::Event::named("t/last", 1).unwrap();
        assert_eq!(
            s.chsk.send(&sente::Value::from("u"), ev, flush),
            Ok(1),
            "one client"
        );
        let r = within("the held poll's answer", rx.recv())
            .await
            .expect("an answer");
        assert_eq!((r.status, r.text()), (200, "[[[:t/last 1]] nil]"));
    });
}

/// Slowloris: connections that send their request headers a byte at a
/// time, and connections that never send anything. The server closes each
/// at its header timeout, and serves everyone else meanwhile.
#[test]
fn slowloris_and_idle_connections_are_closed_at_the_header_timeout() {
    use sente::runtimes::smol::{self as chsk_smol, ServeOptions};
    smol::block_on(async {
        let (chsk, events) = sente::server::ChannelSocketServer::new(
            Arc::new(sente::runtimes::smol::SmolRuntime),
            Arc::new(sente::packer::EdnPacker::new()),
            echo::options(),
        )
        .expect("options");
        smol::spawn(async move {
            while let Ok(msg) = events.recv().await {
                echo::handle(msg);
            }
        })
        .detach();
        let listener = smol::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let options = ServeOptions {
            header_read_timeout: Duration::from_secs(1),
            ..ServeOptions::default()
        };
        smol::spawn(chsk_smol::serve_with(
            listener,
            move |req| {
                let chsk = chsk.clone();
                async move { chsk_smol::handle(&chsk, req).await }
            },
            options,
            std::future::pending(),
        ))
        .detach();
        let canary = Canary::start(addr).await;
        // Both ends of every connection are in this process.
        let total = 1_200.min(fd_soft_limit().saturating_sub(300) / 2);
        let slow = total * 5 / 6;
        assert!(total >= 100, "too few descriptors to run this test");
        let (closed_tx, closed_rx) = async_channel::unbounded::<()>();
        let started = Instant::now();
        for i in 0..total {
            let stream = TcpStream::connect(addr).await.expect("connect");
            let tx = closed_tx.clone();
            smol::spawn(async move {
                let mut reader = stream.clone();
                let mut writer = stream;
                let request = b"GET /chsk?client-id=slow HTTP/1.1\r\nHost: x\r\nX-Pad: ";
                let trickle = async {
                    if i < slow {
                        for b in request.iter().cycle() {
                            if writer.write_all(&[*b]).await.is_err() {
                                break;
                            }
                            smol::Timer::after(Duration::from_millis(100)).await;
                        }
                    }
                    std::future::pending::<()>().await;
                };
                let closed = async {
                    let mut buf = [0u8; 512];
                    // The server's answer (if any) and then the end.
                    while reader.read(&mut buf).await.is_ok_and(|n| n > 0) {}
                };
                smol::future::or(closed, trickle).await;
                let _ = tx.send(()).await;
            })
            .detach();
        }
        for _ in 0..total {
            within(
                "every slow or idle connection to be closed",
                closed_rx.recv(),
            )
            .await
            .expect("a close");
        }
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(1),
            "closed before the timeout: {took:?}"
        );
        canary.check().await;
        eprintln!("{total} connections ({slow} slowloris) closed in {took:?}");
    });
}

/// With origins restricted, a cross-origin WebSocket upgrade (or one with
/// neither Origin nor Referer) is refused before the upgrade: cross-site
/// WebSocket hijacking.
#[test]
fn a_cross_origin_websocket_upgrade_is_refused() {
    use sente::server::{AllowedOrigins, CsrfCheck, ServerOptions};
    smol::block_on(async {
        let opts = ServerOptions::default()
            .csrf(CsrfCheck::Skip)
            .allowed_origins(AllowedOrigins::Only(vec!["http://site.com".into()]));
        let s = start_with(Backend::Smol, opts, |_| {}).await;
        let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
        for (origin, status) in [
            ("Origin: http://evil.com\r\n", 403),
            ("Origin: http://site.com.evil.com\r\n", 403),
            ("Referer: http://site.com.evil.com/x\r\n", 403),
            ("", 403),
        ] {
            let r = get(s.addr, "/chsk?client-id=c", &format!("{upgrade}{origin}")).await;
            assert_eq!(
                (r.status, r.text()),
                (status, "Unauthorized origin"),
                "{origin:?}"
            );
        }
        let (status, _, _) = http_head(
            s.addr,
            &format!("GET /chsk?client-id=c HTTP/1.1\r\nHost: x\r\n{upgrade}Origin: http://site.com\r\n\r\n"),
        )
        .await;
        assert_eq!(status, 101);
    });
}

/// A client-id reused by another user while its first user is within its
/// reconnect grace: the pushes kept for the first user stay with it, and
/// the other user's connection gets none of them.
#[test]
fn a_client_id_reused_by_another_user_gets_nothing_of_the_first() {
    smol::block_on(async {
        let s = start_echo(Backend::Smol, |o| o).await;
        let alice = sente::Value::from("alice");
        let (ws, _) = Ws::open(s.addr, "uid=alice&client-id=X").await;
        drop(ws);
        within("alice's channel to close", async {
            while s.chsk.open_channels(&alice) > 0 {
                smol::future::yield_now().await;
            }
        })
        .await;
        let (mut mallory, hs) = Ws::open(s.addr, "uid=mallory&client-id=X").await;
        assert!(hs.contains(r#""mallory""#), "{hs}");
        let flush = sente::server::SendOptions { flush: true };
        let secret = sente::Event::named("secret/for-alice", 1).unwrap();
        assert_eq!(
            s.chsk.send(&alice, secret, flush),
            Ok(1),
            "kept for alice's X"
        );
        mallory.send(r#"[[:echo/echo "m"] "mm0001"]"#).await;
        assert_eq!(
            mallory.recv().await.unwrap(),
            r#"["m" "mm0001"]"#,
            "no push first"
        );
        let (mut back, _) = Ws::open(s.addr, "uid=alice&client-id=X").await;
        assert_eq!(back.recv().await.unwrap(), "[[[:secret/for-alice 1]] nil]");
    });
}
