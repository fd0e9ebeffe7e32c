//! No silent loss under bursts: 1,000 WebSocket clients with 10 requests
//! each in flight at once (10,000, ten times the receive buffer) into a
//! slow handler, and 10,000 pushes into clients that read slowly. Every
//! event is delivered and answered, in order per client. (The real Sente's
//! 1,000-slot sliding buffer drops most of such a burst without a trace.)

#![cfg(all(feature = "smol", feature = "edn"))]
#[path = "server/harness.rs"]
mod harness;

use std::time::Duration;

use harness::*;

/// As many clients as the descriptor limit allows (both ends are here).
fn clients() -> usize {
    1_000.min(fd_soft_limit().saturating_sub(200) / 2)
}

#[test]
fn ten_thousand_requests_in_flight_into_a_slow_handler_all_answered() {
    smol::block_on(async {
        let (s, events) = start_raw(Backend::Smol, echo::options()).await;
        // The slow handler: a pause every 100 events.
        smol::spawn(async move {
            let mut n = 0u64;
            while let Ok(msg) = events.recv().await {
                n += 1;
                if n.is_multiple_of(100) {
                    smol::Timer::after(Duration::from_millis(2)).await;
                }
                echo::handle(msg);
            }
        })
        .detach();
        let clients = clients();
        let mut conns = Vec::with_capacity(clients);
        for c in 0..clients {
            let (ws, _) = Ws::open(s.addr, &format!("client-id=burst-{c}")).await;
            conns.push(ws);
        }
        // Every client's 10 requests go out before any reply is read.
        for (c, ws) in conns.iter_mut().enumerate() {
            for i in 0..10 {
                ws.send(&format!(r#"[[:echo/echo [{c} {i}]] "b{c:04}{i:02}"]"#))
                    .await;
            }
        }
        let tasks: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(c, mut ws)| {
                smol::spawn(async move {
                    for i in 0..10 {
                        let reply = ws.recv().await.expect("a reply");
                        assert_eq!(reply, format!(r#"[[{c} {i}] "b{c:04}{i:02}"]"#), "in order");
                    }
                })
            })
            .collect();
        for t in tasks {
            within("every reply", t).await;
        }
        eprintln!("{} requests in flight, all answered", clients * 10);
    });
}

#[test]
fn ten_thousand_pushes_into_slow_clients_all_arrive() {
    smol::block_on(async {
        let s = start_echo(Backend::Smol, |o| o).await;
        let clients = clients();
        let mut tasks = Vec::with_capacity(clients);
        let (ready_tx, ready_rx) = async_channel::unbounded();
        for c in 0..clients {
            let (mut ws, _) = Ws::open(s.addr, &format!("uid=slow-{c}&client-id=slow-{c}")).await;
            let ready = ready_tx.clone();
            tasks.push(smol::spawn(async move {
                let _ = ready.send(()).await;
                let mut next = 0;
                while next < 10 {
                    // A slow reader: a pause before every frame.
                    smol::Timer::after(Duration::from_millis(1)).await;
                    let frame = ws.recv().await.expect("a push batch");
                    // One frame may carry several pushes (a batch).
                    let mut at = 0;
                    while let Some(found) = frame[at..].find("[:t/n ") {
                        let start = at + found + 6;
                        let end = start + frame[start..].find(']').expect("a closing bracket");
                        assert_eq!(frame[start..end].parse::<i64>(), Ok(next), "in order");
                        next += 1;
                        at = end;
                    }
                }
            }));
        }
        for _ in 0..clients {
            ready_rx.recv().await.expect("ready");
        }
        for i in 0..10 {
            for c in 0..clients {
                let uid = sente::Value::from(format!("slow-{c}"));
                let ev = sente::Event::named("t/n", i).unwrap();
                let sent = s
                    .chsk
                    .send(&uid, ev, sente::server::SendOptions { flush: i % 2 == 0 });
                assert_eq!(sent, Ok(1));
            }
        }
        for t in tasks {
            within("every push", t).await;
        }
        eprintln!(
            "{} pushes into slow clients, all arrived in order",
            clients * 10
        );
    });
}
