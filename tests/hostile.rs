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
        let s = start_echo(Backend::Smol, |_| {}).await;
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
            o.post_body_timeout = Duration::from_millis(300);
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
            o.max_message_size = 400_000;
            o.max_pending_post_bytes = 1_000_000;
            // A body the server takes but never gets ends in 408 soon.
            o.post_body_timeout = Duration::from_secs(3);
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

/// Pushes big events to `uid` until the server lets the user go.
async fn push_until_gone(s: &TestServer, uid: &str) -> usize {
    let uid = sente::Value::from(uid);
    let big = sente::Value::from("x".repeat(64 * 1024));
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
            o.max_queued_bytes = 1 << 20;
            o.config.grace_ws = Duration::from_millis(50);
        })
        .await;
        let canary = Canary::start(s.addr).await;
        let (mut slow, _) = RawWs::open(s.addr, "uid=slow&client-id=slow-1").await;
        let pushed = push_until_gone(&s, "slow").await;
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
            o.max_queued_bytes = 256 << 20;
            o.config.ws_kalive = Some(Duration::from_millis(400));
            o.config.ws_ping_timeout = Some(Duration::from_millis(300));
            o.config.grace_ws = Duration::from_millis(50);
        })
        .await;
        let canary = Canary::start(s.addr).await;
        let (mut stalled, _) = RawWs::open(s.addr, "uid=stalled&client-id=stalled-1").await;
        let pushed = push_until_gone(&s, "stalled").await;
        // What reached the client before the close is what the socket
        // buffers held when the server gave up, not the whole backlog.
        let (data, code) = data_then_close(&mut stalled).await;
        assert_eq!(code, Some(1000));
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
