//! Unit tests of the serde bridge's internals: private tokens, the exact
//! hand-over, depth limits and error rendering.

use ::serde::de::Visitor as _;
use ::serde::de::value::{MapAccessDeserializer, MapDeserializer};
use ::serde::ser::Serializer as _;

use super::impls::ValueVisitor;
use super::*;
use crate::value::{Inst, Keyword};

/// A chain of vectors nested `depth` levels deep, unnested without recursion
/// when dropped (also when a failing assertion unwinds), so that dropping it
/// cannot overflow the stack.
struct Deep(Value);

impl Deep {
    fn new(depth: usize) -> Self {
        let mut v = Value::Nil;
        for _ in 1..depth {
            v = Value::vector([v]);
        }
        Deep(v)
    }
}

impl Drop for Deep {
    fn drop(&mut self) {
        let mut v = std::mem::take(&mut self.0);
        while let Value::Vector(mut items) = v {
            v = items.pop().unwrap_or(Value::Nil);
        }
    }
}

#[test]
fn token_names_round_trip_and_stay_private() {
    for token in Token::ALL {
        assert_eq!(Token::from_name(token.name()), Some(token));
        assert!(token.name().starts_with("$sente::private::"));
    }
    assert_eq!(Token::from_name("Keyword"), None);
    assert_eq!(Token::from_name("$sente::private::Nope"), None);
    assert_eq!(Token::from_name(VALUE_TOKEN), None);
    assert_eq!(Token::of(&Value::from(1)), None);
    assert_eq!(Token::of(&Value::keyword("a")), Some(Token::Keyword));
    assert_eq!(Token::Set.type_name(), Value::set([]).type_name());
}

#[test]
fn token_payloads_rebuild_from_their_foreign_form() {
    let ser = ValueSerializer::new();
    let inst = ser.serialize_newtype_struct(Token::Inst.name(), "2024-01-01T00:00:00.000-00:00");
    assert_eq!(
        inst.unwrap(),
        Value::Inst(Inst::from_millis(1_704_067_200_000))
    );
    let big = ser.serialize_newtype_struct(Token::BigInt.name(), "123456789012345678901234567890");
    assert_eq!(big.unwrap().to_string(), "123456789012345678901234567890N");
    let uuid =
        ser.serialize_newtype_struct(Token::Uuid.name(), "0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11");
    assert_eq!(uuid.unwrap().type_name(), "uuid");
    let bad = ser
        .serialize_newtype_struct(Token::BigDec.name(), "not a number")
        .unwrap_err();
    assert!(bad.message().contains("malformed payload"), "{bad}");
    let bad = ser
        .serialize_newtype_struct(Token::Keyword.name(), &1)
        .unwrap_err();
    assert_eq!(bad.kind(), ValueErrorKind::Custom);
}

#[test]
fn exact_offer_is_withdrawn_after_a_foreign_serializer() {
    let ratio = crate::edn::from_str("1/3").unwrap();
    // A foreign serializer sees the double and leaves the offer unclaimed.
    let mut sink = Vec::new();
    ratio.serialize(&mut DebugSink(&mut sink)).unwrap();
    assert_eq!(sink, ["0.3333333333333333"]);
    // With nothing on offer, the token's foreign payload is used as is.
    let fallback = ValueSerializer::new().serialize_newtype_struct(Token::Ratio.name(), &0.5);
    assert_eq!(fallback.unwrap(), Value::Float(0.5));
    // Through our own serializer the ratio is exact.
    assert_eq!(to_value(&ratio).unwrap().to_string(), "1/3");
}

/// A minimal foreign serializer: accepts a newtype struct of an f64 and
/// nothing else (enough to see the offer withdrawn).
struct DebugSink<'a>(&'a mut Vec<String>);

impl ::serde::Serializer for &mut DebugSink<'_> {
    type Ok = ();
    type Error = ValueError;
    type SerializeSeq = ::serde::ser::Impossible<(), ValueError>;
    type SerializeTuple = ::serde::ser::Impossible<(), ValueError>;
    type SerializeTupleStruct = ::serde::ser::Impossible<(), ValueError>;
    type SerializeTupleVariant = ::serde::ser::Impossible<(), ValueError>;
    type SerializeMap = ::serde::ser::Impossible<(), ValueError>;
    type SerializeStruct = ::serde::ser::Impossible<(), ValueError>;
    type SerializeStructVariant = ::serde::ser::Impossible<(), ValueError>;

    fn serialize_f64(self, v: f64) -> Result<(), ValueError> {
        self.0.push(v.to_string());
        Ok(())
    }

    fn serialize_newtype_struct<T: ?Sized + ::serde::Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), ValueError> {
        value.serialize(self)
    }

    fn serialize_bool(self, _: bool) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_i8(self, _: i8) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_i16(self, _: i16) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_i32(self, _: i32) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_i64(self, _: i64) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_u8(self, _: u8) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_u16(self, _: u16) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_u32(self, _: u32) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_u64(self, _: u64) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_f32(self, _: f32) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_char(self, _: char) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_str(self, _: &str) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_none(self) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_some<T: ?Sized + ::serde::Serialize>(self, _: &T) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_unit(self) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_newtype_variant<T: ?Sized + ::serde::Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), ValueError> {
        Err(unsupported())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, ValueError> {
        Err(unsupported())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, ValueError> {
        Err(unsupported())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, ValueError> {
        Err(unsupported())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, ValueError> {
        Err(unsupported())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, ValueError> {
        Err(unsupported())
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, ValueError> {
        Err(unsupported())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, ValueError> {
        Err(unsupported())
    }
}

fn unsupported() -> ValueError {
    ValueError::new(ValueErrorKind::Custom, "unsupported")
}

#[test]
fn deep_values_are_errors_not_stack_overflows() {
    let deep = Deep::new(100_000);
    let err = to_value(&deep.0).unwrap_err();
    assert_eq!(err.kind(), ValueErrorKind::TooDeep);
    let err = from_value_ref::<Value>(&deep.0).unwrap_err();
    assert_eq!(err.kind(), ValueErrorKind::TooDeep);
    // The path leads from the top to the first element past the limit.
    assert_eq!(err.path().len(), super::SERDE_MAX_DEPTH);
    let ignored = from_value_ref::<::serde::de::IgnoredAny>(&deep.0);
    assert!(ignored.is_ok(), "ignoring does not descend");
}

#[test]
fn depth_limit_counts_levels_like_edn() {
    let limit = super::SERDE_MAX_DEPTH;
    let at_limit = Deep::new(limit);
    assert_eq!(at_limit.0.depth(), limit);
    assert_eq!(Deep(to_value(&at_limit.0).unwrap()).0, at_limit.0);
    assert_eq!(
        Deep(from_value_ref::<Value>(&at_limit.0).unwrap()).0,
        at_limit.0
    );
    let over = Deep::new(limit + 1);
    assert_eq!(
        to_value(&over.0).unwrap_err().kind(),
        ValueErrorKind::TooDeep
    );
    assert_eq!(
        from_value_ref::<Value>(&over.0).unwrap_err().kind(),
        ValueErrorKind::TooDeep
    );

    // An empty collection at the last level is still within the limit.
    let empty_last = Value::vector([Value::vector([])]);
    let two = ValueDeserializer::new(&empty_last).with_max_depth(2);
    assert_eq!(Value::deserialize(two).unwrap(), empty_last);
    let one = ValueDeserializer::new(&empty_last).with_max_depth(1);
    assert!(Value::deserialize(one).is_err());
    assert!(
        empty_last
            .serialize(ValueSerializer::new().with_max_depth(2))
            .is_ok()
    );
    assert!(
        empty_last
            .serialize(ValueSerializer::new().with_max_depth(1))
            .is_err()
    );
}

#[test]
fn user_types_nested_too_deeply_are_refused() {
    #[derive(::serde::Serialize)]
    struct Node {
        next: Option<Box<Node>>,
    }
    let mut node = Node { next: None };
    for _ in 0..300 {
        node = Node {
            next: Some(Box::new(node)),
        };
    }
    let err = to_value(&node).unwrap_err();
    assert_eq!(err.kind(), ValueErrorKind::TooDeep);
    assert!(
        err.to_string()
            .starts_with("value nests deeper than 256 levels at [:next :next")
    );
}

#[test]
fn error_paths_render_in_get_in_form() {
    let err = ValueError::new(ValueErrorKind::InvalidType, "boom")
        .at_key(&Value::keyword("age"))
        .at_index(2)
        .at_key(&Value::from("users"));
    assert_eq!(err.to_string(), r#"boom at ["users" 2 :age]"#);
    assert_eq!(err.message(), "boom");
    assert_eq!(err.path()[1], PathSegment::Index(2));
    let long_key = Value::from("x".repeat(100));
    let err = ValueError::new(ValueErrorKind::Custom, "e").at_key(&long_key);
    assert!(err.to_string().ends_with("…]"), "{err}");
    assert_eq!(
        ValueError::new(ValueErrorKind::Custom, "top").to_string(),
        "top"
    );
}

#[test]
fn clip_respects_char_boundaries() {
    assert_eq!(error::clip("héllo", 2), "h");
    assert_eq!(error::clip("héllo", 3), "hé");
    assert_eq!(error::clip("hi", 10), "hi");
}

#[test]
fn foreign_enums_become_single_entry_maps() {
    let access = MapAccessDeserializer::new(MapDeserializer::<_, ValueError>::new(
        std::iter::once(("Circle", 2)),
    ));
    let v = ValueVisitor.visit_enum(access).unwrap();
    assert_eq!(v, Value::map([(Value::from("Circle"), Value::from(2))]));
}

#[test]
fn keywords_and_instants_have_their_own_impls() {
    let k = Keyword::new("chsk/handshake");
    assert_eq!(to_value(&k).unwrap(), Value::Keyword(k.clone()));
    assert_eq!(
        from_value::<Keyword>(Value::from("chsk/handshake")).unwrap(),
        k
    );
    let far = Inst::new(400_000_000_000, 5).unwrap();
    assert_eq!(to_value(&far).unwrap(), Value::Inst(far));
    assert_eq!(from_value::<Inst>(Value::Inst(far)).unwrap(), far);
    assert_eq!(
        from_value::<Inst>(Value::Int(1_000)).unwrap(),
        Inst::from_millis(1_000)
    );
    let err = from_value::<Inst>(Value::keyword("x")).unwrap_err();
    assert_eq!(err.kind(), ValueErrorKind::InvalidType);
}
