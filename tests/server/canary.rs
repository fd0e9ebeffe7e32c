//! A well-behaved client that keeps echoing while a hostile test runs: it
//! must see every reply, none later than [`CANARY_STALL`].
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_tungstenite::tungstenite::Message;
use futures_util::StreamExt;
use sente::wire::{self, ServerMessage};
use sente::{Event, Packed, PackedRef, Packer, Value};

use super::harness::Ws;

/// The longest a canary round-trip may take while an attack runs (generous:
/// the machine is shared; a stall means the server stopped serving others).
pub const CANARY_STALL: Duration = Duration::from_secs(3);

/// A client echoing in a loop on its own WebSocket.
pub struct Canary {
    stop: Arc<AtomicBool>,
    task: smol::Task<Result<u64, String>>,
    worst_ms: Arc<AtomicU64>,
}

/// The next server message other than a ping; `None` when the stream ends
/// or a message does not unpack.
pub async fn next_message(ws: &mut Ws, packer: &dyn Packer) -> Option<ServerMessage> {
    loop {
        let payload = match ws.0.next().await? {
            Ok(Message::Text(t)) => Packed::Text(t.as_str().to_owned()),
            Ok(Message::Binary(b)) => Packed::Binary(b.to_vec()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        };
        let bytes = match &payload {
            Packed::Text(t) => PackedRef::Text(t),
            Packed::Binary(b) => PackedRef::Binary(b),
        };
        match wire::read_server_message(packer, true, bytes) {
            Ok(ServerMessage::Ping) => continue,
            Ok(m) => return Some(m),
            Err(_) => return None,
        }
    }
}

impl Canary {
    /// An EDN canary.
    pub async fn start(addr: SocketAddr) -> Canary {
        Self::start_with(addr, Arc::new(sente::packer::EdnPacker::new())).await
    }

    /// A canary speaking `packer`.
    pub async fn start_with(addr: SocketAddr, packer: Arc<dyn Packer>) -> Canary {
        let mut ws = Ws::connect(addr, "uid=canary&client-id=canary-1").await;
        match next_message(&mut ws, &*packer).await {
            Some(ServerMessage::Handshake { .. }) => {}
            other => panic!("canary handshake: {other:?}"),
        }
        let stop = Arc::new(AtomicBool::new(false));
        let worst_ms = Arc::new(AtomicU64::new(0));
        let (stop2, worst2) = (stop.clone(), worst_ms.clone());
        let task = smol::spawn(async move {
            let mut n = 0i64;
            while !stop2.load(Ordering::Acquire) {
                let at = Instant::now();
                let cb = format!("cn{n:04}");
                let ev = Event::named("echo/echo", n).expect("an id");
                let frame = wire::pack_client_event(&*packer, true, &ev, Some(&cb))
                    .map_err(|e| e.to_string())?;
                let msg = match frame {
                    Packed::Text(t) => Message::text(t),
                    Packed::Binary(b) => Message::binary(b),
                };
                futures_util::SinkExt::send(&mut ws.0, msg)
                    .await
                    .map_err(|e| format!("canary send {n}: {e}"))?;
                let got =
                    smol::future::or(async { next_message(&mut ws, &*packer).await }, async {
                        smol::Timer::after(CANARY_STALL).await;
                        None
                    })
                    .await;
                match got {
                    Some(ServerMessage::Reply { value, cb: c })
                        if value == Value::from(n) && c == Value::from(cb.as_str()) => {}
                    other => return Err(format!("canary round-trip {n}: got {other:?}")),
                }
                worst2.fetch_max(at.elapsed().as_millis() as u64, Ordering::AcqRel);
                n += 1;
                smol::Timer::after(Duration::from_millis(5)).await;
            }
            Ok(n as u64)
        });
        Canary {
            stop,
            task,
            worst_ms,
        }
    }

    /// Stops the canary; fails the test if it saw an error or a stall.
    pub async fn check(self) {
        self.stop.store(true, Ordering::Release);
        let n = self.task.await.unwrap_or_else(|e| panic!("{e}"));
        assert!(n > 0, "the canary made no round-trip");
        let worst = self.worst_ms.load(Ordering::Acquire);
        assert!(
            worst < CANARY_STALL.as_millis() as u64,
            "the canary stalled {worst} ms"
        );
    }
}
