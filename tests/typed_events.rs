//! Typed events: serde types in and out through every packer, errors that
//! name the event and the path, and handlers per event id over a real
//! WebSocket.

#![cfg(all(
    feature = "smol",
    feature = "edn",
    feature = "json",
    feature = "transit",
    feature = "msgpack",
    feature = "bincode",
    feature = "gzip"
))]
#[path = "server/harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use harness::*;
use sente::packer::{
    BincodePacker, EdnPacker, GzipPacker, JsonPacker, MsgpackPacker, TransitPacker,
};
use sente::router::{EventRouter, RouterOptions};
use sente::server::ServerEventMsg;
use sente::{DataError, Event, PackedRef, Packer, Value};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
enum Mood {
    Happy,
    Away { until: u32 },
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Say {
    room: String,
    text: String,
    mood: Mood,
    tags: Vec<String>,
    counts: BTreeMap<String, i64>,
    reply_to: Option<u64>,
    ratio: f64,
}

fn say() -> Say {
    Say {
        room: "lobby".into(),
        text: "héllo \"there\"".into(),
        mood: Mood::Away { until: 1700 },
        tags: vec!["a".into(), "b".into()],
        counts: BTreeMap::from([("x".to_owned(), -3), ("y".to_owned(), 1 << 40)]),
        reply_to: None,
        ratio: 0.25,
    }
}

fn packers() -> Vec<Arc<dyn Packer>> {
    vec![
        Arc::new(EdnPacker::new()),
        Arc::new(JsonPacker::new()),
        Arc::new(TransitPacker::new()),
        Arc::new(MsgpackPacker::new()),
        Arc::new(BincodePacker::new()),
        Arc::new(GzipPacker::new(EdnPacker::new())),
    ]
}

#[test]
fn typed_data_round_trips_through_every_packer() {
    let sent = Event::from_data("chat/say", &say()).expect("converts");
    for packer in packers() {
        for ws in [true, false] {
            let packed = packer.pack(ws, &sent.to_value()).expect("packs");
            let bytes = match &packed {
                sente::Packed::Text(t) => PackedRef::Text(t),
                sente::Packed::Binary(b) => PackedRef::Binary(b),
            };
            let value = packer.unpack(ws, bytes).expect("unpacks");
            let got = Event::from_value_lenient(value, !packer.keeps_keywords()).expect("an event");
            assert_eq!(got.id().as_str(), "chat/say", "{}", packer.name());
            assert_eq!(
                got.data_as::<Say>().expect("reads back"),
                say(),
                "{}",
                packer.name()
            );
        }
    }
}

#[test]
fn a_mismatch_names_the_event_and_the_path() {
    let mut data = sente::to_value(&say()).expect("converts");
    if let Value::Map(m) = &mut data {
        m.insert(
            Value::keyword("tags"),
            Value::Vector(vec![Value::from("ok"), Value::from(7)]),
        );
    }
    let event = Event::named("chat/say", data).expect("an id");
    let err = event.data_as::<Say>().expect_err("7 is not a string");
    assert_eq!(
        err.to_string(),
        "event :chat/say: invalid type: integer `7`, expected a string at [:tags 1]"
    );
    assert_eq!(err.path().len(), 2);
    assert!(matches!(
        Event::from_data("no-namespace", &1),
        Err(DataError::Id(_))
    ));
}

#[test]
fn handlers_per_event_over_a_websocket() {
    smol::block_on(async {
        let (s, events) = start_raw(Backend::Smol, echo::options()).await;
        let (seen_tx, seen) = async_channel::unbounded::<String>();
        let (on_open, on_other, on_error) = (seen_tx.clone(), seen_tx.clone(), seen_tx);
        let router = EventRouter::<ServerEventMsg>::new()
            .on("chat/say", |msg: ServerEventMsg| async move {
                let say: Say = msg.data_as()?;
                msg.reply_with(&(say.text.chars().count(), say.mood))?;
                Ok(())
            })
            .on(":chsk/uidport-open", move |msg: ServerEventMsg| {
                let seen = on_open.clone();
                async move {
                    let _ = seen.try_send(format!("open {}", msg.uid()));
                    Ok(())
                }
            })
            .fallback(move |msg: ServerEventMsg| {
                let seen = on_other.clone();
                async move {
                    let _ = seen.try_send(format!("fallback {}", msg.id().as_str()));
                    Ok(())
                }
            });
        let options = RouterOptions {
            error_handler: Some(Arc::new(move |err, ev| {
                let _ = on_error.try_send(format!("error {}: {err}", ev.id().as_str()));
            })),
            ..RouterOptions::default()
        };
        let handle = router.start_with(sente::runtimes::smol::SmolRuntime, events, options);
        let (mut ws, _) = Ws::open(s.addr, "uid=ann&client-id=t1").await;
        assert_eq!(within("open", seen.recv()).await.unwrap(), r#"open "ann""#);
        let sent = Event::from_data("chat/say", &say()).expect("converts");
        ws.send(&format!(r#"[{sent} "cb0001"]"#)).await;
        assert_eq!(
            ws.recv().await.expect("the reply"),
            r#"[[13 {:Away {:until 1700}}] "cb0001"]"#
        );
        ws.send(r#"[[:chat/leave 1]]"#).await;
        assert_eq!(
            within("fallback", seen.recv()).await.unwrap(),
            "fallback chat/leave"
        );
        ws.send(r#"[[:chat/say {:room 1}] "cb0002"]"#).await;
        let err = within("the error", seen.recv()).await.unwrap();
        assert!(
            err.starts_with("error chat/say: handler failed: event :chat/say: invalid type: integer `1`, expected a string at [:room]"),
            "{err}"
        );
        handle.stop();
    });
}
