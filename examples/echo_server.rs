//! The echo server: the compatibility and load target used by the tests,
//! the benchmarks and anyone checking a client against us.
//!
//! ```sh
//! cargo run --release --example echo_server -- --port 0 --packer edn --runtime smol
//! cargo run --release --example echo_server --features axum -- --runtime tokio
//! ```
//!
//! Serves the channel socket at `/chsk` with CSRF skipped and all origins
//! allowed; uid = the `uid` query parameter, else the client id. Handlers:
//! `[:echo/echo x]` replies x; `[:echo/push x]` pushes `[:echo/pushed x]` to
//! the sender's uid and replies `:ok`; `[:echo/push-flush x]` the same with
//! flush; `[:echo/uids]` replies `{:ws n, :ajax n, :any n}`;
//! `[:echo/broadcast x]` pushes `[:echo/pushed x]` to every connected uid
//! (`ChannelSocketServer::broadcast`: each distinct batch packed once) and
//! replies the number of connections reached; `[:echo/tab x]` pushes it to
//! the sender's tab only (`send_to_client`) and replies `true`. Prints
//! `listening on 127.0.0.1:PORT` when ready; exits cleanly on SIGTERM/SIGINT.
//! `--redis redis://HOST:PORT/` (feature `redis`) joins the other echo
//! servers on that Redis: pushes, broadcasts and `echo/uids` then span the
//! cluster (replies count this node's connections);
//! `SENTE_REDIS_NAMESPACE` sets the cluster's key prefix (default `sente`).
//! Packers other than edn need their feature (`--features transit`, …, or
//! `--all-features`); `--runtime async-std` needs `--features tide`,
//! `--runtime tokio` (axum on a multi-threaded tokio runtime, sized by
//! `TOKIO_WORKER_THREADS`) `--features axum`.

use std::sync::Arc;

use futures_util::StreamExt;
use sente::runtimes::smol::{self as chsk_smol, SmolRuntime};
use sente::server::ChannelSocketServer;

#[path = "echo/handlers.rs"]
mod handlers;
#[path = "echo/packers.rs"]
mod packers;

struct Args {
    port: u16,
    packer: String,
    runtime: String,
    lp_timeout_ms: Option<u64>,
    ws_kalive_ms: Option<u64>,
    redis: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 0,
        packer: "edn".into(),
        runtime: "smol".into(),
        lp_timeout_ms: None,
        ws_kalive_ms: None,
        redis: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--packer" => args.packer = value()?,
            "--runtime" => args.runtime = value()?,
            "--redis" => args.redis = Some(value()?),
            "--lp-timeout-ms" => {
                args.lp_timeout_ms = Some(
                    value()?
                        .parse()
                        .map_err(|e| format!("--lp-timeout-ms: {e}"))?,
                )
            }
            "--ws-kalive-ms" => {
                args.ws_kalive_ms = Some(
                    value()?
                        .parse()
                        .map_err(|e| format!("--ws-kalive-ms: {e}"))?,
                )
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// Serves on smol + hyper until `stop` completes.
async fn serve_smol(
    chsk: ChannelSocketServer,
    port: u16,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let listener = smol::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    let server = chsk_smol::serve(listener, move |req| {
        let chsk = chsk.clone();
        async move {
            if req.uri().path() == "/chsk" {
                chsk_smol::handle(&chsk, req).await
            } else {
                hyper::Response::builder()
                    .status(404)
                    .body(Default::default())
                    .unwrap_or_default()
            }
        }
    });
    let stop = async {
        stop.await;
        Ok(())
    };
    futures_util::future::select(Box::pin(server), Box::pin(stop))
        .await
        .factor_first()
        .0
}

/// Serves on async-std + tide until `stop` completes.
#[cfg(feature = "tide")]
async fn serve_tide(
    chsk: ChannelSocketServer,
    port: u16,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use tide::listener::Listener as _;
    let mut app = tide::new();
    let endpoint = sente::runtimes::tide::ChskEndpoint::new(chsk);
    app.at("/chsk").get(endpoint.clone()).post(endpoint);
    let mut listener = app.bind(format!("127.0.0.1:{port}")).await?;
    let info = listener
        .info()
        .pop()
        .map(|i| i.connection().trim_start_matches("http://").to_owned())
        .unwrap_or_default();
    println!("listening on {info}");
    let stop = async {
        stop.await;
        Ok(())
    };
    futures_util::future::select(Box::pin(listener.accept()), Box::pin(stop))
        .await
        .factor_first()
        .0
}

/// Serves on tokio + axum until `stop` completes.
#[cfg(feature = "axum")]
async fn serve_tokio(
    chsk: ChannelSocketServer,
    port: u16,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let app: axum::Router = sente::runtimes::axum::router("/chsk", chsk);
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
}

fn fail(code: i32, e: impl std::fmt::Display) -> ! {
    eprintln!("echo_server: {e}");
    std::process::exit(code);
}

/// Joins the cluster of echo servers on the Redis at `url`.
#[cfg(feature = "redis")]
fn with_redis(opts: sente::server::ServerOptions, url: &str) -> sente::server::ServerOptions {
    use sente::server::broker::{RedisBroker, RedisOptions};
    let mut options = RedisOptions::default();
    if let Ok(namespace) = std::env::var("SENTE_REDIS_NAMESPACE") {
        options = options.namespace(namespace);
    }
    let broker = RedisBroker::new(url, options).unwrap_or_else(|e| fail(2, e));
    opts.broker(broker)
}

#[cfg(not(feature = "redis"))]
fn with_redis(_: sente::server::ServerOptions, _: &str) -> sente::server::ServerOptions {
    fail(2, "--redis needs the redis feature (--features redis)")
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| fail(2, e));
    let packer = packers::packer(&args.packer).unwrap_or_else(|e| fail(2, e));
    let mut opts = handlers::options();
    if let Some(ms) = args.lp_timeout_ms {
        opts = opts.lp_timeout(std::time::Duration::from_millis(ms));
    }
    if let Some(ms) = args.ws_kalive_ms {
        opts = opts.ws_kalive(Some(std::time::Duration::from_millis(ms)));
    }
    if let Some(url) = &args.redis {
        opts = with_redis(opts, url);
    }
    #[cfg(feature = "axum")]
    let tokio_rt = (args.runtime == "tokio").then(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| fail(1, e))
    });
    let runtime: Arc<dyn sente::runtime::Runtime> = match args.runtime.as_str() {
        "smol" => Arc::new(SmolRuntime),
        #[cfg(feature = "axum")]
        "tokio" => Arc::new(sente::runtimes::tokio::TokioRuntime::new(
            tokio_rt
                .as_ref()
                .map(|rt| rt.handle().clone())
                .unwrap_or_else(|| fail(1, "no tokio runtime")),
        )),
        #[cfg(not(feature = "axum"))]
        "tokio" => fail(2, "the tokio runtime needs `--features axum`"),
        #[cfg(feature = "tide")]
        "async-std" => Arc::new(sente::runtimes::async_std::AsyncStdRuntime),
        #[cfg(not(feature = "tide"))]
        "async-std" => fail(2, "the async-std runtime needs `--features tide`"),
        other => fail(
            2,
            format!("unknown runtime {other} (smol, tokio or async-std)"),
        ),
    };
    let (chsk, events) =
        ChannelSocketServer::new(runtime.clone(), packer, opts).unwrap_or_else(|e| fail(2, e));
    runtime.spawn(Box::pin(async move {
        while let Ok(msg) = events.recv().await {
            handlers::handle(msg);
        }
    }));
    let mut signals =
        async_signal::Signals::new([async_signal::Signal::Term, async_signal::Signal::Int])
            .unwrap_or_else(|e| fail(1, e));
    let stop = async move {
        signals.next().await;
        eprintln!("echo_server: shutting down");
    };
    let result = match args.runtime.as_str() {
        #[cfg(feature = "axum")]
        "tokio" => match &tokio_rt {
            Some(rt) => rt.block_on(serve_tokio(chsk, args.port, stop)),
            None => fail(1, "no tokio runtime"),
        },
        #[cfg(feature = "tide")]
        "async-std" => async_std::task::block_on(serve_tide(chsk, args.port, stop)),
        _ => smol::block_on(serve_smol(chsk, args.port, stop)),
    };
    if let Err(e) = result {
        fail(1, e);
    }
}
