use super::*;
use crate::codec::UnpackErrorKind;
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

/// Keywords whose text starts with a digit, or a sign or dot and a digit:
/// Clojure reads and prints them (`EdnReader.matchSymbol`: `symbolPat`
/// only wants a non-digit first character, and the colon is one;
/// tools.reader's `parse-symbol` has no first-character rule). A name
/// after a namespace still may not start with a digit (`:a/1` is invalid
/// in both), and `::a`, `:a:` are refused as both refuse them.
#[test]
fn reads_and_prints_keywords_that_start_with_a_digit() {
    for text in [":1", ":+1", ":-1", ":1/a", ":123abc", ":1.5", ":-1/x", ":0"] {
        let v = from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(matches!(v, Value::Keyword(_)), "{text}");
        assert_eq!(to_string(&v).unwrap(), text);
    }
    assert_eq!(
        from_str("{:1 \"a\" :2 \"b\"}").unwrap(),
        Value::map([
            (Value::keyword("1"), Value::from("a")),
            (Value::keyword("2"), Value::from("b")),
        ])
    );
    let k = Keyword::new("1/a");
    assert_eq!((k.namespace(), k.name()), (Some("1"), "a"));
    assert!(Keyword::new("1").is_readable());
    // Symbols keep the number rule: `1a` is no symbol, `-1` is a number.
    assert!(!crate::value::Symbol::new("1a").is_readable());
    assert_eq!(from_str("-1").unwrap(), Value::from(-1));
    for bad in [":a/1", "::a", ":a:", ":1/", ":"] {
        assert!(from_str(bad).is_err(), "{bad}");
    }
}

/// `^meta form`: Clojure's EDN readers (`EdnReader.MetaReader.invoke`,
/// tools.reader's edn `read-meta`) read the metadata, which must be a
/// symbol, keyword, string or map, and attach it to the form, which must
/// take metadata (a symbol or a collection). `pr-str` does not print
/// metadata, so the value is the form alone.
#[test]
fn reads_metadata_and_drops_it() {
    assert_eq!(rt("^{:a 1} [1]"), "[1]");
    assert_eq!(rt("^:k [1]"), "[1]");
    assert_eq!(rt("^:a ^:b ^{:c 1} {:x 1}"), "{:x 1}");
    assert_eq!(rt("[^:k x ^String y ^\"t\" (1) ^:k #{}]"), "[x y (1) #{}]");
    assert_eq!(rt("^ :k , [1]"), "[1]");
    assert_eq!(rt("^^:m {:a 1} [2]"), "[2]");
    assert_eq!(rt("[#_ ^:k [1] 2]"), "[2]");
    assert_eq!(
        from_str("{^:k [1] 2}").unwrap(),
        Value::map([(Value::vector([Value::from(1)]), Value::from(2))])
    );
    for bad in [
        "^:k 1",
        "^:k :a",
        "^:k \"s\"",
        "^1 [1]",
        "^[1] [2]",
        "^:k",
        "^",
        "[^:k]",
    ] {
        assert!(from_str(bad).is_err(), "{bad}");
    }
    assert_eq!(
        from_str("^:k #inst \"2024-01-01T00:00:00.000-00:00\"")
            .unwrap_err()
            .kind(),
        UnpackErrorKind::Syntax
    );
    // Metadata nests like any form: its own depth counts.
    let meta_chain = "^:k ".repeat(100_000) + "[1]";
    assert!(from_str(&meta_chain).is_ok());
    let deep_meta = "^".repeat(100_000) + ":k [1]";
    assert_eq!(
        from_str(&deep_meta).unwrap_err().kind(),
        UnpackErrorKind::TooDeep
    );
}

/// Ratio literals are divided as Clojure's reader divides them
/// (`EdnReader.matchNumber`: `Numbers.divide(reduceBigInt(n),
/// reduceBigInt(d))`, then `LongOps.divide` / `Numbers.divide(BigInteger,
/// BigInteger)`): lowest terms, sign on the numerator, a `Long` when exact
/// and both parts are longs, a `BigInt` (`N`) when a part is bigger.
#[test]
fn reads_ratios_as_clojure_divides_them() {
    assert_eq!(rt("4/2"), "2");
    assert_eq!(rt("-3/9"), "-1/3");
    assert_eq!(rt("+6/4"), "3/2");
    assert_eq!(rt("0/5"), "0");
    assert_eq!(rt("-0/5"), "0");
    assert_eq!(rt("7/1"), "7");
    assert_eq!(rt("1/3"), "1/3");
    assert_eq!(from_str("4/2").unwrap(), Value::Int(2));
    assert_eq!(rt("-9223372036854775808/2"), "-4611686018427387904");
    assert_eq!(
        rt("-9223372036854775808/9223372036854775807"),
        "-9223372036854775808/9223372036854775807"
    );
    // A part beyond the long range: BigIntOps, so an exact result is a BigInt.
    assert_eq!(rt("18446744073709551616/2"), "9223372036854775808N");
    assert_eq!(rt("18446744073709551616/18446744073709551616"), "1N");
    assert_eq!(rt("0/18446744073709551616"), "0N");
    assert_eq!(rt("6/18446744073709551616"), "3/9223372036854775808");
    // Beyond 128 bits: a big-integer gcd (BigInteger.gcd in
    // Numbers.divide(BigInteger, BigInteger)), for parts up to 100 digits.
    let big = "1".repeat(50);
    assert_eq!(rt(&format!("{big}/1")), format!("{big}N"));
    assert_eq!(rt(&format!("-{big}/{big}")), "-1N");
    assert_eq!(
        rt(
            "4820814132776970826625886277023487807566608981348378505904128/11408855402054064613470328848384"
        ),
        "1267650600228229401496703205376/3"
    );
    assert_eq!(
        rt("11408855402054064613470328848384/3802951800684688204490109616128"),
        "3N"
    );
    // Longer parts are kept as written (the work a peer can ask for is bounded).
    let long = "1".repeat(101);
    assert_eq!(rt(&format!("-{long}/{long}")), format!("-{long}/{long}"));
    assert_eq!(rt(&format!("0/{long}")), "0N");
    assert!(from_str("1/0").is_err());
    assert!(from_str("0/0").is_err());
}

/// BigDecimal literals print as Clojure prints them: `str` of
/// `new java.math.BigDecimal(text)` (`EdnReader.matchNumber`), i.e.
/// `BigDecimal.toString`: scientific notation when the scale is negative or
/// the adjusted exponent is below -6, the scale kept, no negative zero.
#[test]
fn reads_big_decimals_as_java_prints_them() {
    for (text, printed) in [
        ("1.5M", "1.5M"),
        ("1.50M", "1.50M"),
        ("-0.0M", "0.0M"),
        ("-0M", "0M"),
        ("+1.5M", "1.5M"),
        ("1e2M", "1E+2M"),
        ("1.5e3M", "1.5E+3M"),
        ("12e-1M", "1.2M"),
        ("1e-8M", "1E-8M"),
        ("0.00000001M", "1E-8M"),
        ("0.000001M", "0.000001M"),
        ("0.0000001M", "1E-7M"),
        ("123.456e-10M", "1.23456E-8M"),
        ("0.00000000M", "0E-8M"),
        ("0e5M", "0E+5M"),
        ("1.M", "1M"),
        ("100M", "100M"),
        ("1E0M", "1M"),
        ("-12.5e+1M", "-125M"),
        ("007.50M", "7.50M"),
        ("1e-6M", "0.000001M"),
        ("10e-7M", "0.0000010M"),
        ("123456789.123e5M", "1.23456789123E+13M"),
        ("1.0e1M", "10M"),
        ("1e+0010M", "1E+10M"),
    ] {
        assert_eq!(rt(text), printed, "{text}");
        assert_eq!(rt(printed), printed, "{printed} reads back as itself");
    }
    assert!(from_str("1e99999999999M").is_err());
    assert!(from_str("1e2147483648M").is_err());
}
