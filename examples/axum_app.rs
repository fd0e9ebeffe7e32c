//! sente mounted in an axum app, beside its own routes and under its own
//! middleware.
//!
//! ```sh
//! cargo run --example axum_app --features axum
//! ```
//!
//! Prints `listening on http://127.0.0.1:PORT`. Routes:
//! * `GET /`: a plain axum handler;
//! * `GET /login?user=NAME`: sets a `user` cookie (a stand-in for a real
//!   session store);
//! * `POST /announce` with a text body: pushes `[:app/announce text]` to
//!   every connected user, from an ordinary handler holding the server in
//!   the app's state; answers how many connections it reached;
//! * `/chsk`: the channel socket (WebSocket and Ajax). The session
//!   middleware turns the cookie into a [`SessionUid`] in the request's
//!   extensions: that is each connection's user id. `[:app/whoami]` is
//!   answered with it; any other event is echoed back.
//!
//! Try it with curl: `curl -b user=ann 'http://127.0.0.1:PORT/chsk?client-id=c1&handshake%3F=1'`
//! answers `[[:chsk/handshake ["ann" nil nil]] nil]`.

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sente::packer::EdnPacker;
use sente::runtimes::tokio::TokioRuntime;
use sente::server::{ChannelSocketServer, CsrfCheck, SendOptions, ServerOptions, SessionUid};
use sente::{Event, Value};

/// The app's state: here, the channel-socket server its handlers push with.
#[derive(Clone)]
struct App {
    chsk: ChannelSocketServer,
}

/// The user named by the request's `user` cookie.
fn cookie_user(req: &Request) -> Option<String> {
    let cookies = req.headers().get(http::header::COOKIE)?.to_str().ok()?;
    cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == "user")
        .map(|(_, value)| value.to_owned())
}

/// The session middleware: the cookie's user goes into the request, where
/// the channel socket's default user-id function finds it.
async fn session(mut req: Request, next: Next) -> Response {
    if let Some(user) = cookie_user(&req) {
        req.extensions_mut().insert(SessionUid(Value::from(user)));
    }
    next.run(req).await
}

async fn login(uri: http::Uri) -> Response {
    let user: String = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(name, _)| name == "user")
        .map(|(_, value)| value.chars().filter(char::is_ascii_alphanumeric).collect())
        .unwrap_or_default();
    if user.is_empty() {
        return (http::StatusCode::BAD_REQUEST, "GET /login?user=NAME\n").into_response();
    }
    (
        [(
            http::header::SET_COOKIE,
            format!("user={user}; Path=/; HttpOnly"),
        )],
        format!("signed in as {user}\n"),
    )
        .into_response()
}

async fn announce(State(app): State<App>, text: String) -> Response {
    let event = Event::from_static("app/announce", text);
    match app.chsk.broadcast(event, SendOptions::default()) {
        Ok(n) => format!("reached {n} connections\n").into_response(),
        Err(e) => (http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let opts = ServerOptions::default().csrf(CsrfCheck::Skip);
    let (chsk, events) = ChannelSocketServer::new(TokioRuntime::current(), EdnPacker::new(), opts)
        .map_err(std::io::Error::other)?;
    tokio::spawn(async move {
        while let Ok(msg) = events.recv().await {
            let answer = match msg.id().as_str() {
                "app/whoami" => msg.uid().clone(),
                _ => msg.data().clone(),
            };
            let _ = msg.reply(answer);
        }
    });
    let app = axum::Router::new()
        .route(
            "/",
            get(|| async { "an axum app with a channel socket at /chsk\n" }),
        )
        .route("/login", get(login))
        .route("/announce", post(announce))
        .merge(sente::runtimes::axum::router("/chsk", chsk.clone()))
        .layer(middleware::from_fn(session))
        .with_state(App { chsk });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
