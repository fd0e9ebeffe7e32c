//! A loopback TCP proxy for fault injection: it can cut every connection
//! (and refuse new ones), freeze (keep connections open, forward nothing:
//! a silently dead peer), delay every chunk, cut a connection in the middle
//! of a frame, and point at another server; or spread the connections
//! over several servers in turn (a load balancer without sticky sessions).
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::net::{TcpListener, TcpStream};

#[derive(Default)]
struct Faults {
    frozen: AtomicBool,
    /// Milliseconds each chunk waits before it is forwarded.
    delay_ms: AtomicU64,
    /// When not 0: the connections end after this many more bytes from the
    /// server to the client (a cut in the middle of a frame).
    cut_after: AtomicUsize,
    /// Connections made through the proxy.
    connections: AtomicUsize,
}

pub struct Proxy {
    pub addr: SocketAddr,
    /// The servers new connections go to, in turn; none: refused.
    upstream: Arc<Mutex<Vec<SocketAddr>>>,
    pipes: Arc<Mutex<Vec<smol::Task<()>>>>,
    faults: Arc<Faults>,
}

/// Copies `from` to `to`, applying the faults; `downstream` is the
/// server-to-client direction.
async fn pipe(mut from: TcpStream, mut to: TcpStream, faults: Arc<Faults>, downstream: bool) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if faults.frozen.load(Ordering::SeqCst) {
            continue;
        }
        let delay = faults.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            smol::Timer::after(Duration::from_millis(delay)).await;
        }
        let mut n = n;
        let mut last = false;
        if downstream {
            let budget = faults.cut_after.load(Ordering::SeqCst);
            if budget > 0 {
                if n >= budget {
                    n = budget;
                    last = true;
                    faults.cut_after.store(0, Ordering::SeqCst);
                } else {
                    faults.cut_after.store(budget - n, Ordering::SeqCst);
                }
            }
        }
        if to.write_all(&buf[..n]).await.is_err() || last {
            return;
        }
    }
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        Self::round_robin(vec![upstream]).await
    }

    /// A proxy sending each new connection to the next of `upstreams`.
    pub async fn round_robin(upstreams: Vec<SocketAddr>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let target = Arc::new(Mutex::new(upstreams));
        let pipes = Arc::new(Mutex::new(Vec::new()));
        let faults = Arc::new(Faults::default());
        let (t, p, f) = (target.clone(), pipes.clone(), faults.clone());
        smol::spawn(async move {
            let mut turn = 0usize;
            while let Ok((down, _)) = listener.accept().await {
                let up_addr = {
                    let upstreams = t.lock().unwrap();
                    if upstreams.is_empty() {
                        continue; // down: the connection is dropped at once
                    }
                    turn += 1;
                    upstreams[(turn - 1) % upstreams.len()]
                };
                let _ = down.set_nodelay(true);
                f.connections.fetch_add(1, Ordering::SeqCst);
                let f = f.clone();
                let pipe = smol::spawn(async move {
                    let Ok(up) = TcpStream::connect(up_addr).await else {
                        return;
                    };
                    let _ = up.set_nodelay(true);
                    let (down2, up2) = (down.clone(), up.clone());
                    smol::future::or(pipe(down, up2, f.clone(), false), pipe(up, down2, f, true))
                        .await;
                });
                p.lock().unwrap().push(pipe);
            }
        })
        .detach();
        Proxy {
            addr,
            upstream: target,
            pipes,
            faults,
        }
    }

    /// Keeps every connection open but forwards nothing, until `thaw`.
    pub fn freeze(&self) {
        self.faults.frozen.store(true, Ordering::SeqCst);
    }

    pub fn thaw(&self) {
        self.faults.frozen.store(false, Ordering::SeqCst);
    }

    /// Delays every chunk by `delay` (zero for none).
    pub fn delay(&self, delay: Duration) {
        self.faults
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Ends the connections once `bytes` more bytes went from the server to
    /// the client: in the middle of whatever frame those bytes belong to.
    pub fn cut_after(&self, bytes: usize) {
        self.faults.cut_after.store(bytes, Ordering::SeqCst);
    }

    /// Kills the open connections (new ones still go through).
    pub fn drop_connections(&self) {
        self.pipes.lock().unwrap().clear();
    }

    /// Refuses new connections and kills the open ones.
    pub fn cut(&self) {
        self.upstream.lock().unwrap().clear();
        self.drop_connections();
    }

    pub fn restore(&self, upstream: SocketAddr) {
        *self.upstream.lock().unwrap() = vec![upstream];
    }

    /// Connections made through the proxy so far.
    pub fn connections(&self) -> usize {
        self.faults.connections.load(Ordering::SeqCst)
    }
}
