//! Three server nodes joined by a broker act as one server: pushes reach
//! the users' clients on every node, once; `connected_uids` shows the
//! cluster on every node. Runs on the in-process broker (the contract every
//! broker keeps); `tests/cluster_redis.rs` runs the same on Redis.

#![cfg(all(feature = "smol", feature = "edn"))]
#[path = "server/harness.rs"]
mod harness;

use std::sync::Arc;

use harness::*;
use sente::server::broker::{Broker, InProcessHub};
use sente::server::{ChannelSocketServer, SendOptions};
use sente::{Event, Value};

async fn cluster(brokers: Vec<Arc<dyn Broker>>) -> Vec<TestServer> {
    let mut nodes = Vec::new();
    for broker in brokers {
        let node = start_echo(Backend::Smol, |o| *o = o.clone().broker(broker)).await;
        nodes.push(node);
    }
    nodes
}

fn in_process(n: usize) -> Vec<Arc<dyn Broker>> {
    let hub = InProcessHub::new();
    (0..n).map(|_| hub.broker() as Arc<dyn Broker>).collect()
}

fn news(n: i64) -> Event {
    Event::named("test/news", Value::from(n)).expect("an id")
}

/// Waits until `node` sees `uids` connected, cluster-wide.
async fn sees(node: &ChannelSocketServer, uids: &[&str]) {
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

async fn pushes_and_presence_span_the_nodes(brokers: Vec<Arc<dyn Broker>>) {
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

#[test]
fn three_nodes_on_the_in_process_broker() {
    smol::block_on(pushes_and_presence_span_the_nodes(in_process(3)));
}

#[test]
fn a_node_without_a_broker_is_alone() {
    smol::block_on(async {
        let lone = start_echo(Backend::Smol, |_| {}).await;
        assert!(lone.chsk.broker_stats().is_none());
        let brokers = in_process(2);
        let nodes = cluster(brokers).await;
        let (_ann, _) = Ws::open(nodes[0].addr, "uid=ann&client-id=t").await;
        sees(&nodes[1].chsk, &["ann"]).await;
        assert!(lone.chsk.connected_uids().any.is_empty());
        let stats = nodes[0].chsk.broker_stats().expect("a broker");
        assert!(stats.connected);
    });
}
