//! The axum plug beside an app's own routes: the app's state and
//! middleware reach the server's functions through the request's
//! extensions, on both transports. (The whole server suite also runs on
//! this plug: `server_suite`'s `tokio_axum` module.)
#![cfg(all(feature = "axum", feature = "smol", feature = "edn"))]

#[path = "server/harness.rs"]
mod harness;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::routing;
use harness::*;
use sente::Value;
use sente::packer::EdnPacker;
use sente::runtimes::tokio::TokioRuntime;
use sente::server::{ChannelSocketServer, ChskRequest, CsrfCheck, ServerOptions, SessionUid};

/// The app's state: session tokens to users, and its name.
#[derive(Clone)]
struct AppState {
    sessions: Arc<HashMap<&'static str, &'static str>>,
    name: &'static str,
}

/// The app's name, put in the request by its middleware.
#[derive(Clone)]
struct AppName(&'static str);

/// The app's session middleware: `x-session` names a session; its user
/// goes into the request as the channel socket's user id.
async fn sessions(
    State(app): State<AppState>,
    mut req: Request,
    next: Next,
) -> axum::response::Response {
    let user = req
        .headers()
        .get("x-session")
        .and_then(|v| v.to_str().ok())
        .and_then(|token| app.sessions.get(token).copied());
    if let Some(user) = user {
        req.extensions_mut().insert(SessionUid(Value::from(user)));
    }
    req.extensions_mut().insert(AppName(app.name));
    next.run(req).await
}

fn signed_in(req: &ChskRequest) -> bool {
    req.head.extensions.get::<SessionUid>().is_some()
}

/// An axum app: `/` and the channel socket at `/chsk`, under the session
/// middleware, on 127.0.0.1:0.
fn start_app() -> std::net::SocketAddr {
    let opts = ServerOptions::default()
        .csrf(CsrfCheck::Skip)
        .authorized_fn(signed_in)
        .handshake_data_fn(|req| {
            Value::from(req.head.extensions.get::<AppName>().map_or("-", |n| n.0))
        });
    let runtime = Arc::new(TokioRuntime::new(tokio_runtime().handle().clone()));
    let (chsk, events) =
        ChannelSocketServer::new(runtime, EdnPacker::new(), opts).expect("valid options");
    // Replies the uid the event came with.
    tokio_runtime().spawn(async move {
        while let Ok(msg) = events.recv().await {
            let uid = msg.uid().clone();
            let _ = msg.reply(uid);
        }
    });
    let state = AppState {
        sessions: Arc::new(HashMap::from([("s-alice", "alice"), ("s-bob", "bob")])),
        name: "demo",
    };
    let app = axum::Router::new()
        .route(
            "/",
            routing::get(|State(app): State<AppState>| async move { app.name }),
        )
        .merge(sente::runtimes::axum::router("/chsk", chsk))
        .layer(middleware::from_fn_with_state(state.clone(), sessions))
        .with_state(state);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let _entered = tokio_runtime().enter();
    let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
    tokio_runtime().spawn(async move { axum::serve(listener, app).await });
    addr
}

#[test]
fn the_apps_middleware_and_state_reach_the_channel_socket() {
    smol::block_on(async {
        let addr = start_app();
        // The app's own route, beside the channel socket.
        let home = get(addr, "/", "").await;
        assert_eq!((home.status, home.text()), (200, "demo"));
        // Ajax: the session's user is the uid, the state's name the data.
        let hs = get(
            addr,
            "/chsk?client-id=c1&handshake%3F=1",
            "X-Session: s-alice\r\n",
        )
        .await;
        assert_eq!(
            (hs.status, hs.text()),
            (200, r#"[[:chsk/handshake ["alice" nil "demo"]] nil]"#)
        );
        let posted = post_form(
            addr,
            &ppstr("c1", "[[:app/who] :ajax]"),
            "X-Session: s-alice\r\n",
        )
        .await;
        assert_eq!((posted.status, posted.text()), (200, r#"["alice" nil]"#));
        // No session: the authorization hook refuses, on both transports.
        let refused = get(addr, "/chsk?client-id=c2&handshake%3F=1", "").await;
        assert_eq!(
            (refused.status, refused.text()),
            (401, "Unauthorized request")
        );
        let refused = get(
            addr,
            "/chsk?client-id=c2",
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
        )
        .await;
        assert_eq!(refused.status, 401);
        // WebSocket: the upgrade request's session is the connection's.
        let stream = smol::net::TcpStream::connect(addr).await.expect("connect");
        let mut req =
            async_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                format!("ws://{addr}/chsk?client-id=c3"),
            )
            .expect("a request");
        req.headers_mut()
            .insert("x-session", "s-bob".parse().expect("a header"));
        let (ws, _) = async_tungstenite::client_async(req, stream)
            .await
            .expect("upgrade");
        let mut ws = Ws(ws);
        assert_eq!(
            ws.recv().await.expect("handshake"),
            r#"[[:chsk/handshake ["bob" nil "demo"]] nil]"#
        );
        ws.send(r#"[[:app/who] "w1"]"#).await;
        assert_eq!(ws.recv().await.expect("a reply"), r#"["bob" "w1"]"#);
        // Methods other than GET and POST on the channel socket.
        let put = http(
            addr,
            &format!("PUT /chsk?client-id=c1 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nX-Session: s-alice\r\nContent-Length: 0\r\n\r\n"),
        )
        .await;
        assert_eq!(put.status, 405);
    });
}
