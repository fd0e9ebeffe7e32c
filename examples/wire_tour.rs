//! A tour of the wire: the messages of a Sente session (handshake, an event
//! with a reply, a push batch, keep-alive), packed by every enabled packer,
//! then read back the way each side reads them.
//!
//! `cargo run --example wire_tour --all-features`

use sente::packer::{EdnPacker, Packed, Packer};
use sente::wire::{self, ServerMessage};
use sente::{Event, Value};

fn show(packed: &Packed) -> String {
    match packed {
        Packed::Text(s) => s.clone(),
        Packed::Binary(b) => b
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    #[allow(unused_mut)]
    let mut packers: Vec<Box<dyn Packer>> = vec![Box::new(EdnPacker::new())];
    #[cfg(feature = "transit")]
    packers.push(Box::new(sente::packer::TransitPacker::new()));
    #[cfg(feature = "json")]
    packers.push(Box::new(sente::packer::JsonPacker::new()));
    #[cfg(feature = "msgpack")]
    packers.push(Box::new(sente::packer::MsgpackPacker::new()));
    #[cfg(feature = "bincode")]
    packers.push(Box::new(sente::packer::BincodePacker::new()));
    #[cfg(feature = "gzip")]
    packers.push(Box::new(sente::packer::GzipPacker::new(EdnPacker::new())));

    let hello = Event::named(
        "app/hello",
        Value::map([(Value::keyword("x"), Value::from(1))]),
    )?;
    let news = [Event::named("app/news", 1)?, Event::named("app/news", 2)?];
    for p in &packers {
        let p: &dyn Packer = p.as_ref();
        println!(
            "== {} ({})",
            p.name(),
            if p.is_binary() { "binary" } else { "text" }
        );
        let messages = [
            (
                "S->C handshake",
                wire::pack_handshake(p, true, &Value::from("alice"), &Value::Nil)?,
            ),
            (
                "C->S event + cb",
                wire::pack_client_event(p, true, &hello, Some("a1b2c3"))?,
            ),
            (
                "S->C reply",
                wire::pack_ws_reply(p, &Value::keyword("ok"), &Value::from("a1b2c3"))?,
            ),
            ("S->C push batch", wire::pack_push_batch(p, true, &news)?),
            ("C->S ping", wire::pack_client_ping(p, "d4e5f6")?),
            ("S->C pong", wire::pack_pong(p, &Value::from("d4e5f6"))?),
            ("S->C ping", wire::pack_server_ping(p)?),
            ("C->S pong", wire::pack_client_pong(p)?),
            (
                "C->S Ajax event",
                wire::pack_client_event(p, false, &hello, Some("-"))?,
            ),
            ("S->C lp timeout", wire::pack_lp_timeout(p)?),
        ];
        for (label, packed) in &messages {
            println!("  {label:<16} {}", show(packed));
        }
        let read = wire::read_server_message(p, true, messages[3].1.as_ref())?;
        if let ServerMessage::Push(events) = read {
            println!(
                "  client reads the batch as {} events: {events:?}",
                events.len()
            );
        }
        let msg = wire::read_client_message(p, true, messages[1].1.as_ref())?;
        println!(
            "  server reads {} (reply wanted: {})",
            msg.event,
            msg.wants_reply()
        );
    }
    Ok(())
}
