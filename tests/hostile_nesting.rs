//! Every nesting form of every packer, 100,000 levels deep, over the wire:
//! in a WebSocket frame and in the body of an Ajax POST from a client that
//! never handshook. Each is refused as a bad package (the reader carries its
//! depth: no stack overflow), the attacker's own connection keeps working,
//! and a canary on another connection sees no error and no stall.

#![cfg(all(feature = "smol", feature = "edn"))]
#[path = "server/canary.rs"]
mod canary;
#[path = "server/harness.rs"]
mod harness;

use std::sync::Arc;

use async_tungstenite::tungstenite::Message;
use canary::{Canary, next_message};
use harness::*;
use sente::wire::{self, ServerMessage};
use sente::{Event, Packed, Packer, Value};

const LEVELS: usize = 100_000;

/// The attacker: a WebSocket that sends the hostile payloads, each followed
/// by an echo that must still be answered.
async fn attack(packer: Arc<dyn Packer>, payloads: Vec<(&str, Packed)>) {
    let s = start_with_packer(
        Backend::Smol,
        packer.clone(),
        {
            let mut o = echo::options();
            o = o.max_message_size(4 << 20);
            o
        },
        echo::handle,
    )
    .await;
    let canary = Canary::start_with(s.addr, packer.clone()).await;
    let mut ws = Ws::connect(s.addr, "client-id=attacker").await;
    match within("a handshake", next_message(&mut ws, &*packer)).await {
        Some(ServerMessage::Handshake { .. }) => {}
        other => panic!("expected a handshake, got {other:?}"),
    }
    for (n, (what, payload)) in payloads.iter().enumerate() {
        let frame = match payload {
            Packed::Text(t) => Message::text(t.clone()),
            Packed::Binary(b) => Message::binary(b.clone()),
        };
        futures_util::SinkExt::send(&mut ws.0, frame)
            .await
            .expect("send");
        // The same connection still echoes.
        let cb = format!("at{n:04}");
        let ev = Event::named("echo/echo", n as i64).unwrap();
        let frame = match wire::pack_client_event(&*packer, true, &ev, Some(&cb)).unwrap() {
            Packed::Text(t) => Message::text(t),
            Packed::Binary(b) => Message::binary(b),
        };
        futures_util::SinkExt::send(&mut ws.0, frame)
            .await
            .expect("send");
        match within("a server message", next_message(&mut ws, &*packer)).await {
            Some(ServerMessage::Reply { value, cb: c }) => {
                assert_eq!(
                    (value, c),
                    (Value::from(n as i64), Value::from(cb.as_str())),
                    "{what}"
                );
            }
            other => panic!("{what}: the attacker's connection after it: {other:?}"),
        }
        // The same bytes in a POST, from a client that never handshook.
        let resp = match payload {
            Packed::Text(t) => {
                post_form(
                    s.addr,
                    &format!("udt=1&client-id=never&{}", form("ppstr", t)),
                    "",
                )
                .await
            }
            Packed::Binary(b) => {
                let mut raw = format!(
                    "POST /chsk?client-id=never&binary%3F=true HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
                    s.addr,
                    b.len()
                )
                .into_bytes();
                raw.extend_from_slice(b);
                http_bytes(s.addr, &raw).await
            }
        };
        assert_eq!(
            resp.status,
            400,
            "{what}: {}",
            String::from_utf8_lossy(&resp.body[..resp.body.len().min(200)])
        );
    }
    canary.check().await;
}

fn form(key: &str, value: &str) -> String {
    let enc: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    format!("{key}={enc}")
}

fn text(unit: &str) -> (&str, Packed) {
    (unit, Packed::Text(unit.repeat(LEVELS)))
}

#[test]
fn edn_every_nesting_form() {
    smol::block_on(attack(
        Arc::new(sente::packer::EdnPacker::new()),
        vec![
            text("["),
            text("("),
            text("{:a "),
            text("#{"),
            text("#foo "),
            text("#:ns{:a "),
            text("#_"),
            text("#_ #_"),
            text("[#_"),
            text("(#_"),
            text("{:a #_"),
            text("#{#_"),
            text("^{:a 1} ["),
            text("^:k ["),
            text("[^:k "),
        ],
    ));
}

#[cfg(feature = "transit")]
#[test]
fn transit_every_nesting_form() {
    smol::block_on(attack(
        Arc::new(sente::packer::TransitPacker::new()),
        vec![
            text("["),
            text(r#"{"a":"#),
            text(r#"["^ ","a","#),
            text(r#"["~#set",["#),
            text(r#"["~#list",["#),
            text(r#"["~#foo","#),
            text(r#"{"~#foo":"#),
        ],
    ));
}

#[cfg(feature = "json")]
#[test]
fn json_every_nesting_form() {
    smol::block_on(attack(
        Arc::new(sente::packer::JsonPacker::new()),
        vec![text("["), text(r#"{"a":"#)],
    ));
}

/// msgpack sets are extension 4 around an array: nested, each extension's
/// length covers everything inside it.
#[cfg(feature = "msgpack")]
fn msgpack_nested_sets(levels: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(7 * levels + 1);
    for k in (1..=levels).rev() {
        // Inside level k: 0x91 and level k-1 (7 bytes a level, 1 for nil).
        let len = (1 + 7 * (k - 1) + 1) as u32;
        out.push(0xc9);
        out.extend_from_slice(&len.to_be_bytes());
        out.push(4);
        out.push(0x91);
    }
    out.push(0xc0);
    out
}

#[cfg(feature = "msgpack")]
#[test]
fn msgpack_every_nesting_form() {
    let binary = |what, bytes: Vec<u8>| (what, Packed::Binary(bytes));
    smol::block_on(attack(
        Arc::new(sente::packer::MsgpackPacker::new()),
        vec![
            binary("arrays", vec![0x91; LEVELS]),
            binary("maps", [0x81, 0xa1, b'a'].repeat(LEVELS)),
            binary("map keys", vec![0x81; LEVELS]),
            binary("sets", msgpack_nested_sets(LEVELS)),
            binary(
                "array32 claiming 2^32-1 items",
                [0xdd, 0xff, 0xff, 0xff, 0xff].repeat(LEVELS),
            ),
            binary(
                "map32 claiming 2^32-1 entries",
                [0xdf, 0xff, 0xff, 0xff, 0xff].repeat(LEVELS),
            ),
        ],
    ));
}
