//! What real Sente clients send, read as Sente reads it: each case goes as
//! an `[:echo/echo x]` event over a real WebSocket to the echo server on
//! 127.0.0.1, and the reply shows how the server read it (issue 13).
//!
//! The Clojure/Sente behaviour each case follows is named beside it.

#![cfg(all(
    feature = "smol",
    feature = "edn",
    feature = "transit",
    feature = "msgpack"
))]
#[path = "server/canary.rs"]
mod canary;
#[path = "server/harness.rs"]
mod harness;

use std::sync::{Arc, Mutex, OnceLock};

use async_tungstenite::tungstenite::Message;
use canary::next_message;
use harness::*;
use sente::packer::{EdnPacker, MsgpackPacker, PackedRef, TransitPacker};
use sente::server::ServerEventMsg;
use sente::wire::ServerMessage;
use sente::{Packer, Value};

/// The echo server with `packer`; `chsk/bad-package` events go to the
/// returned list (with their `:error`), every other event to the echo handler.
async fn echo_server(packer: Arc<dyn Packer>) -> (TestServer, Arc<Mutex<Vec<String>>>) {
    let bad = Arc::new(Mutex::new(Vec::new()));
    let seen = bad.clone();
    let on_event = move |msg: ServerEventMsg| {
        if msg.id().as_str() == "chsk/bad-package" {
            let error = msg
                .data()
                .get(&Value::keyword("error"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            seen.lock().unwrap().push(error);
        } else {
            echo::handle(msg);
        }
    };
    let s = start_with_packer(Backend::Smol, packer, echo::options(), on_event).await;
    (s, bad)
}

/// Sends the EDN event `[[:echo/echo <x>] "<cb>"]` and returns the reply's text.
async fn echo_edn(ws: &mut Ws, x: &str, cb: &str) -> String {
    ws.send(&format!(r#"[[:echo/echo {x}] "{cb}"]"#)).await;
    ws.recv().await.expect("a reply")
}

#[test]
fn edn_keywords_starting_with_a_digit() {
    // Clojure: EdnReader.matchSymbol / tools.reader's parse-symbol accept
    // them, and pr-str prints them back as they were written.
    smol::block_on(async {
        let (s, bad) = echo_server(Arc::new(EdnPacker::new())).await;
        let (mut ws, _) = Ws::open(s.addr, "client-id=digits").await;
        for (x, printed) in [
            (":1", ":1"),
            (":+1", ":+1"),
            (":-1", ":-1"),
            (":1/a", ":1/a"),
            (
                r#"{:1 "one", :2 {:10 [:3]}}"#,
                r#"{:1 "one", :2 {:10 [:3]}}"#,
            ),
        ] {
            assert_eq!(
                echo_edn(&mut ws, x, "kw0001").await,
                format!(r#"[{printed} "kw0001"]"#)
            );
        }
        assert!(bad.lock().unwrap().is_empty());
    });
}

#[test]
fn edn_metadata_is_read_and_dropped() {
    // Clojure: EdnReader.MetaReader attaches it; pr-str does not print it.
    smol::block_on(async {
        let (s, bad) = echo_server(Arc::new(EdnPacker::new())).await;
        let (mut ws, _) = Ws::open(s.addr, "client-id=meta").await;
        for (x, printed) in [
            ("^{:a 1} [1]", "[1]"),
            ("^:k [1]", "[1]"),
            ("^:a ^{:b 2} {:x ^:y sym}", "{:x sym}"),
        ] {
            assert_eq!(
                echo_edn(&mut ws, x, "mt0001").await,
                format!(r#"[{printed} "mt0001"]"#)
            );
        }
        assert!(bad.lock().unwrap().is_empty());
    });
}

#[test]
fn edn_ratios_and_big_decimals_as_clojure_reads_them() {
    // Ratios: EdnReader.matchNumber divides (Numbers.divide). BigDecimals:
    // new BigDecimal(text), printed by BigDecimal.toString + "M".
    smol::block_on(async {
        let (s, bad) = echo_server(Arc::new(EdnPacker::new())).await;
        let (mut ws, _) = Ws::open(s.addr, "client-id=numbers").await;
        for (x, printed) in [
            ("4/2", "2"),
            ("-3/9", "-1/3"),
            ("0/5", "0"),
            ("18446744073709551616/2", "9223372036854775808N"),
            ("-0.0M", "0.0M"),
            ("1e2M", "1E+2M"),
            ("1e-8M", "1E-8M"),
            ("0.00000001M", "1E-8M"),
            ("1.50M", "1.50M"),
        ] {
            assert_eq!(
                echo_edn(&mut ws, x, "nm0001").await,
                format!(r#"[{printed} "nm0001"]"#),
                "{x}"
            );
        }
        assert!(bad.lock().unwrap().is_empty());
    });
}

/// `[:echo/echo x]` inside the envelope `[event cb]`: x sits at level 3.
const EVENT_DATA_LEVEL: usize = 3;

/// A vector nesting `levels` levels (a scalar inside is the last level).
fn nested_text(levels: usize, open: &str, close: &str) -> String {
    format!("{}1{}", open.repeat(levels - 1), close.repeat(levels - 1))
}

#[test]
fn edn_nesting_to_the_default_bound_echoes_and_past_it_is_a_visible_refusal() {
    // Sente's reader takes 1,000 levels (it overflows near 2,000).
    capture_logs();
    smol::block_on(async {
        let (s, bad) = echo_server(Arc::new(EdnPacker::new())).await;
        let (mut ws, _) = Ws::open(s.addr, "client-id=deep").await;
        let deepest = sente::edn::DEFAULT_MAX_DEPTH - EVENT_DATA_LEVEL + 1;
        for (open, close) in [("[", "]"), ("{:a ", "}"), ("#{", "}"), ("^:k (", ")")] {
            let x = nested_text(deepest, open, close);
            let reply = echo_edn(&mut ws, &x, "dp0001").await;
            let expected = x.replace("^:k ", "");
            assert_eq!(reply, format!(r#"[{expected} "dp0001"]"#), "{open}");
        }
        // One level more: refused, with a chsk/bad-package event and a log
        // line saying why; the connection keeps working.
        let too_deep = nested_text(deepest + 1, "[", "]");
        ws.send(&format!(r#"[[:echo/echo {too_deep}] "dp0002"]"#))
            .await;
        assert_eq!(
            echo_edn(&mut ws, ":after", "dp0003").await,
            r#"[:after "dp0003"]"#
        );
        let errors = bad.lock().unwrap().clone();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("more than 1000 levels"), "{}", errors[0]);
        let logged = logs().lock().unwrap().clone();
        assert!(
            logged
                .iter()
                .any(|l| l.contains("bad package") && l.contains("more than 1000 levels")),
            "{logged:?}"
        );
    });
}

#[test]
fn transit_reads_and_writes_as_transit_clj() {
    smol::block_on(async {
        let packer: Arc<dyn Packer> = Arc::new(TransitPacker::new());
        let (s, bad) = echo_server(packer.clone()).await;
        let (mut ws, _) = Ws::open(s.addr, "client-id=transit").await;
        for (x, reply) in [
            // transit-clj writes non-BMP characters as surrogate escapes
            // (Jackson's UTF8JsonGenerator._outputMultiByteChar).
            (r#""a😀""#, r#"["a\uD83D\uDE00","tr0001"]"#),
            (r#""\uD83D\uDE00""#, r#"["\uD83D\uDE00","tr0001"]"#),
            // Keywords starting with a digit.
            (r#""~:1""#, r#"["~:1","tr0001"]"#),
            (
                r#"["^ ","~:1",1,"~:-1",2]"#,
                r#"[["^ ","~:1",1,"~:-1",2],"tr0001"]"#,
            ),
            // transit-clj's "ratio" handler divides BigInts: (/ 4N 2N) is 2N.
            (r#"["~#ratio",["~n4","~n2"]]"#, r#"["~n2","tr0001"]"#),
            (
                r#"["~#ratio",["~n-3","~n9"]]"#,
                r#"[["~#ratio",["~n-1","~n3"]],"tr0001"]"#,
            ),
            // "~f": new BigDecimal(text), written back with toString.
            (r#""~f1e2""#, r#"["~f1E+2","tr0001"]"#),
        ] {
            ws.send(&format!(r#"[["~:echo/echo",{x}],"tr0001"]"#)).await;
            assert_eq!(ws.recv().await.expect("a reply"), reply, "{x}");
        }
        // Nesting to the default bound.
        let deepest = sente::edn::DEFAULT_MAX_DEPTH - EVENT_DATA_LEVEL + 1;
        let x = nested_text(deepest, "[", "]");
        ws.send(&format!(r#"[["~:echo/echo",{x}],"tr0002"]"#)).await;
        assert_eq!(
            ws.recv().await.expect("a reply"),
            format!(r#"[{x},"tr0002"]"#)
        );
        assert!(bad.lock().unwrap().is_empty());
    });
}

/// Sends a msgpack event whose data is the msgpack bytes `x` and returns
/// the reply's value and its packed bytes.
async fn echo_msgpack(ws: &mut Ws, x: &[u8]) -> (Value, Vec<u8>) {
    // [[:echo/echo x] "mp0001"]
    let mut frame = vec![0x92, 0x92, 0xc7, 9, 0x00];
    frame.extend_from_slice(b"echo/echo");
    frame.extend_from_slice(x);
    frame.push(0xa6);
    frame.extend_from_slice(b"mp0001");
    futures_util::SinkExt::send(&mut ws.0, Message::binary(frame))
        .await
        .expect("send");
    let raw = match ws.recv_raw().await.expect("a reply") {
        Message::Binary(b) => b.to_vec(),
        other => panic!("a binary reply, got {other:?}"),
    };
    match sente::wire::read_server_message(&MsgpackPacker::new(), true, PackedRef::Binary(&raw)) {
        Ok(ServerMessage::Reply { value, .. }) => (value, raw),
        other => panic!("a reply, got {other:?}"),
    }
}

/// The reply bytes `[x "mp0001"]` for the msgpack bytes `x`.
fn msgpack_reply(x: &[u8]) -> Vec<u8> {
    let mut out = vec![0x92];
    out.extend_from_slice(x);
    out.push(0xa6);
    out.extend_from_slice(b"mp0001");
    out
}

#[test]
fn msgpack_reads_as_sentes_codec() {
    smol::block_on(async {
        let packer: Arc<dyn Packer> = Arc::new(MsgpackPacker::new());
        let (s, bad) = echo_server(packer.clone()).await;
        let mut ws = Ws::connect(s.addr, "client-id=msgpack").await;
        assert!(matches!(
            next_message(&mut ws, &*packer).await,
            Some(ServerMessage::Handshake { .. })
        ));
        // An extension type Sente does not interpret: its PackableExt
        // record (taoensso.msgpack.common, unpack-ext :default), packed
        // back to the same bytes.
        for ext in [
            vec![0xd4, 106, 0x2a],
            vec![0xc7, 3, 106, 1, 2, 3],
            vec![0xd5, 0x80, 1, 2],
        ] {
            let (value, raw) = echo_msgpack(&mut ws, &ext).await;
            assert!(
                matches!(&value, Value::Tagged(t) if t.tag.as_str() == MsgpackPacker::OPAQUE_EXT_TAG),
                "{value}"
            );
            assert_eq!(raw, msgpack_reply(&ext));
        }
        // Invalid UTF-8: U+FFFD, as new String(bytes, UTF_8) gives.
        let (value, _) = echo_msgpack(&mut ws, &[0xa3, b'a', 0xff, b'b']).await;
        assert_eq!(value, Value::from("a\u{fffd}b"));
        // A cached-key index never assigned: nil, as (get cache idx) gives.
        let (value, raw) = echo_msgpack(&mut ws, &[0x81, 0xd4, 0x08, 0x05, 0x01]).await;
        assert_eq!(value, Value::map([(Value::Nil, Value::from(1))]));
        assert_eq!(raw, msgpack_reply(&[0x81, 0xc0, 0x01]));
        // Keywords starting with a digit: ext 0 with their text.
        let one = [0xd4, 0x00, b'1'];
        let (value, raw) = echo_msgpack(&mut ws, &one).await;
        assert_eq!(value, Value::keyword("1"));
        assert_eq!(raw, msgpack_reply(&one));
        // Ratios: Sente divides, (/ 4 2) is 2 and (/ -3 9) is -1/3.
        let (value, raw) = echo_msgpack(&mut ws, &[0xd5, 0x03, 4, 2]).await;
        assert!(matches!(value, Value::Int(2)));
        assert_eq!(raw, msgpack_reply(&[0x02]));
        let (value, raw) = echo_msgpack(&mut ws, &[0xd5, 0x03, 0xfd, 9]).await;
        assert_eq!(value.to_string(), "-1/3");
        assert_eq!(raw, msgpack_reply(&[0xd5, 0x03, 0xff, 3]));
        // Nesting to the default bound.
        let deepest = sente::edn::DEFAULT_MAX_DEPTH - EVENT_DATA_LEVEL + 1;
        let mut x = vec![0x91; deepest - 1];
        x.push(0x01);
        let (value, raw) = echo_msgpack(&mut ws, &x).await;
        assert_eq!(value.depth(), deepest);
        assert_eq!(raw, msgpack_reply(&x));
        assert!(bad.lock().unwrap().is_empty());
    });
}

/// The log lines of this test binary (every thread's), once capturing is on.
fn logs() -> &'static Mutex<Vec<String>> {
    static LOGS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    LOGS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Installs a global subscriber that keeps every event's fields as text.
fn capture_logs() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = tracing::subscriber::set_global_default(Capture);
    });
}

struct Capture;

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={value:?} ", field.name()));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        logs().lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
