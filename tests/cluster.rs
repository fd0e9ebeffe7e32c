//! Three server nodes joined by a broker act as one server: pushes reach
//! the users' clients on every node, once; `connected_uids` shows the
//! cluster on every node. Runs on the in-process broker (the contract every
//! broker keeps); `tests/cluster_redis.rs` runs the same on Redis.

#![cfg(all(feature = "smol", feature = "edn"))]
#[path = "server/cluster_scenarios.rs"]
mod cluster_scenarios;
#[path = "server/harness.rs"]
mod harness;
#[path = "server/proxy.rs"]
mod proxy;

use std::sync::Arc;

use cluster_scenarios::*;
use harness::*;
use sente::server::broker::{Broker, InProcessHub};

fn in_process(n: usize) -> Vec<Arc<dyn Broker>> {
    let hub = InProcessHub::new();
    (0..n).map(|_| hub.broker() as Arc<dyn Broker>).collect()
}

#[test]
fn three_nodes_on_the_in_process_broker() {
    smol::block_on(pushes_and_presence_span_the_nodes(in_process(3)));
}

#[test]
fn a_node_without_a_broker_is_alone() {
    smol::block_on(async {
        let lone = start_echo(Backend::Smol, |o| o).await;
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

#[test]
fn uidports_once_per_cluster_on_the_in_process_broker() {
    smol::block_on(uidports_fire_once_per_cluster(in_process(2)));
}

#[test]
fn ajax_on_any_node_on_the_in_process_broker() {
    smol::block_on(ajax_on_any_node(in_process(3)));
}

#[test]
fn a_websocket_moving_node_on_the_in_process_broker() {
    smol::block_on(a_websocket_moving_node_counts_what_it_left(in_process(2)));
}

#[test]
fn a_rust_ajax_client_behind_a_round_robin_balancer_on_the_in_process_broker() {
    smol::block_on(a_rust_ajax_client_behind_a_round_robin_balancer(
        in_process(3),
    ));
}
