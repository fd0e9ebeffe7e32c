//! Leaks: thousands of connect/disconnect cycles over WebSocket and Ajax
//! leave the server's registry, connected uids, timers, routes and buffers
//! back at zero once the grace periods have passed. The RSS before and
//! after is printed (memory is measured, not asserted: see BENCHMARKS.md).
//! `SENTE_LEAK_CYCLES` sets the cycles per transport (default 2,000).

#![cfg(all(feature = "smol", feature = "edn"))]
#[path = "server/harness.rs"]
mod harness;

use std::time::Duration;

use harness::*;
use sente::server::ServerStats;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

#[test]
fn connect_disconnect_cycles_leave_nothing_behind() {
    let cycles: usize = std::env::var("SENTE_LEAK_CYCLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    smol::block_on(async {
        let s = start_echo(Backend::Smol, |o| {
            o.grace_ws(Duration::from_millis(20))
                .grace_ajax(Duration::from_millis(20))
        })
        .await;
        let run = |from: usize, to: usize| {
            let addr = s.addr;
            async move {
                for i in from..to {
                    // A WebSocket: handshake, one echo with a push, gone.
                    let (mut ws, _) =
                        Ws::open(addr, &format!("uid=u{}&client-id=w{i}", i % 97)).await;
                    ws.send(r#"[[:echo/push-flush 1] "p00001"]"#).await;
                    ws.recv().await.expect("a reply or the push");
                    drop(ws);
                    // Ajax: handshake, a POST with a reply, gone between polls.
                    let hs = get(
                        addr,
                        &format!("/chsk?client-id=a{i}&uid=v{}&handshake%3F=true", i % 89),
                        "",
                    )
                    .await;
                    assert_eq!(hs.status, 200);
                    let post =
                        post_form(addr, &ppstr(&format!("a{i}"), "[[:echo/echo 1] :ajax]"), "")
                            .await;
                    assert_eq!(post.text(), "[1 nil]");
                }
            }
        };
        // Warm up (allocator pools, per-thread buffers), then measure.
        run(0, 200).await;
        settle(&s).await;
        let before = rss_kib();
        let start = std::time::Instant::now();
        run(200, 200 + cycles).await;
        let stats = settle(&s).await;
        let after = rss_kib();
        eprintln!(
            "{cycles} WebSocket + {cycles} Ajax cycles in {:?}: RSS {before} KiB → {after} KiB; {stats:?}",
            start.elapsed()
        );
    });
}

/// Waits until every grace period has passed and the server holds nothing.
async fn settle(s: &TestServer) -> ServerStats {
    let deadline = std::time::Instant::now() + DEADLINE;
    loop {
        let stats = s.chsk.stats();
        // What it counted is history, not something it holds.
        let held = ServerStats {
            pushes_dropped: 0,
            ..stats
        };
        if held == ServerStats::default() {
            return stats;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server still holds {stats:?}"
        );
        smol::Timer::after(Duration::from_millis(20)).await;
    }
}
