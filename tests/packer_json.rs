//! The JSON packer: round-trips of what JSON can say, the lossy mapping of
//! everything else, and no panics on arbitrary input.
#![cfg(feature = "json")]

mod support;

use proptest::prelude::*;
use sente::packer::{JsonPacker, PackError, PackedRef, Packer, UnpackErrorKind};
use sente::value::Value;
use support::{Caps, arb_value};

/// What survives JSON exactly: nil, booleans, i64, finite doubles, strings,
/// vectors (and lists, which compare equal), maps with string keys.
const JSON: Caps = Caps {
    big_int: false,
    big_dec: false,
    ratio: false,
    chars: false,
    symbols: false,
    lists: true,
    sets: false,
    tagged: false,
    bytes: false,
    keywords: false,
    non_finite: false,
    inst_nanos: false,
    insts: false,
    uuids: false,
    any_map_keys: false,
};

fn unpack(text: &str) -> Result<Value, sente::packer::UnpackError> {
    JsonPacker::new().unpack(false, PackedRef::Text(text))
}

#[test]
fn sente_envelopes_travel_as_plain_json() {
    let p = JsonPacker::new();
    let handshake = Value::vector([
        Value::vector([
            Value::keyword("chsk/handshake"),
            Value::vector([Value::from("alice"), Value::Nil, Value::Nil]),
        ]),
        Value::Nil,
    ]);
    let packed = p.pack(true, &handshake).unwrap();
    assert_eq!(
        packed.as_bytes(),
        br#"[["chsk/handshake",["alice",null,null]],null]"#
    );
    let reply = unpack(r#"[{"ok":true},"3fa2c9"]"#).unwrap();
    assert_eq!(
        reply,
        Value::vector([
            Value::map([(Value::from("ok"), Value::Bool(true))]),
            Value::from("3fa2c9")
        ])
    );
    assert!(!p.keeps_keywords());
}

#[test]
fn hostile_nesting_is_too_deep_not_a_stack_overflow() {
    for open in ["[", "{\"a\":", "[{\"a\":"] {
        let text = open.repeat(100_000);
        let e = unpack(&text).unwrap_err();
        assert_eq!(e.kind(), UnpackErrorKind::TooDeep, "{open}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn json_round_trips_what_json_can_say(v in arb_value(JSON)) {
        let p = JsonPacker::new();
        let packed = p.pack(true, &v).unwrap();
        prop_assert!(!packed.is_binary());
        let back = p.unpack(true, packed.as_ref()).unwrap();
        prop_assert_eq!(back, v);
    }

    /// Everything else packs (or is refused as unsupported), and what comes
    /// back is a fixed point: packing it again changes nothing.
    #[test]
    fn json_maps_every_value_to_a_fixed_point(v in arb_value(Caps::ALL)) {
        let p = JsonPacker::new();
        match p.pack(true, &v) {
            Ok(packed) => {
                let once = p.unpack(true, packed.as_ref()).unwrap();
                let again = p.pack(true, &once).unwrap();
                prop_assert_eq!(&again, &packed);
                prop_assert_eq!(p.unpack(true, again.as_ref()).unwrap(), once);
            }
            Err(e) => prop_assert!(matches!(e, PackError::Unsupported { packer: "json", .. }), "{}", e),
        }
    }

    #[test]
    fn json_unpack_of_arbitrary_text_never_panics(s in "\\PC{0,64}") {
        let _ = unpack(&s);
    }

    /// Whatever unpacks packs again and unpacks to an equal value.
    #[test]
    fn json_unpack_of_json_like_text_is_stable(s in r#"[\[\]{}",:0-9.eE+\-a-z\\ ]{0,64}"#) {
        if let Ok(v) = unpack(&s) {
            let p = JsonPacker::new();
            let packed = p.pack(true, &v).unwrap();
            prop_assert_eq!(p.unpack(true, packed.as_ref()).unwrap(), v);
        }
    }
}
