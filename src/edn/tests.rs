use super::*;
use crate::packer::UnpackErrorKind;
use crate::value::{Inst, Keyword, Uuid};

fn rt(text: &str) -> String {
    to_string(&from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))).unwrap()
}

#[test]
fn prints_maps_like_pr_str() {
    let v = Value::map([
        (Value::keyword("n"), Value::from(1)),
        (Value::keyword("s"), Value::from("hi there")),
    ]);
    assert_eq!(to_string(&v).unwrap(), r#"{:n 1, :s "hi there"}"#);
    assert_eq!(to_string(&Value::map([])).unwrap(), "{}");
}

#[test]
fn prints_tagged_literals() {
    let u = Uuid::parse_str("0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11").unwrap();
    assert_eq!(
        to_string(&Value::Uuid(u)).unwrap(),
        r#"#uuid "0b4c7e0e-4d2a-4a4e-9b8f-3f1d0f3d2a11""#
    );
    assert_eq!(
        to_string(&Value::Inst(Inst::from_millis(1_704_067_200_000))).unwrap(),
        r##"#inst "2024-01-01T00:00:00.000-00:00""##
    );
    assert_eq!(rt("#my/tag [1 2]"), "#my/tag [1 2]");
    assert_eq!(rt("#sente/bytes \"AAEC\""), "#sente/bytes \"AAEC\"");
}

#[test]
fn reads_whitespace_comments_and_discards() {
    assert_eq!(rt("[1,2 , 3]"), "[1 2 3]");
    assert_eq!(rt("; hi\n[1 #_ 2 3] ; bye"), "[1 3]");
    assert_eq!(rt("[#_ #_ 1 2 3]"), "[3]");
    assert_eq!(rt("  "), "nil");
    assert_eq!(rt(""), "nil");
}

#[test]
fn reads_numbers() {
    assert_eq!(
        rt("[1 -2 +3 123N 1.5 1.5M 1/3 -1/2 0x1F 017 2r101 1e3 36rZZ]"),
        "[1 -2 3 123N 1.5 1.5M 1/3 -1/2 31 15 5 1000.0 1295]"
    );
    assert_eq!(rt("9223372036854775808"), "9223372036854775808N");
    assert_eq!(rt("-9223372036854775808"), "-9223372036854775808");
    assert_eq!(rt("[##Inf ##-Inf ##NaN]"), "[##Inf ##-Inf ##NaN]");
    assert!(from_str("1/0").is_err());
    assert!(from_str("08").is_err());
    assert!(from_str("1.2.3").is_err());
}

#[test]
fn reads_strings_and_chars() {
    assert_eq!(
        from_str(r#""a\tb\u00e9\"\\\101""#).unwrap(),
        Value::from("a\tbé\"\\A")
    );
    assert_eq!(from_str(r#""\ud83d\ude00""#).unwrap(), Value::from("😀"));
    assert_eq!(
        rt(r"[\a \newline \space \u0041 \o101 \é]"),
        r"[\a \newline \space \A \A \é]"
    );
    assert_eq!(from_str(r"\(").unwrap(), Value::Char('('));
    assert!(from_str(r"\foo").is_err());
}

#[test]
fn reads_names() {
    assert_eq!(
        from_str(":chsk/handshake").unwrap(),
        Value::Keyword(Keyword::new("chsk/handshake"))
    );
    assert_eq!(
        rt("[foo my.ns/bar / + - nil true false]"),
        "[foo my.ns/bar / + - nil true false]"
    );
    assert_eq!(rt("#:a{:b 1 :_/c 2 :d/e 3}"), "{:a/b 1, :c 2, :d/e 3}");
    assert!(from_str("::auto").is_err());
    assert!(from_str(":").is_err());
}

#[test]
fn reads_collections() {
    assert_eq!(
        rt("(1 (2) [3 #{4}] {[1] {:a nil}})"),
        "(1 (2) [3 #{4}] {[1] {:a nil}})"
    );
    let err = from_str("{:a 1 :a 2}").unwrap_err();
    assert_eq!(err.kind(), UnpackErrorKind::DuplicateKey);
    assert_eq!(
        from_str("#{1 1}").unwrap_err().kind(),
        UnpackErrorKind::DuplicateKey
    );
    assert_eq!(
        from_str("{:a}").unwrap_err().kind(),
        UnpackErrorKind::Syntax
    );
}

#[test]
fn errors_carry_offsets() {
    let e = from_str("[1 2").unwrap_err();
    assert_eq!(e.kind(), UnpackErrorKind::UnexpectedEnd);
    assert_eq!(e.offset(), Some(4));
    let e = from_str("[1] 2").unwrap_err();
    assert_eq!(e.kind(), UnpackErrorKind::TrailingInput);
    assert_eq!(e.offset(), Some(4));
    let e = from_str("{not edn").unwrap_err();
    assert_eq!(e.kind(), UnpackErrorKind::UnexpectedEnd);
    assert_eq!(from_str("]").unwrap_err().offset(), Some(0));
    assert_eq!(
        from_str("#uuid \"nope\"").unwrap_err().kind(),
        UnpackErrorKind::InvalidLiteral
    );
    assert_eq!(from_str("@x").unwrap_err().kind(), UnpackErrorKind::Syntax);
    assert!(e.to_string().contains("edn unpack failed"));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = "[".repeat(100_000);
    assert_eq!(
        from_str(&deep).unwrap_err().kind(),
        UnpackErrorKind::TooDeep
    );
    let deep_discard = format!("#_{}", "(".repeat(100_000));
    assert_eq!(
        from_str(&deep_discard).unwrap_err().kind(),
        UnpackErrorKind::TooDeep
    );
    // Every nesting form, 100,000 deep, including discards inside
    // collections (each discarded form is read at the depth it sits at) and
    // runs of `#_` (counted, not recursed into).
    for unit in [
        "[#_", "(#_", "{:a #_", "#{#_", "#_", "#_#_", "#foo ", "#:ns{:a ", "{", "#{",
    ] {
        let hostile = unit.repeat(100_000);
        assert!(from_str(&hostile).is_err(), "{unit}");
    }
    for unit in ["[#_", "(#_", "#{#_", "#foo "] {
        let hostile = unit.repeat(100_000);
        assert_eq!(
            from_str(&hostile).unwrap_err().kind(),
            UnpackErrorKind::TooDeep,
            "{unit}"
        );
    }
    // A discarded form counts at the depth it sits at: one level fewer fits.
    let inner = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(from_str(&format!("[#_{} 1]", inner(DEFAULT_MAX_DEPTH - 1))).is_ok());
    assert_eq!(
        from_str(&format!("[#_{} 1]", inner(DEFAULT_MAX_DEPTH)))
            .unwrap_err()
            .kind(),
        UnpackErrorKind::TooDeep
    );
    // `#_ #_ a b` discards both; a dangling discard is an error.
    assert_eq!(
        from_str("[#_ #_ 1 2 3]").unwrap(),
        Value::vector([Value::from(3)])
    );
    assert_eq!(
        from_str("[1 #_]").unwrap_err().kind(),
        UnpackErrorKind::Syntax
    );
    assert_eq!(
        from_str("#_ #_ 1").unwrap_err().kind(),
        UnpackErrorKind::UnexpectedEnd
    );
    let ok = format!(
        "{}{}",
        "[".repeat(DEFAULT_MAX_DEPTH),
        "]".repeat(DEFAULT_MAX_DEPTH)
    );
    assert!(from_str(&ok).is_ok());
    let mut v = Value::Nil;
    for _ in 0..DEFAULT_MAX_DEPTH + 1 {
        v = Value::vector([v]);
    }
    assert!(matches!(to_string(&v), Err(PackError::TooDeep { .. })));
}
