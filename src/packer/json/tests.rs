use std::sync::Arc;

use super::*;
use crate::value::{BigDec, BigInt, Inst, Ratio, Uuid};

fn pack(v: &Value) -> String {
    match JsonPacker::new().pack(true, v) {
        Ok(Packed::Text(s)) => s,
        other => panic!("{v}: {other:?}"),
    }
}

fn unpack(text: &str) -> Result<Value, UnpackError> {
    JsonPacker::new().unpack(true, PackedRef::Text(text))
}

fn big(text: &str) -> Value {
    Value::BigInt(BigInt::parse(text).unwrap())
}

#[test]
fn scalars_follow_the_table() {
    assert_eq!(pack(&Value::Nil), "null");
    assert_eq!(pack(&Value::Bool(true)), "true");
    assert_eq!(pack(&Value::Int(-7)), "-7");
    assert_eq!(pack(&big("-12")), "-12");
    assert_eq!(pack(&big("18446744073709551615")), "18446744073709551615");
    assert_eq!(
        pack(&big("123456789012345678901234567890")),
        r#""123456789012345678901234567890""#
    );
    assert_eq!(pack(&Value::Float(1.0)), "1.0");
    assert_eq!(pack(&Value::Float(0.1)), "0.1");
    assert_eq!(pack(&Value::BigDec(BigDec::parse("1.5").unwrap())), "1.5");
    let third = Ratio::new(BigInt::from_i128(1), BigInt::from_i128(4)).unwrap();
    assert_eq!(pack(&Value::Ratio(Arc::new(third))), "0.25");
    assert_eq!(pack(&Value::from("a\"b\n")), r#""a\"b\n""#);
    assert_eq!(pack(&Value::Char('é')), r#""é""#);
    assert_eq!(
        pack(&Value::keyword("chsk/handshake")),
        r#""chsk/handshake""#
    );
    assert_eq!(pack(&Value::keyword("ok")), r#""ok""#);
    assert_eq!(pack(&Value::symbol("my.ns/f")), r#""my.ns/f""#);
    let u = Uuid::parse_str("0B4C7E0E-4D2A-4A4E-9B8F-3F1D0F3D2A11").unwrap();
    assert_eq!(
        pack(&Value::Uuid(u)),
        r#""0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11""#
    );
    assert_eq!(
        pack(&Value::Bytes(Arc::from(&[0u8, 1, 2][..]))),
        r#""AAEC""#
    );
}

#[test]
fn collections_and_tags_follow_the_table() {
    let v = Value::vector([
        Value::List(vec![1.into()]),
        Value::set([Value::keyword("a")]),
        Value::map([]),
        Value::tagged("my/point", Value::vector([1.into(), 2.into()])),
    ]);
    assert_eq!(pack(&v), r##"[[1],["a"],{},{"#my/point":[1,2]}]"##);
    let named_keys = Value::map([
        (Value::keyword("a/b"), 1.into()),
        (Value::from("c"), 2.into()),
        (Value::symbol("d"), 3.into()),
    ]);
    assert_eq!(pack(&named_keys), r#"{"a/b":1,"c":2,"d":3}"#);
    let other_keys = Value::map([
        (Value::Int(1), Value::keyword("x")),
        (Value::from("a"), Value::keyword("y")),
        (Value::vector([Value::keyword("k")]), Value::Nil),
    ]);
    assert_eq!(pack(&other_keys), r#"{"1":"x","\"a\"":"y","[:k]":null}"#);
}

#[test]
fn instants_are_iso_strings_like_javascript() {
    let iso = |i: Inst| pack(&Value::Inst(i));
    assert_eq!(iso(Inst::from_millis(0)), r#""1970-01-01T00:00:00.000Z""#);
    assert_eq!(
        iso(Inst::from_millis(1_704_067_200_123)),
        r#""2024-01-01T00:00:00.123Z""#
    );
    assert_eq!(iso(Inst::from_millis(-1)), r#""1969-12-31T23:59:59.999Z""#);
    // Sub-millisecond precision is floored, as Date keeps only milliseconds.
    assert_eq!(
        iso(Inst::new(0, 999_999).unwrap()),
        r#""1970-01-01T00:00:00.000Z""#
    );
    assert_eq!(
        iso(Inst::new(-1, 999_999_999).unwrap()),
        r#""1969-12-31T23:59:59.999Z""#
    );
    // Outside 0000-9999, JavaScript's expanded years.
    assert_eq!(
        iso(Inst::from_millis(8_640_000_000_000_000)),
        r#""+275760-09-13T00:00:00.000Z""#
    );
    assert_eq!(
        iso(Inst::from_millis(-62_198_755_200_000)),
        r#""-000001-01-01T00:00:00.000Z""#
    );
    assert_eq!(
        iso(Inst::from_millis(-62_167_219_200_000)),
        r#""0000-01-01T00:00:00.000Z""#
    );
}

#[test]
fn what_json_cannot_say_is_an_error() {
    let p = JsonPacker::new();
    for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = p.pack(true, &Value::vector([Value::Float(f)])).unwrap_err();
        assert!(
            matches!(
                err,
                PackError::Unsupported {
                    packer: "json",
                    type_name: "double",
                    ..
                }
            ),
            "{err}"
        );
    }
    let huge = Value::BigDec(BigDec::parse("1e400").unwrap());
    assert!(matches!(
        p.pack(true, &huge),
        Err(PackError::Unsupported {
            type_name: "bigdec",
            ..
        })
    ));
    let clash = Value::map([
        (Value::keyword("a"), 1.into()),
        (Value::from("a"), 2.into()),
    ]);
    let err = p.pack(true, &clash).unwrap_err();
    assert!(
        matches!(
            err,
            PackError::Unsupported {
                type_name: "map",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains(r#""a""#));
}

#[test]
fn unpacks_objects_arrays_and_numbers() {
    let v = unpack(
        r#" {"a": [1, -2, 1.0, 2.5e3, 18446744073709551615, 1e20, null, true, "s"], "b": {}} "#,
    )
    .unwrap();
    let expected = Value::map([
        (
            Value::from("a"),
            Value::vector([
                Value::Int(1),
                Value::Int(-2),
                Value::Float(1.0),
                Value::Float(2500.0),
                big("18446744073709551615"),
                Value::Float(1e20),
                Value::Nil,
                Value::Bool(true),
                Value::from("s"),
            ]),
        ),
        (Value::from("b"), Value::map([])),
    ]);
    assert_eq!(v, expected);
    assert!(matches!(unpack("1.0").unwrap(), Value::Float(_)));
    assert!(matches!(
        unpack("-9223372036854775808").unwrap(),
        Value::Int(i64::MIN)
    ));
    assert!(matches!(
        unpack("99999999999999999999999").unwrap(),
        Value::Float(_)
    ));
}

#[test]
fn errors_have_kinds_and_offsets() {
    let e = unpack("[1, 2").unwrap_err();
    assert_eq!(
        (e.kind(), e.offset()),
        (UnpackErrorKind::UnexpectedEnd, Some(5))
    );
    let e = unpack("").unwrap_err();
    assert_eq!(
        (e.kind(), e.offset()),
        (UnpackErrorKind::UnexpectedEnd, Some(0))
    );
    let e = unpack("[1] 2").unwrap_err();
    assert_eq!(
        (e.kind(), e.offset()),
        (UnpackErrorKind::TrailingInput, Some(4))
    );
    let e = unpack("[1,\n 2,\n x]").unwrap_err();
    assert_eq!((e.kind(), e.offset()), (UnpackErrorKind::Syntax, Some(9)));
    assert!(!e.detail().contains("line"), "{e}");
    let e = unpack(r#"{"a": 1, "a": 2}"#).unwrap_err();
    assert_eq!(e.kind(), UnpackErrorKind::DuplicateKey);
    assert!(e.offset().is_some_and(|at| (9..=12).contains(&at)), "{e:?}");
    assert_eq!(
        unpack("1e400").unwrap_err().kind(),
        UnpackErrorKind::InvalidLiteral
    );
    assert_eq!(unpack("[NaN]").unwrap_err().kind(), UnpackErrorKind::Syntax);
    let e = JsonPacker::new()
        .unpack(true, PackedRef::Binary(b"[]"))
        .unwrap_err();
    assert_eq!(e.kind(), UnpackErrorKind::WrongPayloadKind);
    assert!(e.to_string().starts_with("json unpack failed"));
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
fn depth_is_bounded_and_symmetric() {
    let p = JsonPacker::new();
    assert_eq!(p.max_depth(), 127);
    let deepest = nested(JsonPacker::MAX_DEPTH);
    let text = pack(&deepest);
    assert_eq!(p.unpack(true, PackedRef::Text(&text)).unwrap(), deepest);
    assert!(matches!(
        p.pack(true, &nested(JsonPacker::MAX_DEPTH + 1)),
        Err(PackError::TooDeep { limit: 127 })
    ));
    let very_deep = nested(100_000);
    assert!(matches!(
        p.pack(true, &very_deep),
        Err(PackError::TooDeep { .. })
    ));
    dismantle(very_deep);
    // 127 arrays with a scalar inside are 128 levels; 128 arrays trip serde_json's own limit.
    for n in [127, 128, 100_000] {
        let text = format!("{}1{}", "[".repeat(n), "]".repeat(n));
        let e = p.unpack(true, PackedRef::Text(&text)).unwrap_err();
        assert_eq!(e.kind(), UnpackErrorKind::TooDeep, "{n}");
        assert_eq!(e.offset(), Some(127), "{n}");
    }
    let text = format!("{}{}", "[".repeat(127), "]".repeat(127));
    assert!(p.unpack(true, PackedRef::Text(&text)).is_ok());

    assert_eq!(JsonPacker::new().with_max_depth(1000).max_depth(), 127);
    let shallow = JsonPacker::new().with_max_depth(2);
    assert!(shallow.pack(true, &nested(2)).is_ok());
    assert!(shallow.pack(true, &nested(3)).is_err());
    assert!(shallow.unpack(true, PackedRef::Text("[[]]")).is_ok());
    let e = shallow.unpack(true, PackedRef::Text("[[1]]")).unwrap_err();
    assert_eq!((e.kind(), e.offset()), (UnpackErrorKind::TooDeep, Some(2)));
    // A non-text map key is printed within the remaining budget.
    let deep_key = Value::map([(Value::vector([Value::vector([])]), Value::Nil)]);
    assert!(matches!(
        shallow.pack(true, &deep_key),
        Err(PackError::TooDeep { limit: 2 })
    ));
    let deep_tag = Value::tagged("a/b", Value::vector([]));
    assert!(shallow.pack(true, &deep_tag).is_ok());
    assert!(shallow.pack(true, &Value::vector([deep_tag])).is_err());
}

#[test]
fn reports_itself_as_a_lossy_text_packer() {
    let p = JsonPacker::default();
    assert_eq!(p.name(), "json");
    assert!(!p.is_binary());
    assert!(!p.keeps_keywords());
}

#[test]
fn every_collection_kind_nests_to_the_limit() {
    let mut v = Value::Nil;
    for level in 1..JsonPacker::MAX_DEPTH {
        v = match level % 4 {
            0 => Value::vector([v]),
            1 => Value::map([(Value::keyword("k"), v)]),
            2 => Value::set([v]),
            _ => Value::tagged("t", v),
        };
    }
    assert_eq!(v.depth(), JsonPacker::MAX_DEPTH);
    let text = pack(&v);
    assert!(unpack(&text).is_ok());
}
