//! What a cluster costs: the same pushes to 900 users (one WebSocket
//! each, on an in-memory channel that counts frames) from one node, in the
//! same run:
//! * one node, no broker (the floor);
//! * one node with a broker but alone (what a broker costs when there is
//!   nobody to tell);
//! * three nodes on the in-process broker, the users spread over them
//!   (two thirds of the pushes cross nodes);
//! * three nodes on Redis (a `redis-server` of its own on a free port;
//!   left out when none is installed), sharing Ajax clients (the default)
//!   and with sticky Ajax (`RedisOptions::shared_ajax(false)`).
//!
//! Reported: deliveries per second (pushes sent from the first node until
//! every user's connection has written it) and this process's CPU time per
//! delivery (user + system, from `/proc/self/stat`; Redis's own CPU is not
//! in it). Each configuration runs `SENTE_BENCH_ROUNDS` times (default 3),
//! interleaved; medians.
//!
//! `cargo bench --bench cluster --features redis`

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sente::packer::EdnPacker;
use sente::runtimes::smol::SmolRuntime;
use sente::server::broker::{Broker, InProcessHub};
use sente::server::{ChannelSocketServer, CsrfCheck, SendOptions, ServerOptions};
use sente::{Event, Value};
use support::{Connection, connect, poll_once};

const USERS: usize = 900;
const PUSHES_PER_USER: usize = 100;

fn node(broker: Option<Arc<dyn Broker>>) -> ChannelSocketServer {
    let mut options = ServerOptions::default()
        .csrf(CsrfCheck::Skip)
        .user_id_fn(|req| req.param("uid").map(Value::from));
    if let Some(broker) = broker {
        options = options.broker(broker);
    }
    let (server, events) =
        ChannelSocketServer::new(SmolRuntime, EdnPacker::new(), options).expect("options");
    std::mem::forget(events);
    server
}

fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rfind(')').map_or("", |i| &stat[i + 2..]);
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn poll_all(conns: &mut [Connection]) {
    conns.iter_mut().for_each(poll_once);
}

/// Pushes from the first node to every user, `PUSHES_PER_USER` times;
/// returns (deliveries per second, CPU per delivery).
fn run(brokers: Vec<Option<Arc<dyn Broker>>>) -> (f64, Duration) {
    let nodes: Vec<ChannelSocketServer> = brokers.into_iter().map(node).collect();
    let frames = Arc::new(AtomicU64::new(0));
    let uids: Vec<String> = (0..USERS).map(|u| format!("user-{u}")).collect();
    let mut conns: Vec<Connection> = uids
        .iter()
        .enumerate()
        .map(|(u, uid)| connect(&nodes[u % nodes.len()], uid, frames.clone()))
        .collect();
    // Handshakes written; every node sees every user.
    poll_all(&mut conns);
    let deadline = Instant::now() + Duration::from_secs(30);
    while nodes[0].connected_uids().any.len() < USERS {
        assert!(
            Instant::now() < deadline,
            "the cluster did not see every user"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let handshakes = frames.load(Ordering::Relaxed);
    let event = Event::named("bench/news", Value::from("hello everyone")).expect("an id");
    let uid_values: Vec<Value> = uids.iter().map(|u| Value::from(u.as_str())).collect();
    let target = handshakes + (USERS * PUSHES_PER_USER) as u64;
    let (cpu0, t0) = (cpu_time(), Instant::now());
    for _ in 0..PUSHES_PER_USER {
        for uid in &uid_values {
            nodes[0]
                .send(uid, event.clone(), SendOptions { flush: true })
                .expect("packs");
        }
        poll_all(&mut conns);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while frames.load(Ordering::Relaxed) < target {
        assert!(Instant::now() < deadline, "deliveries stalled");
        poll_all(&mut conns);
        std::thread::yield_now();
    }
    let (cpu, wall) = (cpu_time() - cpu0, t0.elapsed());
    let deliveries = (USERS * PUSHES_PER_USER) as f64;
    (deliveries / wall.as_secs_f64(), cpu.div_f64(deliveries))
}

/// A redis-server of our own on a free port, killed when dropped.
struct Redis(std::process::Child, u16);

impl Redis {
    fn start() -> Option<Redis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .ok()?
            .port();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let redis = Redis(child, port);
        for _ in 0..500 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(redis);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn median(mut v: Vec<(f64, Duration)>) -> (f64, Duration) {
    v.sort_by_key(|r| r.1);
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("SENTE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3)
        .max(1);
    #[cfg(feature = "redis")]
    let redis = Redis::start();
    #[cfg(not(feature = "redis"))]
    let redis: Option<Redis> = None;
    if redis.is_none() {
        println!("(no redis-server, or no `redis` feature: the Redis row is left out)");
    }
    type Setup = Box<dyn Fn(usize) -> Vec<Option<Arc<dyn Broker>>>>;
    let mut configs: Vec<(&str, Setup)> = vec![
        ("one node, no broker", Box::new(|_| vec![None])),
        (
            "one node, in-process broker (alone)",
            Box::new(|_| vec![Some(InProcessHub::new().broker() as Arc<dyn Broker>)]),
        ),
        (
            "3 nodes, in-process broker",
            Box::new(|_| {
                let hub = InProcessHub::new();
                (0..3)
                    .map(|_| Some(hub.broker() as Arc<dyn Broker>))
                    .collect()
            }),
        ),
    ];
    #[cfg(feature = "redis")]
    if let Some(redis) = &redis {
        // Ajax clients shared by the nodes (the default: every push also
        // goes through the mail script), and kept to one node.
        for (name, shared_ajax) in [
            ("3 nodes, Redis broker", true),
            ("3 nodes, Redis broker, sticky Ajax", false),
        ] {
            let url = format!("redis://127.0.0.1:{}/", redis.1);
            configs.push((
                name,
                Box::new(move |round| {
                    use sente::server::broker::{RedisBroker, RedisOptions};
                    let options = RedisOptions::default()
                        .namespace(format!("bench-{round}-{shared_ajax}"))
                        .heartbeat(Duration::from_millis(100))
                        .shared_ajax(shared_ajax);
                    (0..3)
                        .map(|_| {
                            Some(RedisBroker::new(&url, options.clone()).expect("a URL")
                                as Arc<dyn Broker>)
                        })
                        .collect()
                }),
            ));
        }
    }
    let mut results: Vec<Vec<(f64, Duration)>> = vec![Vec::new(); configs.len()];
    for round in 0..rounds {
        for ((_, setup), out) in configs.iter().zip(&mut results) {
            out.push(run(setup(round)));
        }
    }
    println!(
        "{USERS} users x {PUSHES_PER_USER} flushed pushes from the first node, {rounds} rounds (medians)"
    );
    let floor = median(results[0].clone()).1;
    for ((name, _), out) in configs.iter().zip(results) {
        let (rate, cpu) = median(out);
        println!(
            "{name:<38} {rate:>10.0} deliveries/s  {:>6.2} µs CPU per delivery  {:.2}x",
            cpu.as_secs_f64() * 1e6,
            cpu.as_secs_f64() / floor.as_secs_f64()
        );
    }
}
