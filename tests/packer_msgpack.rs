//! Property tests of the msgpack packer: round-trips, no panics on arbitrary
//! input, bounded nesting and no allocation from claimed lengths.
#![cfg(feature = "msgpack")]

mod support;

use proptest::prelude::*;
use sente::Value;
use sente::packer::{MsgpackPacker, PackedRef, Packer, UnpackErrorKind};
use support::{Caps, arb_value};

/// What msgpack carries exactly: everything but big integers beyond `i64`,
/// big decimals (sent as doubles) and tagged literals. Lists come back as
/// vectors, which compare equal.
const MSGPACK: Caps = Caps {
    big_int: false,
    big_dec: false,
    tagged: false,
    ..Caps::ALL
};

/// Byte strings that look like msgpack: mostly type codes and small lengths.
fn msgpack_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        any::<u8>(),
        prop::sample::select(vec![
            0x00, 0x01, 0x0c, 0x7f, 0x81, 0x91, 0x92, 0xa1, 0xc0, 0xc4, 0xc7, 0xc8, 0xc9, 0xca,
            0xcb, 0xcf, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0xff,
            0x03, 0x04, 0x08, 0x09,
        ]),
    ];
    prop::collection::vec(byte, 0..64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn msgpack_round_trips(v in arb_value(MSGPACK), websocket in any::<bool>()) {
        let p = MsgpackPacker::new();
        let packed = p.pack(websocket, &v).unwrap();
        prop_assert!(packed.is_binary());
        let back = p.unpack(websocket, packed.as_ref()).unwrap();
        prop_assert_eq!(back, v);
    }

    #[test]
    fn msgpack_ajax_bodies_ignore_trailing_bytes(v in arb_value(MSGPACK), zeros in 0usize..2048) {
        let p = MsgpackPacker::new();
        let mut body = p.pack(false, &v).unwrap().as_bytes().to_vec();
        body.resize(body.len() + zeros, 0);
        prop_assert_eq!(p.unpack(false, PackedRef::Binary(&body)).unwrap(), v);
    }

    #[test]
    fn msgpack_unpack_of_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..128)) {
        let p = MsgpackPacker::new();
        let _ = p.unpack(true, PackedRef::Binary(&bytes));
        let _ = p.unpack(false, PackedRef::Binary(&bytes));
    }

    #[test]
    fn msgpack_unpack_of_msgpack_like_bytes_never_panics(bytes in msgpack_like_bytes()) {
        let p = MsgpackPacker::new();
        if let Ok(v) = p.unpack(true, PackedRef::Binary(&bytes)) {
            // Whatever reads also packs, unless it is a uint64 above i64::MAX.
            let _ = p.pack(true, &v);
        }
        let _ = p.unpack(false, PackedRef::Binary(&bytes));
    }
}

#[test]
fn deep_nesting_is_too_deep_not_a_stack_overflow() {
    let p = MsgpackPacker::new();
    let deep = vec![0x91u8; 100_000];
    for websocket in [true, false] {
        let e = p.unpack(websocket, PackedRef::Binary(&deep)).unwrap_err();
        assert_eq!(e.kind(), UnpackErrorKind::TooDeep);
        assert!(e.offset().is_some());
    }
    // Maps nest through their values too.
    let deep_maps: Vec<u8> = std::iter::repeat_n([0x81u8, 0xc0], 100_000)
        .flatten()
        .collect();
    let e = p.unpack(true, PackedRef::Binary(&deep_maps)).unwrap_err();
    assert_eq!(e.kind(), UnpackErrorKind::TooDeep);
}

#[test]
fn huge_claimed_lengths_fail_without_allocating() {
    let p = MsgpackPacker::new();
    let inputs: [&[u8]; 4] = [
        // A 4-billion-element array, then 5 bytes.
        &[0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05],
        // A 4 GiB string.
        &[0xdb, 0xff, 0xff, 0xff, 0xff, b'a', b'b', b'c', b'd', b'e'],
        // A 4-billion-entry map.
        &[0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05],
        // A 4 GiB binary.
        &[0xc6, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05],
    ];
    for input in inputs {
        for websocket in [true, false] {
            let e = p.unpack(websocket, PackedRef::Binary(input)).unwrap_err();
            assert_eq!(e.kind(), UnpackErrorKind::UnexpectedEnd, "{input:x?}");
            assert_eq!(e.offset(), Some(0));
        }
    }
}

#[test]
fn text_payloads_are_the_wrong_kind() {
    let e = MsgpackPacker::new()
        .unpack(false, PackedRef::Text("[1 2]"))
        .unwrap_err();
    assert_eq!(e.kind(), UnpackErrorKind::WrongPayloadKind);
    assert_eq!(e.packer(), "msgpack");
}

#[test]
fn sente_envelopes_round_trip() {
    let p = MsgpackPacker::new();
    let handshake = Value::vector([
        Value::vector([
            Value::keyword("chsk/handshake"),
            Value::vector([Value::from("alice"), Value::Nil, Value::Nil]),
        ]),
        Value::Nil,
    ]);
    let packed = p.pack(true, &handshake).unwrap();
    assert_eq!(p.unpack(true, packed.as_ref()).unwrap(), handshake);
    let ajax = Value::vector([
        Value::vector([
            Value::keyword("my/ev"),
            Value::map([(Value::keyword("a"), Value::from(1))]),
        ]),
        Value::keyword("ajax"),
    ]);
    let packed = p.pack(false, &ajax).unwrap();
    assert!(
        packed
            .as_bytes()
            .ends_with(&[0xd6, 0x00, b'a', b'j', b'a', b'x'])
    );
    assert_eq!(p.unpack(false, packed.as_ref()).unwrap(), ajax);
}
