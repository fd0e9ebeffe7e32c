use std::sync::Arc;

use super::*;
use crate::value::{BigDec, BigInt, Inst, Ratio, Uuid};

fn pack(v: &Value) -> Vec<u8> {
    match BincodePacker::new().pack(true, v) {
        Ok(Packed::Binary(b)) => b,
        other => panic!("{v}: {other:?}"),
    }
}

fn unpack(bytes: &[u8]) -> Result<Value, UnpackError> {
    BincodePacker::new().unpack(true, PackedRef::Binary(bytes))
}

fn kind_and_offset(bytes: &[u8]) -> (UnpackErrorKind, Option<usize>) {
    let e = unpack(bytes).unwrap_err();
    (e.kind(), e.offset())
}

#[test]
fn writes_the_documented_layout() {
    assert_eq!(pack(&Value::Nil), [0]);
    assert_eq!(pack(&Value::Bool(true)), [1, 1]);
    assert_eq!(pack(&Value::Int(-1)), [2, 1]);
    assert_eq!(pack(&Value::Int(1)), [2, 2]);
    assert_eq!(
        pack(&Value::BigInt(BigInt::parse("12").unwrap())),
        [3, 2, b'1', b'2']
    );
    assert_eq!(pack(&Value::Float(1.0)), [4, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
    assert_eq!(
        pack(&Value::BigDec(BigDec::parse("1.5").unwrap())),
        [5, 3, b'1', b'.', b'5']
    );
    let half = Ratio::new(BigInt::from_i128(1), BigInt::from_i128(2)).unwrap();
    assert_eq!(pack(&Value::Ratio(Arc::new(half))), [6, 1, b'1', 1, b'2']);
    assert_eq!(pack(&Value::from("hé")), [7, 3, b'h', 0xc3, 0xa9]);
    assert_eq!(pack(&Value::Char('é')), [8, 0xc3, 0xa9]);
    assert_eq!(pack(&Value::keyword("a/b")), [9, 3, b'a', b'/', b'b']);
    assert_eq!(pack(&Value::symbol("s")), [10, 1, b's']);
    assert_eq!(pack(&Value::vector([Value::Nil])), [11, 1, 0]);
    assert_eq!(pack(&Value::List(vec![])), [12, 0]);
    assert_eq!(
        pack(&Value::map([(Value::Nil, Value::Bool(false))])),
        [13, 1, 0, 1, 0]
    );
    assert_eq!(pack(&Value::set([Value::Nil])), [14, 1, 0]);
    assert_eq!(pack(&Value::Uuid(Uuid::from_u128(7))), [15, 7]);
    assert_eq!(pack(&Value::Inst(Inst::new(1, 2).unwrap())), [16, 2, 2]);
    assert_eq!(pack(&Value::Bytes(Arc::from(&[9u8, 8][..]))), [17, 2, 9, 8]);
    assert_eq!(pack(&Value::tagged("t", Value::Nil)), [18, 1, b't', 0]);
}

#[test]
fn keeps_what_equality_does_not_see() {
    let v = Value::vector([
        Value::List(vec![Value::Int(1)]),
        Value::BigInt(BigInt::parse("1").unwrap()),
        Value::Float(-0.0),
        Value::Float(f64::from_bits(0x7ff8_0000_0000_0001)),
        Value::Inst(Inst::new(-5, 123_456_789).unwrap()),
        Value::map([
            (Value::keyword("b"), 1.into()),
            (Value::keyword("a"), 2.into()),
        ]),
    ]);
    let back = unpack(&pack(&v)).unwrap();
    assert_eq!(back.to_string(), v.to_string());
    let Value::Vector(items) = back else { panic!() };
    assert!(matches!(items[0], Value::List(_)));
    assert!(matches!(items[1], Value::BigInt(_)));
    assert!(matches!(items[2], Value::Float(f) if f.to_bits() == (-0.0f64).to_bits()));
    assert!(matches!(items[3], Value::Float(f) if f.to_bits() == 0x7ff8_0000_0000_0001));
}

#[test]
fn malformed_input_gives_typed_errors() {
    assert_eq!(
        kind_and_offset(&[]),
        (UnpackErrorKind::UnexpectedEnd, Some(0))
    );
    assert_eq!(
        kind_and_offset(&[11, 2, 0]),
        (UnpackErrorKind::UnexpectedEnd, Some(3))
    );
    assert_eq!(
        kind_and_offset(&[0, 0, 0]),
        (UnpackErrorKind::TrailingInput, Some(1))
    );
    assert_eq!(kind_and_offset(&[19]).0, UnpackErrorKind::Unsupported);
    assert_eq!(
        kind_and_offset(&[3, 2, b'1', b'x']),
        (UnpackErrorKind::InvalidLiteral, Some(2))
    );
    assert_eq!(
        kind_and_offset(&[5, 1, b'.']),
        (UnpackErrorKind::InvalidLiteral, Some(2))
    );
    assert_eq!(
        kind_and_offset(&[6, 1, b'1', 1, b'0']).0,
        UnpackErrorKind::InvalidLiteral
    );
    assert_eq!(
        kind_and_offset(&[16, 0, 252, 0, 0xca, 0x9a, 0x3b]).0,
        UnpackErrorKind::InvalidLiteral
    );
    assert_eq!(
        kind_and_offset(&[7, 1, 0xff]).0,
        UnpackErrorKind::InvalidUtf8
    );
    assert_eq!(kind_and_offset(&[1, 2]).0, UnpackErrorKind::InvalidLiteral);
    assert_eq!(
        kind_and_offset(&[8, 0xff]).0,
        UnpackErrorKind::InvalidLiteral
    );
    assert_eq!(
        kind_and_offset(&[13, 2, 0, 0, 0, 0]).0,
        UnpackErrorKind::DuplicateKey
    );
    assert_eq!(
        kind_and_offset(&[14, 2, 0, 0]).0,
        UnpackErrorKind::DuplicateKey
    );
    let e = BincodePacker::new()
        .unpack(true, PackedRef::Text("x"))
        .unwrap_err();
    assert_eq!(e.kind(), UnpackErrorKind::WrongPayloadKind);
    assert!(e.to_string().starts_with("bincode unpack failed"));
}

#[test]
fn claimed_lengths_allocate_nothing() {
    // Every collection and string kind claiming u64::MAX items or bytes, with nothing behind.
    for variant in [7u8, 9, 11, 12, 13, 14, 17] {
        let mut bytes = vec![variant, 253];
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(
            kind_and_offset(&bytes),
            (UnpackErrorKind::UnexpectedEnd, Some(10)),
            "{variant}"
        );
    }
    let small = BincodePacker::new().with_max_len(4);
    assert!(
        small
            .unpack(true, PackedRef::Binary(&[7, 2, b'a', b'b']))
            .is_ok()
    );
    let e = small
        .unpack(true, PackedRef::Binary(&[7, 3, b'a', b'b', b'c']))
        .unwrap_err();
    assert_eq!((e.kind(), e.offset()), (UnpackErrorKind::TooLarge, Some(4)));
}

fn nested(levels: usize) -> Value {
    let mut v = Value::Nil;
    for _ in 1..levels {
        v = Value::vector([v]);
    }
    v
}

/// Drops a deeply nested value one level at a time (the recursive drop
/// would overflow the stack).
fn dismantle(mut v: Value) {
    while let Value::Vector(mut items) = v {
        v = items.pop().unwrap_or_default();
    }
}

#[test]
fn depth_is_bounded_both_ways() {
    let p = BincodePacker::new();
    let deepest = nested(crate::edn::DEFAULT_MAX_DEPTH);
    let packed = p.pack(true, &deepest).unwrap();
    assert_eq!(p.unpack(true, packed.as_ref()).unwrap(), deepest);
    assert!(matches!(
        p.pack(true, &nested(crate::edn::DEFAULT_MAX_DEPTH + 1)),
        Err(PackError::TooDeep {
            limit: crate::edn::DEFAULT_MAX_DEPTH
        })
    ));
    let very_deep = nested(100_000);
    assert!(matches!(
        p.pack(true, &very_deep),
        Err(PackError::TooDeep { .. })
    ));
    dismantle(very_deep);

    let mut bytes = [11u8, 1].repeat(100_000);
    bytes.push(0);
    assert_eq!(kind_and_offset(&bytes).0, UnpackErrorKind::TooDeep);

    let shallow = BincodePacker::new().with_max_depth(2);
    assert!(shallow.unpack(true, PackedRef::Binary(&[11, 1, 0])).is_ok());
    assert!(
        shallow
            .unpack(true, PackedRef::Binary(&[11, 1, 11, 0]))
            .is_ok()
    );
    let e = shallow
        .unpack(true, PackedRef::Binary(&[11, 1, 11, 1, 0]))
        .unwrap_err();
    assert_eq!(e.kind(), UnpackErrorKind::TooDeep);
    assert!(
        shallow
            .unpack(true, PackedRef::Binary(&[18, 1, b't', 0]))
            .is_ok()
    );
    assert_eq!(
        shallow
            .unpack(true, PackedRef::Binary(&[18, 1, b't', 12, 1, 0]))
            .unwrap_err()
            .kind(),
        UnpackErrorKind::TooDeep
    );
    assert!(
        shallow
            .pack(true, &Value::map([(nested(2), Value::Nil)]))
            .is_err()
    );
}

#[test]
fn reports_itself_as_a_binary_packer() {
    let p = BincodePacker::default();
    assert_eq!(p.name(), "bincode");
    assert!(p.is_binary());
    assert!(p.keeps_keywords());
}

#[test]
fn every_collection_kind_nests_to_the_limit() {
    let mut v = Value::Nil;
    for level in 1..crate::edn::DEFAULT_MAX_DEPTH {
        v = match level % 5 {
            0 => Value::vector([v]),
            1 => Value::List(vec![v]),
            2 => Value::map([(v, Value::Nil)]),
            3 => Value::set([v]),
            _ => Value::tagged("t", v),
        };
    }
    assert_eq!(v.depth(), crate::edn::DEFAULT_MAX_DEPTH);
    let back = unpack(&pack(&v)).unwrap();
    assert_eq!(back.to_string(), v.to_string());
}
