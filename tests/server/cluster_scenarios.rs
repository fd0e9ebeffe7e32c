//! The cluster scenarios every broker runs (tests/cluster.rs on the
//! in-process broker, tests/cluster_redis.rs on Redis).
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use super::harness::*;
use sente::server::broker::Broker;
use sente::server::{ChannelSocketServer, SendOptions};
use sente::{Event, Value};

pub async fn cluster(brokers: Vec<Arc<dyn Broker>>) -> Vec<TestServer> {
    let mut nodes = Vec::new();
    for broker in brokers {
        let node = start_echo(Backend::Smol, |o| *o = o.clone().broker(broker)).await;
        nodes.push(node);
    }
    nodes
}

pub fn news(n: i64) -> Event {
    Event::named("test/news", Value::from(n)).expect("an id")
}

/// Waits until `node` sees `uids` connected, cluster-wide.
pub async fn sees(node: &ChannelSocketServer, uids: &[&str]) {
    let mut watch = node.watch_connected_uids();
    within("the cluster's users", async {
        loop {
            let now = watch.changed().await.expect("the server");
            if uids.iter().all(|u| now.any.contains(&Value::from(*u))) {
                return;
            }
        }
    })
    .await;
}

pub async fn pushes_and_presence_span_the_nodes(brokers: Vec<Arc<dyn Broker>>) {
    let nodes = cluster(brokers).await;
    let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);
    let (mut ann_a, _) = Ws::open(a.addr, "uid=ann&client-id=ann-a").await;
    let (mut ann_b, _) = Ws::open(b.addr, "uid=ann&client-id=ann-b").await;
    let (mut bob_c, _) = Ws::open(c.addr, "uid=bob&client-id=bob-c").await;
    for node in &nodes {
        sees(&node.chsk, &["ann", "bob"]).await;
    }
    // A push from C reaches ann's tabs on A and B, once each.
    let here = c
        .chsk
        .send(&Value::from("ann"), news(1), SendOptions { flush: true })
        .expect("packs");
    assert_eq!(here, 0, "ann has no tab on C");
    for tab in [&mut ann_a, &mut ann_b] {
        assert_eq!(tab.recv().await.unwrap(), "[[[:test/news 1]] nil]");
    }
    // A broadcast from B reaches every client of every node exactly once.
    b.chsk
        .broadcast(news(2), SendOptions { flush: true })
        .expect("packs");
    for tab in [&mut ann_a, &mut ann_b, &mut bob_c] {
        assert_eq!(tab.recv().await.unwrap(), "[[[:test/news 2]] nil]");
    }
    // To one tab, from another node; then to several users.
    a.chsk
        .send_to_client(&Value::from("ann"), "ann-b", news(3))
        .expect("packs");
    assert_eq!(ann_b.recv().await.unwrap(), "[[[:test/news 3]] nil]");
    let both = [Value::from("ann"), Value::from("bob")];
    c.chsk
        .send_many(&both, news(4), SendOptions { flush: true })
        .expect("packs");
    for tab in [&mut ann_a, &mut ann_b, &mut bob_c] {
        assert_eq!(
            tab.recv().await.unwrap(),
            "[[[:test/news 4]] nil]",
            "once, in order"
        );
    }
    // Nothing doubled: the next frame each tab gets is the next push.
    a.chsk
        .broadcast(news(5), SendOptions { flush: true })
        .expect("packs");
    for tab in [&mut ann_a, &mut ann_b, &mut bob_c] {
        assert_eq!(tab.recv().await.unwrap(), "[[[:test/news 5]] nil]");
    }
    // Every node agrees on the cluster's users.
    for node in &nodes {
        let uids = node.chsk.connected_uids();
        assert_eq!(uids.any.len(), 2, "{uids:?}");
        assert!(uids.ws.contains(&Value::from("bob")));
    }
}
