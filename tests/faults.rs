//! Fault injection: the Rust client and the server through a loopback proxy
//! that cuts connections (also in the middle of a frame), delays and stalls
//! them. Nothing promised is lost: every pending callback ends (a reply,
//! `:chsk/timeout` or `:chsk/closed`), pushes sent while a client is within
//! its grace period reach it after it is back, in order, and
//! `chsk/uidport-open`/`-close` fire once per real arrival and departure.

#![cfg(all(feature = "smol", feature = "edn"))]
#[path = "server/harness.rs"]
mod harness;
#[path = "server/proxy.rs"]
mod proxy;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harness::*;
use proxy::Proxy;
use sente::client::{
    CallbackError, ChannelSocketClient, ChskType, ClientConfig, ClientEvents, ClientOptions,
};
use sente::packer::EdnPacker;
use sente::runtimes::smol::{SmolClientTransport, SmolRuntime};
use sente::server::SendOptions;
use sente::{Event, Value};

const TYPES: [ChskType; 3] = [ChskType::Ws, ChskType::Ajax, ChskType::Auto];

fn client(
    addr: SocketAddr,
    uid: &str,
    config: ClientConfig,
) -> (ChannelSocketClient, ClientEvents) {
    let opts = ClientOptions::new(&format!("http://{addr}/chsk"))
        .expect("a URL")
        .param("uid", uid)
        .config(config);
    ChannelSocketClient::new(
        SmolRuntime,
        EdnPacker::new(),
        SmolClientTransport::new(),
        opts,
    )
    .expect("options")
}

fn fast(chsk_type: ChskType) -> ClientConfig {
    ClientConfig::default()
        .chsk_type(chsk_type)
        .ws_kalive(Some(Duration::from_secs(1)))
        .ws_ping_timeout(Duration::from_millis(500))
        .ajax_timeout(Duration::from_secs(3))
        .backoff(|_, _| Duration::from_millis(50))
}

/// Waits for the client's next handshake.
async fn handshaken(events: &ClientEvents) {
    within("a handshake", async {
        loop {
            let msg = events.recv().await.expect("the client is alive");
            if msg.id().as_str() == "chsk/handshake" {
                return;
            }
        }
    })
    .await;
}

/// 200 requests awaiting replies while the proxy cuts in the middle of
/// frames, delays, stalls and drops connections: every callback ends, with
/// the echo, `:chsk/timeout` or `:chsk/closed` — none is lost or left.
async fn every_pending_callback_ends(chsk_type: ChskType) {
    let s = start_echo(Backend::Smol, |o| o.lp_timeout(Duration::from_secs(2))).await;
    let proxy = Proxy::start(s.addr).await;
    let (c, events) = client(proxy.addr, "cb", fast(chsk_type));
    smol::spawn(async move { while events.recv().await.is_ok() {} }).detach();
    c.connect();
    let (tx, rx) = async_channel::unbounded();
    let total = 200;
    let faults = async {
        for round in 0..8u64 {
            smol::Timer::after(Duration::from_millis(60)).await;
            match round % 4 {
                0 => proxy.cut_after(7 + round as usize),
                1 => proxy.delay(Duration::from_millis(40)),
                2 => {
                    proxy.delay(Duration::ZERO);
                    proxy.freeze();
                    smol::Timer::after(Duration::from_millis(300)).await;
                    proxy.drop_connections();
                    proxy.thaw();
                }
                _ => proxy.drop_connections(),
            }
        }
    };
    let sends = async {
        for i in 0..total {
            let tx = tx.clone();
            let ev = Event::named("echo/echo", i).unwrap();
            let _ = c.send_with_callback(&ev, Duration::from_secs(2), move |r| {
                let _ = tx.try_send((i, r));
            });
            smol::Timer::after(Duration::from_millis(3)).await;
        }
    };
    futures_util::future::join(faults, sends).await;
    let mut ended = HashMap::new();
    for _ in 0..total {
        let (i, r) = within("every callback to end", rx.recv())
            .await
            .expect("a callback");
        match &r {
            Ok(v) => assert_eq!(v, &Value::from(i), "a reply is the request's own"),
            Err(CallbackError::Timeout | CallbackError::Closed | CallbackError::Error) => {}
        }
        assert!(ended.insert(i, r).is_none(), "callback {i} called twice");
    }
    let replies = ended.values().filter(|r| r.is_ok()).count();
    eprintln!("{chsk_type:?}: {total} callbacks ended, {replies} with their reply");
    assert!(replies > 0, "some requests got through");
    c.disconnect();
}

/// Pushes sent while the client is away (its connection cut, it has not
/// reconnected yet) wait for it and arrive once it is back, all, in order.
async fn pushes_in_the_grace_period_arrive_in_order(chsk_type: ChskType) {
    let s = start_echo(Backend::Smol, |o| o.lp_timeout(Duration::from_secs(2))).await;
    let proxy = Proxy::start(s.addr).await;
    let (c, events) = client(proxy.addr, "away", fast(chsk_type));
    c.connect();
    handshaken(&events).await;
    let uid = Value::from("away");
    proxy.cut();
    within("the server to see the channel go", async {
        while s.chsk.open_channels(&uid) > 0 {
            smol::future::yield_now().await;
        }
    })
    .await;
    for i in 0..50 {
        let options = SendOptions { flush: i % 7 == 0 };
        let sent = s.chsk.send(&uid, Event::named("t/n", i).unwrap(), options);
        assert_eq!(sent, Ok(1), "the client is within its grace period");
    }
    proxy.restore(s.addr);
    let mut next = 0;
    within("every push, in order", async {
        while next < 50 {
            let msg = events.recv().await.expect("the client is alive");
            if msg.id().as_str() == "t/n" {
                assert_eq!(msg.data(), &Value::from(next), "in order, none lost");
                next += 1;
            }
        }
    })
    .await;
    c.disconnect();
}

/// A client whose connection flaps (cut and back within the grace period)
/// is one arrival and, once it leaves for good, one departure.
async fn uidport_events_fire_once_under_flapping(chsk_type: ChskType) {
    let (s, server_events) = start_raw(Backend::Smol, {
        let mut o = echo::options();
        o = o.grace_ws(Duration::from_secs(2));
        o = o.grace_ajax(Duration::from_secs(2));
        o = o.lp_timeout(Duration::from_secs(2));
        o
    })
    .await;
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    smol::spawn(async move {
        while let Ok(msg) = server_events.recv().await {
            let id = msg.id().as_str();
            if id.starts_with("chsk/uidport") && msg.uid() == &Value::from("flappy") {
                log.lock().unwrap().push(id.to_owned());
            }
            echo::handle(msg);
        }
    })
    .detach();
    let proxy = Proxy::start(s.addr).await;
    let (c, events) = client(proxy.addr, "flappy", fast(chsk_type));
    c.connect();
    handshaken(&events).await;
    for _ in 0..5 {
        let before = proxy.connections();
        proxy.drop_connections();
        within("a reconnect", async {
            while proxy.connections() == before {
                smol::future::yield_now().await;
            }
        })
        .await;
        let reply = within("an echo after the reconnect", async {
            loop {
                match c
                    .send_with_reply(
                        &Event::named("echo/echo", 1).unwrap(),
                        Duration::from_secs(1),
                    )
                    .await
                {
                    Ok(v) => return v,
                    Err(_) => {
                        smol::Timer::after(Duration::from_millis(20)).await;
                    }
                }
            }
        })
        .await;
        assert_eq!(reply, Value::from(1));
    }
    assert_eq!(*seen.lock().unwrap(), ["chsk/uidport-open"], "one arrival");
    c.disconnect();
    let uid = Value::from("flappy");
    within("the departure", async {
        while s.chsk.connected_uids().any.contains(&uid) {
            smol::Timer::after(Duration::from_millis(50)).await;
        }
    })
    .await;
    // The close event is delivered right after the uid leaves.
    within("the close event", async {
        while seen.lock().unwrap().len() < 2 {
            smol::future::yield_now().await;
        }
    })
    .await;
    assert_eq!(
        *seen.lock().unwrap(),
        ["chsk/uidport-open", "chsk/uidport-close"],
        "one arrival, one departure"
    );
}

/// Sente's simulated bad connection: with 10% and 30% of connection
/// activities failing on purpose, the client still converges: every echo
/// gets through after retries.
async fn a_bad_connection_rate_converges(chsk_type: ChskType, rate: f64) {
    let s = start_echo(Backend::Smol, |o| o.lp_timeout(Duration::from_secs(2))).await;
    let config = fast(chsk_type).bad_conn_rate(rate).rng_seed(42);
    let (c, events) = client(s.addr, "bad", config);
    smol::spawn(async move { while events.recv().await.is_ok() {} }).detach();
    c.connect();
    let mut attempts = 0;
    for i in 0..20 {
        within("an echo to get through", async {
            loop {
                attempts += 1;
                let ev = Event::named("echo/echo", i).unwrap();
                if let Ok(v) = c.send_with_reply(&ev, Duration::from_secs(1)).await {
                    assert_eq!(v, Value::from(i));
                    return;
                }
                smol::Timer::after(Duration::from_millis(20)).await;
            }
        })
        .await;
    }
    eprintln!("{chsk_type:?} at bad_conn_rate {rate}: 20 echoes in {attempts} attempts");
    c.disconnect();
}

macro_rules! per_transport {
    ($($name:ident: $body:expr),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                for t in TYPES {
                    smol::block_on($body(t));
                }
            }
        )*
    };
}

per_transport! {
    every_pending_callback_ends_under_faults: every_pending_callback_ends,
    pushes_in_the_grace_period_arrive_after_the_reconnect: pushes_in_the_grace_period_arrive_in_order,
    uidport_open_and_close_fire_once_under_flapping: uidport_events_fire_once_under_flapping,
}

#[test]
fn a_bad_connection_rate_of_a_tenth_converges() {
    for t in TYPES {
        smol::block_on(a_bad_connection_rate_converges(t, 0.1));
    }
}

#[test]
fn a_bad_connection_rate_of_three_tenths_converges() {
    for t in TYPES {
        smol::block_on(a_bad_connection_rate_converges(t, 0.3));
    }
}
