//! Workloads driven by sente's own client: D (Ajax long-polling) and E
//! (reconnect storm).

use std::time::{Duration, Instant};

use sente::client::{ChannelSocketClient, ChskType, ClientConfig, ClientOptions};
use sente::packer::EdnPacker;
use sente::runtimes::smol::{SmolClientTransport, SmolRuntime};
use sente::{Event, Value};

use crate::Server;

fn client(
    port: u16,
    chsk_type: ChskType,
    id: usize,
) -> (ChannelSocketClient, sente::client::ClientEvents) {
    let opts = ClientOptions::new(&format!("http://127.0.0.1:{port}/chsk"))
        .expect("a URL")
        .config(ClientConfig::default().chsk_type(chsk_type))
        .client_id(format!("bench-{id}"));
    ChannelSocketClient::new(
        SmolRuntime,
        EdnPacker::new(),
        SmolClientTransport::new(),
        opts,
    )
    .expect("valid options")
}

async fn wait_open(c: &ChannelSocketClient) {
    let mut watch = c.watch_state();
    while !c.state().open {
        watch.changed().await.expect("the client is alive");
    }
}

/// Workload D: `clients` Ajax clients, `per_client` acked events each, every
/// tenth one a push to the sender (delivered by its long-poll). Returns
/// round-trips/s and the server's CPU time per round-trip.
pub(crate) fn ajax_long_polling(
    server: &Server,
    clients: usize,
    per_client: usize,
) -> (f64, Duration) {
    let port = server.port;
    smol::block_on(async {
        let mut all = Vec::new();
        for c in 0..clients {
            let (cl, events) = client(port, ChskType::Ajax, c);
            cl.connect();
            all.push((cl, events));
        }
        for (cl, _) in &all {
            wait_open(cl).await;
        }
        let cpu0 = server.cpu();
        let t0 = Instant::now();
        let tasks: Vec<_> = all
            .into_iter()
            .map(|(cl, events)| {
                smol::spawn(async move {
                    let mut pushes_asked = 0;
                    for i in 0..per_client {
                        let push = i % 10 == 9;
                        let id = if push { "echo/push" } else { "echo/echo" };
                        pushes_asked += usize::from(push);
                        let ev = Event::named(id, Value::from(i as i64)).expect("valid");
                        cl.send_with_reply(&ev, Duration::from_secs(30))
                            .await
                            .expect("a reply");
                    }
                    // Every push arrives through the long-poll.
                    let mut pushed = 0;
                    while pushed < pushes_asked {
                        let msg = events.recv().await.expect("events");
                        pushed += usize::from(msg.id().as_str() == "echo/pushed");
                    }
                    cl.disconnect();
                })
            })
            .collect();
        for t in tasks {
            t.await;
        }
        let wall = t0.elapsed();
        let cpu = server.cpu() - cpu0;
        let n = (clients * per_client) as f64;
        (n / wall.as_secs_f64(), cpu.div_f64(n))
    })
}

/// Workload E: `clients` WebSocket clients connected; the server is killed
/// and started again on the same port. Returns the time from the restart
/// until every client is open again, and how many never came back within
/// `give_up`.
pub(crate) fn reconnect_storm(echo: &str, clients: usize, give_up: Duration) -> (Duration, usize) {
    let server = Server::start(echo, &["--port", "0"]);
    let port = server.port;
    smol::block_on(async move {
        let mut all = Vec::new();
        for c in 0..clients {
            let (cl, events) = client(port, ChskType::Ws, c);
            cl.connect();
            // Drain events so the clients never stall on a full buffer.
            smol::spawn(async move { while events.recv().await.is_ok() {} }).detach();
            all.push(cl);
        }
        for cl in &all {
            wait_open(cl).await;
        }
        drop(server); // killed
        // Wait until every client noticed, then bring a new server up.
        for cl in &all {
            let mut watch = cl.watch_state();
            while cl.state().open {
                watch.changed().await.expect("alive");
            }
        }
        let restarted = Server::start(echo, &["--port", &port.to_string()]);
        let t0 = Instant::now();
        let waits: Vec<_> = all
            .iter()
            .cloned()
            .map(|cl| {
                smol::spawn(async move {
                    let ok = smol::future::or(
                        async {
                            wait_open(&cl).await;
                            true
                        },
                        async {
                            smol::Timer::after(give_up).await;
                            false
                        },
                    )
                    .await;
                    cl.disconnect();
                    ok
                })
            })
            .collect();
        let mut lost = 0;
        for w in waits {
            lost += usize::from(!w.await);
        }
        let back = t0.elapsed();
        drop(restarted);
        (back, lost)
    })
}
