//! The echo client: checks a channel-socket server that runs the echo
//! handlers (`examples/echo_server.rs`).
//!
//! ```sh
//! cargo run --release --example echo_client -- --url http://127.0.0.1:PORT/chsk --type auto --packer edn
//! ```
//!
//! Connects (`--type auto|ws|ajax`, default auto), prints the handshake,
//! sends `[:echo/echo x]` and checks the reply, sends `[:echo/push x]` and
//! waits for `[:echo/pushed x]`, then disconnects. Exits 0 only if all of
//! that worked within 10 s; otherwise prints what failed and exits 1 (2 for
//! bad arguments). Packers other than edn need their feature
//! (`--features transit`, …, or `--all-features`).

use std::time::Duration;

use sente::client::{ChannelSocketClient, ChskType, ClientEvents, ClientOptions};
use sente::runtimes::smol::{SmolClientTransport, SmolRuntime};
use sente::{Event, Value};

#[path = "echo/packers.rs"]
mod packers;

/// How long the whole check may take.
const OVERALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one reply may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

struct Args {
    url: String,
    chsk_type: ChskType,
    packer: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        url: "http://127.0.0.1:8080/chsk".into(),
        chsk_type: ChskType::Auto,
        packer: "edn".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = value()?,
            "--packer" => args.packer = value()?,
            "--type" => {
                args.chsk_type = match value()?.as_str() {
                    "auto" => ChskType::Auto,
                    "ws" => ChskType::Ws,
                    "ajax" => ChskType::Ajax,
                    other => return Err(format!("--type: {other} (auto, ws or ajax)")),
                }
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn fail(code: i32, e: impl std::fmt::Display) -> ! {
    eprintln!("echo_client: {e}");
    std::process::exit(code);
}

fn event(id: &str, data: Value) -> Result<Event, String> {
    Event::named(id, data).map_err(|e| e.to_string())
}

/// The next event with this id, skipping others.
async fn next_event(events: &ClientEvents, id: &str) -> Result<Event, String> {
    loop {
        let msg = events
            .recv()
            .await
            .map_err(|_| "the client is gone".to_owned())?;
        if msg.id().as_str() == id {
            return Ok(msg.into_event());
        }
    }
}

async fn check(client: &ChannelSocketClient, events: &ClientEvents) -> Result<(), String> {
    client.connect();
    let handshake = next_event(events, "chsk/handshake").await?;
    println!(
        "handshake over {}: {}",
        client.state().chsk_type.as_str(),
        handshake.data()
    );

    let x = Value::from("hello from the sente echo client");
    let reply = client
        .send_with_reply(&event("echo/echo", x.clone())?, REPLY_TIMEOUT)
        .await
        .map_err(|e| format!("[:echo/echo x] got no reply: {e}"))?;
    if reply != x {
        return Err(format!("[:echo/echo x] replied {reply}, expected {x}"));
    }
    println!("echo: {reply}");

    let reply = client
        .send_with_reply(&event("echo/push", x.clone())?, REPLY_TIMEOUT)
        .await
        .map_err(|e| format!("[:echo/push x] got no reply: {e}"))?;
    println!("push: {reply}");
    let pushed = next_event(events, "echo/pushed").await?;
    if pushed.data() != &x {
        return Err(format!("pushed {}, expected {x}", pushed.data()));
    }
    println!("pushed: {pushed}");
    client.disconnect();
    Ok(())
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| fail(2, e));
    let packer = packers::packer(&args.packer).unwrap_or_else(|e| fail(2, e));
    let options = ClientOptions::new(&args.url)
        .unwrap_or_else(|e| fail(2, e))
        .chsk_type(args.chsk_type);
    let (client, events) =
        ChannelSocketClient::new(SmolRuntime, packer, SmolClientTransport::new(), options)
            .unwrap_or_else(|e| fail(2, e));
    let result = smol::block_on(smol::future::or(check(&client, &events), async {
        smol::Timer::after(OVERALL_TIMEOUT).await;
        Err(format!(
            "timed out after {} s (state: {})",
            OVERALL_TIMEOUT.as_secs(),
            client.state().to_value()
        ))
    }));
    match result {
        Ok(()) => println!("ok"),
        Err(e) => fail(1, e),
    }
}
