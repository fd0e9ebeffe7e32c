use std::sync::Arc;

use super::*;
use crate::value::{BigDec, BigInt, Inst, Ratio, Uuid};

fn kw(s: &str) -> Value {
    Value::keyword(s)
}

fn vec_of<const N: usize>(items: [Value; N]) -> Value {
    Value::vector(items)
}

fn pack(v: &Value) -> String {
    match TransitPacker::new().pack(true, v) {
        Ok(Packed::Text(s)) => s,
        other => panic!("{v}: {other:?}"),
    }
}

fn pack_verbose(v: &Value) -> String {
    match TransitPacker::verbose().pack(true, v) {
        Ok(Packed::Text(s)) => s,
        other => panic!("{v}: {other:?}"),
    }
}

fn unpack(text: &str) -> Value {
    TransitPacker::new()
        .unpack(true, PackedRef::Text(text))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn unpack_err(text: &str) -> UnpackError {
    match TransitPacker::new().unpack(true, PackedRef::Text(text)) {
        Ok(v) => panic!("{text} unpacked to {v}"),
        Err(e) => e,
    }
}

/// Packs `v` to exactly `text`, and `text` unpacks to `v`.
fn both_ways(v: &Value, text: &str) {
    assert_eq!(pack(v), text, "packing {v}");
    assert_eq!(unpack(text), *v, "unpacking {text}");
}

#[test]
fn protocol_table_2_2() {
    let ev_a1 = vec_of([kw("my/ev"), Value::map([(kw("a"), 1.into())])]);
    let rows: Vec<(Value, &str)> = vec![
        (
            vec_of([
                vec_of([
                    kw("chsk/handshake"),
                    vec_of(["alice".into(), Value::Nil, Value::Nil]),
                ]),
                Value::Nil,
            ]),
            r#"[["~:chsk/handshake",["alice",null,null]],null]"#,
        ),
        (
            vec_of([
                vec_of([ev_a1, vec_of([kw("my/ev2"), 2.into()])]),
                Value::Nil,
            ]),
            r#"[[["~:my/ev",["^ ","~:a",1]],["~:my/ev2",2]],null]"#,
        ),
        (
            vec_of([
                vec_of([kw("my/ev"), Value::map([(kw("x"), 1.into())])]),
                "3fa2c9".into(),
            ]),
            r#"[["~:my/ev",["^ ","~:x",1]],"3fa2c9"]"#,
        ),
        (
            vec_of([vec_of([kw("my/ev"), Value::Nil]), kw("ajax")]),
            r#"[["~:my/ev",null],"~:ajax"]"#,
        ),
        (
            vec_of([kw("chsk/ws-ping"), Value::Nil]),
            r#"["~:chsk/ws-ping",null]"#,
        ),
        (
            vec_of(["pong".into(), "3fa2c9".into()]),
            r#"["pong","3fa2c9"]"#,
        ),
        (
            vec_of([kw("chsk/timeout"), Value::Nil]),
            r#"["~:chsk/timeout",null]"#,
        ),
        (
            vec_of([kw("chsk/dummy-cb-200"), Value::Nil]),
            r#"["~:chsk/dummy-cb-200",null]"#,
        ),
    ];
    for (value, text) in &rows {
        both_ways(value, text);
    }
}

#[test]
fn repeated_keys_and_keywords_become_cache_codes() {
    let row =
        |name: &str, age: i64| Value::map([(kw("name"), name.into()), (kw("age"), age.into())]);
    let v = vec_of([row("a", 1), row("b", 2), row("c", 3)]);
    both_ways(
        &v,
        r#"[["^ ","~:name","a","~:age",1],["^ ","^0","b","^1",2],["^ ","^0","c","^1",3]]"#,
    );
    // Keywords are cached as values too; short ones ("~:a") and plain string values are not.
    both_ways(
        &vec_of([
            kw("chsk/ws-ping"),
            kw("chsk/ws-ping"),
            kw("a"),
            kw("a"),
            "long string".into(),
            "long string".into(),
        ]),
        r#"["~:chsk/ws-ping","^0","~:a","~:a","long string","long string"]"#,
    );
    // String keys of four or more characters are cached; "id" is not.
    let row = |id: i64| Value::map([("id".into(), id.into()), ("user".into(), id.into())]);
    both_ways(
        &vec_of([row(1), row(2)]),
        r#"[["^ ","id",1,"user",1],["^ ","id",2,"^0",2]]"#,
    );
    // Tags are cached.
    let s = |i: i64| Value::set([Value::from(i)]);
    both_ways(&vec_of([s(1), s(2)]), r#"[["~#set",[1]],["^0",[2]]]"#);
}

#[test]
fn more_than_44_cached_strings_use_two_digit_codes() {
    let keys: Vec<Value> = (0..50).map(|i| kw(&format!("k{i:02}"))).collect();
    let m = Value::map(keys.iter().map(|k| (k.clone(), Value::Nil)));
    let v = vec_of([m.clone(), m]);
    let text = pack(&v);
    let second = text.split("],[").nth(1).unwrap();
    assert!(second.starts_with(r#""^ ","^0",null,"^1",null"#), "{text}");
    // Entry 43 is the last one-digit code ('0' + 43 = '['); 44 is "^10", 49 is "^15".
    assert!(
        second.contains(r#""^[",null,"^10",null,"^11",null"#),
        "{text}"
    );
    assert!(second.ends_with(r#""^15",null]]"#), "{text}");
    assert_eq!(unpack(&text), v);
}

#[test]
fn the_cache_starts_over_after_44_times_44_entries() {
    let kws: Vec<Value> = (0..MAX_CACHE_ENTRIES + 10)
        .map(|i| kw(&format!("key{i}")))
        .collect();
    let v = Value::vector(kws.iter().chain(kws.iter()).cloned());
    let text = pack(&v);
    // Entry 1936 restarts the codes, so key0 is no longer cached when it comes back.
    assert!(
        text.contains(r#""~:key1936","~:key1937""#),
        "reset written in full"
    );
    assert!(
        text.contains(r#""~:key1945","~:key0""#),
        "old entries are gone after the reset"
    );
    assert_eq!(unpack(&text), v);
    // Reading follows the same policy: after the reset only the new entries resolve.
    let mut entries: Vec<String> = (0..MAX_CACHE_ENTRIES)
        .map(|i| format!("\"~:k{i}\""))
        .collect();
    entries.extend(["\"~:after\"".to_owned(), "\"^0\"".to_owned()]);
    let read = unpack(&format!("[{}]", entries.join(",")));
    let items = read.as_seq().unwrap();
    assert_eq!(items.len(), MAX_CACHE_ENTRIES + 2);
    assert_eq!(items[MAX_CACHE_ENTRIES + 1], kw("after"));
    entries.push("\"^1\"".to_owned());
    let e = unpack_err(&format!("[{}]", entries.join(",")));
    assert_eq!(e.kind(), UnpackErrorKind::InvalidLiteral);
}

#[test]
fn cacheability_counts_utf16_units() {
    // "éé" is 4 bytes but 2 UTF-16 units: not cached. "😀😀" is 4 units: cached.
    let row = |k: &str| Value::map([(Value::from(k), Value::Nil)]);
    both_ways(
        &vec_of([row("éé"), row("éé")]),
        r#"[["^ ","éé",null],["^ ","éé",null]]"#,
    );
    both_ways(
        &vec_of([row("😀😀"), row("😀😀")]),
        r#"[["^ ","\uD83D\uDE00\uD83D\uDE00",null],["^ ","^0",null]]"#,
    );
}

#[test]
fn scalars_encode_like_transit_clj() {
    let uuid = Uuid::parse_str("0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11").unwrap();
    let ratio = Value::Ratio(Arc::new(
        Ratio::new(BigInt::from_i128(1), BigInt::from_i128(3)).unwrap(),
    ));
    let v = vec_of([
        Value::Nil,
        true.into(),
        false.into(),
        1.into(),
        (-9_007_199_254_740_991i64).into(),
        9_007_199_254_740_992i64.into(),
        (-9_007_199_254_740_992i64).into(),
        1.5.into(),
        1.0.into(),
        1e10.into(),
        f64::NAN.into(),
        f64::INFINITY.into(),
        f64::NEG_INFINITY.into(),
        Value::BigInt(BigInt::from_i128(123)),
        Value::BigDec(BigDec::parse("1.5").unwrap()),
        ratio,
        'x'.into(),
        kw("ns/name"),
        Value::symbol("x"),
        Value::Uuid(uuid),
        Value::Inst(Inst::from_millis(1_704_067_200_123)),
        Value::Bytes(Arc::from(&[0u8, 1][..])),
        "~x".into(),
        "^x".into(),
        "`x".into(),
        "^ ".into(),
        "plain".into(),
    ]);
    both_ways(
        &v,
        concat!(
            r#"[null,true,false,1,-9007199254740991,"~i9007199254740992","~i-9007199254740992","#,
            r#"1.5,1.0,1.0E10,"~zNaN","~zINF","~z-INF","~n123","~f1.5",["~#ratio",["~n1","~n3"]],"#,
            r#""~cx","~:ns/name","~$x","~u0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11","~m1704067200123","~bAAE=","#,
            r#""~~x","~^x","~`x","~^ ","plain"]"#
        ),
    );
}

#[test]
fn top_level_scalars_are_quoted() {
    both_ways(&Value::Nil, r#"["~#'",null]"#);
    both_ways(&1.into(), r#"["~#'",1]"#);
    both_ways(&kw("chsk/timeout"), r#"["~#'","~:chsk/timeout"]"#);
    both_ways(&"hi".into(), r#"["~#'","hi"]"#);
    assert_eq!(pack_verbose(&1.into()), r#"{"~#'":1}"#);
    // Collections and ratios are not quoted.
    both_ways(&Value::map([]), r#"["^ "]"#);
    both_ways(&vec_of([]), "[]");
    // Readers accept unquoted top-level scalars too.
    assert_eq!(unpack("\"~:a\""), kw("a"));
    assert_eq!(unpack(" 12 "), Value::Int(12));
}

#[test]
fn map_keys_are_strings_or_the_map_is_a_cmap() {
    let m = Value::map([
        (Value::from(1), "i".into()),
        (Value::Nil, "nil".into()),
        (true.into(), "t".into()),
        (1.5.into(), "d".into()),
        (f64::NAN.into(), "nan".into()),
        ("~k".into(), "s".into()),
        (kw("k"), "kw".into()),
    ]);
    both_ways(
        &m,
        r#"["^ ","~i1","i","~_","nil","~?t","t","~d1.5","d","~zNaN","nan","~~k","s","~:k","kw"]"#,
    );
    let c = Value::map([(vec_of([1.into()]), "v".into()), (kw("k"), "kw".into())]);
    both_ways(&c, r#"["~#cmap",[[1],"v","~:k","kw"]]"#);
    assert_eq!(pack_verbose(&c), r#"{"~#cmap":[[1],"v","~:k","kw"]}"#);
}

#[test]
fn collections_and_tagged_values() {
    both_ways(&Value::set([1.into(), 2.into()]), r#"["~#set",[1,2]]"#);
    both_ways(&Value::List(vec![1.into()]), r#"["~#list",[1]]"#);
    both_ways(
        &Value::tagged("my/point", vec_of([1.into(), 2.into()])),
        r#"["~#my/point",[1,2]]"#,
    );
    // A one-character tag with a string value is a transit scalar (a URI here).
    both_ways(
        &Value::tagged("r", "http://x".into()),
        r#"["~#'","~rhttp://x"]"#,
    );
    both_ways(&vec_of([Value::tagged("x", "y".into())]), r#"["~xy"]"#);
    for tag in ["set", "i", "'", "cmap"] {
        let e = TransitPacker::new().pack(true, &vec_of([Value::tagged(tag, vec_of([]))]));
        assert!(
            matches!(e, Err(PackError::Unsupported { .. })),
            "{tag}: {e:?}"
        );
    }
}

#[test]
fn verbose_writes_objects_times_and_no_cache() {
    let t = Value::Inst(Inst::from_millis(1_704_067_200_000));
    let v = vec_of([
        Value::map([
            (kw("name"), t.clone()),
            (1.into(), Value::set([kw("name")])),
        ]),
        Value::map([(kw("name"), Value::Nil)]),
    ]);
    let text = pack_verbose(&v);
    assert_eq!(
        text,
        r#"[{"~:name":"~t2024-01-01T00:00:00.000Z","~i1":{"~#set":["~:name"]}},{"~:name":null}]"#
    );
    assert_eq!(unpack(&text), v);
    // Years that "~t" cannot carry fall back to "~m".
    let ancient = vec_of([Value::Inst(Inst::from_millis(-100_000_000_000_000))]);
    assert_eq!(pack_verbose(&ancient), r#"["~m-100000000000000"]"#);
    assert!(TransitPacker::verbose().is_verbose());
}

#[test]
fn instants_keep_milliseconds_only() {
    let fine = Value::Inst(Inst::new(1_704_067_200, 123_456_789).unwrap());
    assert_eq!(pack(&vec_of([fine])), r#"["~m1704067200123"]"#);
    assert_eq!(
        pack(&vec_of([Value::Inst(Inst::from_millis(-1))])),
        r#"["~m-1"]"#
    );
    assert_eq!(
        unpack(r#"["~t2024-01-01T00:00:00.123456789Z"]"#),
        vec_of([Value::Inst(Inst::from_millis(1_704_067_200_123))])
    );
}

#[test]
fn strings_escape_like_jackson() {
    both_ways(
        &vec_of(["a\"b\\c\n\u{1}é😀".into()]),
        r#"["a\"b\\c\n\u0001é\uD83D\uDE00"]"#,
    );
    // Raw non-BMP text (as transit-js writes it) reads too.
    assert_eq!(unpack(r#"["😀"]"#), vec_of(["😀".into()]));
    assert_eq!(
        unpack(r#"["\u00e9\ud83d\ude00\/\b\f\r\t"]"#),
        vec_of(["é😀/\u{8}\u{c}\r\t".into()])
    );
    assert_eq!(unpack(r#"["\ud800x"]"#), vec_of(["\u{fffd}x".into()]));
}

#[test]
fn reads_what_other_writers_write() {
    // Whitespace, verbose objects, transit-js numbers, big JSON integers.
    assert_eq!(
        unpack(" { \"~:a\" : [ 1 , 2.5e0 ] , \"b\" : {\"~#set\" : [ ] } } "),
        Value::map([
            (kw("a"), vec_of([1.into(), 2.5.into()])),
            ("b".into(), Value::set([])),
        ])
    );
    assert_eq!(
        unpack("[123456789012345678901234567890]"),
        vec_of([Value::BigInt(
            BigInt::parse("123456789012345678901234567890").unwrap()
        )])
    );
    assert_eq!(
        unpack(r#"["~i123456789012345678901234567890"]"#),
        unpack("[123456789012345678901234567890]")
    );
    // UUIDs as two longs, instants as numbers, RFC 3339 instants, quotes anywhere.
    let uuid = Uuid::from_u64_pair(1, 2);
    assert_eq!(unpack(r#"[["~#u",[1,2]]]"#), vec_of([Value::Uuid(uuid)]));
    let five = Value::Inst(Inst::from_millis(5));
    assert_eq!(
        unpack(r#"[["~#m",5],"~t1970-01-01T00:00:00.005Z"]"#),
        vec_of([five.clone(), five])
    );
    assert_eq!(unpack(r#"[["~#'",1]]"#), vec_of([1.into()]));
    assert_eq!(
        unpack(r#"["~'x","~_","~?f"]"#),
        vec_of(["x".into(), Value::Nil, false.into()])
    );
    // Unknown tags pass through.
    assert_eq!(
        unpack(r#"[["~#point",[1,2]]]"#),
        vec_of([Value::tagged("point", vec_of([1.into(), 2.into()]))])
    );
    assert_eq!(
        unpack(r#"["~qtext"]"#),
        vec_of([Value::tagged("q", "text".into())])
    );
    assert_eq!(unpack(r#"["~", "`x"]"#), vec_of(["~".into(), "`x".into()]));
    // Duplicate keys keep the last value; duplicate set elements collapse.
    assert_eq!(
        unpack(r#"["^ ","~:a",1,"~:a",2]"#),
        Value::map([(kw("a"), 2.into())])
    );
    assert_eq!(unpack(r#"["~#set",[1,1]]"#), Value::set([1.into()]));
    // Cached tags, keys and keywords, also from verbose objects.
    assert_eq!(
        unpack(r#"[{"~:abcd":1},["^ ","^0",2],"^0",["~#list",[]],["^1",[3]]]"#),
        vec_of([
            Value::map([(kw("abcd"), 1.into())]),
            Value::map([(kw("abcd"), 2.into())]),
            kw("abcd"),
            Value::List(vec![]),
            Value::List(vec![3.into()]),
        ])
    );
}

#[test]
fn malformed_input_errors_carry_offsets() {
    let cases: &[(&str, UnpackErrorKind, usize)] = &[
        ("", UnpackErrorKind::UnexpectedEnd, 0),
        ("[1,2", UnpackErrorKind::UnexpectedEnd, 4),
        ("[1] 2", UnpackErrorKind::TrailingInput, 4),
        ("[1,]", UnpackErrorKind::Syntax, 3),
        ("[01]", UnpackErrorKind::Syntax, 2),
        ("[1.]", UnpackErrorKind::Syntax, 3),
        ("[tru]", UnpackErrorKind::Syntax, 1),
        ("[\"abc", UnpackErrorKind::UnexpectedEnd, 1),
        ("[\"a\\qb\"]", UnpackErrorKind::Syntax, 3),
        ("[\"a\u{1}\"]", UnpackErrorKind::Syntax, 3),
        ("[\"\\u12\"]", UnpackErrorKind::Syntax, 2),
        ("[\"^9\"]", UnpackErrorKind::InvalidLiteral, 1),
        ("[\"^\"]", UnpackErrorKind::InvalidLiteral, 1),
        ("[1,\"~ubad\"]", UnpackErrorKind::InvalidLiteral, 3),
        ("[\"~?x\"]", UnpackErrorKind::InvalidLiteral, 1),
        ("[\"~zNope\"]", UnpackErrorKind::InvalidLiteral, 1),
        ("[\"~cab\"]", UnpackErrorKind::InvalidLiteral, 1),
        ("[\"~b!!\"]", UnpackErrorKind::InvalidLiteral, 1),
        ("[\"~#set\",1]", UnpackErrorKind::InvalidLiteral, 9),
        ("[\"~#set\",[1],2]", UnpackErrorKind::Syntax, 12),
        ("[\"~#set\"]", UnpackErrorKind::Syntax, 8),
        ("[\"~#ratio\",[1,0]]", UnpackErrorKind::InvalidLiteral, 11),
        ("[\"~#cmap\",[1]]", UnpackErrorKind::InvalidLiteral, 10),
        ("[\"~#i\",5]", UnpackErrorKind::InvalidLiteral, 7),
        ("[1,\"~#set\"]", UnpackErrorKind::Syntax, 3),
        ("[1,\"^ \"]", UnpackErrorKind::Syntax, 3),
        ("[\"^ \",\"~:a\"]", UnpackErrorKind::Syntax, 11),
        ("[\"^ \",\"~#x\",1]", UnpackErrorKind::Syntax, 6),
        ("{\"a\":1,\"~#set\":[]}", UnpackErrorKind::Syntax, 7),
        ("{1:2}", UnpackErrorKind::Syntax, 1),
        ("{\"a\" 1}", UnpackErrorKind::Syntax, 5),
        ("{\"~#set\":[],\"b\":1}", UnpackErrorKind::Syntax, 11),
        ("@", UnpackErrorKind::Syntax, 0),
    ];
    for (text, kind, offset) in cases {
        let e = unpack_err(text);
        assert_eq!(
            (e.kind(), e.offset()),
            (*kind, Some(*offset)),
            "{text:?}: {e}"
        );
        assert_eq!(e.packer(), "transit");
    }
}

#[test]
fn binary_frames_are_the_wrong_kind() {
    let p = TransitPacker::default();
    assert_eq!(p.name(), "transit");
    assert!(!p.is_binary());
    let e = p.unpack(false, PackedRef::Binary(b"[1]"));
    assert_eq!(
        e.map_err(|e| e.kind()),
        Err(UnpackErrorKind::WrongPayloadKind)
    );
}

#[test]
fn nesting_is_bounded_both_ways() {
    let limit = crate::edn::DEFAULT_MAX_DEPTH;
    for deep in [
        "[".repeat(100_000),
        "[\"~#'\",".repeat(100_000),
        "{\"a\":".repeat(100_000),
        "[\"~#set\",[".repeat(100_000),
    ] {
        assert_eq!(unpack_err(&deep).kind(), UnpackErrorKind::TooDeep);
    }
    let ok = format!("{}{}", "[".repeat(limit), "]".repeat(limit));
    assert_eq!(unpack(&ok).depth(), limit);
    let mut v = Value::Nil;
    for _ in 0..limit - 1 {
        v = Value::set([v]);
    }
    assert_eq!(unpack(&pack(&v)), v);
    let too_deep = Value::set([v]);
    assert!(matches!(
        TransitPacker::new().pack(true, &too_deep),
        Err(PackError::TooDeep { .. })
    ));
    let small = TransitPacker::new().with_max_depth(2);
    assert!(small.pack(true, &vec_of([1.into()])).is_ok());
    assert!(small.pack(true, &vec_of([vec_of([1.into()])])).is_err());
    assert_eq!(
        small
            .unpack(true, PackedRef::Text("[[1]]"))
            .map_err(|e| e.kind()),
        Err(UnpackErrorKind::TooDeep)
    );
}

/// transit-clj reads `"ratio"` as `(/ n d)` (cognitect.transit's default
/// read handlers), with `"~n…"` parts as BigInts and JSON integers as
/// Longs: lowest terms, and an exact quotient of BigInts is a BigInt.
#[test]
fn ratios_read_as_transit_clj_divides_them() {
    let two = unpack(r#"["~#ratio",["~n4","~n2"]]"#);
    assert!(
        matches!(&two, Value::BigInt(b) if b.as_str() == "2"),
        "{two}"
    );
    assert!(matches!(unpack(r#"["~#ratio",[4,2]]"#), Value::Int(2)));
    assert_eq!(
        unpack(r#"["~#ratio",["~n-3","~n9"]]"#),
        Value::ratio(BigInt::from_i128(-1), BigInt::from_i128(3)).unwrap()
    );
    assert_eq!(unpack(r#"["~#ratio",["~n0","~n5"]]"#), Value::Int(0));
    assert_eq!(unpack(r#"["~#ratio",["~n6","~n-4"]]"#).to_string(), "-3/2");
}

/// BigDecimals read as transit-clj reads `"~f…"` (`new BigDecimal(text)`)
/// and write as transit-java writes them (`BigDecimal.toString`).
#[test]
fn big_decimals_are_canonical_java_text() {
    assert_eq!(unpack(r#"["~#'","~f1e2"]"#).to_string(), "1E+2M");
    assert_eq!(
        pack(&Value::BigDec(BigDec::parse("-0.0").unwrap())),
        r#"["~#'","~f0.0"]"#
    );
    assert_eq!(
        pack(&Value::BigDec(BigDec::parse("0.00000001").unwrap())),
        r#"["~#'","~f1E-8"]"#
    );
}

/// Keywords whose text starts with a digit travel as `"~:1"` and read back.
#[test]
fn digit_keywords_round_trip() {
    for text in ["1", "+1", "-1", "1/a"] {
        let v = Value::map([(kw(text), kw(text))]);
        let packed = pack(&v);
        assert_eq!(unpack(&packed), v, "{packed}");
    }
    assert_eq!(pack(&vec_of([kw("1"), kw("-1")])), r#"["~:1","~:-1"]"#);
}
