//! The load generator. Starts each server itself (the echo server example,
//! and the raw async-tungstenite echo as the baseline), runs the workloads
//! side by side in one run, and prints a table with ratios to the baseline.
//!
//! `cargo build --release --example echo_server && cargo run --release -p sente-bench --bin loadgen`
//!
//! Workload A: N clients, M acked round-trips each over WebSocket, one
//! outstanding per client. Reports round-trips/s, p50/p99 latency, and the
//! server's CPU time (user+sys from /proc/PID/stat) per round-trip.

mod client_workloads;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_tungstenite::tungstenite::Message;
use futures_util::StreamExt;

/// The servers' executor threads: `SENTE_BENCH_THREADS` (default 1), for
/// the raw servers and sente alike.
fn server_threads() -> usize {
    std::env::var("SENTE_BENCH_THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(program: &str, args: &[&str]) -> Server {
        let mut child = Command::new(program)
            .args(args)
            .env("SMOL_THREADS", server_threads().to_string())
            .env("TOKIO_WORKER_THREADS", server_threads().to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {program}: {e} (build it first, see the module docs)")
            });
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("a first line");
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("listening on 127.0.0.1:PORT");
        Server { child, port }
    }

    /// Resident memory of the server process (VmRSS).
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// User + system CPU time of the server process so far.
    fn cpu(&self) -> Duration {
        let (user, sys) = self.cpu_split();
        user + sys
    }

    /// User and system CPU time of the server process so far.
    fn cpu_split(&self) -> (Duration, Duration) {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).expect("/proc stat");
        let after = &stat[stat.rfind(')').expect("comm") + 2..];
        let fields: Vec<&str> = after.split(' ').collect();
        let ticks = |i: usize| fields[i].parse::<u64>().expect("utime/stime");
        // USER_HZ = 100 on Linux.
        (
            Duration::from_millis(ticks(11) * 10),
            Duration::from_millis(ticks(12) * 10),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Figures {
    rate: f64,
    p50: Duration,
    p99: Duration,
    cpu_per_op: Duration,
    /// The user-space share of `cpu_per_op`.
    user_per_op: Duration,
}

/// Workload A. `sente` selects the message format: Sente envelopes and
/// replies, or raw frames echoed back.
fn acked_round_trips(server: &Server, clients: usize, per_client: usize, sente: bool) -> Figures {
    let port = server.port;
    let (user0, sys0) = server.cpu_split();
    let t0 = Instant::now();
    let latencies = smol::block_on(async {
        let mut tasks = Vec::new();
        for c in 0..clients {
            tasks.push(smol::spawn(async move {
                let stream = smol::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .expect("connect");
                stream.set_nodelay(true).expect("nodelay");
                let url = format!("ws://127.0.0.1:{port}/chsk?client-id=load-{c}");
                let (mut ws, _) = async_tungstenite::client_async(url, stream)
                    .await
                    .expect("upgrade");
                if sente {
                    ws.next().await.expect("handshake").expect("handshake");
                }
                let mut lat = Vec::with_capacity(per_client);
                for i in 0..per_client {
                    // The same bytes for both servers: the raw one echoes them back.
                    let msg = format!("[[:echo/echo {{:i {i}, :c {c}}}] \"{:06x}\"]", i % 0xffffff);
                    let t = Instant::now();
                    ws.send(Message::text(msg)).await.expect("send");
                    loop {
                        match ws.next().await {
                            Some(Ok(Message::Text(_))) => break,
                            Some(Ok(_)) => continue,
                            other => panic!("connection ended: {other:?}"),
                        }
                    }
                    lat.push(t.elapsed());
                }
                let _ = ws.close(None).await;
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await);
        }
        all
    });
    let wall = t0.elapsed();
    // Let the server finish closing before reading its CPU time.
    std::thread::sleep(Duration::from_millis(200));
    let (user1, sys1) = server.cpu_split();
    let (user, cpu) = (user1 - user0, user1 + sys1 - user0 - sys0);
    let mut lat = latencies;
    lat.sort();
    let n = lat.len();
    Figures {
        rate: n as f64 / wall.as_secs_f64(),
        p50: lat[n / 2],
        p99: lat[n * 99 / 100],
        cpu_per_op: cpu / n as u32,
        user_per_op: user / n as u32,
    }
}

/// Workload B: `clients` connected users; one more client asks for
/// `broadcasts` broadcasts, each pushing one event to every user. Returns
/// deliveries/s and the server's CPU time per delivery.
fn push_fan_out(
    server: &Server,
    clients: usize,
    broadcasts: usize,
    sente: bool,
) -> (f64, Duration) {
    let port = server.port;
    smol::block_on(async {
        let mut receivers = Vec::new();
        for c in 0..clients {
            let stream = smol::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let url = format!("ws://127.0.0.1:{port}/chsk?uid=fan-{c}&client-id=fan-{c}");
            let (mut ws, _) = async_tungstenite::client_async(url, stream)
                .await
                .expect("upgrade");
            if sente {
                ws.next().await.expect("handshake").expect("handshake");
            }
            receivers.push(ws);
        }
        let stream = smol::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let url = format!("ws://127.0.0.1:{port}/chsk?uid=driver&client-id=driver");
        let (mut driver, _) = async_tungstenite::client_async(url, stream)
            .await
            .expect("upgrade");
        if sente {
            driver.next().await.expect("handshake").expect("handshake");
        }
        let cpu0 = server.cpu();
        let t0 = Instant::now();
        let readers: Vec<_> = receivers
            .into_iter()
            .map(|mut ws| {
                smol::spawn(async move {
                    let mut got = 0;
                    while got < broadcasts {
                        match ws.next().await {
                            Some(Ok(Message::Text(t))) => {
                                got += t.as_str().matches(":echo/pushed").count()
                            }
                            Some(Ok(_)) => {}
                            other => panic!("receiver ended: {other:?}"),
                        }
                    }
                    ws
                })
            })
            .collect();
        for i in 0..broadcasts {
            driver
                .send(Message::text(format!("[[:echo/broadcast {i}] \"b{i}\"]")))
                .await
                .expect("send");
            // The reply (clients reached), skipping pushes to the driver itself.
            loop {
                match driver.next().await {
                    Some(Ok(Message::Text(t))) if t.as_str().ends_with(&format!("\"b{i}\"]")) => {
                        break;
                    }
                    Some(Ok(_)) => {}
                    other => panic!("driver ended: {other:?}"),
                }
            }
        }
        let mut open = Vec::new();
        for r in readers {
            open.push(r.await);
        }
        let wall = t0.elapsed();
        let cpu = server.cpu() - cpu0;
        let deliveries = (clients * broadcasts) as f64;
        drop(open);
        (deliveries / wall.as_secs_f64(), cpu.div_f64(deliveries))
    })
}

/// Workload C: `clients` idle WebSocket connections held open. Returns the
/// time to connect them all and the server's RSS growth per connection.
fn idle_scale(server: &Server, clients: usize, sente: bool) -> (Duration, f64) {
    let port = server.port;
    let rss0 = server.rss_kib();
    let t0 = Instant::now();
    let held = smol::block_on(async {
        let mut held = Vec::with_capacity(clients);
        // Connect in waves so the accept backlog is not the bottleneck.
        for wave in (0..clients).collect::<Vec<_>>().chunks(200) {
            let tasks: Vec<_> = wave
                .iter()
                .map(|&c| {
                    smol::spawn(async move {
                        let stream = smol::net::TcpStream::connect(("127.0.0.1", port))
                            .await
                            .expect("connect");
                        let url = format!("ws://127.0.0.1:{port}/chsk?client-id=idle-{c}");
                        let (mut ws, _) = async_tungstenite::client_async(url, stream)
                            .await
                            .expect("upgrade");
                        if sente {
                            ws.next().await.expect("handshake").expect("handshake");
                        }
                        ws
                    })
                })
                .collect();
            for t in tasks {
                held.push(t.await);
            }
        }
        held
    });
    let connect_time = t0.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    let rss1 = server.rss_kib();
    drop(held);
    (
        connect_time,
        (rss1.saturating_sub(rss0)) as f64 / clients as f64,
    )
}

fn main() {
    let root = std::env::var("SENTE_ROOT").unwrap_or_else(|_| ".".into());
    let echo = format!("{root}/target/release/examples/echo_server");
    let raw = format!("{root}/target/release/raw_echo");
    // SENTE_BENCH_ONLY=A|B|C|D|E runs one workload (A always runs, small unless
    // asked: the ratios need its baseline).
    let only = std::env::var("SENTE_BENCH_ONLY").unwrap_or_default();
    let (clients, per_client) = if only.is_empty() || only == "A" || only == "B" {
        (100, 2000)
    } else {
        (10, 100)
    };
    println!(
        "workload A: {clients} clients x {per_client} acked round-trips over WebSocket, servers on {} executor thread(s)",
        server_threads()
    );
    // Rounds alternate the two servers, so both see the same machine; the
    // round with the median ratio is reported (SENTE_BENCH_ROUNDS, 3 by default).
    let rounds: usize = std::env::var("SENTE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(if only.is_empty() || only == "A" { 3 } else { 1 })
        .max(1);
    // SENTE_BENCH_COMPARE=PATH: another echo_server binary (an earlier
    // build) run in the same rounds, for a regression check side by side.
    let other = std::env::var("SENTE_BENCH_COMPARE").ok();
    // The echo server on tokio + axum too, in the same rounds (the echo
    // server built with `--features axum`, as bench/run does);
    // SENTE_BENCH_TOKIO=0 leaves it out.
    let with_tokio = std::env::var("SENTE_BENCH_TOKIO").map_or(true, |v| v != "0");
    let mut pairs = Vec::new();
    let mut others = Vec::new();
    for _ in 0..rounds {
        let raw_server = Server::start(&raw, &[]);
        let base = acked_round_trips(&raw_server, clients, per_client, false);
        drop(raw_server);
        let sente_server = Server::start(&echo, &["--port", "0"]);
        let ours = acked_round_trips(&sente_server, clients, per_client, true);
        drop(sente_server);
        let on_tokio = with_tokio.then(|| {
            let tokio_server = Server::start(&echo, &["--port", "0", "--runtime", "tokio"]);
            acked_round_trips(&tokio_server, clients, per_client, true)
        });
        if let Some(other) = &other {
            let other_server = Server::start(other, &["--port", "0"]);
            let theirs = acked_round_trips(&other_server, clients, per_client, true);
            drop(other_server);
            others.push(theirs.cpu_per_op.as_secs_f64() / base.cpu_per_op.as_secs_f64());
        }
        pairs.push((base, ours, on_tokio));
    }
    if let Some(other) = &other {
        let ours: Vec<String> = pairs
            .iter()
            .map(|(b, o, _)| {
                format!(
                    "{:.2}x",
                    o.cpu_per_op.as_secs_f64() / b.cpu_per_op.as_secs_f64()
                )
            })
            .collect();
        let theirs: Vec<String> = others.iter().map(|r| format!("{r:.2}x")).collect();
        println!(
            "A, per round (raw, this build, {other}): this build {}; the other {}",
            ours.join(" "),
            theirs.join(" ")
        );
    }
    let ratio = |(b, o, _): &(Figures, Figures, Option<Figures>)| {
        o.cpu_per_op.as_secs_f64() / b.cpu_per_op.as_secs_f64()
    };
    let mut ratios: Vec<f64> = pairs.iter().map(ratio).collect();
    let mut tokio_ratios: Vec<f64> = pairs
        .iter()
        .filter_map(|(b, _, t)| {
            t.as_ref()
                .map(|t| t.cpu_per_op.as_secs_f64() / b.cpu_per_op.as_secs_f64())
        })
        .collect();
    tokio_ratios.sort_by(f64::total_cmp);
    ratios.sort_by(f64::total_cmp);
    pairs.sort_by(|a, b| ratio(a).total_cmp(&ratio(b)));
    let (base, ours, on_tokio) = pairs.swap_remove(rounds / 2);
    let (fan_clients, fan_broadcasts) = if only.is_empty() || only == "B" {
        (1000, 1000)
    } else {
        (10, 10)
    };
    // B against the raw server's broadcast (one encoded message cloned to
    // every connection), alternating rounds; the median ratio is reported.
    let mut fan_pairs = Vec::new();
    for _ in 0..rounds.max(3) {
        let raw_server = Server::start(&raw, &[]);
        let raw_fan = push_fan_out(&raw_server, fan_clients, fan_broadcasts, false);
        drop(raw_server);
        let fan_server = Server::start(&echo, &["--port", "0"]);
        let fan = push_fan_out(&fan_server, fan_clients, fan_broadcasts, true);
        drop(fan_server);
        fan_pairs.push((raw_fan, fan));
    }
    // A tiny run (another workload chosen) may read no CPU tick at all.
    let fan_ratio = |(r, s): &((f64, Duration), (f64, Duration))| {
        s.1.as_secs_f64() / r.1.as_secs_f64().max(1e-9)
    };
    let mut fan_ratios: Vec<f64> = fan_pairs.iter().map(fan_ratio).collect();
    fan_ratios.sort_by(f64::total_cmp);
    fan_pairs.sort_by(|a, b| fan_ratio(a).total_cmp(&fan_ratio(b)));
    let ((raw_fan_rate, raw_fan_cpu), (fan_rate, fan_cpu)) =
        fan_pairs.swap_remove(fan_pairs.len() / 2);
    println!(
        "| server | round-trips/s | p50 | p99 | server CPU per round-trip (user + sys) | ratio to raw |"
    );
    println!("|---|---|---|---|---|---|");
    let mut rows = vec![
        ("raw async-tungstenite echo (smol)", &base),
        ("sente echo_server (edn), smol + hyper", &ours),
    ];
    if let Some(t) = &on_tokio {
        rows.push(("sente echo_server (edn), tokio + axum", t));
    }
    for (name, f) in rows {
        println!(
            "| {name} | {:.0} | {:.0} µs | {:.0} µs | {:.1} µs ({:.1} + {:.1}) | {:.2}x |",
            f.rate,
            f.p50.as_secs_f64() * 1e6,
            f.p99.as_secs_f64() * 1e6,
            f.cpu_per_op.as_secs_f64() * 1e6,
            f.user_per_op.as_secs_f64() * 1e6,
            (f.cpu_per_op - f.user_per_op).as_secs_f64() * 1e6,
            f.cpu_per_op.as_secs_f64() / base.cpu_per_op.as_secs_f64()
        );
    }
    if rounds > 1 {
        let list: Vec<String> = ratios.iter().map(|r| format!("{r:.2}x")).collect();
        println!(
            "(the median of {rounds} alternating rounds by the smol ratio; smol ratios {})",
            list.join(", ")
        );
        if !tokio_ratios.is_empty() {
            let list: Vec<String> = tokio_ratios.iter().map(|r| format!("{r:.2}x")).collect();
            println!("(tokio + axum ratios, same rounds: {})", list.join(", "));
        }
    }
    println!();
    println!(
        "workload B: {fan_clients} users, {fan_broadcasts} broadcasts to all ({} deliveries)",
        fan_clients * fan_broadcasts
    );
    println!("| server | deliveries/s | server CPU per delivery | ratio to the raw broadcast |");
    println!("|---|---|---|---|");
    println!(
        "| raw async-tungstenite broadcast | {:.0} | {:.2} µs | 1.00x |",
        raw_fan_rate,
        raw_fan_cpu.as_secs_f64() * 1e6,
    );
    println!(
        "| sente echo_server (edn) | {:.0} | {:.2} µs | {:.2}x |",
        fan_rate,
        fan_cpu.as_secs_f64() * 1e6,
        fan_cpu.as_secs_f64() / raw_fan_cpu.as_secs_f64().max(1e-9)
    );
    let list: Vec<String> = fan_ratios.iter().map(|r| format!("{r:.2}x")).collect();
    println!(
        "(the median of {} alternating rounds; ratios {})",
        fan_ratios.len(),
        list.join(", ")
    );
    let idle = if only.is_empty() || only == "C" {
        10_000
    } else {
        100
    };
    let raw_server = Server::start(&raw, &[]);
    let (raw_connect, raw_kib) = idle_scale(&raw_server, idle, false);
    drop(raw_server);
    let sente_server = Server::start(&echo, &["--port", "0"]);
    let (sente_connect, sente_kib) = idle_scale(&sente_server, idle, true);
    drop(sente_server);
    println!();
    println!("workload C: {idle} idle WebSocket connections");
    println!("| server | time to connect all | server RSS per connection | ratio to raw |");
    println!("|---|---|---|---|");
    for (name, t, kib) in [
        ("raw async-tungstenite echo", raw_connect, raw_kib),
        ("sente echo_server (edn)", sente_connect, sente_kib),
    ] {
        println!(
            "| {name} | {:.2} s | {kib:.1} KiB | {:.2}x |",
            t.as_secs_f64(),
            kib / raw_kib
        );
    }
    let (d_clients, d_events) = if only.is_empty() || only == "D" {
        (100, 200)
    } else {
        (5, 20)
    };
    let d_server = Server::start(&echo, &["--port", "0"]);
    let (d_rate, d_cpu) = client_workloads::ajax_long_polling(&d_server, d_clients, d_events);
    drop(d_server);
    println!();
    println!(
        "workload D: {d_clients} Ajax clients x {d_events} acked events (every tenth a push via the long-poll), sente's own client"
    );
    println!(
        "| server | round-trips/s | server CPU per round-trip | ratio to raw WebSocket echo |"
    );
    println!("|---|---|---|---|");
    println!(
        "| sente echo_server (edn) | {d_rate:.0} | {:.1} µs | {:.2}x |",
        d_cpu.as_secs_f64() * 1e6,
        d_cpu.as_secs_f64() / base.cpu_per_op.as_secs_f64()
    );
    let storm = if only.is_empty() || only == "E" {
        2000
    } else {
        20
    };
    let (back, lost) = client_workloads::reconnect_storm(&echo, storm, Duration::from_secs(120));
    println!();
    println!(
        "workload E: {storm} WebSocket clients, the server killed and started again on the same port"
    );
    println!("| server | time until all are back | clients that gave up |");
    println!("|---|---|---|");
    println!(
        "| sente echo_server (edn) | {:.2} s | {lost} |",
        back.as_secs_f64()
    );
}
