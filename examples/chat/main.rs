//! A chat room in the browser: the Rust server (smol) and the JavaScript
//! client of `js/`, talking over one channel socket.
//!
//! ```sh
//! cargo run --example chat                    # then open http://127.0.0.1:3000/
//! cargo run --example chat -- --port 8080 --no-websocket
//! cargo run --example chat -- --help
//! ```
//!
//! Serves the page at `/`, the client's ES modules at `/js/*` (embedded from
//! `js/src`, so the example runs from any directory) and the channel socket
//! at `/chsk`. Users pick a name, which is their uid. Events, each with its
//! handler ([`EventRouter`]) and typed data where it has some:
//! - `[:chat/say {:text t}]` pushes `[:chat/msg {:from uid, :text t, :at inst}]`
//!   to everyone and replies `:chat/ok`;
//! - `[:chat/who]` replies the names online;
//! - `[:chat/void]` is never answered (the browser tests send it through the
//!   page's client to see its reply timeout);
//! - on every change of the connected users the server pushes
//!   `[:chat/online [names…]]` to everyone.
//!
//! Security: a CSRF token made at start is embedded in the page and required
//! on every channel socket request, and only the served origin may connect.
//! `--no-websocket` refuses WebSocket upgrades, so `auto` clients fall back
//! to Ajax long-polling. `--csrf-token T` uses T instead of a random token,
//! so that open pages keep working when the server restarts (a real app keeps
//! the token in the user's session). Prints `chat on http://127.0.0.1:PORT/`
//! when ready.
//!
//! A name is chosen by its user and sent with each request, so it is not
//! authentication: anyone may chat under any name here. A real app derives
//! the uid from its own session (SECURITY.md shows a `user_id_fn` that
//! trusts only the session).

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use sente::packer::EdnPacker;
use sente::router::{EventRouter, HandlerError};
use sente::runtimes::smol::{self as chsk_smol, Response, SmolRuntime};
use sente::server::{
    AllowedOrigins, ChannelSocketServer, ChskRequest, CsrfCheck, SendOptions, ServerEventMsg,
    ServerOptions, text_response,
};
use sente::value::Inst;
use sente::{Event, Value};

/// The header the page's Ajax requests carry the user's name in: Sente's
/// Ajax POSTs carry no query parameters, so the `uid` parameter is not there.
const UID_HEADER: &str = "x-chat-uid";

/// The longest name accepted; a longer one connects anonymously, and
/// anonymous users cannot say anything.
const MAX_NAME_CHARS: usize = 40;
/// The longest message accepted.
const MAX_TEXT_CHARS: usize = 500;

/// The page, with `{{CSRF_TOKEN}}` for the token.
const INDEX_HTML: &str = include_str!("static/index.html");

/// The files served, by path: the page's own and the client's ES modules.
const STATIC_FILES: &[(&str, &str, &str)] = &[
    ("/app.js", JS, include_str!("static/app.js")),
    (
        "/style.css",
        "text/css; charset=utf-8",
        include_str!("static/style.css"),
    ),
    ("/js/index.js", JS, include_str!("../../js/src/index.js")),
    ("/js/client.js", JS, include_str!("../../js/src/client.js")),
    (
        "/js/backoff.js",
        JS,
        include_str!("../../js/src/backoff.js"),
    ),
    (
        "/js/edn-read.js",
        JS,
        include_str!("../../js/src/edn-read.js"),
    ),
    (
        "/js/edn-write.js",
        JS,
        include_str!("../../js/src/edn-write.js"),
    ),
    ("/js/event.js", JS, include_str!("../../js/src/event.js")),
    ("/js/http.js", JS, include_str!("../../js/src/http.js")),
    (
        "/js/packers.js",
        JS,
        include_str!("../../js/src/packers.js"),
    ),
    ("/js/types.js", JS, include_str!("../../js/src/types.js")),
    ("/js/url.js", JS, include_str!("../../js/src/url.js")),
];

const JS: &str = "text/javascript; charset=utf-8";

struct Args {
    port: u16,
    websocket: bool,
    csrf_token: Option<String>,
    redis: Option<String>,
}

/// The port when none is given: the URL is the same every time.
const DEFAULT_PORT: u16 = 3000;

const USAGE: &str = "usage: chat [--port N] [--no-websocket] [--csrf-token T] [--redis URL]

  --port N          listen on 127.0.0.1:N (default 3000; 0 picks a free port)
  --no-websocket    refuse WebSocket upgrades: clients fall back to Ajax long-polling
  --csrf-token T    the CSRF token the page embeds (at least 16 characters;
                    default: a random one per start; give every node of a
                    cluster the same one)
  --redis URL       join the other chat servers on this Redis (redis://HOST:PORT/):
                    one room across them (needs `--features redis`)";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: DEFAULT_PORT,
        websocket: true,
        csrf_token: None,
        redis: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--port" => {
                let value = it.next().ok_or("--port needs a value")?;
                args.port = value.parse().map_err(|e| format!("--port: {e}"))?;
            }
            "--no-websocket" => args.websocket = false,
            "--redis" => args.redis = Some(it.next().ok_or("--redis needs a URL")?),
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--csrf-token" => {
                let value = it.next().ok_or("--csrf-token needs a value")?;
                if value.len() < 16 {
                    return Err("--csrf-token: at least 16 characters".into());
                }
                args.csrf_token = Some(value);
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(args)
}

fn fail(code: i32, e: impl std::fmt::Display) -> ! {
    eprintln!("chat: {e}");
    std::process::exit(code);
}

/// The user's name: the `uid` parameter (WebSocket, Ajax polls), else the
/// percent-encoded [`UID_HEADER`] (Ajax POSTs). Blank names are anonymous.
fn user_id(req: &ChskRequest) -> Option<Value> {
    let name = match req.param("uid") {
        Some(name) => name.to_owned(),
        None => {
            let encoded = req.header(UID_HEADER)?;
            form_urlencoded::parse(format!("n={encoded}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())?
        }
    };
    let name = name.trim();
    let valid = !name.is_empty() && name.chars().count() <= MAX_NAME_CHARS;
    valid.then(|| Value::from(name))
}

fn is_websocket_upgrade(req: &ChskRequest) -> bool {
    req.header("upgrade")
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
}

fn options(port: u16, csrf_token: String, websocket: bool) -> ServerOptions {
    let origins = vec![
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
    ];
    let mut opts = ServerOptions::default()
        .csrf(CsrfCheck::Token(Arc::new(move |_| {
            Some(csrf_token.clone())
        })))
        .allowed_origins(AllowedOrigins::Only(origins))
        .user_id_fn(user_id);
    if !websocket {
        opts = opts.reject_fn(|req| {
            is_websocket_upgrade(req).then(|| text_response(403, "WebSockets are disabled"))
        });
    }
    opts
}

/// The names online, sorted.
fn online(chsk: &ChannelSocketServer) -> Value {
    let mut names: Vec<Value> = chsk
        .connected_uids()
        .any
        .into_iter()
        .filter(|uid| matches!(uid, Value::String(_)))
        .collect();
    names.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    Value::vector(names)
}

/// Pushes `event` to every named user of the cluster (anonymous
/// connections, which share `:sente/nil-uid`, are not in the room).
fn broadcast(chsk: &ChannelSocketServer, event: &Event) {
    let named: Vec<Value> = chsk
        .connected_uids()
        .any
        .into_iter()
        .filter(|uid| matches!(uid, Value::String(_)))
        .collect();
    if let Err(e) = chsk.send_many(&named, event.clone(), SendOptions::default()) {
        eprintln!("chat: broadcast refused: {e}");
    }
}

/// Pushes `event` to the named users of this node: what every node of a
/// cluster computes alike and sends to its own users.
fn tell_local_users(chsk: &ChannelSocketServer, event: &Event) {
    for uid in chsk.local_connected_uids().any {
        if matches!(uid, Value::String(_))
            && let Err(e) = chsk.send_local(&uid, event.clone(), SendOptions::default())
        {
            eprintln!("chat: push refused: {e}");
        }
    }
}

/// What `[:chat/say {:text t}]` carries.
#[derive(serde::Deserialize)]
struct Say {
    text: String,
}

/// What `[:chat/msg …]` pushes to everyone.
#[derive(serde::Serialize)]
struct Said<'a> {
    from: &'a str,
    text: &'a str,
    at: Inst,
}

/// `[:chat/say {:text t}]`: pushes `[:chat/msg {:from uid, :text t, :at inst}]`
/// to everyone and replies `:chat/ok` (`:chat/refused` for an anonymous
/// user, or a blank or too long text).
async fn say(msg: ServerEventMsg) -> Result<(), HandlerError> {
    let Some(chsk) = msg.server() else {
        return Ok(()); // the server is gone
    };
    let text = msg.data_as::<Say>().map(|say| say.text).unwrap_or_default();
    let text = text.trim();
    let (Value::String(from), false, true) = (
        msg.uid(),
        text.is_empty(),
        text.chars().count() <= MAX_TEXT_CHARS,
    ) else {
        msg.reply(Value::keyword("chat/refused"))?;
        return Ok(());
    };
    let said = Said {
        from,
        text,
        at: Inst::now(),
    };
    broadcast(&chsk, &Event::from_data("chat/msg", &said)?);
    msg.reply(Value::keyword("chat/ok"))?;
    Ok(())
}

/// The handlers, per event. `chat/void` has none and is never answered: the
/// page shows the client's reply timeout. Sente's own events
/// (`chsk/uidport-open`, …) need nothing here.
fn router() -> EventRouter<ServerEventMsg> {
    EventRouter::new()
        .on("chat/say", say)
        .on("chat/who", |msg: ServerEventMsg| async move {
            if let Some(chsk) = msg.server() {
                msg.reply(online(&chsk))?;
            }
            Ok(())
        })
}

fn respond(status: u16, content_type: &str, body: impl Into<Bytes>) -> Response {
    hyper::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("cache-control", "no-store")
        .body(Full::new(body.into()))
        .unwrap_or_default()
}

async fn route(chsk: &ChannelSocketServer, page: &str, req: chsk_smol::Request) -> Response {
    let path = req.uri().path();
    if path == "/chsk" {
        return chsk_smol::handle(chsk, req).await;
    }
    if req.method() != hyper::Method::GET {
        return respond(405, "text/plain", "Method Not Allowed");
    }
    if path == "/" || path == "/index.html" {
        return respond(200, "text/html; charset=utf-8", page.to_owned());
    }
    match STATIC_FILES.iter().find(|(p, _, _)| *p == path) {
        Some((_, content_type, body)) => respond(200, content_type, *body),
        None => respond(404, "text/plain", "Not Found"),
    }
}

/// Joins the cluster of chat servers on the Redis at `url`.
#[cfg(feature = "redis")]
fn with_redis(opts: ServerOptions, url: &str) -> ServerOptions {
    use sente::server::broker::{RedisBroker, RedisOptions};
    let broker = RedisBroker::new(url, RedisOptions::default()).unwrap_or_else(|e| fail(2, e));
    opts.broker(broker)
}

#[cfg(not(feature = "redis"))]
fn with_redis(_: ServerOptions, _: &str) -> ServerOptions {
    fail(
        2,
        "--redis needs the redis feature (cargo run --example chat --features redis)",
    )
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| fail(2, e));
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind(("127.0.0.1", args.port))
            .await
            .unwrap_or_else(|e| fail(1, e));
        let port = listener.local_addr().unwrap_or_else(|e| fail(1, e)).port();
        let csrf_token = args
            .csrf_token
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let page: Arc<str> = INDEX_HTML.replace("{{CSRF_TOKEN}}", &csrf_token).into();
        let mut opts = options(port, csrf_token, args.websocket);
        if let Some(url) = &args.redis {
            opts = with_redis(opts, url);
        }
        let (chsk, events) = ChannelSocketServer::new(SmolRuntime, EdnPacker::new(), opts)
            .unwrap_or_else(|e| fail(2, e));
        router().start(SmolRuntime, events);
        let watcher = chsk.clone();
        smol::spawn(async move {
            let mut watch = watcher.watch_connected_uids();
            while watch.changed().await.is_some() {
                let event = Event::from_static("chat/online", online(&watcher));
                tell_local_users(&watcher, &event);
            }
        })
        .detach();
        println!("chat on http://127.0.0.1:{port}/");
        let served = chsk_smol::serve(listener, move |req| {
            let chsk = chsk.clone();
            let page = page.clone();
            async move { route(&chsk, &page, req).await }
        })
        .await;
        if let Err(e) = served {
            fail(1, e);
        }
    });
}
