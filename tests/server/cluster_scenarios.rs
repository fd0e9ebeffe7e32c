//! The cluster scenarios every broker runs (tests/cluster.rs on the
//! in-process broker, tests/cluster_redis.rs on Redis).
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use super::harness::*;
use sente::server::broker::Broker;
use sente::server::{ChannelSocketServer, SendOptions};
use sente::{Event, Value};

pub async fn cluster(brokers: Vec<Arc<dyn Broker>>) -> Vec<TestServer> {
    let mut nodes = Vec::new();
    for broker in brokers {
        let node = start_echo(Backend::Smol, |o| o.broker(broker)).await;
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
    // Sente's close command, sent on C, closes ann's tabs on A and B.
    let close = Event::without_data(sente::EventId::new("chsk/close").expect("an id"));
    c.chsk
        .send(&Value::from("ann"), close, SendOptions::default())
        .expect("packs");
    for tab in [&mut ann_a, &mut ann_b] {
        assert_eq!(tab.recv().await, None, "closed");
    }
    // close_uid on A closes bob's tab on C.
    assert_eq!(a.chsk.close_uid(&Value::from("bob")), 0, "none on A");
    assert_eq!(bob_c.recv().await, None, "closed on C");
}

/// The uidport events each node's application saw, as `node: event`.
pub type Seen = async_channel::Receiver<String>;

/// Nodes whose applications report their uidport events (and otherwise
/// echo), with grace periods of 100 ms.
pub async fn watched_cluster(brokers: Vec<Arc<dyn Broker>>) -> (Vec<TestServer>, Seen) {
    let (tx, rx) = async_channel::unbounded();
    let mut nodes = Vec::new();
    for (i, broker) in brokers.into_iter().enumerate() {
        let mut opts = echo::options().broker(broker);
        opts = opts.grace_ws(std::time::Duration::from_millis(100));
        let tx = tx.clone();
        let node = start_with(Backend::Smol, opts, move |msg| {
            if msg.id().as_str().starts_with("chsk/uidport") {
                let _ = tx.try_send(format!("{i}: {}", msg.event()));
            }
            echo::handle(msg);
        })
        .await;
        nodes.push(node);
    }
    (nodes, rx)
}

/// The next uidport event of the cluster.
pub async fn next_seen(seen: &Seen) -> String {
    within("a uidport event", seen.recv())
        .await
        .expect("the nodes")
}

pub async fn uidports_fire_once_per_cluster(brokers: Vec<Arc<dyn Broker>>) {
    let (nodes, seen) = watched_cluster(brokers).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let ann_a = Ws::open(a.addr, "uid=ann&client-id=ann-a").await;
    assert_eq!(next_seen(&seen).await, r#"0: [:chsk/uidport-open "ann"]"#);
    let ann_b = Ws::open(b.addr, "uid=ann&client-id=ann-b").await;
    // A marker on each node: anything B said about ann came before it.
    let _mark_b = Ws::open(b.addr, "uid=mark-b&client-id=m").await;
    assert_eq!(
        next_seen(&seen).await,
        r#"1: [:chsk/uidport-open "mark-b"]"#,
        "ann's second node opened nothing"
    );
    // ann leaves A (after its grace): she is still on B.
    drop(ann_a);
    let _mark_a = Ws::open(a.addr, "uid=mark-a&client-id=m").await;
    assert_eq!(
        next_seen(&seen).await,
        r#"0: [:chsk/uidport-open "mark-a"]"#
    );
    // Past A's grace: A's close of ann is not the cluster's. Then ann
    // leaves B: one close, from B.
    drop(ann_b);
    assert_eq!(next_seen(&seen).await, r#"1: [:chsk/uidport-close "ann"]"#);
    let _mark_c = Ws::open(a.addr, "uid=mark-c&client-id=m").await;
    assert_eq!(
        next_seen(&seen).await,
        r#"0: [:chsk/uidport-open "mark-c"]"#,
        "one close in the cluster"
    );
}

/// Waits until `node` holds a long-poll of user `uid` (the only requests
/// these tests hold).
pub async fn holds_poll(node: &ChannelSocketServer, uid: &str) {
    within("the held poll", async {
        while !node.local_connected_uids().ajax.contains(&Value::from(uid))
            || node.stats().routes == 0
        {
            smol::Timer::after(std::time::Duration::from_millis(2)).await;
        }
    })
    .await;
}

/// One Ajax client whose every request goes to another node: the
/// handshake to A, long-polls to B, C and A, an event POSTed to C. Pushes
/// reach it once, in order, whichever node holds its poll, and those made
/// between its polls wait for the next one.
pub async fn ajax_on_any_node(brokers: Vec<Arc<dyn Broker>>) {
    let nodes = cluster(brokers).await;
    let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);
    let poll = |addr: std::net::SocketAddr| {
        smol::spawn(async move { get(addr, "/chsk?client-id=ajx", "").await })
    };
    // A client the cluster has never seen gets a handshake, on any node.
    let stranger = get(b.addr, "/chsk?client-id=stranger", "").await;
    assert!(
        stranger.text().contains(":chsk/handshake"),
        "{}",
        stranger.text()
    );

    let hs = get(a.addr, "/chsk?client-id=ajx&handshake%3F=true", "").await;
    assert_eq!(hs.status, 200);
    assert!(hs.text().contains(":chsk/handshake"), "{}", hs.text());
    // A poll on B, which never saw the handshake: held, not a new handshake.
    let held_on_b = poll(b.addr);
    holds_poll(&b.chsk, "ajx").await;
    // An event POSTed to C whose handler pushes to the sender: the push
    // reaches the poll held on B.
    let post = post_form(c.addr, &ppstr("ajx", "[[:echo/push 7] :ajax]"), "").await;
    assert_eq!(post.status, 200, "{}", post.text());
    let answer = within("the push on B's poll", held_on_b).await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.text().contains("[:echo/pushed 7]"),
        "{}",
        answer.text()
    );
    assert!(!answer.text().contains("handshake"), "{}", answer.text());

    // Pushed between polls, from A and from B: they wait for the next
    // polls, wherever they land (C), once each, and A's in A's order.
    for (node, n) in [(a, 8), (a, 9), (b, 10)] {
        node.chsk
            .send(&Value::from("ajx"), news(n), SendOptions { flush: true })
            .expect("packs");
    }
    let mut text = String::new();
    while !(8..=10).all(|n| text.contains(&format!("[:test/news {n}]"))) {
        let on_c = within("the waiting pushes on C", poll(c.addr)).await;
        assert_eq!(on_c.status, 200);
        assert!(!on_c.text().contains("handshake"), "{}", on_c.text());
        text.push_str(on_c.text());
    }
    assert_eq!(text.matches(":test/news").count(), 3, "once each: {text}");
    let (at8, at9) = (text.find("[:test/news 8]"), text.find("[:test/news 9]"));
    assert!(at8 < at9, "in order: {text}");

    // The next poll, on A (which had the handshake), gets no copy of them.
    let held_on_a = poll(a.addr);
    holds_poll(&a.chsk, "ajx").await;
    c.chsk
        .broadcast(news(11), SendOptions { flush: true })
        .expect("packs");
    let on_a = within("the broadcast on A's poll", held_on_a).await;
    assert_eq!(
        on_a.text().matches(":test/news").count(),
        1,
        "{}",
        on_a.text()
    );
    assert!(on_a.text().contains("[:test/news 11]"), "{}", on_a.text());
    // close_uid on C ends the poll held on A; the close is no mail: the
    // next poll, on B, gets the next push and nothing else.
    let held_on_a = poll(a.addr);
    holds_poll(&a.chsk, "ajx").await;
    c.chsk.close_uid(&Value::from("ajx"));
    let closed = within("the close on A's poll", held_on_a).await;
    assert_eq!(closed.status, 503, "{}", closed.text());
    let held_on_b = poll(b.addr);
    holds_poll(&b.chsk, "ajx").await;
    a.chsk
        .send(&Value::from("ajx"), news(12), SendOptions { flush: true })
        .expect("packs");
    let after = within("the push after the close", held_on_b).await;
    assert!(after.text().contains("[:test/news 12]"), "{}", after.text());
    assert!(!after.text().contains("chsk/close"), "{}", after.text());
    for node in &nodes {
        let stats = node.chsk.broker_stats().expect("a broker");
        assert_eq!(stats.lost, 0);
    }
}

/// A WebSocket client that reconnects to another node within its grace:
/// pushes sent while it was away, held for it on the node it left, are
/// dropped there when the grace ends — counted and logged, never silent.
pub async fn a_websocket_moving_node_counts_what_it_left(brokers: Vec<Arc<dyn Broker>>) {
    let (nodes, _seen) = watched_cluster(brokers).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let (ann, _) = Ws::open(a.addr, "uid=ann&client-id=tab").await;
    sees(&b.chsk, &["ann"]).await;
    drop(ann);
    within("ann's tab gone from A", async {
        while a.chsk.stats().ws_connections > 0 {
            smol::Timer::after(std::time::Duration::from_millis(2)).await;
        }
    })
    .await;
    // Away: held for her on A, within her grace.
    b.chsk
        .send(&Value::from("ann"), news(1), SendOptions { flush: true })
        .expect("packs");
    let (mut moved, _) = Ws::open(b.addr, "uid=ann&client-id=tab").await;
    b.chsk
        .send(&Value::from("ann"), news(2), SendOptions { flush: true })
        .expect("packs");
    assert_eq!(moved.recv().await.unwrap(), "[[[:test/news 2]] nil]");
    // A held both for her (it cannot know she moved) until her grace ended.
    within("A's count of what it dropped", async {
        while a.chsk.stats().pushes_dropped != 2 {
            eprintln!("{:?}", a.chsk.stats());
            smol::Timer::after(std::time::Duration::from_millis(5)).await;
        }
    })
    .await;
    assert_eq!(b.chsk.stats().pushes_dropped, 0);
}

/// The native Rust client on Ajax behind a balancer that sends each new
/// connection to the next node: its handshake, polls and POSTs land on
/// different nodes, and its connections are cut midway. Each echo is
/// answered and each push arrives once, in order, with one handshake.
pub async fn a_rust_ajax_client_behind_a_round_robin_balancer(brokers: Vec<Arc<dyn Broker>>) {
    use sente::client::{ChannelSocketClient, ChskType};
    let nodes = cluster(brokers).await;
    let lb = super::proxy::Proxy::round_robin(nodes.iter().map(|n| n.addr).collect()).await;
    let (client, events) = ChannelSocketClient::builder(&format!("http://{}/chsk", lb.addr))
        .expect("a URL")
        .chsk_type(ChskType::Ajax)
        .client_id("rr")
        .build()
        .expect("a client");
    client.connect();
    let mut handshakes = 0;
    let next = |id: &'static str| {
        let events = events.clone();
        async move {
            within(id, async {
                loop {
                    let msg = events.recv().await.expect("the client");
                    if msg.id().as_str() == id {
                        return msg;
                    }
                }
            })
            .await
        }
    };
    next("chsk/handshake").await;
    handshakes += 1;
    for n in 0..8 {
        let push = Event::named("echo/push", Value::from(n)).expect("an id");
        let reply = within(
            "the echo",
            client.send_with_reply(&push, Duration::from_secs(5)),
        )
        .await;
        assert_eq!(reply, Ok(Value::keyword("ok")), "echo {n}");
        // Pushed by the node that took the POST, taken by the node that
        // holds the poll.
        loop {
            let msg = next_any(&events).await;
            match msg.id().as_str() {
                "chsk/handshake" => handshakes += 1,
                "echo/pushed" => {
                    assert_eq!(msg.data(), &Value::from(n), "once, in order");
                    break;
                }
                _ => {}
            }
        }
        if n % 3 == 2 {
            // Every connection cut: the next ones go to other nodes.
            lb.drop_connections();
        }
    }
    assert_eq!(handshakes, 1, "one handshake for the whole session");
    assert!(lb.connections() >= 3, "spread over the nodes");
    client.disconnect();
}

async fn next_any(events: &sente::client::ClientEvents) -> sente::client::ClientEventMsg {
    within("a client event", events.recv())
        .await
        .expect("the client")
}
