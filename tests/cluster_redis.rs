//! Server nodes on one real Redis (started by the test on a free loopback
//! port): the cluster scenarios of tests/cluster.rs, Redis killed and
//! restarted mid-test with nothing lost, a node away for longer than the
//! stream's window counts exactly what it missed, and a node that dies
//! without a word has its users expire.

#![cfg(all(feature = "smol", feature = "edn", feature = "redis"))]
#[path = "server/cluster_scenarios.rs"]
mod cluster_scenarios;
#[path = "server/harness.rs"]
mod harness;
#[path = "server/proxy.rs"]
mod proxy;
#[path = "server/redis_server.rs"]
mod redis_server;

use std::sync::Arc;
use std::time::Duration;

use cluster_scenarios::*;
use harness::*;
use redis_server::RedisServer;
use sente::Value;
use sente::server::SendOptions;
use sente::server::broker::{Broker, RedisBroker, RedisOptions};

/// Quick heartbeats, so that the tests wait little.
fn options(namespace: &str) -> RedisOptions {
    RedisOptions::default()
        .namespace(namespace)
        .heartbeat(Duration::from_millis(200))
        .node_ttl(Duration::from_millis(1_000))
        .read_block(Duration::from_millis(200))
}

fn brokers(redis: &RedisServer, namespace: &str, n: usize) -> Vec<Arc<dyn Broker>> {
    (0..n)
        .map(|_| {
            RedisBroker::new(&redis.url(), options(namespace)).expect("a URL") as Arc<dyn Broker>
        })
        .collect()
}

#[test]
fn three_nodes_on_redis() {
    let redis = RedisServer::start();
    smol::block_on(pushes_and_presence_span_the_nodes(brokers(
        &redis, "three", 3,
    )));
}

#[test]
fn ajax_on_any_node_on_redis() {
    let redis = RedisServer::start();
    smol::block_on(ajax_on_any_node(brokers(&redis, "ajax", 3)));
}

#[test]
fn a_websocket_moving_node_on_redis() {
    let redis = RedisServer::start();
    smol::block_on(a_websocket_moving_node_counts_what_it_left(brokers(
        &redis, "moving", 2,
    )));
}

#[test]
fn a_rust_ajax_client_behind_a_round_robin_balancer_on_redis() {
    let redis = RedisServer::start();
    smol::block_on(a_rust_ajax_client_behind_a_round_robin_balancer(brokers(
        &redis, "balancer", 3,
    )));
}

#[test]
fn uidports_once_per_cluster_on_redis() {
    let redis = RedisServer::start();
    smol::block_on(uidports_fire_once_per_cluster(brokers(
        &redis, "uidports", 2,
    )));
}

#[test]
fn redis_killed_and_restarted_mid_test_loses_nothing() {
    let mut redis = RedisServer::start();
    smol::block_on(async {
        let nodes = cluster(brokers(&redis, "restart", 2)).await;
        let (a, b) = (&nodes[0], &nodes[1]);
        let (mut ann, _) = Ws::open(b.addr, "uid=ann&client-id=ann-b").await;
        sees(&a.chsk, &["ann"]).await;
        a.chsk
            .send(&Value::from("ann"), news(0), SendOptions { flush: true })
            .expect("packs");
        assert_eq!(ann.recv().await.unwrap(), "[[[:test/news 0]] nil]");
        // Redis goes away; A keeps sending.
        let port = redis.port;
        redis.kill();
        for n in 1..=20 {
            a.chsk
                .send(&Value::from("ann"), news(n), SendOptions { flush: true })
                .expect("packs");
        }
        within("the broker to notice", async {
            while a.chsk.broker_stats().expect("a broker").connected {
                smol::Timer::after(Duration::from_millis(50)).await;
            }
        })
        .await;
        assert!(a.chsk.broker_stats().unwrap().unpublished_bytes > 0, "kept");
        // Back (empty: no persistence): every push arrives, in order.
        let _redis = RedisServer::start_on(port);
        for n in 1..=20 {
            let frame = within("a push after the restart", ann.recv())
                .await
                .unwrap();
            assert_eq!(
                frame,
                format!("[[[:test/news {n}]] nil]"),
                "in order, none lost"
            );
        }
        // A counts what it published once it has Redis's answer, which may
        // come after B has read the entries.
        within("A's count of what it published", async {
            while a.chsk.broker_stats().unwrap().published < 21 {
                smol::Timer::after(Duration::from_millis(5)).await;
            }
        })
        .await;
        let (sa, sb) = (
            a.chsk.broker_stats().unwrap(),
            b.chsk.broker_stats().unwrap(),
        );
        assert_eq!((sa.lost, sb.lost), (0, 0), "nothing lost: {sa:?} {sb:?}");
        assert_eq!(sa.published, 21);
        assert_eq!(sb.delivered, 21);
    });
}

/// The echo server example built by this `cargo test` (with `redis`).
fn echo_server_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    profile_dir
        .join("examples")
        .join(format!("echo_server{}", std::env::consts::EXE_SUFFIX))
}

/// A child process, killed when dropped (also when the test fails).
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A node in a process of its own, to be killed without a word.
fn node_process(redis: &RedisServer) -> (KillOnDrop, std::net::SocketAddr) {
    use std::io::BufRead;
    let binary = echo_server_binary();
    assert!(
        binary.is_file(),
        "no echo_server at {}: run the whole suite (`cargo test --all-features`)",
        binary.display()
    );
    let mut child = std::process::Command::new(binary)
        .args(["--port", "0", "--redis", &redis.url()])
        .env("SENTE_REDIS_NAMESPACE", "expire")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("echo_server starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("its first line");
    let addr = line
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|a| a.parse().ok())
        .expect("listening on 127.0.0.1:PORT");
    (KillOnDrop(child), addr)
}

#[test]
fn a_node_killed_without_a_word_has_its_users_expire_and_close() {
    let redis = RedisServer::start();
    smol::block_on(async {
        let (nodes, seen) = watched_cluster(brokers(&redis, "expire", 1)).await;
        let a = &nodes[0];
        let (mut child, addr) = node_process(&redis);
        let _zoe = Ws::open(addr, "uid=zoe&client-id=z").await;
        sees(&a.chsk, &["zoe"]).await;
        // Killed (SIGKILL): no goodbye, its presence is not renewed.
        child.0.kill().expect("kill");
        child.0.wait().expect("wait");
        let mut watch = a.chsk.watch_connected_uids();
        within("zoe to expire (node_ttl + a heartbeat)", async {
            loop {
                let now = watch.changed().await.expect("the server");
                if !now.any.contains(&Value::from("zoe")) {
                    return;
                }
            }
        })
        .await;
        // zoe's last node was the dead one: the cluster's close, once.
        assert_eq!(next_seen(&seen).await, r#"0: [:chsk/uidport-close "zoe"]"#);
    });
}

#[test]
fn a_node_away_past_the_window_counts_what_it_missed() {
    const TOTAL: i64 = 400;
    let redis = RedisServer::start();
    smol::block_on(async {
        let upstream: std::net::SocketAddr = ([127, 0, 0, 1], redis.port).into();
        let proxy = proxy::Proxy::start(upstream).await;
        let small = |namespace: &str| options(namespace).stream_len(10);
        let a = RedisBroker::new(&redis.url(), small("window")).expect("a URL");
        let b_url = format!("redis://{}/", proxy.addr);
        let b = RedisBroker::new(&b_url, small("window")).expect("a URL");
        let nodes = cluster(vec![a as Arc<dyn Broker>, b as Arc<dyn Broker>]).await;
        let (a, b) = (&nodes[0], &nodes[1]);
        let (mut ann, _) = Ws::open(b.addr, "uid=ann&client-id=ann-b").await;
        sees(&a.chsk, &["ann"]).await;
        let send = |n| {
            a.chsk
                .send(&Value::from("ann"), news(n), SendOptions { flush: true })
                .expect("packs")
        };
        send(0);
        assert_eq!(ann.recv().await.unwrap(), "[[[:test/news 0]] nil]");
        // B loses Redis while A publishes far more entries than the window
        // (one at a time: a node publishes what it has at once as one entry).
        proxy.cut();
        within("A to publish all", async {
            for n in 1..=TOTAL {
                send(n);
                while a.chsk.broker_stats().unwrap().published < n as u64 + 1 {
                    smol::Timer::after(Duration::from_millis(1)).await;
                }
            }
        })
        .await;
        proxy.restore(upstream);
        // B is back: it gets what the stream still holds, in order, and
        // counts the rest as lost. Nothing is silently missing.
        let mut received = 0u64;
        let mut last = 0;
        while last < TOTAL {
            let frame = within("the pushes after B is back", ann.recv())
                .await
                .unwrap();
            let n: i64 = frame
                .trim_start_matches("[[[:test/news ")
                .trim_end_matches("]] nil]")
                .parse()
                .expect("a news frame");
            assert!(n > last, "in order: {n} after {last}");
            last = n;
            received += 1;
        }
        let lost = b.chsk.broker_stats().unwrap().lost;
        assert!(
            received < TOTAL as u64,
            "the window is smaller than what was missed"
        );
        assert_eq!(
            lost + received,
            TOTAL as u64,
            "every push delivered or counted lost"
        );
    });
}

/// While Redis is unreachable an Ajax request cannot be placed in the
/// cluster: it is answered 503 (the client retries); once Redis is back, a
/// client it forgot (no persistence) gets a new handshake, as from a
/// restarted server, and works on any node again.
#[test]
fn ajax_while_redis_is_down_gets_503_then_works() {
    let mut redis = RedisServer::start();
    smol::block_on(async {
        let nodes = cluster(brokers(&redis, "ajax-down", 2)).await;
        let (a, b) = (&nodes[0], &nodes[1]);
        let hs = get(a.addr, "/chsk?client-id=ajx&handshake%3F=true", "").await;
        assert!(hs.text().contains(":chsk/handshake"), "{}", hs.text());
        let port = redis.port;
        redis.kill();
        let refused = get(b.addr, "/chsk?client-id=ajx", "").await;
        assert_eq!(
            (refused.status, refused.text()),
            (503, "Cluster unavailable")
        );
        let _redis = RedisServer::start_on(port);
        let again = within("a handshake once Redis is back", async {
            loop {
                let r = get(b.addr, "/chsk?client-id=ajx", "").await;
                if r.status == 200 {
                    return r;
                }
                smol::Timer::after(Duration::from_millis(50)).await;
            }
        })
        .await;
        assert!(again.text().contains(":chsk/handshake"), "{}", again.text());
        let poll = smol::spawn({
            let addr = a.addr;
            async move { get(addr, "/chsk?client-id=ajx", "").await }
        });
        holds_poll(&a.chsk, "ajx").await;
        b.chsk
            .send(&Value::from("ajx"), news(1), SendOptions { flush: true })
            .expect("packs");
        let answer = within("the push on A's poll", poll).await;
        assert!(
            answer.text().contains("[:test/news 1]"),
            "{}",
            answer.text()
        );
    });
}

/// An Ajax client's mailbox is bounded in bytes: pushes past the bound drop
/// the oldest, and the publishing node counts them.
#[test]
fn a_full_ajax_mailbox_drops_the_oldest_and_counts_them() {
    let redis = RedisServer::start();
    smol::block_on(async {
        let small = |_| {
            RedisBroker::new(&redis.url(), options("full").ajax_mailbox_bytes(100)).expect("a URL")
                as Arc<dyn Broker>
        };
        let nodes = cluster((0..2).map(small).collect()).await;
        let (a, b) = (&nodes[0], &nodes[1]);
        let hs = get(a.addr, "/chsk?client-id=ajx&handshake%3F=true", "").await;
        assert!(hs.text().contains(":chsk/handshake"), "{}", hs.text());
        for n in 0..20 {
            a.chsk
                .send(&Value::from("ajx"), news(n), SendOptions { flush: true })
                .expect("packs");
        }
        within("the pushes published", async {
            while a.chsk.broker_stats().unwrap().published < 20 {
                smol::Timer::after(Duration::from_millis(5)).await;
            }
        })
        .await;
        let lost = a.chsk.broker_stats().unwrap().lost;
        assert!(lost > 0, "some dropped");
        let poll = get(b.addr, "/chsk?client-id=ajx", "").await;
        let kept = poll.text().matches(":test/news").count() as u64;
        assert_eq!(kept + lost, 20, "kept or counted: {}", poll.text());
        assert!(poll.text().contains("[:test/news 19]"), "the newest kept");
    });
}

/// What a poll takes is held for it until settled: a take whose answer was
/// lost gives the same mail again, and an unsettled hold goes back to the
/// mailbox for the next poll, in order.
#[test]
fn ajax_mail_is_held_for_its_poll_until_settled() {
    let redis = RedisServer::start();
    smol::block_on(async {
        let brokers = brokers(&redis, "holds", 2);
        let broker_b = brokers[1].clone();
        let nodes = cluster(brokers).await;
        let (a, b) = (&nodes[0], &nodes[1]);
        let hs = get(a.addr, "/chsk?client-id=ajx&handshake%3F=true", "").await;
        assert!(hs.text().contains(":chsk/handshake"), "{}", hs.text());
        for n in [1, 2] {
            a.chsk
                .send(&Value::from("ajx"), news(n), SendOptions { flush: true })
                .expect("packs");
        }
        within("the pushes published", async {
            while a.chsk.broker_stats().unwrap().published < 2 {
                smol::Timer::after(Duration::from_millis(5)).await;
            }
        })
        .await;
        let uid = Value::from("ajx");
        let ids = |events: Vec<sente::Event>| -> Vec<String> {
            events.iter().map(|e| e.to_string()).collect()
        };
        let first = broker_b
            .take_mail(&uid, "ajx", "poll-1")
            .await
            .expect("Redis");
        assert_eq!(ids(first), ["[:test/news 1]", "[:test/news 2]"]);
        let again = broker_b
            .take_mail(&uid, "ajx", "poll-1")
            .await
            .expect("Redis");
        assert_eq!(
            ids(again),
            ["[:test/news 1]", "[:test/news 2]"],
            "held for the poll"
        );
        let other = broker_b
            .take_mail(&uid, "ajx", "poll-2")
            .await
            .expect("Redis");
        assert!(other.is_empty(), "not another poll's");
        broker_b
            .settle_mail(&uid, "ajx", "poll-1", false)
            .await
            .expect("Redis");
        let poll = get(b.addr, "/chsk?client-id=ajx", "").await;
        let text = poll.text();
        assert_eq!(text.matches(":test/news").count(), 2, "{text}");
        assert!(
            text.find("news 1") < text.find("news 2"),
            "in order: {text}"
        );
    });
}
