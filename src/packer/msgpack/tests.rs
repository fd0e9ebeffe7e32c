use std::sync::Arc;

use super::*;
use crate::value::{BigDec, BigInt, Inst, Ratio, Uuid};

fn pack(v: &Value) -> Vec<u8> {
    match MsgpackPacker::new().pack(true, v) {
        Ok(Packed::Binary(bytes)) => bytes,
        other => panic!("packing {v}: {other:?}"),
    }
}

fn unpack_ws(bytes: &[u8]) -> Result<Value, UnpackError> {
    MsgpackPacker::new().unpack(true, PackedRef::Binary(bytes))
}

fn unpack_ajax(bytes: &[u8]) -> Result<Value, UnpackError> {
    MsgpackPacker::new().unpack(false, PackedRef::Binary(bytes))
}

fn round_trip(v: &Value) -> Vec<u8> {
    let bytes = pack(v);
    assert_eq!(&unpack_ws(&bytes).unwrap_or_else(|e| panic!("{v}: {e}")), v);
    bytes
}

fn unpack_err(bytes: &[u8]) -> UnpackError {
    unpack_ws(bytes).expect_err("should not unpack")
}

fn kw(s: &str) -> Value {
    Value::keyword(s)
}

fn ratio(n: i128, d: i128) -> Value {
    Value::Ratio(Arc::new(
        Ratio::new(BigInt::from_i128(n), BigInt::from_i128(d)).unwrap(),
    ))
}

/// The bytes of a header followed by `text`.
fn with_text(header: &[u8], text: &str) -> Vec<u8> {
    [header, text.as_bytes()].concat()
}

#[test]
fn packer_identity() {
    let p = MsgpackPacker::default();
    assert_eq!(p.name(), "msgpack");
    assert!(p.is_binary());
    assert!(p.pack(false, &Value::Nil).unwrap().is_binary());
    let e = p.unpack(true, PackedRef::Text("[1]")).unwrap_err();
    assert_eq!(e.kind(), UnpackErrorKind::WrongPayloadKind);
}

#[test]
fn protocol_examples_byte_for_byte() {
    assert_eq!(
        round_trip(&kw("ajax")),
        [0xd6, 0x00, b'a', b'j', b'a', b'x']
    );

    let ping = Value::vector([Value::vector([kw("chsk/ws-ping")]), Value::from("3fa2c9")]);
    let expected = [
        with_text(&[0x92, 0x91, 0xc7, 0x0c, 0x00], "chsk/ws-ping"),
        with_text(&[0xa6], "3fa2c9"),
    ]
    .concat();
    assert_eq!(round_trip(&ping), expected);

    let text = "0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11";
    let uuid = Value::Uuid(Uuid::parse_str(text).unwrap());
    assert_eq!(round_trip(&uuid), with_text(&[0xc7, 0x24, 0x09], text));

    assert_eq!(round_trip(&Value::Nil), [0xc0]);
    assert_eq!(round_trip(&Value::Bool(false)), [0xc2]);
    assert_eq!(round_trip(&Value::Bool(true)), [0xc3]);
}

#[test]
fn integers_use_sentes_smallest_form() {
    let table: [(i64, u8, usize); 22] = [
        (0, 0x00, 1),
        (123, 0x7b, 1),
        (127, 0x7f, 1),
        (128, 0xcc, 2),
        (0xff, 0xcc, 2),
        (0x100, 0xcd, 3),
        (0xffff, 0xcd, 3),
        (0x10000, 0xce, 5),
        (0xffff_ffff, 0xce, 5),
        (0x1_0000_0000, 0xd3, 9),
        (i64::MAX, 0xd3, 9),
        (-1, 0xff, 1),
        (-32, 0xe0, 1),
        (-33, 0xd0, 2),
        (-123, 0xd0, 2),
        (-128, 0xd0, 2),
        (-129, 0xd1, 3),
        (-0x8000, 0xd1, 3),
        (-0x8001, 0xd2, 5),
        (-0x8000_0000, 0xd2, 5),
        (-0x8000_0001, 0xd3, 9),
        (i64::MIN, 0xd3, 9),
    ];
    for (n, first, len) in table {
        let bytes = round_trip(&Value::Int(n));
        assert_eq!((bytes[0], bytes.len()), (first, len), "{n}");
    }
    assert_eq!(
        pack(&Value::Int(0xffff_ffff)),
        [0xce, 0xff, 0xff, 0xff, 0xff]
    );
    assert_eq!(pack(&Value::Int(-129)), [0xd1, 0xff, 0x7f]);
    assert_eq!(
        pack(&Value::Int(0x1_0000_0000)),
        [0xd3, 0, 0, 0, 1, 0, 0, 0, 0]
    );
}

#[test]
fn big_numbers_and_floats() {
    let fits = Value::BigInt(BigInt::parse("123").unwrap());
    assert_eq!(pack(&fits), [0x7b]);
    assert_eq!(unpack_ws(&pack(&fits)).unwrap(), Value::Int(123));
    for too_big in ["-9223372036854779904", "295147905179352830000"] {
        let v = Value::BigInt(BigInt::parse(too_big).unwrap());
        let e = MsgpackPacker::new().pack(true, &v).unwrap_err();
        assert!(
            matches!(
                e,
                PackError::Unsupported {
                    type_name: "bigint",
                    ..
                }
            ),
            "{e}"
        );
    }

    let bytes = round_trip(&Value::Float(2.5));
    assert_eq!(bytes, [0xcb, 0x40, 0x04, 0, 0, 0, 0, 0, 0]);
    for f in [0.0, 3.0, 1e-46, 1e39, f64::INFINITY] {
        assert_eq!(round_trip(&Value::Float(f))[0], 0xcb);
    }
    assert!(matches!(unpack_ws(&pack(&Value::Float(f64::NAN))), Ok(Value::Float(f)) if f.is_nan()));
    // Sente (JVM) writes java.lang.Float as float32.
    assert_eq!(
        unpack_ws(&[0xca, 0x40, 0x20, 0, 0]).unwrap(),
        Value::Float(2.5)
    );
    // BigDecimal goes out as a double, as Sente does.
    let dec = Value::BigDec(BigDec::parse("3").unwrap());
    assert_eq!(unpack_ws(&pack(&dec)).unwrap(), Value::Float(3.0));

    // uint64: Sente never writes it but reads it.
    let mut max = vec![0xcf];
    max.extend_from_slice(&u64::MAX.to_be_bytes());
    assert_eq!(
        unpack_ws(&max).unwrap(),
        Value::BigInt(BigInt::parse("18446744073709551615").unwrap())
    );
    assert_eq!(
        unpack_ws(&[0xcf, 0, 0, 0, 0, 0, 0, 0, 7]).unwrap(),
        Value::Int(7)
    );
}

#[test]
fn string_lengths_pick_their_header() {
    let cases: [(usize, &[u8]); 7] = [
        (0, &[0xa0]),
        (31, &[0xbf]),
        (32, &[0xd9, 32]),
        (255, &[0xd9, 0xff]),
        (256, &[0xda, 0x01, 0x00]),
        (65535, &[0xda, 0xff, 0xff]),
        (65536, &[0xdb, 0x00, 0x01, 0x00, 0x00]),
    ];
    for (len, header) in cases {
        let text = "x".repeat(len);
        let bytes = round_trip(&Value::from(text.as_str()));
        assert_eq!(bytes, with_text(header, &text), "length {len}");
    }
    // Lengths count UTF-8 bytes.
    assert_eq!(round_trip(&Value::from("ಕನ್ನಡ"))[0], 0xa0 | 15);
}

#[test]
fn binary_lengths_pick_their_header() {
    let cases: [(usize, &[u8]); 5] = [
        (0, &[0xc4, 0]),
        (255, &[0xc4, 0xff]),
        (256, &[0xc5, 0x01, 0x00]),
        (65535, &[0xc5, 0xff, 0xff]),
        (65536, &[0xc6, 0x00, 0x01, 0x00, 0x00]),
    ];
    for (len, header) in cases {
        let bytes = round_trip(&Value::Bytes(Arc::from(vec![7u8; len])));
        assert_eq!(&bytes[..header.len()], header, "length {len}");
        assert_eq!(bytes.len(), header.len() + len);
    }
}

#[test]
fn collections_pick_their_header() {
    let ints = |n: i64| (0..n).map(Value::Int).collect::<Vec<_>>();
    assert_eq!(round_trip(&Value::vector([])), [0x90]);
    assert_eq!(round_trip(&Value::vector(ints(15)))[0], 0x9f);
    assert_eq!(
        round_trip(&Value::vector(ints(16)))[..3],
        [0xdc, 0x00, 0x10]
    );
    assert_eq!(
        round_trip(&Value::vector(ints(65536)))[..5],
        [0xdd, 0, 1, 0, 0]
    );
    // Lists are arrays and read back as vectors.
    let list = Value::List(ints(2));
    assert!(matches!(
        unpack_ws(&round_trip(&list)).unwrap(),
        Value::Vector(_)
    ));

    let map = |n: i64| Value::map(ints(n).into_iter().map(|k| (k, Value::Nil)));
    assert_eq!(round_trip(&map(0)), [0x80]);
    assert_eq!(round_trip(&map(15))[0], 0x8f);
    assert_eq!(round_trip(&map(16))[..3], [0xde, 0x00, 0x10]);
    assert_eq!(round_trip(&map(65537))[..5], [0xdf, 0, 1, 0, 1]);
    // Any value can be a key.
    round_trip(&Value::map([
        (Value::Nil, Value::from(1)),
        (
            Value::vector([Value::Nil, Value::set([kw("x"), kw("y")])]),
            Value::Bool(true),
        ),
    ]));

    assert_eq!(
        round_trip(&Value::set([Value::from(1)])),
        [0xd5, 0x04, 0x91, 0x01]
    );
    assert_eq!(round_trip(&Value::set([])), [0xd4, 0x04, 0x90]);
    round_trip(&Value::set(ints(257)));
}

#[test]
fn extension_lengths_pick_their_header() {
    let cases: [(usize, &[u8]); 9] = [
        (0, &[0xc7, 0x00, 0x00]),
        (1, &[0xd4, 0x00]),
        (2, &[0xd5, 0x00]),
        (3, &[0xc7, 0x03, 0x00]),
        (4, &[0xd6, 0x00]),
        (8, &[0xd7, 0x00]),
        (16, &[0xd8, 0x00]),
        (17, &[0xc7, 0x11, 0x00]),
        (256, &[0xc8, 0x01, 0x00, 0x00]),
    ];
    for (len, header) in cases {
        let name = "k".repeat(len);
        assert_eq!(
            round_trip(&kw(&name)),
            with_text(header, &name),
            "length {len}"
        );
    }
    let name = "k".repeat(65536);
    assert_eq!(round_trip(&kw(&name))[..6], [0xc9, 0, 1, 0, 0, 0]);

    assert_eq!(
        round_trip(&Value::symbol("my.ns/f")),
        with_text(&[0xc7, 7, 0x01], "my.ns/f")
    );
    assert_eq!(round_trip(&Value::Char('a')), [0xd4, 0x02, b'a']);
    assert_eq!(
        round_trip(&Value::Char('€')),
        [0xc7, 0x03, 0x02, 0xe2, 0x82, 0xac]
    );
    assert_eq!(round_trip(&Value::Char('😀'))[..2], [0xd6, 0x02]);
    assert_eq!(round_trip(&ratio(22, 7)), [0xd5, 0x03, 22, 7]);
    assert_eq!(round_trip(&ratio(-1, 300))[..2], [0xd6, 0x03]);
    assert_eq!(round_trip(&ratio(-201, 301))[..3], [0xc7, 0x06, 0x03]);
}

#[test]
fn instants_are_timestamp96_in_an_ext8() {
    let inst = Inst::new(1_704_067_200, 123_000_000).unwrap();
    let mut expected = vec![0xc7, 0x0c, 0xff];
    expected.extend_from_slice(&123_000_000u32.to_be_bytes());
    expected.extend_from_slice(&1_704_067_200i64.to_be_bytes());
    assert_eq!(round_trip(&Value::Inst(inst)), expected);
    round_trip(&Value::Inst(Inst::from_millis(-1)));
    round_trip(&Value::Inst(Inst::from_millis(0)));

    // timestamp32 and timestamp64, which Sente cannot read.
    let t32 = unpack_ws(&[0xd6, 0xff, 0x65, 0x92, 0x00, 0x80]).unwrap();
    assert_eq!(t32, Value::Inst(Inst::new(1_704_067_200, 0).unwrap()));
    let packed64 = (500u64 << 34) | 1_704_067_200;
    let t64 = unpack_ws(&[&[0xd7, 0xff][..], &packed64.to_be_bytes()].concat()).unwrap();
    assert_eq!(t64, Value::Inst(Inst::new(1_704_067_200, 500).unwrap()));

    let bad_nanos = [
        &[0xc7, 12, 0xff][..],
        &2_000_000_000u32.to_be_bytes(),
        &[0; 8],
    ]
    .concat();
    assert_eq!(
        unpack_err(&bad_nanos).kind(),
        UnpackErrorKind::InvalidLiteral
    );
    assert_eq!(
        unpack_err(&[0xd5, 0xff, 0, 0]).kind(),
        UnpackErrorKind::InvalidLiteral
    );
}

#[test]
fn unpackable_values_are_errors() {
    let tagged = Value::tagged("my/tag", Value::from(1));
    let e = MsgpackPacker::new().pack(true, &tagged).unwrap_err();
    assert!(matches!(
        e,
        PackError::Unsupported {
            packer: "msgpack",
            type_name: "tagged",
            ..
        }
    ));
    // Also when nested, and in a set payload.
    let nested = Value::set([Value::vector([tagged])]);
    assert!(MsgpackPacker::new().pack(true, &nested).is_err());
    let big_ratio = Value::Ratio(Arc::new(
        Ratio::new(
            BigInt::parse("99999999999999999999").unwrap(),
            BigInt::from_i128(3),
        )
        .unwrap(),
    ));
    assert!(MsgpackPacker::new().pack(true, &big_ratio).is_err());
}

#[test]
fn reads_typed_arrays_big_endian() {
    let ints = [
        &[0xd7, 0x05][..],
        &1i32.to_be_bytes(),
        &(-2i32).to_be_bytes(),
    ]
    .concat();
    assert_eq!(
        unpack_ws(&ints).unwrap(),
        Value::vector([Value::from(1), Value::from(-2)])
    );
    let floats = [&[0xd6, 0x06][..], &1.5f32.to_be_bytes()].concat();
    assert_eq!(
        unpack_ws(&floats).unwrap(),
        Value::vector([Value::Float(1.5)])
    );
    let doubles = [
        &[0xd8, 0x07][..],
        &0.1f64.to_be_bytes(),
        &(-3.0f64).to_be_bytes(),
    ]
    .concat();
    assert_eq!(
        unpack_ws(&doubles).unwrap(),
        Value::vector([Value::Float(0.1), Value::Float(-3.0)])
    );
    assert_eq!(unpack_ws(&[0xc7, 0x00, 0x05]).unwrap(), Value::vector([]));
    let ragged = unpack_err(&[0xc7, 0x03, 0x05, 1, 2, 3]);
    assert_eq!(
        (ragged.kind(), ragged.offset()),
        (UnpackErrorKind::InvalidLiteral, Some(0))
    );
}

#[test]
fn reads_ratios_and_rejects_bad_ones() {
    // A negative denominator moves its sign to the numerator.
    assert_eq!(unpack_ws(&[0xd5, 0x03, 0x01, 0xfe]).unwrap(), ratio(-1, 2));
    // Sente divides (`(/ n d)` in taoensso.msgpack.impl's ext 3 reader):
    // lowest terms, and an exact quotient of two longs is a long.
    let read = |n: u8, d: u8| unpack_ws(&[0xd5, 0x03, n, d]).unwrap();
    assert_eq!(read(4, 2), Value::Int(2));
    assert!(matches!(read(4, 2), Value::Int(2)));
    assert_eq!(read(6, 4), ratio(3, 2));
    assert_eq!(read(0, 5), Value::Int(0));
    assert_eq!(read(0x03, 0xf7), ratio(-1, 3));
    // A uint64 part is a BigInteger in Sente: the exact quotient is a BigInt.
    let mut big = vec![0xc7, 10, 0x03, 0xcf];
    big.extend_from_slice(&(u64::MAX - 1).to_be_bytes());
    big.push(0x02);
    assert!(
        matches!(unpack_ws(&big).unwrap(), Value::BigInt(b) if b.as_str() == "9223372036854775807")
    );
    let zero = unpack_err(&[0xd5, 0x03, 0x01, 0x00]);
    assert_eq!(zero.kind(), UnpackErrorKind::InvalidLiteral);
    let not_int = unpack_err(&[0xd5, 0x03, 0xc0, 0x01]);
    assert_eq!(not_int.kind(), UnpackErrorKind::InvalidLiteral);
    // The payload must hold exactly the two numbers.
    let short = unpack_err(&[0xd4, 0x03, 0x01]);
    assert_eq!(short.kind(), UnpackErrorKind::UnexpectedEnd);
    let long = unpack_err(&[0xc7, 0x03, 0x03, 0x01, 0x02, 0x03]);
    assert_eq!(
        (long.kind(), long.offset()),
        (UnpackErrorKind::Syntax, Some(0))
    );
}

#[test]
fn malformed_extensions_are_errors() {
    let e = unpack_err(&[0xc8, 0x01, 0x00, 106]);
    assert_eq!(e.kind(), UnpackErrorKind::UnexpectedEnd);
    assert_eq!(
        unpack_err(&[0xd4, 0x04, 0x01]).kind(),
        UnpackErrorKind::Syntax
    );
    assert_eq!(
        unpack_err(&[0xd5, 0x02, b'a', b'b']).kind(),
        UnpackErrorKind::InvalidLiteral
    );
    assert_eq!(
        unpack_err(&[0xd4, 0x09, b'a']).kind(),
        UnpackErrorKind::InvalidLiteral
    );
    assert_eq!(unpack_err(&[0xc1]).kind(), UnpackErrorKind::Syntax);
    assert_eq!(unpack_err(&[]).kind(), UnpackErrorKind::UnexpectedEnd);
}

#[test]
fn key_cache_basic() {
    let v = Value::vector([
        Value::map([
            (kw("a"), Value::from(1)),
            (Value::from("s"), Value::from(2)),
        ]),
        Value::map([(Value::from("s"), Value::from(3)), (kw("a"), kw("a"))]),
    ]);
    let expected = [
        0x92, // [
        0x82, 0xd4, 0x00, b'a', 0x01, 0xa1, b's', 0x02, // {:a 1 "s" 2}
        0x82, 0xd4, 0x08, 0x01, 0x03, 0xd4, 0x08, 0x00, 0xd4, 0x00, b'a', // {"s" 3 :a :a}
    ];
    assert_eq!(round_trip(&v), expected);
    // Only keyword and string keys are cached; values and other keys are not.
    let other_keys = Value::vector([
        Value::map([
            (Value::from(1), Value::Nil),
            (Value::symbol("s"), Value::Nil),
        ]),
        Value::map([
            (Value::from(1), Value::Nil),
            (Value::symbol("s"), Value::Nil),
        ]),
    ]);
    assert!(
        !round_trip(&other_keys)
            .windows(2)
            .any(|w| w == [0xd4, 0x08])
    );
    // Fresh cache per message.
    let m = Value::map([(kw("a"), Value::Nil)]);
    assert_eq!(pack(&m), pack(&m));
    assert_eq!(pack(&m), [0x81, 0xd4, 0x00, b'a', 0xc0]);
}

#[test]
fn key_cache_holds_256_keys() {
    let keys: Vec<Value> = (0..300).map(|i| Value::from(format!("key-{i}"))).collect();
    let map = Value::map(keys.iter().map(|k| (k.clone(), Value::Nil)));
    let v = Value::vector([map.clone(), map.clone(), map]);
    let bytes = round_trip(&v);
    let references = bytes.windows(2).filter(|w| *w == [0xd4, 0x08]).count();
    // Keys 0..255 are referenced by the 2nd and 3rd maps; keys 256.. never are.
    assert_eq!(references, 2 * 256);
    let literal_key_299 = bytes.windows(7).filter(|w| *w == b"key-299").count();
    assert_eq!(literal_key_299, 3);

    // 512 distinct keys across maps, as Sente's test does.
    let maps = (0..8)
        .map(|m| Value::map((0..64).map(|i| (Value::from(format!("k{m}-{i}")), Value::from(i)))));
    round_trip(&Value::vector(maps));
}

#[test]
fn key_cache_runs_through_set_and_complex_keys() {
    let inner = Value::map([(kw("k"), Value::from(1))]);
    let v = Value::vector([
        Value::set([inner.clone()]),
        Value::map([
            (Value::vector([inner.clone()]), kw("k")),
            (kw("k"), Value::from("k")),
        ]),
    ]);
    let bytes = round_trip(&v);
    // `:k` is written once in full as a key (plus once as a value); the two
    // later keys are references to index 0.
    assert_eq!(
        bytes
            .windows(3)
            .filter(|w| *w == [0xd4, 0x08, 0x00])
            .count(),
        2
    );
    assert_eq!(
        bytes
            .windows(3)
            .filter(|w| *w == [0xd4, 0x00, b'k'])
            .count(),
        2
    );
}

#[test]
fn key_cache_errors() {
    // Index 1 when only one key is cached: nil, as Sente's ext 8 reader
    // reads it (`(get @*key-cache_* idx)` in taoensso.msgpack.impl).
    assert_eq!(
        unpack_ws(&[0x92, 0x81, 0xa1, b'a', 0xc0, 0x81, 0xd4, 0x08, 0x01, 0xc0]).unwrap(),
        Value::vector([
            Value::map([(Value::from("a"), Value::Nil)]),
            Value::map([(Value::Nil, Value::Nil)])
        ])
    );
    assert_eq!(
        unpack_ws(&[0x81, 0xd4, 0x08, 0xff, 0x01]).unwrap(),
        Value::map([(Value::Nil, Value::from(1))])
    );
    // A reference outside a map key.
    let e = unpack_err(&[0x92, 0x81, 0xa1, b'a', 0xc0, 0xd4, 0x08, 0x00]);
    assert_eq!((e.kind(), e.offset()), (UnpackErrorKind::Syntax, Some(5)));
    // A reference in any ext form is accepted; a wrong length is not.
    assert_eq!(
        unpack_ws(&[
            0x92, 0x81, 0xa1, b'a', 0xc0, 0x81, 0xc7, 0x01, 0x08, 0x00, 0x01
        ])
        .unwrap(),
        Value::vector([
            Value::map([(Value::from("a"), Value::Nil)]),
            Value::map([(Value::from("a"), Value::from(1))])
        ])
    );
    let e = unpack_err(&[
        0x92, 0x81, 0xa1, b'a', 0xc0, 0x81, 0xd5, 0x08, 0x00, 0x00, 0x01,
    ]);
    assert_eq!(e.kind(), UnpackErrorKind::InvalidLiteral);
}

#[test]
fn repeated_map_keys_keep_the_last_value_as_in_sente() {
    let v = unpack_ws(&[0x82, 0x01, 0x02, 0x01, 0x03]).unwrap();
    assert_eq!(v, Value::map([(Value::from(1), Value::from(3))]));
    let s = unpack_ws(&[0xc7, 0x03, 0x04, 0x92, 0x01, 0x01]).unwrap();
    assert_eq!(s, Value::set([Value::from(1)]));
}

#[test]
fn trailing_bytes_are_ignored_on_ajax_only() {
    let mut bytes = pack(&Value::vector([kw("chsk/ws-ping"), Value::Nil]));
    let len = bytes.len();
    bytes.extend_from_slice(&[0; 1000]);
    assert_eq!(
        unpack_ajax(&bytes).unwrap(),
        Value::vector([kw("chsk/ws-ping"), Value::Nil])
    );
    let e = unpack_ws(&bytes).unwrap_err();
    assert_eq!(
        (e.kind(), e.offset()),
        (UnpackErrorKind::TrailingInput, Some(len))
    );
    // Without trailing bytes both transports read the same.
    assert_eq!(
        unpack_ajax(&bytes[..len]).unwrap(),
        unpack_ws(&bytes[..len]).unwrap()
    );
}

#[test]
fn nesting_is_bounded_both_ways() {
    let deep = vec![0x91; 100_000];
    assert_eq!(unpack_err(&deep).kind(), UnpackErrorKind::TooDeep);
    // Sets nest through their payloads: 1000 sets (as ext32), each holding the next.
    let mut deep_sets = vec![0xc0];
    for _ in 0..1000 {
        let len = u32::try_from(deep_sets.len() + 1).unwrap();
        deep_sets = [&[0xc9][..], &len.to_be_bytes(), &[0x04, 0x91], &deep_sets].concat();
    }
    assert_eq!(unpack_err(&deep_sets).kind(), UnpackErrorKind::TooDeep);

    let limit = crate::edn::DEFAULT_MAX_DEPTH;
    let mut ok = vec![0x91; limit - 1];
    ok.push(0xc0);
    assert!(unpack_ws(&ok).is_ok());
    let mut v = Value::Nil;
    for _ in 0..limit {
        v = Value::vector([v]);
    }
    assert!(matches!(
        MsgpackPacker::new().pack(true, &v),
        Err(PackError::TooDeep {
            limit: crate::edn::DEFAULT_MAX_DEPTH
        })
    ));
    let shallow = MsgpackPacker::new().with_max_depth(2);
    assert!(shallow.pack(true, &Value::set([Value::from(1)])).is_ok());
    assert!(shallow.pack(true, &Value::set([Value::set([])])).is_ok());
    assert!(
        shallow
            .pack(true, &Value::set([Value::set([Value::Nil])]))
            .is_err()
    );
    let e = shallow
        .unpack(true, PackedRef::Binary(&[0x91, 0x91, 0xc0]))
        .unwrap_err();
    assert_eq!(e.kind(), UnpackErrorKind::TooDeep);
}

#[test]
fn huge_claimed_lengths_fail_without_allocating() {
    for header in [
        &[0xdd, 0xff, 0xff, 0xff, 0xff][..],
        &[0xdf, 0xff, 0xff, 0xff, 0xff],
        &[0xdb, 0xff, 0xff, 0xff, 0xff],
        &[0xc6, 0xff, 0xff, 0xff, 0xff],
        &[0xc9, 0xff, 0xff, 0xff, 0xff, 0x05],
    ] {
        let input = [header, &[0u8; 5][..]].concat();
        let e = unpack_err(&input);
        assert_eq!(
            (e.kind(), e.offset()),
            (UnpackErrorKind::UnexpectedEnd, Some(0)),
            "{input:x?}"
        );
        assert!(unpack_ajax(&input).is_err());
    }
    // A set payload cannot claim more elements than it holds.
    let e = unpack_err(&[0xd4, 0x04, 0xdd]);
    assert_eq!(e.kind(), UnpackErrorKind::UnexpectedEnd);
    let e = unpack_err(&[0xc7, 0x05, 0x04, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02]);
    assert_eq!(
        (e.kind(), e.offset()),
        (UnpackErrorKind::UnexpectedEnd, Some(3))
    );
}

#[test]
fn truncated_input_reports_where() {
    let bytes = pack(&Value::vector([Value::from("hello"), Value::Int(1 << 40)]));
    for cut in 0..bytes.len() {
        let e = unpack_err(&bytes[..cut]);
        assert_eq!(e.kind(), UnpackErrorKind::UnexpectedEnd, "cut at {cut}");
        assert!(e.offset().is_some_and(|at| at <= cut));
    }
}

/// An extension type Sente does not interpret reads as its
/// `PackableExt` record (`unpack-ext :default`, taoensso.msgpack.common)
/// and packs back to the same bytes (`pack-bytes` of `PackableExt`), as
/// Sente's own tests round-trip raw ext type 106.
#[test]
fn unknown_extensions_are_opaque_and_pack_back_to_the_same_bytes() {
    for len in [1usize, 2, 4, 8, 16, 0, 3, 255, 256, 65536] {
        let content: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let ext = MsgpackPacker::opaque_ext(106, &content);
        let bytes = round_trip(&ext);
        let header_len = match len {
            1 | 2 | 4 | 8 | 16 => 2,
            0..=255 => 3,
            256..=65535 => 4,
            _ => 6,
        };
        assert_eq!(bytes[header_len - 1], 106, "{len}");
        assert_eq!(&bytes[header_len..], &content[..], "{len}");
        assert_eq!(pack(&unpack_ws(&bytes).unwrap()), bytes, "{len}");
    }
    // Negative types too, nested, and as a map key.
    let bytes = [0x92, 0xd4, 0x80, 0x07, 0x81, 0xd4, 0x7f, 0x01, 0xc0];
    let v = unpack_ws(&bytes).unwrap();
    assert_eq!(
        v,
        Value::vector([
            MsgpackPacker::opaque_ext(-128, &[7]),
            Value::map([(MsgpackPacker::opaque_ext(127, &[1]), Value::Nil)]),
        ])
    );
    assert_eq!(pack(&v), bytes);
    assert_eq!(
        v.as_seq().unwrap()[0].to_string(),
        "#taoensso.msgpack.common.PackableExt {:byte-id -128, :ba-content #sente/bytes \"Bw==\"}"
    );
    // Only the exact record shape packs as an extension.
    let wrong = Value::tagged(MsgpackPacker::OPAQUE_EXT_TAG, Value::from(1));
    assert!(MsgpackPacker::new().pack(true, &wrong).is_err());
}

/// Invalid UTF-8 in text reads with U+FFFD, as Sente decodes it
/// (`(String. ba StandardCharsets/UTF_8)` in taoensso.msgpack.impl's
/// `read-str` and in the keyword and symbol extensions).
#[test]
fn invalid_utf8_reads_as_replacement_characters() {
    assert_eq!(
        unpack_ws(&[0x92, 0x01, 0xa2, b'a', 0xc0]).unwrap(),
        Value::vector([Value::from(1), Value::from("a\u{fffd}")])
    );
    assert_eq!(
        unpack_ws(&[0xa3, 0xe2, 0x82, b'x']).unwrap(),
        Value::from("\u{fffd}x")
    );
    assert_eq!(unpack_ws(&[0xd4, 0x00, 0xff]).unwrap(), kw("\u{fffd}"));
    assert_eq!(
        unpack_ws(&[0xd4, 0x01, 0xff]).unwrap(),
        Value::symbol("\u{fffd}")
    );
    assert_eq!(
        unpack_ws(&[0xd4, 0x02, 0xff]).unwrap(),
        Value::Char('\u{fffd}')
    );
}

/// Keywords whose text starts with a digit (keywordized JSON keys) travel
/// as ext 0 with their text and read back.
#[test]
fn digit_keywords_round_trip() {
    for text in ["1", "+1", "-1", "1/a"] {
        let v = Value::map([(kw(text), kw(text))]);
        round_trip(&v);
    }
    assert_eq!(round_trip(&kw("1")), [0xd4, 0x00, b'1']);
}
