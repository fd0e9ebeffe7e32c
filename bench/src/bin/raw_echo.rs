//! The physical limit of our stack: a raw async-tungstenite server on smol,
//! no channel-socket layer. Same socket settings as sente's server
//! (TCP_NODELAY, 4 KiB read buffer). Prints `listening on 127.0.0.1:PORT`.
//!
//! It echoes every message, except `[[:echo/broadcast x] "cb"]`: that one
//! it broadcasts as one encoded message, `[[[:echo/pushed x]] nil]`, cloned
//! to every other connection (the floor of a broadcast: no per-user
//! buffering, no packing per connection), then answers `[n "cb"]`. Each
//! connection's pushes are written by a task of its own that writes what
//! is queued and flushes once (writes coalesce, as sente's do).

use std::sync::{Arc, Mutex};

use async_tungstenite::WebSocketSender;
use async_tungstenite::tungstenite::Message;
use async_tungstenite::tungstenite::protocol::WebSocketConfig;
use futures_util::StreamExt;

type Sink = Arc<futures_util::lock::Mutex<WebSocketSender<smol::net::TcpStream>>>;
type Peers = Arc<Mutex<Vec<Peer>>>;

/// A connection as the broadcaster sees it. Its push queue and writer task
/// are made on its first push, so an idle connection costs what it did
/// before broadcasts existed (workload C's floor).
struct Peer {
    id: u64,
    sink: Sink,
    pushes: Option<async_channel::Sender<Message>>,
}

impl Peer {
    fn push(&mut self, msg: Message) {
        let pushes = self.pushes.get_or_insert_with(|| {
            let (tx, rx) = async_channel::unbounded();
            smol::spawn(push_writer(self.sink.clone(), rx)).detach();
            tx
        });
        let _ = pushes.try_send(msg);
    }
}

/// Writes the pushes queued for one connection: all that are there, then
/// one flush.
async fn push_writer(sink: Sink, pushes: async_channel::Receiver<Message>) {
    use futures_util::SinkExt;
    while let Ok(first) = pushes.recv().await {
        let mut sink = sink.lock().await;
        if sink.feed(first).await.is_err() {
            return;
        }
        while let Ok(more) = pushes.try_recv() {
            if sink.feed(more).await.is_err() {
                return;
            }
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
}

/// `[[:echo/broadcast x] "cb"]` → `(x, "cb")`, as text.
fn broadcast_request(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("[[:echo/broadcast ")?;
    let (x, cb) = rest.split_once("] ")?;
    Some((x, cb.strip_suffix(']')?))
}

fn main() -> std::io::Result<()> {
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("listening on {}", listener.local_addr()?);
        let peers: Peers = Arc::default();
        let mut next_id = 0u64;
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            next_id += 1;
            let (id, peers) = (next_id, peers.clone());
            smol::spawn(async move {
                // The write buffer is allocated on the first write only
                // (idle connections hold none): it lets pushes coalesce.
                let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
                let Ok(ws) =
                    async_tungstenite::accept_async_with_config(stream, Some(config)).await
                else {
                    return;
                };
                let (tx, mut rx) = ws.split();
                let tx: Sink = Arc::new(futures_util::lock::Mutex::new(tx));
                peers.lock().unwrap().push(Peer {
                    id,
                    sink: tx.clone(),
                    pushes: None,
                });
                while let Some(Ok(msg)) = rx.next().await {
                    let broadcast = msg.to_text().ok().and_then(broadcast_request);
                    let reply = match broadcast {
                        Some((x, cb)) => {
                            // One encoded message, cloned to every other connection.
                            let push = Message::text(format!("[[[:echo/pushed {x}]] nil]"));
                            let mut reached = 0;
                            for peer in peers.lock().unwrap().iter_mut().filter(|p| p.id != id) {
                                peer.push(push.clone());
                                reached += 1;
                            }
                            Message::text(format!("[{reached} {cb}]"))
                        }
                        None if msg.is_text() || msg.is_binary() => msg,
                        None => continue,
                    };
                    if tx.lock().await.send(reply).await.is_err() {
                        break;
                    }
                }
                peers.lock().unwrap().retain(|p| p.id != id);
            })
            .detach();
        }
    })
}
