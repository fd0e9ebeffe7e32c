//! Pushes through the whole server (the driver, its lock shards, the
//! connections' queues and writers) without sockets, from 1 and then 2
//! application threads: how throughput grows with a second thread.
//!
//! 1,000 users with one WebSocket each, on an in-memory channel that takes
//! every frame. Each thread owns half of the users: it pushes to each in
//! turn (`send` with `flush`, so each push is packed and queued at once)
//! and polls that user's connection, whose writer hands the frame to the
//! channel. The users are split between the threads by lock shard (no
//! shard touched by both) or in halves by number (both threads in every
//! shard: its lock and state move between the cores). Runs of 1 and 2
//! threads alternate; the medians are reported, with `lock_shards` at its
//! default and at 1 (one lock for every user, as before the shards), and
//! for a floor that packs the same pushes and shares nothing.
//!
//! `cargo bench --bench server_threads` (`SENTE_BENCH_SECONDS` per run,
//! default 1; `SENTE_BENCH_ROUNDS`, default 3; `SENTE_BENCH_SHARDS` to
//! measure one `lock_shards` setting only)

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sente::packer::EdnPacker;
use sente::runtimes::smol::SmolRuntime;
use sente::server::{ChannelSocketServer, CsrfCheck, SendOptions, ServerOptions};
use sente::{Event, Value};
use support::{Connection, connect, poll_once};

const USERS: usize = 1000;

/// A server with `USERS` users, one connection each (handshakes written).
fn server(lock_shards: usize) -> (ChannelSocketServer, Vec<(Value, Connection)>) {
    let mut options = ServerOptions::default()
        .csrf(CsrfCheck::Skip)
        .user_id_fn(|req| req.param("uid").map(Value::from));
    options = options.lock_shards(lock_shards);
    let (server, events) =
        ChannelSocketServer::new(SmolRuntime, EdnPacker::new(), options).expect("options");
    std::mem::forget(events); // nothing is read: the users only receive
    let users = (0..USERS)
        .map(|u| {
            let uid = format!("user-{u}");
            // A counter per connection: the threads share none.
            let mut conn = connect(&server, &uid, Arc::default());
            poll_once(&mut conn);
            (Value::from(uid), conn)
        })
        .collect();
    (server, users)
}

/// Lets the workers run for `run`, stops them, and returns the pushes
/// they counted per second.
fn per_second(
    run: Duration,
    stop: &AtomicBool,
    start: Instant,
    workers: Vec<std::thread::JoinHandle<u64>>,
) -> f64 {
    std::thread::sleep(run);
    stop.store(true, Ordering::Relaxed);
    let pushes: u64 = workers
        .into_iter()
        .map(|w| w.join().expect("a worker"))
        .sum();
    pushes as f64 / start.elapsed().as_secs_f64()
}

/// The floor: each thread packs the same pushes itself, sharing nothing
/// (what the machine's cores give to work that never meets). Returns
/// pushes per second.
fn measure_floor(threads: usize, run: Duration) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let packer = EdnPacker::new();
                let event = Event::named("chat/msg", Value::from("hello everyone")).expect("an id");
                let mut pushes = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..USERS {
                        let packed = sente::wire::pack_push_batch(&packer, true, [&event.clone()])
                            .expect("packs");
                        std::hint::black_box(Arc::new(packed));
                    }
                    pushes += USERS as u64;
                }
                pushes
            })
        })
        .collect();
    per_second(run, &stop, start, workers)
}

/// How the users are split between the threads.
#[derive(Clone, Copy, Debug)]
enum Split {
    /// Each thread's users are in shards of their own
    /// ([`ChannelSocketServer::lock_shard`]): nothing is shared.
    ByShard,
    /// Halves by user number: each thread's users are in every shard.
    Halves,
}

/// Pushes from `threads` threads for `run`; returns pushes per second.
fn measure(lock_shards: usize, split: Split, threads: usize, run: Duration) -> f64 {
    let (server, users) = server(lock_shards);
    let mut parts: Vec<Vec<(Value, Connection)>> = (0..threads).map(|_| Vec::new()).collect();
    for (n, (uid, conn)) in users.into_iter().enumerate() {
        let part = match split {
            Split::ByShard => server.lock_shard(&uid) % threads,
            Split::Halves => n * threads / USERS,
        };
        parts[part].push((uid, conn));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let workers: Vec<_> = parts
        .into_iter()
        .map(|mut mine| {
            let (server, stop) = (server.clone(), stop.clone());
            std::thread::spawn(move || {
                let event = Event::named("chat/msg", Value::from("hello everyone")).expect("an id");
                let mut pushes = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for (uid, conn) in &mut mine {
                        server
                            .send(uid, event.clone(), SendOptions { flush: true })
                            .expect("packs");
                        poll_once(conn);
                    }
                    pushes += mine.len() as u64;
                }
                pushes
            })
        })
        .collect();
    per_second(run, &stop, start, workers)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter is not supported.
    let run = Duration::from_secs(env("SENTE_BENCH_SECONDS", 1));
    let rounds = env("SENTE_BENCH_ROUNDS", 3).max(1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "pushes through the server ({USERS} users, flush each), {cores} cores, {rounds} rounds of {run:?}"
    );
    let shard_counts = match std::env::var("SENTE_BENCH_SHARDS") {
        Ok(n) => vec![n.parse().expect("SENTE_BENCH_SHARDS: a number")],
        // 16: `ServerOptions::lock_shards` by default.
        Err(_) => vec![16, 1],
    };
    // Every configuration once per round, 1 and 2 threads back to back, so
    // that the machine's noise falls on all of them alike.
    let mut configs: Vec<Option<(usize, Split)>> = vec![None];
    for &shards in &shard_counts {
        for split in [Split::ByShard, Split::Halves] {
            if shards > 1 || matches!(split, Split::Halves) {
                configs.push(Some((shards, split)));
            }
        }
    }
    let mut results = vec![(Vec::new(), Vec::new()); configs.len()];
    for _ in 0..rounds {
        for (config, (one, two)) in configs.iter().zip(&mut results) {
            let run_with = |threads| match *config {
                None => measure_floor(threads, run),
                Some((shards, split)) => measure(shards, split, threads, run),
            };
            one.push(run_with(1));
            two.push(run_with(2));
        }
    }
    for (config, (one, two)) in configs.iter().zip(results) {
        let (one, two) = (median(one), median(two));
        let name = match config {
            None => "floor (pack only, nothing shared)".to_owned(),
            Some((shards, split)) => format!("lock_shards {shards:>2}, users split {split:?}"),
        };
        println!(
            "{name:<40} 1 thread {one:>9.0} pushes/s, 2 threads {two:>9.0} pushes/s: {:.2}x",
            two / one
        );
    }
}
