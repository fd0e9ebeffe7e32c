//! The gzip wrapper: Sente's 1-byte header, round-trips around text and
//! binary packers, bounded decompression, and no panics on arbitrary bytes.
#![cfg(all(feature = "gzip", feature = "edn"))]

mod support;

use std::io::Write as _;

use proptest::prelude::*;
use sente::packer::{EdnPacker, GzipPacker, Packed, PackedRef, Packer, UnpackErrorKind};
use sente::value::Value;
use support::{Caps, arb_value};

fn gz_edn() -> GzipPacker<EdnPacker> {
    GzipPacker::new(EdnPacker::new())
}

/// `0x01` followed by `bytes` gzipped.
fn gzipped(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(vec![0x01], flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn a_small_payload_is_a_zero_byte_and_the_edn() {
    let v = Value::vector([
        Value::vector([
            Value::keyword("my/ev"),
            Value::map([(Value::keyword("a"), 1.into())]),
        ]),
        Value::from("3fa2c9"),
    ]);
    let packed = gz_edn().pack(true, &v).unwrap();
    assert_eq!(
        packed,
        Packed::Binary(b"\x00[[:my/ev {:a 1}] \"3fa2c9\"]".to_vec())
    );
    assert_eq!(gz_edn().unpack(true, packed.as_ref()).unwrap(), v);
}

#[test]
fn a_two_kilobyte_payload_is_gzipped() {
    let v = Value::vector((0..400).map(|i| Value::from(format!("e{i}"))));
    let edn = EdnPacker::new().pack(true, &v).unwrap();
    assert!(edn.len() >= 2000, "{}", edn.len());
    let packed = gz_edn().pack(true, &v).unwrap();
    assert_eq!(packed.as_bytes()[..3], [0x01, 0x1f, 0x8b]);
    assert!(packed.len() < edn.len());
    assert_eq!(gz_edn().unpack(true, packed.as_ref()).unwrap(), v);
}

#[test]
fn a_gzip_bomb_stops_at_the_limit() {
    // 17 MiB of spaces (valid EDN whitespace) squeezed into a few kilobytes.
    let bomb = gzipped(&vec![b' '; 17 * 1024 * 1024]);
    assert!(bomb.len() < 100_000, "{}", bomb.len());
    let e = gz_edn().unpack(true, PackedRef::Binary(&bomb)).unwrap_err();
    assert_eq!(e.kind(), UnpackErrorKind::TooLarge);
    let roomy = gz_edn().with_max_decompressed_len(17 * 1024 * 1024);
    assert_eq!(
        roomy.unpack(true, PackedRef::Binary(&bomb)).unwrap(),
        Value::Nil
    );
}

#[test]
fn hostile_nesting_is_too_deep_not_a_stack_overflow() {
    let deep = "[".repeat(100_000);
    let mut raw = vec![0x00];
    raw.extend_from_slice(deep.as_bytes());
    for bytes in [raw, gzipped(deep.as_bytes())] {
        let e = gz_edn()
            .unpack(true, PackedRef::Binary(&bytes))
            .unwrap_err();
        assert_eq!(e.kind(), UnpackErrorKind::TooDeep);
    }
}

#[test]
fn empty_input_is_an_error() {
    let e = gz_edn().unpack(true, PackedRef::Binary(b"")).unwrap_err();
    assert_eq!(
        (e.kind(), e.offset()),
        (UnpackErrorKind::UnexpectedEnd, Some(0))
    );
}

#[cfg(feature = "json")]
mod json {
    use super::*;
    use sente::packer::JsonPacker;

    #[test]
    fn gzip_keeps_the_json_packers_keyword_rule() {
        let p = GzipPacker::new(JsonPacker::new());
        assert!(!p.keeps_keywords());
        let v = Value::vector([Value::keyword("chsk/ws-ping"), Value::Nil]);
        let packed = p.pack(true, &v).unwrap();
        assert_eq!(packed.as_bytes(), b"\x00[\"chsk/ws-ping\",null]");
        let back = p.unpack(true, packed.as_ref()).unwrap();
        assert_eq!(
            back,
            Value::vector([Value::from("chsk/ws-ping"), Value::Nil])
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn gzip_json_round_trips(v in arb_value(support::Caps {
            keywords: false, symbols: false, chars: false, big_int: false, big_dec: false,
            ratio: false, sets: false, tagged: false, bytes: false, non_finite: false,
            inst_nanos: false, insts: false, uuids: false, any_map_keys: false, ..Caps::ALL
        }), threshold in prop_oneof![Just(0usize), Just(1024)]) {
            let p = GzipPacker::new(JsonPacker::new()).with_threshold(threshold);
            let packed = p.pack(false, &v).unwrap();
            prop_assert_eq!(p.unpack(false, packed.as_ref()).unwrap(), v);
        }
    }
}

#[cfg(feature = "bincode")]
#[test]
fn gzip_wraps_binary_packers_too() {
    let p = GzipPacker::new(sente::packer::BincodePacker::new()).with_threshold(0);
    let v = Value::set([Value::Float(f64::NAN), Value::keyword("a")]);
    let packed = p.pack(true, &v).unwrap();
    assert_eq!(packed.as_bytes()[..3], [0x01, 0x1f, 0x8b]);
    assert_eq!(p.unpack(true, packed.as_ref()).unwrap(), v);
    let e = p.unpack(true, PackedRef::Binary(b"\x00\x63")).unwrap_err();
    assert_eq!((e.kind(), e.offset()), (UnpackErrorKind::Unsupported, None));
    assert!(e.detail().starts_with("bincode: "), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn gzip_edn_round_trips(v in arb_value(Caps::ALL), threshold in prop_oneof![Just(0usize), Just(1024)]) {
        let p = gz_edn().with_threshold(threshold);
        let packed = p.pack(true, &v).unwrap();
        prop_assert!(packed.is_binary());
        prop_assert_eq!(p.unpack(true, packed.as_ref()).unwrap(), v);
    }

    #[test]
    fn gzip_unpack_of_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = gz_edn().unpack(true, PackedRef::Binary(&bytes));
    }

    /// A gzip header in front of noise reaches the inflater itself.
    #[test]
    fn gzip_unpack_of_damaged_streams_never_panics(
        text in "[\\[\\]{} :a-z0-9]{0,200}",
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<bool>(),
    ) {
        let mut bytes = gzipped(text.as_bytes());
        let i = at.index(bytes.len());
        if cut {
            bytes.truncate(i);
        } else {
            bytes[i] = byte;
        }
        let _ = gz_edn().unpack(true, PackedRef::Binary(&bytes));
    }
}
