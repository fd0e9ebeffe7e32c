//! Server nodes on one real Redis (started by the test on a free loopback
//! port): the cluster scenarios of tests/cluster.rs, Redis killed and
//! restarted mid-test with nothing lost, and a node that dies without a
//! word has its users expire.

#![cfg(all(feature = "smol", feature = "edn", feature = "redis"))]
#[path = "server/cluster_scenarios.rs"]
mod cluster_scenarios;
#[path = "server/harness.rs"]
mod harness;
#[path = "server/redis_server.rs"]
mod redis_server;

use std::sync::{Arc, Weak};
use std::time::Duration;

use cluster_scenarios::*;
use harness::*;
use redis_server::RedisServer;
use sente::Value;
use sente::server::broker::{Broker, ClusterNode, ClusterPush, RedisBroker, RedisOptions};
use sente::server::{ConnectedUids, SendOptions};

/// Quick heartbeats, so that the tests wait little.
fn options(namespace: &str) -> RedisOptions {
    RedisOptions {
        namespace: namespace.into(),
        heartbeat: Duration::from_millis(200),
        node_ttl: Duration::from_millis(1_000),
        read_block: Duration::from_millis(200),
        ..RedisOptions::default()
    }
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
        let (sa, sb) = (
            a.chsk.broker_stats().unwrap(),
            b.chsk.broker_stats().unwrap(),
        );
        assert_eq!((sa.lost, sb.lost), (0, 0), "nothing lost: {sa:?} {sb:?}");
        assert_eq!(sa.published, 21);
        assert_eq!(sb.delivered, 21);
    });
}

/// A node with one user and no server: it dies when dropped, without a word.
struct FakeNode {
    uids: ConnectedUids,
}

impl ClusterNode for FakeNode {
    fn deliver(&self, _: ClusterPush) {}
    fn remote_presence_changed(&self) {}
    fn local_uids(&self) -> ConnectedUids {
        self.uids.clone()
    }
}

#[test]
fn a_node_that_dies_without_a_word_has_its_users_expire() {
    let redis = RedisServer::start();
    smol::block_on(async {
        let nodes = cluster(brokers(&redis, "expire", 1)).await;
        let a = &nodes[0];
        // The dying node: a broker whose node reports "zoe".
        let mut uids = ConnectedUids::default();
        uids.ws.insert(Value::from("zoe"));
        uids.any.insert(Value::from("zoe"));
        let node: Arc<dyn ClusterNode> = Arc::new(FakeNode { uids });
        let broker = RedisBroker::new(&redis.url(), options("expire")).expect("a URL");
        let runtime: Arc<dyn sente::runtime::Runtime> =
            Arc::new(sente::runtimes::smol::SmolRuntime);
        broker
            .clone()
            .start(runtime, Arc::downgrade(&node) as Weak<dyn ClusterNode>);
        sees(&a.chsk, &["zoe"]).await;
        // It dies: its tasks stop with it, its presence is not renewed.
        drop((node, broker));
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
    });
}
