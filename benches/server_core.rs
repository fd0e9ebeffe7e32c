//! The server core's hot path without sockets: a WebSocket event in, the
//! handler's reply out (unpack, event validation, reply packing), and a push
//! flushed to 100 tabs of one user (one pack, 100 frames).
//!
//! `cargo bench --bench server_core`

use std::sync::Arc;
use std::time::Instant;

use divan::{Bencher, black_box};
use sente::packer::{EdnPacker, PackedRef};
use sente::server::{Output, ServerConfig, ServerCore};
use sente::{Event, Value};

fn main() {
    divan::main();
}

fn core() -> ServerCore {
    ServerCore::new(ServerConfig::default(), Arc::new(EdnPacker::new())).expect("valid config")
}

#[divan::bench]
fn event_in_reply_out(b: Bencher<'_, '_>) {
    let mut core = core();
    let now = Instant::now();
    let conn = core
        .ws_open(now, Value::from("alice"), "tab-1", &Value::Nil)
        .expect("opens");
    while core.poll_output().is_some() {}
    let frame = r#"[[:echo/echo {:n 1, :s "hi"}] "ab12cd"]"#;
    b.bench_local(|| {
        core.ws_message(now, conn, PackedRef::Text(black_box(frame)));
        let Some(Output::Event(ev)) = core.poll_output() else {
            unreachable!("an event")
        };
        let reply_to = ev.reply.expect("a reply was asked");
        core.reply(&reply_to, ev.event.data()).expect("packs");
        core.poll_output().expect("the reply frame")
    });
}

#[divan::bench]
fn push_to_100_tabs(b: Bencher<'_, '_>) {
    let mut core = core();
    let now = Instant::now();
    for tab in 0..100 {
        core.ws_open(
            now,
            Value::from("alice"),
            &format!("tab-{tab}"),
            &Value::Nil,
        )
        .expect("opens");
    }
    while core.poll_output().is_some() {}
    let event = Event::named("chat/msg", Value::from("hello everyone")).expect("valid");
    let uid = Value::from("alice");
    b.bench_local(|| {
        core.send(now, &uid, black_box(event.clone()), true)
            .expect("sends");
        let mut frames = 0;
        while core.poll_output().is_some() {
            frames += 1;
        }
        frames
    });
}

/// Ten events buffered for each of 1,000 users, then one batch of ten per
/// user at the end of the window: per-user batching under a broadcast-like
/// load (10,000 events in, 1,000 frames out).
#[divan::bench]
fn ten_buffered_pushes_to_1000_users(b: Bencher<'_, '_>) {
    let mut core = core();
    let mut now = Instant::now();
    let uids: Vec<Value> = (0..1000)
        .map(|u| Value::from(format!("user-{u}")))
        .collect();
    for uid in &uids {
        core.ws_open(now, uid.clone(), "tab", &Value::Nil)
            .expect("opens");
    }
    while core.poll_output().is_some() {}
    let event = Event::named("chat/msg", Value::from("hello everyone")).expect("valid");
    b.bench_local(|| {
        for _ in 0..10 {
            for uid in &uids {
                core.send(now, uid, black_box(event.clone()), false)
                    .expect("sends");
            }
        }
        now += std::time::Duration::from_millis(31);
        core.handle_timeout(now);
        let mut frames = 0;
        while core.poll_output().is_some() {
            frames += 1;
        }
        frames
    });
}
