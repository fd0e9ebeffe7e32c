//! Concurrent senders and receivers on several threads, over real sockets:
//! the server runs on a 4-thread executor; 4 application threads push to
//! every user at once (buffered and flushed), a fifth broadcasts, and every
//! tab sends requests meanwhile. Every tab gets every push exactly once, in
//! the order each thread sent them, and every reply in order. With the
//! users' state split over lock shards, this is what keeps them honest.

#![cfg(all(feature = "smol", feature = "edn"))]
#[path = "server/canary.rs"]
mod canary;
#[path = "server/harness.rs"]
mod harness;

use std::sync::Arc;

use harness::*;
use sente::server::SendOptions;
use sente::wire::ServerMessage;
use sente::{Event, Value};

const USERS: usize = 8;
const TABS: usize = 2;
const SENDERS: usize = 4;
const PUSHES: i64 = 300;
const BROADCASTS: i64 = 300;
const REQUESTS: i64 = 100;

/// What one tab saw: the next sequence number expected from each sender
/// (the broadcaster last), and the replies in order.
struct Seen {
    next: [i64; SENDERS + 1],
}

impl Seen {
    fn take(&mut self, tab: &str, event: &Event) {
        let data = event.data().as_seq().expect("[sender seq]");
        let (sender, seq) = (
            data[0].as_i64().expect("a sender") as usize,
            data[1].as_i64().expect("a seq"),
        );
        assert_eq!(
            seq, self.next[sender],
            "{tab}: sender {sender}'s pushes out of order, lost or doubled"
        );
        self.next[sender] += 1;
    }

    fn done(&self) -> bool {
        self.next[..SENDERS].iter().all(|&n| n == PUSHES) && self.next[SENDERS] == BROADCASTS
    }
}

/// Set in the child process that runs the test on a 4-thread executor.
const CHILD_ENV: &str = "SENTE_CONCURRENCY_CHILD";

/// smol's global executor takes its thread count from `SMOL_THREADS` when
/// first used: the test runs in a child process started with it.
#[test]
fn concurrent_senders_and_receivers_lose_nothing_and_keep_per_client_order() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return run();
    }
    let exe = std::env::current_exe().expect("test binary");
    let status = std::process::Command::new(exe)
        .args([
            "concurrent_senders_and_receivers_lose_nothing_and_keep_per_client_order",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .env("SMOL_THREADS", "4")
        .status()
        .expect("the child test");
    assert!(status.success(), "the child test failed: {status}");
}

fn run() {
    let packer: Arc<dyn sente::Packer> = Arc::new(sente::packer::EdnPacker::new());
    let (server, tabs) = smol::block_on(async {
        let s = start_echo(Backend::Smol, |o| o).await;
        let mut tabs = Vec::new();
        for u in 0..USERS {
            for t in 0..TABS {
                let query = format!("uid=u{u}&client-id=u{u}-t{t}");
                let (ws, _) = Ws::open(s.addr, &query).await;
                tabs.push((query, ws));
            }
        }
        (s, tabs)
    });
    let readers: Vec<_> = tabs
        .into_iter()
        .map(|(tab, mut ws)| {
            let packer = packer.clone();
            smol::spawn(async move {
                let mut seen = Seen {
                    next: [0; SENDERS + 1],
                };
                // Requests go out one at a time while the pushes pour in.
                for i in 0..REQUESTS {
                    ws.send(&format!(r#"[[:echo/echo {i}] "cb{i:05}"]"#)).await;
                    loop {
                        match within("a reply", canary::next_message(&mut ws, &*packer)).await {
                            Some(ServerMessage::Push(events)) => {
                                events.iter().for_each(|e| seen.take(&tab, e))
                            }
                            Some(ServerMessage::Reply { value, cb }) => {
                                assert_eq!(value, Value::from(i), "{tab}: replies in order");
                                assert_eq!(cb, Value::from(format!("cb{i:05}")));
                                break;
                            }
                            other => panic!("{tab}: unexpected {other:?}"),
                        }
                    }
                }
                while !seen.done() {
                    match within("a push", canary::next_message(&mut ws, &*packer)).await {
                        Some(ServerMessage::Push(events)) => {
                            events.iter().for_each(|e| seen.take(&tab, e))
                        }
                        other => panic!("{tab}: unexpected {other:?}"),
                    }
                }
            })
        })
        .collect();
    let chsk = server.chsk.clone();
    let senders: Vec<_> = (0..=SENDERS)
        .map(|sender| {
            let chsk = chsk.clone();
            std::thread::spawn(move || {
                let count = if sender == SENDERS {
                    BROADCASTS
                } else {
                    PUSHES
                };
                for seq in 0..count {
                    let event = Event::named(
                        "test/push",
                        vec![Value::from(sender as i64), Value::from(seq)],
                    )
                    .expect("an id");
                    let options = SendOptions {
                        flush: seq % 7 == 0,
                    };
                    if sender == SENDERS {
                        let n = chsk.broadcast(event, options).expect("packs");
                        assert_eq!(n, USERS * TABS, "a broadcast reaches every tab");
                    } else {
                        for u in 0..USERS {
                            let n = chsk
                                .send(&Value::from(format!("u{u}")), event.clone(), options)
                                .expect("packs");
                            assert_eq!(n, TABS, "a push reaches each tab of the user");
                        }
                    }
                }
            })
        })
        .collect();
    for s in senders {
        s.join().expect("a sender thread");
    }
    smol::block_on(async {
        for r in readers {
            within("every tab's pushes", r).await;
        }
    });
    let total = USERS * TABS * (SENDERS * PUSHES as usize + BROADCASTS as usize);
    eprintln!("{total} pushes delivered in order to {} tabs", USERS * TABS);
}
