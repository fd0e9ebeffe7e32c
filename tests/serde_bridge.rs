//! The serde bridge from the outside: user types to and from `Value`, the
//! mapping, lenient reading, errors with paths, and `Value` through serde.
mod support;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use proptest::prelude::*;
use sente::value::{Inst, Keyword, PathSegment, Symbol, Uuid, ValueErrorKind};
use sente::{Value, from_value, from_value_ref, to_value};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use support::{Caps, arb_value};

fn edn(text: &str) -> Value {
    sente::edn::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Serializes to a value, checks its EDN text, and reads it back.
fn round_trip<T>(value: &T, expected_edn: &str)
where
    T: Serialize + for<'de> Deserialize<'de> + PartialEq + fmt::Debug,
{
    let v = to_value(value).unwrap();
    assert_eq!(v.to_string(), expected_edn);
    assert_eq!(&from_value::<T>(v.clone()).unwrap(), value);
    assert_eq!(&from_value_ref::<T>(&v).unwrap(), value);
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Address {
    city: String,
    zip: Option<u32>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct User {
    #[serde(rename = "user/name")]
    name: String,
    age: u8,
    tags: Vec<String>,
    address: Address,
    nickname: Option<String>,
}

fn ana() -> User {
    User {
        name: "ana".into(),
        age: 3,
        tags: vec!["a".into(), "b".into()],
        address: Address {
            city: "Lisboa".into(),
            zip: Some(1000),
        },
        nickname: None,
    }
}

#[test]
fn nested_structs_become_keyword_maps() {
    round_trip(
        &ana(),
        r#"{:user/name "ana", :age 3, :tags ["a" "b"], :address {:city "Lisboa", :zip 1000}, :nickname nil}"#,
    );
}

#[test]
fn hand_built_edn_reads_into_structs() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct Person {
        #[serde(rename = "user/name")]
        name: String,
        age: u32,
    }
    let expected = Person {
        name: "ana".into(),
        age: 3,
    };
    let by_hand = Value::map([
        (Value::keyword("user/name"), Value::from("ana")),
        (Value::keyword("age"), Value::from(3)),
    ]);
    assert_eq!(from_value::<Person>(by_hand).unwrap(), expected);
    assert_eq!(
        from_value::<Person>(edn(r#"{:user/name "ana", :age 3}"#)).unwrap(),
        expected
    );
    // String and symbol keys, extra keys, and the fields as a vector.
    assert_eq!(
        from_value::<Person>(edn(r#"{"user/name" "ana", age 3, :extra [1]}"#)).unwrap(),
        expected
    );
    assert_eq!(from_value::<Person>(edn(r#"["ana" 3]"#)).unwrap(), expected);
}

#[test]
fn kebab_case_is_one_attribute_away() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "kebab-case")]
    struct Opts {
        max_retries: u8,
        use_ajax: bool,
    }
    round_trip(
        &Opts {
            max_retries: 2,
            use_ajax: true,
        },
        "{:max-retries 2, :use-ajax true}",
    );
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
enum Shape {
    Empty,
    #[serde(rename = "shape/dot")]
    Dot,
    Circle(f64),
    Line(i32, i32),
    Rect {
        w: u16,
        h: u16,
    },
}

#[test]
fn enums_of_every_shape() {
    round_trip(&Shape::Empty, ":Empty");
    round_trip(&Shape::Dot, ":shape/dot");
    round_trip(&Shape::Circle(1.5), "{:Circle 1.5}");
    round_trip(&Shape::Line(1, -2), "{:Line [1 -2]}");
    round_trip(&Shape::Rect { w: 3, h: 4 }, "{:Rect {:w 3, :h 4}}");
    round_trip(
        &vec![Shape::Empty, Shape::Circle(0.0)],
        "[:Empty {:Circle 0.0}]",
    );
}

#[test]
fn enums_read_leniently() {
    assert_eq!(
        from_value::<Shape>(Value::from("Empty")).unwrap(),
        Shape::Empty
    );
    assert_eq!(
        from_value::<Shape>(Value::symbol("Empty")).unwrap(),
        Shape::Empty
    );
    assert_eq!(
        from_value::<Shape>(edn("{:Empty nil}")).unwrap(),
        Shape::Empty
    );
    assert_eq!(
        from_value::<Shape>(edn(r#"{"Circle" 2}"#)).unwrap(),
        Shape::Circle(2.0)
    );
    assert_eq!(
        from_value::<Shape>(edn("{:Line (1 2)}")).unwrap(),
        Shape::Line(1, 2)
    );
    assert_eq!(
        from_value::<Shape>(edn("{:Rect [1 2]}")).unwrap(),
        Shape::Rect { w: 1, h: 2 }
    );

    let err = from_value::<Shape>(Value::keyword("Hexagon")).unwrap_err();
    assert_eq!(err.kind(), ValueErrorKind::UnknownVariant);
    assert!(
        err.to_string()
            .starts_with("unknown variant :Hexagon, expected one of :Empty, :shape/dot")
    );
    let err = from_value::<Shape>(Value::keyword("Circle")).unwrap_err();
    assert_eq!(err.kind(), ValueErrorKind::InvalidType);
    let err = from_value::<Shape>(edn("{:Empty 1}")).unwrap_err();
    assert_eq!(err.path(), [PathSegment::Key(Value::keyword("Empty"))]);
    let err = from_value::<Shape>(edn("{:Circle 1 :Dot nil}")).unwrap_err();
    assert_eq!(err.kind(), ValueErrorKind::InvalidType);
}

#[test]
fn internally_tagged_and_untagged_enums_see_keywords_as_text() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(tag = "type")]
    enum Msg {
        Ping { id: u32 },
    }
    round_trip(&Msg::Ping { id: 7 }, r#"{:type "Ping", :id 7}"#);
    assert_eq!(
        from_value::<Msg>(edn("{:type :Ping, :id 7}")).unwrap(),
        Msg::Ping { id: 7 }
    );

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(untagged)]
    enum Either {
        Number(i64),
        Text(String),
    }
    assert_eq!(
        from_value::<Either>(Value::from(3)).unwrap(),
        Either::Number(3)
    );
    assert_eq!(
        from_value::<Either>(Value::keyword("k")).unwrap(),
        Either::Text("k".into())
    );
}

#[test]
fn options_units_and_newtypes() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Meters(f64);
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Marker;
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Pair(u8, String);

    round_trip(&None::<u8>, "nil");
    round_trip(&Some(3u8), "3");
    round_trip(&(), "nil");
    round_trip(&Marker, "nil");
    round_trip(&Meters(2.5), "2.5");
    round_trip(&Pair(1, "x".into()), r#"[1 "x"]"#);
    round_trip(&(1u8, 'c', "s".to_owned()), r#"[1 \c "s"]"#);
    // `Some(None)` has no representation of its own: it reads back as `None`.
    assert_eq!(to_value(&Some(None::<u8>)).unwrap(), Value::Nil);
    assert_eq!(from_value::<Option<Option<u8>>>(Value::Nil).unwrap(), None);
}

#[test]
fn maps_keep_their_key_types() {
    let mut by_name = HashMap::new();
    by_name.insert("ana".to_owned(), 3);
    round_trip(&by_name, r#"{"ana" 3}"#);
    let by_number: BTreeMap<i64, String> =
        [(1, "one".to_owned()), (-2, "minus two".to_owned())].into();
    round_trip(&by_number, r#"{-2 "minus two", 1 "one"}"#);
    let by_pair: BTreeMap<(u8, u8), bool> = [((1, 2), true)].into();
    round_trip(&by_pair, "{[1 2] true}");
    // Keyword keys read into string-keyed maps as their text.
    let read: BTreeMap<String, u8> = from_value(edn("{:a 1, :b/c 2}")).unwrap();
    assert_eq!(read, [("a".to_owned(), 1), ("b/c".to_owned(), 2)].into());
}

#[test]
fn integers_at_the_edges() {
    round_trip(&i64::MIN, "-9223372036854775808");
    round_trip(&i64::MAX, "9223372036854775807");
    round_trip(&u64::MAX, "18446744073709551615N");
    round_trip(&(i64::MAX as u64 + 1), "9223372036854775808N");
    round_trip(&i128::MIN, "-170141183460469231731687303715884105728N");
    round_trip(&u128::MAX, "340282366920938463463374607431768211455N");
    round_trip(&-1i128, "-1");
    assert_eq!(to_value(&u64::MAX).unwrap().type_name(), "bigint");
    assert_eq!(to_value(&5u64).unwrap(), Value::Int(5));

    let err = from_value::<u8>(Value::from(300)).unwrap_err();
    assert_eq!(err.kind(), ValueErrorKind::InvalidValue);
    assert_eq!(err.to_string(), "invalid value: integer 300, expected u8");
    assert!(from_value::<u64>(Value::from(-1)).is_err());
    assert!(from_value::<i64>(to_value(&u64::MAX).unwrap()).is_err());
    assert_eq!(
        from_value::<u64>(edn("18446744073709551615N")).unwrap(),
        u64::MAX
    );
    assert_eq!(from_value::<i32>(edn("7N")).unwrap(), 7);
    assert!(from_value::<u128>(edn("340282366920938463463374607431768211456N")).is_err());
    let err = from_value::<i64>(Value::from(1.0)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid type: floating point `1.0`, expected i64"
    );
}

#[test]
fn floats_read_from_any_number() {
    round_trip(&1.5f64, "1.5");
    round_trip(&0.1f32, "0.10000000149011612");
    assert_eq!(from_value::<f64>(Value::from(2)).unwrap(), 2.0);
    assert_eq!(from_value::<f64>(edn("1/4")).unwrap(), 0.25);
    assert_eq!(from_value::<f64>(edn("1.5M")).unwrap(), 1.5);
    assert_eq!(
        from_value::<f32>(edn("12345678901234567890N")).unwrap(),
        1.2345679e19
    );
    assert!(from_value::<f64>(Value::from("1.5")).is_err());
}

#[test]
fn chars_and_strings() {
    round_trip(&'λ', r"\λ");
    round_trip(&'\n', r"\newline");
    assert_eq!(from_value::<char>(Value::from("x")).unwrap(), 'x');
    assert!(from_value::<char>(Value::from("xy")).is_err());
    assert!(from_value::<char>(Value::from("")).is_err());
    // Names, characters, big numbers, UUIDs and instants read as their text.
    assert_eq!(
        from_value::<String>(Value::keyword("ns/name")).unwrap(),
        "ns/name"
    );
    assert_eq!(from_value::<String>(Value::symbol("sym")).unwrap(), "sym");
    assert_eq!(from_value::<String>(Value::Char('c')).unwrap(), "c");
    assert_eq!(from_value::<String>(edn("12N")).unwrap(), "12");
    assert_eq!(from_value::<String>(edn("1.50M")).unwrap(), "1.50");
    let uuid = r#"#uuid "0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11""#;
    assert_eq!(
        from_value::<String>(edn(uuid)).unwrap(),
        "0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11"
    );
    let inst = r#"#inst "2024-01-01T00:00:00.5Z""#;
    assert_eq!(
        from_value::<String>(edn(inst)).unwrap(),
        "2024-01-01T00:00:00.500-00:00"
    );
    assert!(from_value::<String>(Value::from(1)).is_err());
}

#[test]
fn strings_borrow_from_the_value() {
    #[derive(Deserialize)]
    struct Borrowed<'a> {
        name: &'a str,
        raw: &'a [u8],
    }
    let v = Value::map([
        (Value::keyword("name"), Value::from("ana")),
        (Value::keyword("raw"), Value::Bytes(vec![1, 2].into())),
    ]);
    let b: Borrowed<'_> = from_value_ref(&v).unwrap();
    assert_eq!((b.name, b.raw), ("ana", &[1u8, 2][..]));
}

/// Bytes the way `serde_bytes` handles them: `serialize_bytes` and `deserialize_byte_buf`.
#[derive(Debug, PartialEq)]
struct ByteBuf(Vec<u8>);

impl Serialize for ByteBuf {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for ByteBuf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct BytesVisitor;
        impl Visitor<'_> for BytesVisitor {
            type Value = ByteBuf;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<ByteBuf, E> {
                Ok(ByteBuf(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<ByteBuf, E> {
                Ok(ByteBuf(v))
            }
        }
        d.deserialize_byte_buf(BytesVisitor)
    }
}

#[test]
fn bytes() {
    let bytes = ByteBuf(vec![0, 1, 255]);
    round_trip(&bytes, r#"#sente/bytes "AAH/""#);
    assert_eq!(
        to_value(&bytes).unwrap(),
        Value::Bytes(vec![0, 1, 255].into())
    );
    assert_eq!(from_value::<ByteBuf>(edn("[0 1 255]")).unwrap(), bytes);
    let err = from_value::<ByteBuf>(edn("[0 256]")).unwrap_err();
    assert_eq!(err.path(), [PathSegment::Index(1)]);
    assert!(from_value::<ByteBuf>(edn(r#"[0 "x"]"#)).is_err());
    // A plain Vec<u8> is a vector of integers, and reads from bytes too.
    assert_eq!(to_value(&vec![1u8, 2]).unwrap().to_string(), "[1 2]");
    assert_eq!(
        from_value::<Vec<u8>>(Value::Bytes(vec![7, 8].into())).unwrap(),
        vec![7, 8]
    );
    assert!(from_value::<[u8; 1]>(Value::Bytes(vec![7, 8].into())).is_err());
}

#[test]
fn sequences_read_from_vectors_lists_and_sets() {
    assert_eq!(from_value::<Vec<u8>>(edn("(1 2)")).unwrap(), vec![1, 2]);
    assert_eq!(from_value::<Vec<u8>>(edn("#{3}")).unwrap(), vec![3]);
    assert_eq!(from_value::<(u8, u8)>(edn("[1 2]")).unwrap(), (1, 2));
    let err = from_value::<(u8, u8)>(edn("[1 2 3]")).unwrap_err();
    assert_eq!(err.kind(), ValueErrorKind::InvalidLength);
    assert_eq!(err.to_string(), "invalid length 3, expected 2 elements");
    assert!(from_value::<(u8, u8)>(edn("[1]")).is_err());
    assert!(from_value::<Vec<u8>>(edn("{}")).is_err());
}

#[test]
fn wrong_types_deep_inside_report_the_path() {
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Team {
        users: Vec<User>,
    }
    let v = edn(
        r#"{:users [{:user/name "a", :age 1, :tags [], :address {:city "x"}}
                    {:user/name "b", :age 2, :tags ["t" 3], :address {:city "y"}}]}"#,
    );
    let err = from_value::<Team>(v).unwrap_err();
    assert_eq!(err.kind(), ValueErrorKind::InvalidType);
    assert_eq!(
        err.to_string(),
        "invalid type: integer `3`, expected a string at [:users 1 :tags 1]"
    );
    assert_eq!(
        err.path(),
        [
            PathSegment::Key(Value::keyword("users")),
            PathSegment::Index(1),
            PathSegment::Key(Value::keyword("tags")),
            PathSegment::Index(1),
        ]
    );

    let err = from_value::<User>(edn(r#"{:user/name "a", :age 1, :tags []}"#)).unwrap_err();
    assert_eq!(err.kind(), ValueErrorKind::MissingField);
    assert_eq!(err.to_string(), "missing key :address");

    let err = from_value::<User>(edn(r#"{:user/name :ana, :age 1000}"#)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value: integer 1000, expected u8 at [:age]"
    );

    let err = from_value::<Address>(edn(r#"{:city "x", :zip "1000"}"#)).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"invalid type: string "1000", expected u32 at [:zip]"#
    );

    let err = from_value::<Address>(edn("[[:city]]")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid type: vector, expected a string at [0]"
    );
    let err = from_value::<Address>(edn("#{:city}")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid type: set, expected struct Address"
    );
    let err = from_value::<Vec<bool>>(edn("[true :yes]")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid type: keyword :yes, expected a boolean at [1]"
    );
}

#[test]
fn unknown_and_duplicate_keys() {
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        a: u8,
    }
    let err = from_value::<Strict>(edn("{:a 1, :b 2}")).unwrap_err();
    assert_eq!(err.kind(), ValueErrorKind::UnknownField);
    assert_eq!(
        err.to_string(),
        "unknown key :b, expected one of :a at [:b]"
    );
    // `:a` and `"a"` are distinct keys of the map, but the same field.
    let err = from_value::<Strict>(edn(r#"{:a 1, "a" 2}"#)).unwrap_err();
    assert_eq!(err.kind(), ValueErrorKind::DuplicateField);
}

#[test]
fn value_fields_pass_through_exactly() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Envelope {
        id: Keyword,
        from: Symbol,
        at: Inst,
        payload: Value,
    }
    let payload = edn(
        r#"{:k #{:a (1 2) 1/3 2.5M 99999999999999999999N \c}, "s" [#uuid "0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11" #inst "2024-01-01T00:00:00.123456789Z" #my/tag {:x nil}]}"#,
    );
    let envelope = Envelope {
        id: Keyword::new("chsk/recv"),
        from: Symbol::new("my.ns/f"),
        at: Inst::from_millis(1_704_067_200_000),
        payload: payload.clone(),
    };
    let v = to_value(&envelope).unwrap();
    assert_eq!(
        v.to_string(),
        format!(
            r#"{{:id :chsk/recv, :from my.ns/f, :at #inst "2024-01-01T00:00:00.000-00:00", :payload {payload}}}"#
        )
    );
    let back: Envelope = from_value(v).unwrap();
    assert_eq!(back.payload.to_string(), payload.to_string());
    assert_eq!(back, envelope);
}

#[test]
fn uuids_and_instants_read_as_text_or_exactly() {
    let u = Uuid::from_u128(0x0b4c7e0e_4d2a_4a4e_9b8f_3f1d0f3d2a11);
    assert_eq!(to_value(&Value::Uuid(u)).unwrap(), Value::Uuid(u));
    assert_eq!(
        from_value::<Inst>(Value::from("2024-01-01T00:00:00Z")).unwrap(),
        Inst::from_millis(1_704_067_200_000)
    );
    assert!(from_value::<Inst>(Value::from("yesterday")).is_err());
}

#[cfg(feature = "json")]
mod json {
    use super::*;

    #[test]
    fn values_write_to_json_by_the_foreign_mapping() {
        let v = edn(
            r#"{:kw :a/b, "set" #{1}, :list (1 2), :big 123456789012345678901N, :dec 1.5M, :ratio 1/4,
                :uuid #uuid "0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11", :inst #inst "2024-01-01T00:00:00Z",
                :tagged #my/tag [1], :char \c, :nil nil, 7 "int key", :sym foo}"#,
        );
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"kw":"a/b","set":[1],"list":[1,2],"big":"123456789012345678901","dec":"1.5","ratio":0.25,"#,
                r#""uuid":"0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11","inst":"2024-01-01T00:00:00.000-00:00","#,
                r#""tagged":{"my/tag":[1]},"char":"c","nil":null,"7":"int key","sym":"foo"}"#
            )
        );
        let bytes = serde_json::to_string(&Value::Bytes(vec![1, 2].into())).unwrap();
        assert_eq!(bytes, "[1,2]");
        assert!(
            serde_json::to_string(&edn("{[1] 2}")).is_err(),
            "JSON keys must be strings"
        );
    }

    #[test]
    fn values_read_from_json() {
        let v: Value =
            serde_json::from_str(r#"{"a":[1,-2,2.5,null,true,"s",18446744073709551615]}"#).unwrap();
        assert_eq!(
            v.to_string(),
            r#"{"a" [1 -2 2.5 nil true "s" 18446744073709551615N]}"#
        );
    }

    #[test]
    fn user_types_with_values_inside_go_through_json() {
        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        struct Wrapper {
            inner: Value,
        }
        let w = Wrapper {
            inner: Value::vector([Value::from(1), Value::from("x")]),
        };
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(json, r#"{"inner":[1,"x"]}"#);
        assert_eq!(serde_json::from_str::<Wrapper>(&json).unwrap(), w);
    }

    #[test]
    fn json_values_read_from_values() {
        let j: serde_json::Value =
            from_value(edn(r#"{:a [1 :k 1.5 nil "s"], "b" #{true}}"#)).unwrap();
        assert_eq!(j.to_string(), r#"{"a":[1,"k",1.5,null,"s"],"b":[true]}"#);
        let big =
            edn("[-7N 18446744073709551615N 123456789012345678901234567890123456789012N 1.5M 1/2]");
        let j: serde_json::Value = from_value(big).unwrap();
        assert_eq!(
            j.to_string(),
            r#"[-7,18446744073709551615,"123456789012345678901234567890123456789012","1.5",0.5]"#
        );
    }

    #[test]
    fn deep_values_fail_in_json_too() {
        let mut v = Value::Nil;
        for _ in 0..300 {
            v = Value::vector([v]);
        }
        let err = serde_json::to_string(&v).unwrap_err();
        assert!(err.to_string().contains("deeper than 256"), "{err}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn values_pass_through_the_serializer_unchanged(v in arb_value(Caps::ALL)) {
        let through = to_value(&v).unwrap();
        // EDN text also tells vectors from lists and keeps map and set order.
        prop_assert_eq!(through.to_string(), v.to_string());
        prop_assert_eq!(through, v);
    }

    #[test]
    fn values_pass_through_the_deserializer_unchanged(v in arb_value(Caps::ALL)) {
        let borrowed: Value = from_value_ref(&v).unwrap();
        prop_assert_eq!(borrowed.to_string(), v.to_string());
        let owned: Value = from_value(v.clone()).unwrap();
        prop_assert_eq!(owned, v);
    }

    #[test]
    fn values_inside_user_types_round_trip(v in arb_value(Caps::ALL), n in any::<u64>()) {
        let pair = (n, v.clone(), Some(vec![v.clone()]));
        let back: (u64, Value, Option<Vec<Value>>) = from_value(to_value(&pair).unwrap()).unwrap();
        prop_assert_eq!(back.1.to_string(), v.to_string());
        prop_assert_eq!(back, pair);
    }

    #[test]
    fn reading_any_value_into_a_struct_never_panics(v in arb_value(Caps::ALL)) {
        let _ = from_value_ref::<User>(&v);
        let _ = from_value_ref::<Shape>(&v);
        let _ = from_value_ref::<Vec<(String, Option<f32>)>>(&v);
        let _ = from_value_ref::<HashMap<String, Value>>(&v);
    }
}
