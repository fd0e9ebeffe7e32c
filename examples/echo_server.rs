//! The echo server: the compatibility and load target used by the tests,
//! the benchmarks and anyone checking a client against us.
//!
//! ```sh
//! cargo run --release --example echo_server -- --port 0 --packer edn --runtime smol
//! ```
//!
//! Serves the channel socket at `/chsk` with CSRF skipped and all origins
//! allowed; uid = the `uid` query parameter, else the client id. Handlers:
//! `[:echo/echo x]` replies x; `[:echo/push x]` pushes `[:echo/pushed x]` to
//! the sender's uid and replies `:ok`; `[:echo/push-flush x]` the same with
//! flush; `[:echo/uids]` replies `{:ws n, :ajax n, :any n}`;
//! `[:echo/broadcast x]` pushes `[:echo/pushed x]` to every connected uid and
//! replies the number of connections reached. Prints
//! `listening on 127.0.0.1:PORT` when ready; exits cleanly on SIGTERM/SIGINT.
//! Packers other than edn need their feature (`--features transit`, …, or
//! `--all-features`).

use std::sync::Arc;

use futures_util::StreamExt;
use sente::packer::{EdnPacker, Packer};
use sente::runtimes::smol::{self as chsk_smol, SmolRuntime};
use sente::server::ChannelSocketServer;

#[path = "echo/handlers.rs"]
mod handlers;

struct Args {
    port: u16,
    packer: String,
    runtime: String,
    lp_timeout_ms: Option<u64>,
    ws_kalive_ms: Option<u64>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 0,
        packer: "edn".into(),
        runtime: "smol".into(),
        lp_timeout_ms: None,
        ws_kalive_ms: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--packer" => args.packer = value()?,
            "--runtime" => args.runtime = value()?,
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

fn packer(name: &str) -> Result<Arc<dyn Packer>, String> {
    let missing = |f: &str| Err(format!("the {f} packer needs `--features {f}`"));
    match name {
        "edn" => Ok(Arc::new(EdnPacker::new())),
        #[cfg(feature = "transit")]
        "transit" => Ok(Arc::new(sente::packer::TransitPacker::new())),
        #[cfg(feature = "json")]
        "json" => Ok(Arc::new(sente::packer::JsonPacker::new())),
        #[cfg(feature = "msgpack")]
        "msgpack" => Ok(Arc::new(sente::packer::MsgpackPacker::new())),
        #[cfg(feature = "bincode")]
        "bincode" => Ok(Arc::new(sente::packer::BincodePacker::new())),
        "transit" | "json" | "msgpack" | "bincode" => missing(name),
        other => Err(format!("unknown packer {other}")),
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("echo_server: {e}");
            std::process::exit(2);
        }
    };
    if args.runtime != "smol" {
        eprintln!(
            "echo_server: runtime {} is not built in (smol is)",
            args.runtime
        );
        std::process::exit(2);
    }
    let packer = packer(&args.packer).unwrap_or_else(|e| {
        eprintln!("echo_server: {e}");
        std::process::exit(2);
    });
    let mut opts = handlers::options();
    if let Some(ms) = args.lp_timeout_ms {
        opts.config.lp_timeout = std::time::Duration::from_millis(ms);
    }
    if let Some(ms) = args.ws_kalive_ms {
        opts.config.ws_kalive = Some(std::time::Duration::from_millis(ms));
    }
    let result: std::io::Result<()> = smol::block_on(async move {
        let (chsk, events) = ChannelSocketServer::new(Arc::new(SmolRuntime), packer, opts)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        smol::spawn(async move {
            while let Ok(msg) = events.recv().await {
                handlers::handle(msg);
            }
        })
        .detach();
        let listener = smol::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
        println!("listening on {}", listener.local_addr()?);
        let mut signals =
            async_signal::Signals::new([async_signal::Signal::Term, async_signal::Signal::Int])?;
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
            signals.next().await;
            eprintln!("echo_server: shutting down");
            Ok(())
        };
        futures_util::future::select(Box::pin(server), Box::pin(stop))
            .await
            .factor_first()
            .0
    });
    if let Err(e) = result {
        eprintln!("echo_server: {e}");
        std::process::exit(1);
    }
}
