//! The async client on smol against the in-process echo server: every
//! transport, replies and their timeouts, pushes, disconnect / reconnect,
//! the `:auto` downgrade, and recovery from a server restart; the sessions
//! and restarts also with the client on async-std and on tokio.
#![cfg(feature = "smol")]

#[path = "server/harness.rs"]
mod harness;
#[path = "server/proxy.rs"]
mod proxy;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use harness::{Backend, TestServer, start_echo, within};
use proxy::Proxy;
use sente::client::{
    CallbackError, ChannelSocketClient, ChskType, ClientConfig, ClientEventMsg, ClientEvents,
    ClientOptions, CloseReason, SendError, StateChange,
};
use sente::packer::{EdnPacker, Packer};
use sente::runtimes::smol::{SmolClientTransport, SmolRuntime};
use sente::server::{CsrfCheck, ServerOptions, Transport, is_websocket_upgrade, text_response};
use sente::{Event, Value};

const TYPES: [ChskType; 3] = [ChskType::Ws, ChskType::Ajax, ChskType::Auto];

/// Short timings: immediate-ish retries, quick pings and Ajax timeouts.
fn fast_config(chsk_type: ChskType) -> ClientConfig {
    ClientConfig::default()
        .chsk_type(chsk_type)
        .ws_kalive(Some(Duration::from_secs(2)))
        .ws_ping_timeout(Duration::from_secs(1))
        .ajax_timeout(Duration::from_secs(5))
        .backoff(|_, _| Duration::from_millis(50))
}

/// The echo server, long-polls held 2 s.
async fn echo_server(tune: impl FnOnce(ServerOptions) -> ServerOptions) -> TestServer {
    start_echo(server_backend(), |o| {
        tune(o.lp_timeout(Duration::from_secs(2)))
    })
    .await
}

fn make_client(opts: ClientOptions) -> (ChannelSocketClient, ClientEvents) {
    make_client_with(opts, Arc::new(EdnPacker::new()))
}

thread_local! {
    /// The runtime this test's clients run on (smol unless a test says otherwise).
    static ASYNC_STD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Whether this test's clients run on tokio (runtime and transport).
    static TOKIO: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Whether this test's servers run on tokio + axum.
    static AXUM: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs a client test with its clients on tokio: `TokioRuntime` and
/// `TokioClientTransport` on a current-thread runtime (the server stays on
/// smol).
#[cfg(feature = "tokio")]
fn on_tokio(test: impl std::future::Future<Output = ()>) {
    TOKIO.with(|c| c.set(true));
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(test);
}

/// The server plug this test's echo servers run on: smol + hyper unless the
/// test runs on tokio + axum end to end.
fn server_backend() -> Backend {
    #[cfg(feature = "axum")]
    if AXUM.with(std::cell::Cell::get) {
        return Backend::Axum;
    }
    Backend::Smol
}

/// [`on_tokio`] with the echo servers on tokio + axum too.
#[cfg(feature = "axum")]
fn on_tokio_and_axum(test: impl std::future::Future<Output = ()>) {
    AXUM.with(|c| c.set(true));
    on_tokio(test);
}

fn client_transport() -> Arc<dyn sente::client::ClientTransport> {
    #[cfg(feature = "tokio")]
    if TOKIO.with(std::cell::Cell::get) {
        return Arc::new(sente::runtimes::tokio::TokioClientTransport::current());
    }
    Arc::new(SmolClientTransport::new())
}

/// Runs a client test with its clients on async-std's executor (legacy
/// runtime) instead of smol's. The transport's sockets are async-io's, which
/// async-std itself runs on.
#[cfg(feature = "async-std")]
fn on_async_std(test: impl std::future::Future<Output = ()>) {
    ASYNC_STD.with(|c| c.set(true));
    async_std::task::block_on(test);
}

fn client_runtime() -> Arc<dyn sente::runtime::Runtime> {
    #[cfg(feature = "tokio")]
    if TOKIO.with(std::cell::Cell::get) {
        return Arc::new(sente::runtimes::tokio::TokioRuntime::current());
    }
    #[cfg(feature = "async-std")]
    if ASYNC_STD.with(std::cell::Cell::get) {
        return Arc::new(sente::runtimes::async_std::AsyncStdRuntime);
    }
    Arc::new(SmolRuntime)
}

fn make_client_with(
    opts: ClientOptions,
    packer: Arc<dyn Packer>,
) -> (ChannelSocketClient, ClientEvents) {
    ChannelSocketClient::new(client_runtime(), packer, client_transport(), opts)
        .expect("valid options")
}

fn options(addr: SocketAddr, chsk_type: ChskType) -> ClientOptions {
    ClientOptions::new(&format!("http://{addr}/chsk"))
        .expect("a URL")
        .config(fast_config(chsk_type))
}

fn ev(id: &str, data: impl Into<Value>) -> Event {
    Event::named(id, data).expect("a valid event")
}

/// Reads the events, keeping every state change in order.
struct Recorder {
    events: ClientEvents,
    changes: Vec<StateChange>,
}

impl Recorder {
    fn new(events: ClientEvents) -> Self {
        Self {
            events,
            changes: Vec::new(),
        }
    }

    /// The next event for which `pred` holds (others are skipped, state
    /// changes recorded).
    async fn next_where(
        &mut self,
        what: &str,
        pred: impl Fn(&ClientEventMsg) -> bool,
    ) -> ClientEventMsg {
        within(what, async {
            loop {
                let msg = self.events.recv().await.expect("the client is alive");
                if let Some(c) = msg.state_change() {
                    self.changes.push(c.clone());
                }
                if pred(&msg) {
                    return msg;
                }
            }
        })
        .await
    }

    async fn next_id(&mut self, id: &str) -> ClientEventMsg {
        self.next_where(id, |m| m.id().as_str() == id).await
    }

    async fn opened(&mut self) -> StateChange {
        let msg = self
            .next_where("an open", |m| m.state_change().is_some_and(|c| c.opened))
            .await;
        msg.state_change().cloned().expect("a change")
    }

    async fn closed(&mut self) -> StateChange {
        let msg = self
            .next_where("a close", |m| m.state_change().is_some_and(|c| c.closed))
            .await;
        msg.state_change().cloned().expect("a change")
    }

    /// Every change starts from the state the previous one ended in.
    fn assert_chained(&self) {
        for pair in self.changes.windows(2) {
            assert_eq!(pair[0].new, pair[1].old, "state events out of order");
        }
    }
}

/// The handshake's `[uid nil data first?]`.
fn handshake_args(msg: &ClientEventMsg) -> Vec<Value> {
    match msg.data() {
        Value::Vector(v) => v.clone(),
        other => panic!("handshake data {other}"),
    }
}

async fn echo_once(client: &ChannelSocketClient, x: i64) {
    let reply = within(
        "an echo",
        client.send_with_reply(&ev("echo/echo", x), Duration::from_secs(5)),
    )
    .await;
    assert_eq!(reply, Ok(Value::from(x)));
}

/// The whole life of a session over one transport.
async fn session(chsk_type: ChskType) {
    let server = echo_server(|o| o).await;
    let (client, events) = make_client(options(server.addr, chsk_type));
    let mut rec = Recorder::new(events);

    // Not open yet: sends fail at once.
    assert_eq!(client.send(&ev("echo/echo", 0)), Err(SendError::Closed));
    assert_eq!(
        client
            .send_with_reply(&ev("echo/echo", 0), Duration::from_secs(1))
            .await,
        Err(CallbackError::Closed)
    );

    // Handshake and first open.
    client.connect();
    let opened = rec.opened().await;
    let hs = rec.next_id("chsk/handshake").await;
    let args = handshake_args(&hs);
    assert_eq!(
        args[0],
        Value::from(client.client_id()),
        "uid = the client id"
    );
    assert_eq!(args[1], Value::Nil);
    assert_eq!(args[3], Value::Bool(true), "first handshake");
    assert!(opened.first_open && opened.open_changed);
    let expected = match chsk_type {
        ChskType::Ajax => ChskType::Ajax,
        ChskType::Ws | ChskType::Auto => ChskType::Ws,
    };
    assert_eq!(opened.new.chsk_type, expected);
    assert!(client.state().open && client.state().ever_opened);

    // Echo with a reply.
    echo_once(&client, 42).await;

    // Push: `:ok` now, `[:echo/pushed x]` shortly.
    let reply = client
        .send_with_reply(&ev("echo/push", "hello"), Duration::from_secs(5))
        .await;
    assert_eq!(reply, Ok(Value::keyword("ok")));
    let pushed = rec.next_id("echo/pushed").await;
    assert_eq!(pushed.data(), &Value::from("hello"));

    // The callback form.
    let (tx, rx) = async_channel::bounded(1);
    client
        .send_with_callback(&ev("echo/echo", 7), Duration::from_secs(5), move |r| {
            let _ = tx.try_send(r);
        })
        .expect("sent");
    assert_eq!(
        within("a callback", rx.recv()).await,
        Ok(Ok(Value::from(7)))
    );

    // An event the server never answers: the reply times out.
    let reply = within(
        "a reply timeout",
        client.send_with_reply(&ev("echo/unhandled", 1), Duration::from_millis(300)),
    )
    .await;
    assert_eq!(reply, Err(CallbackError::Timeout));
    // A send without reply goes through.
    client.send(&ev("echo/echo", 1)).expect("sent");

    // Disconnect: closed, sends refused, no reconnect.
    client.disconnect();
    let closed = rec.closed().await;
    assert_eq!(
        closed.new.last_close.map(|c| c.reason),
        Some(CloseReason::RequestedDisconnect)
    );
    assert_eq!(client.send(&ev("echo/echo", 2)), Err(SendError::Closed));
    let (tx, rx) = async_channel::bounded(1);
    let sent = client.send_with_callback(&ev("echo/echo", 2), Duration::from_secs(1), move |r| {
        let _ = tx.try_send(r);
    });
    assert_eq!(sent, Err(SendError::Closed));
    assert_eq!(rx.try_recv(), Ok(Err(CallbackError::Closed)));

    // Reconnect: open again, and working.
    client.reconnect();
    let reopened = rec.opened().await;
    rec.next_id("chsk/handshake").await;
    assert!(!reopened.first_open);
    echo_once(&client, 43).await;
    assert!(client.state().open);
    rec.assert_chained();
    client.disconnect();
}

#[test]
fn a_ws_session() {
    smol::block_on(session(ChskType::Ws));
}

#[test]
fn an_ajax_session() {
    smol::block_on(session(ChskType::Ajax));
}

#[test]
fn an_auto_session() {
    smol::block_on(session(ChskType::Auto));
}

#[test]
fn auto_downgrades_to_ajax_when_websockets_are_refused() {
    smol::block_on(async {
        let server = echo_server(|o| {
            o.reject_fn(|req| {
                is_websocket_upgrade(&req.head).then(|| text_response(403, "no WebSockets here"))
            })
        })
        .await;
        let (client, events) = make_client(options(server.addr, ChskType::Auto));
        let mut rec = Recorder::new(events);
        client.connect();
        let opened = rec.opened().await;
        let hs = rec.next_id("chsk/handshake").await;
        assert_eq!(handshake_args(&hs)[3], Value::Bool(true));
        assert_eq!(opened.new.chsk_type, ChskType::Ajax);
        assert!(opened.new.last_ws_error.is_some());
        assert_eq!(client.transport(), Transport::Ajax);
        echo_once(&client, 5).await;
        client
            .send_with_reply(&ev("echo/push", 9), Duration::from_secs(5))
            .await
            .expect("pushed");
        assert_eq!(rec.next_id("echo/pushed").await.data(), &Value::from(9));
        rec.assert_chained();
    });
}

#[test]
fn ws_only_keeps_retrying_when_websockets_are_refused() {
    smol::block_on(async {
        let server = echo_server(|o| {
            o.reject_fn(|req| {
                is_websocket_upgrade(&req.head).then(|| text_response(403, "no WebSockets here"))
            })
        })
        .await;
        let (client, _events) = make_client(options(server.addr, ChskType::Ws));
        let mut watch = client.watch_state();
        client.connect();
        // Two closes of failed sockets, no open, no downgrade.
        within("failed attempts", async {
            loop {
                let st = watch.changed().await.expect("alive");
                assert!(!st.open);
                if st.last_ws_close.is_some() && st.udt_next_reconnect.is_some() {
                    return;
                }
            }
        })
        .await;
        assert_eq!(client.transport(), Transport::Ws);
        client.disconnect();
    });
}

async fn survives_a_server_restart(chsk_type: ChskType) {
    let first = echo_server(|o| o).await;
    let proxy = Proxy::start(first.addr).await;
    let (client, events) = make_client(options(proxy.addr, chsk_type));
    let mut rec = Recorder::new(events);
    client.connect();
    rec.opened().await;
    echo_once(&client, 1).await;

    // The server goes away.
    proxy.cut();
    let closed = rec.closed().await;
    assert_eq!(
        closed.new.last_close.map(|c| c.reason),
        Some(CloseReason::Unexpected)
    );
    // … and a new one comes up at the same address.
    let second = echo_server(|o| o).await;
    proxy.restore(second.addr);
    let reopened = rec.opened().await;
    let hs = rec.next_id("chsk/handshake").await;
    assert_eq!(handshake_args(&hs)[0], Value::from(client.client_id()));
    assert!(!reopened.first_open);
    echo_once(&client, 2).await;
    // Connected once its poll (Ajax) or socket is held: an Ajax poll may
    // reach the server after the echo's POST.
    let mut uids = second.chsk.watch_connected_uids();
    within("the client connected to the new server", async {
        while uids.changed().await.expect("the server").any.len() != 1 {}
    })
    .await;
    rec.assert_chained();
    client.disconnect();
}

/// A kept-alive Ajax connection that the server (or a balancer's idle
/// timeout) closed is retried once on a new connection, as browsers do:
/// the send right after the cut is answered, not failed.
#[test]
fn ajax_retries_a_kept_connection_the_server_closed() {
    smol::block_on(async {
        let server = echo_server(|o| o).await;
        let proxy = Proxy::start(server.addr).await;
        let (client, events) = make_client(options(proxy.addr, ChskType::Ajax));
        let mut rec = Recorder::new(events);
        client.connect();
        rec.opened().await;
        for x in 1..=3 {
            echo_once(&client, x).await;
            proxy.drop_connections();
        }
        client.disconnect();
    });
}

#[test]
fn ws_survives_a_server_restart() {
    smol::block_on(survives_a_server_restart(ChskType::Ws));
}

#[test]
fn ajax_survives_a_server_restart() {
    smol::block_on(survives_a_server_restart(ChskType::Ajax));
}

#[test]
fn auto_survives_a_server_restart() {
    smol::block_on(survives_a_server_restart(ChskType::Auto));
}

/// A server that goes silent without closing anything (a dead peer behind a
/// proxy) is detected by the client's keep-alive: its ping gets no pong
/// within `ws_ping_timeout`, and it reconnects once the path works again.
#[test]
fn the_keep_alive_detects_a_silently_dead_server() {
    smol::block_on(async {
        let server = echo_server(|o| o.ws_kalive(None)).await;
        let proxy = Proxy::start(server.addr).await;
        let (client, events) = make_client(options(proxy.addr, ChskType::Ws));
        let mut rec = Recorder::new(events);
        client.connect();
        rec.opened().await;
        echo_once(&client, 1).await;
        proxy.freeze();
        let closed = rec.closed().await;
        assert_eq!(
            closed.new.last_close.map(|c| c.reason),
            Some(CloseReason::WsPingTimeout)
        );
        proxy.thaw();
        proxy.drop_connections();
        rec.opened().await;
        echo_once(&client, 2).await;
        client.disconnect();
    });
}

/// The same sessions and restarts with the client on the async-std runtime.
#[cfg(feature = "async-std")]
mod async_std_runtime {
    use super::*;

    #[test]
    fn a_ws_session() {
        on_async_std(session(ChskType::Ws));
    }

    #[test]
    fn an_ajax_session() {
        on_async_std(session(ChskType::Ajax));
    }

    #[test]
    fn an_auto_session() {
        on_async_std(session(ChskType::Auto));
    }

    #[test]
    fn ws_survives_a_server_restart() {
        on_async_std(survives_a_server_restart(ChskType::Ws));
    }

    #[test]
    fn ajax_survives_a_server_restart() {
        on_async_std(survives_a_server_restart(ChskType::Ajax));
    }

    #[test]
    fn auto_survives_a_server_restart() {
        on_async_std(survives_a_server_restart(ChskType::Auto));
    }
}

/// The same sessions and restarts with the client on tokio (runtime and
/// transport).
#[cfg(feature = "tokio")]
mod tokio_runtime {
    use super::*;

    #[cfg(feature = "axum")]
    #[test]
    fn every_session_type_end_to_end_on_tokio_and_axum() {
        on_tokio_and_axum(async {
            for chsk_type in TYPES {
                session(chsk_type).await;
            }
        });
    }

    #[test]
    fn a_ws_session() {
        on_tokio(session(ChskType::Ws));
    }

    #[test]
    fn an_ajax_session() {
        on_tokio(session(ChskType::Ajax));
    }

    #[test]
    fn an_auto_session() {
        on_tokio(session(ChskType::Auto));
    }

    #[test]
    fn ws_survives_a_server_restart() {
        on_tokio(survives_a_server_restart(ChskType::Ws));
    }

    #[test]
    fn ajax_survives_a_server_restart() {
        on_tokio(survives_a_server_restart(ChskType::Ajax));
    }

    #[test]
    fn auto_survives_a_server_restart() {
        on_tokio(survives_a_server_restart(ChskType::Auto));
    }
}

#[test]
fn csrf_token_params_and_headers_reach_the_server() {
    smol::block_on(async {
        let server = echo_server(|o| {
            o.csrf(CsrfCheck::Token(Arc::new(|_| Some("s3cret".to_owned()))))
                .user_id_fn(|req| req.header("x-user").map(Value::from))
                .handshake_data_fn(|req| Value::from(req.param("room").unwrap_or("none")))
        })
        .await;
        for chsk_type in TYPES {
            let opts = options(server.addr, chsk_type)
                .csrf_token("s3cret")
                .param("room", "lobby")
                .header(
                    http::HeaderName::from_static("x-user"),
                    http::HeaderValue::from_static("alice"),
                );
            let (client, events) = make_client(opts);
            let mut rec = Recorder::new(events);
            client.connect();
            let args = handshake_args(&rec.next_id("chsk/handshake").await);
            assert_eq!(args[0], Value::from("alice"), "{chsk_type:?}");
            assert_eq!(args[2], Value::from("lobby"), "{chsk_type:?}");
            echo_once(&client, 3).await;
            client.disconnect();
        }
    });
}

#[test]
fn a_wrong_csrf_token_never_opens() {
    smol::block_on(async {
        let server =
            echo_server(|o| o.csrf(CsrfCheck::Token(Arc::new(|_| Some("s3cret".to_owned())))))
                .await;
        let opts = options(server.addr, ChskType::Ajax).csrf_token("wrong");
        let (client, _events) = make_client(opts);
        let mut watch = client.watch_state();
        client.connect();
        within("a failed poll", async {
            loop {
                let st = watch.changed().await.expect("alive");
                assert!(!st.open);
                if st.udt_next_reconnect.is_some() {
                    return;
                }
            }
        })
        .await;
        client.disconnect();
    });
}

#[test]
fn a_slow_reader_loses_nothing_and_keeps_the_order() {
    smol::block_on(async {
        let server = echo_server(|o| o).await;
        for chsk_type in [ChskType::Ws, ChskType::Ajax] {
            let mut opts = options(server.addr, chsk_type);
            opts = opts.recv_buffer(2);
            let (client, events) = make_client(opts);
            let mut rec = Recorder::new(events);
            client.connect();
            rec.opened().await;
            for i in 0..20 {
                let push = ev("echo/push-flush", i);
                if chsk_type == ChskType::Ws {
                    // In order on the socket; replies would queue behind the pushes.
                    client.send(&push).expect("sent");
                } else {
                    // One POST each: in order only one after the other.
                    let reply = within(
                        "a push reply",
                        client.send_with_reply(&push, Duration::from_secs(5)),
                    )
                    .await;
                    assert_eq!(reply, Ok(Value::keyword("ok")));
                }
            }
            for i in 0..20 {
                assert_eq!(rec.next_id("echo/pushed").await.data(), &Value::from(i));
            }
            client.disconnect();
        }
    });
}

#[test]
fn break_connection_recovers() {
    smol::block_on(async {
        let server = echo_server(|o| o).await;
        for chsk_type in TYPES {
            let (client, events) = make_client(options(server.addr, chsk_type));
            let mut rec = Recorder::new(events);
            client.connect();
            rec.opened().await;
            client.break_connection(true);
            rec.closed().await;
            rec.opened().await;
            echo_once(&client, 4).await;
            rec.assert_chained();
            client.disconnect();
        }
    });
}

#[test]
fn the_state_watch_and_a_client_router() {
    smol::block_on(async {
        let server = echo_server(|o| o).await;
        let (client, events) = make_client(options(server.addr, ChskType::Ws));
        let (seen_tx, seen) = async_channel::unbounded();
        let router = sente::router::start_client_router(
            SmolRuntime,
            events,
            move |msg: ClientEventMsg| {
                let tx = seen_tx.clone();
                async move {
                    let _ = tx.try_send(msg.id().as_str().to_owned());
                    Ok(())
                }
            },
            Default::default(),
        );
        let mut watch = client.watch_state();
        assert!(!watch.changed().await.expect("alive").open);
        client.connect();
        let st = within("open", watch.changed()).await.expect("alive");
        assert!(st.open);
        let ids: Vec<String> = within("two events", async {
            vec![
                seen.recv().await.expect("an id"),
                seen.recv().await.expect("an id"),
            ]
        })
        .await;
        assert_eq!(ids, ["chsk/state", "chsk/handshake"]);
        router.stop();
        client.disconnect();
    });
}

/// Binary packers: binary frames, and Ajax POSTs with raw bodies.
#[cfg(feature = "msgpack")]
#[test]
fn a_binary_packer_over_every_transport() {
    smol::block_on(async {
        let packer: Arc<dyn Packer> = Arc::new(sente::packer::MsgpackPacker::new());
        let mut opts = harness::echo::options();
        opts = opts.lp_timeout(Duration::from_secs(2));
        let server =
            harness::start_with_packer(Backend::Smol, packer.clone(), opts, harness::echo::handle)
                .await;
        for chsk_type in TYPES {
            let (client, events) =
                make_client_with(options(server.addr, chsk_type), packer.clone());
            let mut rec = Recorder::new(events);
            client.connect();
            rec.opened().await;
            echo_once(&client, 6).await;
            let bytes = Value::Bytes(Arc::from(&[0u8, 1, 255][..]));
            client
                .send_with_reply(&ev("echo/push", bytes.clone()), Duration::from_secs(5))
                .await
                .expect("pushed");
            assert_eq!(rec.next_id("echo/pushed").await.data(), &bytes);
            client.disconnect();
        }
    });
}

#[test]
fn a_half_dead_websocket_is_found_out_by_the_keep_alive() {
    smol::block_on(async {
        let server = echo_server(|o| o).await;
        let (client, events) = make_client(options(server.addr, ChskType::Ws));
        let mut rec = Recorder::new(events);
        client.connect();
        rec.opened().await;
        // Detached: the client still believes it is open …
        client.break_connection(false);
        assert!(client.state().open);
        // … until the next keep-alive tick (1 s) cannot ping.
        let closed = rec.closed().await;
        let reason = closed.new.last_close.map(|c| c.reason);
        assert!(
            matches!(
                reason,
                Some(CloseReason::WsError | CloseReason::WsPingTimeout)
            ),
            "{reason:?}"
        );
        rec.opened().await;
        echo_once(&client, 8).await;
        rec.assert_chained();
        client.disconnect();
    });
}

#[test]
fn an_idle_websocket_stays_open_through_keep_alive_pings() {
    smol::block_on(async {
        let server = echo_server(|o| {
            o.ws_kalive(Some(Duration::from_millis(500)))
                .ws_ping_timeout(Some(Duration::from_millis(300)))
        })
        .await;
        let (client, events) = make_client(options(server.addr, ChskType::Ws));
        let mut rec = Recorder::new(events);
        client.connect();
        rec.opened().await;
        // Server pings come through as events; the client pings too.
        rec.next_id("chsk/ws-ping").await;
        rec.next_id("chsk/ws-ping").await;
        assert!(client.state().open);
        assert!(rec.changes.iter().all(|c| !c.closed), "no close while idle");
        echo_once(&client, 9).await;
        client.disconnect();
    });
}

#[test]
fn the_client_comes_back_when_the_server_closes_its_user() {
    smol::block_on(async {
        let server = echo_server(|o| o).await;
        for chsk_type in TYPES {
            let (client, events) = make_client(options(server.addr, chsk_type));
            let mut rec = Recorder::new(events);
            client.connect();
            rec.opened().await;
            let uid = Value::from(client.client_id());
            within("a server close", async {
                while server.chsk.close_uid(&uid) == 0 {
                    smol::Timer::after(Duration::from_millis(10)).await;
                }
            })
            .await;
            rec.closed().await;
            rec.opened().await;
            echo_once(&client, 10).await;
            rec.assert_chained();
            client.disconnect();
        }
    });
}

#[test]
fn the_client_keep_alive_ping_is_answered() {
    smol::block_on(async {
        let server = echo_server(|o| o.ws_kalive(None)).await;
        let mut opts = options(server.addr, ChskType::Ws);
        // A tick every 100 ms, a pong expected within 500 ms.
        opts = opts.ws_kalive(Some(Duration::from_millis(200)));
        opts = opts.ws_ping_timeout(Duration::from_millis(500));
        let (client, events) = make_client(opts);
        let mut rec = Recorder::new(events);
        client.connect();
        rec.opened().await;
        // Idle for many ticks: each ping needs its pong, or the client reconnects.
        smol::Timer::after(Duration::from_millis(1500)).await;
        while let Ok(msg) = rec.events.try_recv() {
            assert!(
                msg.state_change().is_none_or(|c| !c.closed),
                "closed while idle: {}",
                msg.event()
            );
        }
        assert!(client.state().open);
        assert_eq!(client.stats().replies_without_callback, 0);
        client.disconnect();
    });
}

#[test]
fn dropping_the_client_ends_it_even_with_events_unread() {
    smol::block_on(async {
        let server = echo_server(|o| o).await;
        for chsk_type in [ChskType::Ws, ChskType::Ajax] {
            let (client, events) = make_client(options(server.addr, chsk_type));
            let mut watch = client.watch_state();
            client.connect();
            within("open", async {
                while !watch.changed().await.expect("alive").open {}
            })
            .await;
            client.send(&ev("echo/push-flush", 1)).expect("sent");
            within("a buffered push", async {
                while events.len() < 3 {
                    smol::Timer::after(Duration::from_millis(5)).await;
                }
            })
            .await;
            let msg = events.try_recv().expect("an event");
            assert!(msg.client().is_some());
            drop(client);
            // Background tasks hold the client only while they work on it;
            // the message must not keep it alive.
            within("messages not to keep the client", async {
                while msg.client().is_some() {
                    smol::Timer::after(Duration::from_millis(1)).await;
                }
            })
            .await;
            drop(events);
            within("the client to end", async {
                while watch.changed().await.is_some() {}
            })
            .await;
        }
    });
}
