//! Packing and unpacking a typical ~200-byte event and a ~10 KB push batch
//! with every packer, beside a serde_json::Value round-trip of the same data
//! as the yardstick.
//!
//! `cargo bench --bench packers --all-features`

use divan::{Bencher, black_box};
use sente::packer::{EdnPacker, Packer};
use sente::{Event, Value};

fn main() {
    divan::main();
}

/// A chat-like event: `[[:chat/msg {...}] "cb1234"]`, about 200 bytes of EDN.
fn typical_event() -> Value {
    let data = Value::map([
        (Value::keyword("room"), Value::from("general")),
        (Value::keyword("user/id"), Value::from(123_456)),
        (Value::keyword("user/name"), Value::from("Ana Lovelace")),
        (
            Value::keyword("text"),
            Value::from("Hello everyone, the build is green again!"),
        ),
        (Value::keyword("sent-at"), Value::from(1_718_600_000_000i64)),
        (
            Value::keyword("tags"),
            Value::vector([Value::keyword("ci"), Value::keyword("news")]),
        ),
        (Value::keyword("reply-to"), Value::Nil),
        (Value::keyword("score"), Value::from(4.5)),
    ]);
    let ev = Event::named("chat/msg", data).expect("valid id");
    Value::vector([ev.into_value(), Value::from("cb1234")])
}

/// A push batch of 50 such events, about 10 KB of EDN.
fn batch() -> Value {
    let ev = match typical_event() {
        Value::Vector(mut items) => items.swap_remove(0),
        _ => unreachable!(),
    };
    Value::vector([Value::vector(std::iter::repeat_n(ev, 50)), Value::Nil])
}

fn packers() -> Vec<(&'static str, Box<dyn Packer>)> {
    #[allow(unused_mut)]
    let mut v: Vec<(&'static str, Box<dyn Packer>)> = vec![("edn", Box::new(EdnPacker::new()))];
    #[cfg(feature = "transit")]
    v.push(("transit", Box::new(sente::packer::TransitPacker::new())));
    #[cfg(feature = "json")]
    v.push(("json", Box::new(sente::packer::JsonPacker::new())));
    #[cfg(feature = "msgpack")]
    v.push(("msgpack", Box::new(sente::packer::MsgpackPacker::new())));
    #[cfg(feature = "bincode")]
    v.push(("bincode", Box::new(sente::packer::BincodePacker::new())));
    #[cfg(feature = "gzip")]
    v.push((
        "gzip+edn",
        Box::new(sente::packer::GzipPacker::new(EdnPacker::new())),
    ));
    v
}

const NAMES: &[&str] = &["edn", "transit", "json", "msgpack", "bincode", "gzip+edn"];

fn packer(name: &str) -> Option<Box<dyn Packer>> {
    packers()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| p)
}

#[divan::bench(args = NAMES)]
fn pack_event(b: Bencher<'_, '_>, name: &str) {
    let Some(p) = packer(name) else { return };
    let v = typical_event();
    b.bench_local(|| p.pack(true, black_box(&v)).expect("packs"));
}

#[divan::bench(args = NAMES)]
fn unpack_event(b: Bencher<'_, '_>, name: &str) {
    let Some(p) = packer(name) else { return };
    let packed = p.pack(true, &typical_event()).expect("packs");
    b.bench_local(|| p.unpack(true, black_box(packed.as_ref())).expect("unpacks"));
}

#[divan::bench(args = NAMES)]
fn pack_batch(b: Bencher<'_, '_>, name: &str) {
    let Some(p) = packer(name) else { return };
    let v = batch();
    b.bench_local(|| p.pack(true, black_box(&v)).expect("packs"));
}

#[divan::bench(args = NAMES)]
fn unpack_batch(b: Bencher<'_, '_>, name: &str) {
    let Some(p) = packer(name) else { return };
    let packed = p.pack(true, &batch()).expect("packs");
    b.bench_local(|| p.unpack(true, black_box(packed.as_ref())).expect("unpacks"));
}

/// The yardstick: the same data as plain JSON through serde_json::Value.
mod serde_json_value {
    use super::*;

    fn json(v: &Value) -> serde_json::Value {
        match v {
            Value::Nil => serde_json::Value::Null,
            Value::Int(i) => (*i).into(),
            Value::Float(f) => (*f).into(),
            Value::String(s) => s.as_ref().into(),
            Value::Keyword(k) => k.as_str().into(),
            Value::Vector(xs) => xs.iter().map(json).collect(),
            Value::Map(m) => m
                .iter()
                .map(|(k, x)| {
                    (
                        k.as_keyword().map_or("?", |k| k.as_str()).to_owned(),
                        json(x),
                    )
                })
                .collect::<serde_json::Map<_, _>>()
                .into(),
            _ => serde_json::Value::Null,
        }
    }

    #[divan::bench]
    fn round_trip_event(b: Bencher<'_, '_>) {
        let v = json(&typical_event());
        b.bench_local(|| {
            let s = serde_json::to_string(black_box(&v)).expect("serializes");
            serde_json::from_str::<serde_json::Value>(&s).expect("parses")
        });
    }

    #[divan::bench]
    fn round_trip_batch(b: Bencher<'_, '_>) {
        let v = json(&batch());
        b.bench_local(|| {
            let s = serde_json::to_string(black_box(&v)).expect("serializes");
            serde_json::from_str::<serde_json::Value>(&s).expect("parses")
        });
    }
}

#[divan::bench(args = NAMES)]
fn round_trip_event(b: Bencher<'_, '_>, name: &str) {
    let Some(p) = packer(name) else { return };
    let v = typical_event();
    b.bench_local(|| {
        let packed = p.pack(true, black_box(&v)).expect("packs");
        p.unpack(true, packed.as_ref()).expect("unpacks")
    });
}

#[divan::bench(args = NAMES)]
fn round_trip_batch(b: Bencher<'_, '_>, name: &str) {
    let Some(p) = packer(name) else { return };
    let v = batch();
    b.bench_local(|| {
        let packed = p.pack(true, black_box(&v)).expect("packs");
        p.unpack(true, packed.as_ref()).expect("unpacks")
    });
}
