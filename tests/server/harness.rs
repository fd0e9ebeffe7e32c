//! Loopback harness: a channel-socket server on 127.0.0.1:0 and raw clients.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::Message;
use futures_util::StreamExt;

use sente::packer::EdnPacker;
use sente::runtimes::smol::{self as chsk_smol, SmolRuntime};
use sente::server::{ChannelSocketServer, ServerEventMsg, ServerEvents, ServerOptions};
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::net::TcpStream;

#[path = "../../examples/echo/handlers.rs"]
pub mod echo;

/// How long any single wait in a test may take before it fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Fails the test if `fut` does not finish within [`DEADLINE`].
pub async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    let timeout = async {
        smol::Timer::after(DEADLINE).await;
        panic!("timed out waiting for {what}");
    };
    smol::future::or(fut, timeout).await
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub chsk: ChannelSocketServer,
}

/// The server plugs the suite runs against.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    /// `SmolRuntime` + the hyper adapter.
    Smol,
    /// `AsyncStdRuntime` + the tide endpoint.
    #[cfg(feature = "tide")]
    Tide,
    /// `TokioRuntime` + the axum router (`axum::serve`).
    #[cfg(feature = "axum")]
    Axum,
}

/// The tokio runtime the axum servers of a test binary run on (two workers).
#[cfg(feature = "axum")]
pub fn tokio_runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

/// Serves `chsk` at `/chsk` with axum on [`tokio_runtime`], on 127.0.0.1:0.
#[cfg(feature = "axum")]
pub fn serve_axum(chsk: ChannelSocketServer) -> SocketAddr {
    use axum::serve::ListenerExt as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let rt = tokio_runtime();
    let _entered = rt.enter();
    let listener = tokio::net::TcpListener::from_std(listener)
        .expect("a tokio listener")
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    let app: axum::Router = sente::runtimes::axum::router("/chsk", chsk);
    rt.spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Starts a server on `backend` with these options; events go to `on_event`.
pub async fn start_with(
    backend: Backend,
    opts: ServerOptions,
    on_event: impl Fn(ServerEventMsg) + Send + 'static,
) -> TestServer {
    start_with_packer(backend, Arc::new(EdnPacker::new()), opts, on_event).await
}

/// Starts a server whose events the test reads itself.
pub async fn start_raw(backend: Backend, opts: ServerOptions) -> (TestServer, ServerEvents) {
    let mut taken = None;
    let server = start_parts(backend, Arc::new(EdnPacker::new()), opts, |events| {
        taken = Some(events)
    })
    .await;
    (server, taken.expect("the events stream"))
}

/// Like [`start_with`] with another packer.
pub async fn start_with_packer(
    backend: Backend,
    packer: Arc<dyn sente::Packer>,
    opts: ServerOptions,
    on_event: impl Fn(ServerEventMsg) + Send + 'static,
) -> TestServer {
    start_parts(backend, packer, opts, move |events| {
        smol::spawn(async move {
            while let Ok(msg) = events.recv().await {
                on_event(msg);
            }
        })
        .detach();
    })
    .await
}

/// Starts a server and hands its event stream to `take_events`.
pub async fn start_parts(
    backend: Backend,
    packer: Arc<dyn sente::Packer>,
    opts: ServerOptions,
    take_events: impl FnOnce(ServerEvents),
) -> TestServer {
    let runtime: Arc<dyn sente::runtime::Runtime> = match backend {
        Backend::Smol => Arc::new(SmolRuntime),
        #[cfg(feature = "tide")]
        Backend::Tide => Arc::new(sente::runtimes::async_std::AsyncStdRuntime),
        #[cfg(feature = "axum")]
        Backend::Axum => Arc::new(sente::runtimes::tokio::TokioRuntime::new(
            tokio_runtime().handle().clone(),
        )),
    };
    let (chsk, events): (ChannelSocketServer, ServerEvents) =
        ChannelSocketServer::new(runtime, packer, opts).expect("valid options");
    take_events(events);
    let addr = match backend {
        Backend::Smol => {
            let listener = smol::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let app = chsk.clone();
            smol::spawn(chsk_smol::serve(listener, move |req| {
                let chsk = app.clone();
                async move { chsk_smol::handle(&chsk, req).await }
            }))
            .detach();
            addr
        }
        #[cfg(feature = "tide")]
        Backend::Tide => {
            use tide::listener::Listener as _;
            let mut app = tide::new();
            let endpoint = sente::runtimes::tide::ChskEndpoint::new(chsk.clone());
            app.at("/chsk").get(endpoint.clone()).post(endpoint);
            let mut listener = app.bind("127.0.0.1:0").await.expect("bind");
            let info = listener.info().pop().expect("listen info");
            let addr = info
                .connection()
                .trim_start_matches("http://")
                .parse()
                .expect("an address");
            async_std::task::spawn(async move {
                let _ = listener.accept().await;
            });
            addr
        }
        #[cfg(feature = "axum")]
        Backend::Axum => serve_axum(chsk.clone()),
    };
    TestServer { addr, chsk }
}

/// Starts the echo server on `backend` with its options adjusted by `tune`.
pub async fn start_echo(
    backend: Backend,
    tune: impl FnOnce(ServerOptions) -> ServerOptions,
) -> TestServer {
    start_with(backend, tune(echo::options()), echo::handle).await
}

pub struct Ws(pub WebSocketStream<TcpStream>);

impl Ws {
    pub async fn connect(addr: SocketAddr, query: &str) -> Ws {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let url = format!("ws://{addr}/chsk?{query}");
        let (ws, _resp) = async_tungstenite::client_async(url, stream)
            .await
            .expect("upgrade");
        Ws(ws)
    }

    /// The next text frame (pings and pongs skipped); `None` on close.
    pub async fn recv(&mut self) -> Option<String> {
        within("a frame", async {
            loop {
                match self.0.next().await {
                    Some(Ok(Message::Text(t))) => return Some(t.as_str().to_owned()),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                    Some(Ok(_)) => continue,
                }
            }
        })
        .await
    }

    /// The next message of any kind, including close frames.
    pub async fn recv_raw(&mut self) -> Option<Message> {
        within("a message", async {
            loop {
                match self.0.next().await {
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(m)) => return Some(m),
                    _ => return None,
                }
            }
        })
        .await
    }

    pub async fn send(&mut self, text: &str) {
        self.0.send(Message::text(text)).await.expect("send");
    }

    /// Connects and reads the handshake.
    pub async fn open(addr: SocketAddr, query: &str) -> (Ws, String) {
        let mut ws = Ws::connect(addr, query).await;
        let hs = ws.recv().await.expect("handshake");
        (ws, hs)
    }
}

pub struct HttpResponse {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("utf-8 body")
    }
}

/// Sends one raw HTTP/1.1 request (with `Connection: close`) and reads the response.
pub async fn http(addr: SocketAddr, raw: &str) -> HttpResponse {
    http_bytes(addr, raw.as_bytes()).await
}

pub async fn http_bytes(addr: SocketAddr, raw: &[u8]) -> HttpResponse {
    within("an HTTP response", async {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(raw).await.expect("write");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.expect("read");
        let split = buf
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a response head");
        let head = String::from_utf8_lossy(&buf[..split]).into_owned();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status");
        HttpResponse {
            status,
            head,
            body: buf[split + 4..].to_vec(),
        }
    })
    .await
}

/// Sends a raw request and reads only the response head and the bytes after
/// it that arrived with it (for upgrades, where the connection stays open).
pub async fn http_head(addr: SocketAddr, raw: &str) -> (u16, String, Vec<u8>) {
    within("a response head", async {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(raw.as_bytes()).await.expect("write");
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            let n = s.read(&mut chunk).await.expect("read");
            assert!(n > 0, "connection closed before the head ended");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(split) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..split]).into_owned();
                let status = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .expect("a status");
                // Wait for the first frame to follow (the handshake).
                while buf.len() == split + 4 {
                    let n = s.read(&mut chunk).await.expect("read");
                    assert!(n > 0, "closed");
                    buf.extend_from_slice(&chunk[..n]);
                }
                return (status, head, buf[split + 4..].to_vec());
            }
        }
    })
    .await
}

pub async fn get(addr: SocketAddr, path_and_query: &str, headers: &str) -> HttpResponse {
    http(
        addr,
        &format!(
            "GET {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\r\n"
        ),
    )
    .await
}

/// POSTs a form body.
pub async fn post_form(addr: SocketAddr, form: &str, headers: &str) -> HttpResponse {
    http(
        addr,
        &format!(
            "POST /chsk HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n{headers}Content-Length: {}\r\n\r\n{form}",
            form.len()
        ),
    )
    .await
}

/// The `ppstr` form of a packed EDN string.
pub fn ppstr(client_id: &str, edn: &str) -> String {
    let enc: String = form_urlencoded::byte_serialize(edn.as_bytes()).collect();
    format!("udt=1&client-id={client_id}&ppstr={enc}")
}

/// A WebSocket client speaking raw frames over TCP, to send what a
/// well-behaved client library never would.
pub struct RawWs {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// A masked client frame (the mask is fixed: tests need no entropy).
pub fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0xA1, 0x5E, 0x07, 0xC3];
    let mut out = vec![(u8::from(fin) << 7) | opcode];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
    out
}

impl RawWs {
    /// Upgrades and returns the client with the handshake frame read.
    pub async fn open(addr: SocketAddr, query: &str) -> (RawWs, (u8, Vec<u8>)) {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let req = format!(
            "GET /chsk?{query} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await.expect("write");
        let mut ws = RawWs {
            stream,
            buf: Vec::new(),
        };
        let split = within("a 101", async {
            loop {
                if let Some(i) = ws.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    return i;
                }
                assert!(ws.fill().await > 0, "closed before the response head");
            }
        })
        .await;
        assert!(
            ws.buf.starts_with(b"HTTP/1.1 101"),
            "{:?}",
            String::from_utf8_lossy(&ws.buf)
        );
        ws.buf.drain(..split + 4);
        let hs = ws.frame().await.expect("the handshake frame");
        (ws, hs)
    }

    async fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk).await.unwrap_or(0);
        self.buf.extend_from_slice(&chunk[..n]);
        n
    }

    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    /// The next server frame as (opcode, payload); `None` at the end of the
    /// stream. Server frames must be final and unmasked.
    pub async fn frame(&mut self) -> Option<(u8, Vec<u8>)> {
        within("a frame", async {
            loop {
                if self.buf.len() >= 2 {
                    assert_eq!(self.buf[0] & 0xF0, 0x80, "a final frame, no reserved bits");
                    assert_eq!(self.buf[1] & 0x80, 0, "server frames are unmasked");
                    let (len, at) = match self.buf[1] {
                        126 if self.buf.len() >= 4 => (
                            usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]])),
                            4,
                        ),
                        127 if self.buf.len() >= 10 => {
                            let mut b = [0u8; 8];
                            b.copy_from_slice(&self.buf[2..10]);
                            (u64::from_be_bytes(b) as usize, 10)
                        }
                        126 | 127 => (usize::MAX, 0),
                        n => (usize::from(n), 2),
                    };
                    if at > 0 && self.buf.len() >= at + len {
                        let opcode = self.buf[0] & 0x0F;
                        let payload = self.buf[at..at + len].to_vec();
                        self.buf.drain(..at + len);
                        return Some((opcode, payload));
                    }
                }
                if self.fill().await == 0 {
                    return None;
                }
            }
        })
        .await
    }

    /// The code of the next close frame (data frames skipped); `None` when
    /// the stream ends first or the close frame has no code.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match self.frame().await {
                Some((8, payload)) => {
                    return payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
                }
                Some((1 | 2, _)) => continue,
                Some(other) => panic!("expected a close frame, got {other:?}"),
                None => return None,
            }
        }
    }
}

/// The soft limit on this process's file descriptors (tests that open many
/// connections scale to it).
pub fn fd_soft_limit() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(1024)
}
