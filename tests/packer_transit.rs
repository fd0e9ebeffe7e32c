//! Property tests of the transit packer: round-trips in both formats, no
//! panics on arbitrary input, bounded nesting, errors with offsets.
#![cfg(feature = "transit")]
mod support;

use proptest::prelude::*;
use sente::Value;
use sente::edn::DEFAULT_MAX_DEPTH;
use sente::packer::{PackError, PackedRef, Packer, TransitPacker, UnpackErrorKind};
use support::{Caps, arb_value};

/// What transit carries exactly: everything but sub-millisecond instants.
const TRANSIT: Caps = Caps {
    inst_nanos: false,
    ..Caps::ALL
};

fn round_trip(p: &TransitPacker, v: &Value) -> Result<(), TestCaseError> {
    let packed = p
        .pack(true, v)
        .map_err(|e| TestCaseError::fail(format!("pack {v}: {e}")))?;
    prop_assert!(!packed.is_binary());
    let back = p
        .unpack(true, packed.as_ref())
        .map_err(|e| TestCaseError::fail(format!("unpack {packed:?}: {e}")))?;
    prop_assert_eq!(&back, v, "through {:?}", packed);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn transit_round_trips(v in arb_value(TRANSIT)) {
        round_trip(&TransitPacker::new(), &v)?;
    }

    #[test]
    fn verbose_round_trips(v in arb_value(TRANSIT)) {
        round_trip(&TransitPacker::verbose(), &v)?;
    }

    #[test]
    fn maps_with_composite_keys_round_trip(
        entries in proptest::collection::vec((arb_value(TRANSIT), arb_value(TRANSIT)), 0..5),
    ) {
        let m = Value::map(entries);
        round_trip(&TransitPacker::new(), &Value::vector([m.clone(), m.clone()]))?;
        round_trip(&TransitPacker::verbose(), &m)?;
    }

    #[test]
    fn both_formats_read_each_other(v in arb_value(TRANSIT)) {
        let compact = TransitPacker::new();
        let verbose = TransitPacker::verbose();
        let text = verbose.pack(false, &v).unwrap();
        prop_assert_eq!(compact.unpack(false, text.as_ref()).unwrap(), v.clone());
        let text = compact.pack(false, &v).unwrap();
        prop_assert_eq!(verbose.unpack(false, text.as_ref()).unwrap(), v);
    }

    #[test]
    fn transit_unpack_never_panics(s in "\\PC{0,64}") {
        let _ = TransitPacker::new().unpack(false, PackedRef::Text(&s));
    }

    #[test]
    fn transit_unpack_of_transit_like_text_never_panics(
        s in r#"[\[\]{}",:~^#`$ 0-9a-z.eE+\\-]{0,64}"#,
    ) {
        let _ = TransitPacker::new().unpack(false, PackedRef::Text(&s));
    }

    /// Whatever unpacks packs again to text that unpacks to an equal value.
    #[test]
    fn what_unpacks_repacks(s in r#"\[("(~[:$#_?icnfbzmtdu'x]|\^[0-9 ]?)?[a-z0-9]{0,3}"|[0-9]|null|\[\]|,){0,12}\]"#) {
        let p = TransitPacker::new();
        if let Ok(v) = p.unpack(false, PackedRef::Text(&s)) {
            match p.pack(false, &v) {
                Ok(packed) => prop_assert_eq!(p.unpack(false, packed.as_ref()).unwrap(), v),
                Err(e) => prop_assert!(matches!(e, PackError::Unsupported { .. }), "{}", e),
            }
        }
    }
}

#[test]
fn deeply_nested_input_is_too_deep_not_a_stack_overflow() {
    let p = TransitPacker::new();
    for open in [
        "[",
        "{\"k\":",
        "[\"~#set\",[",
        "[\"~#list\",[",
        "[\"~#'\",",
        "[\"~#x\",",
        "[\"^ \",\"k\",",
    ] {
        let deep = open.repeat(100_000);
        let e = p.unpack(true, PackedRef::Text(&deep)).unwrap_err();
        assert_eq!(e.kind(), UnpackErrorKind::TooDeep, "{open}");
        assert!(e.offset().is_some());
    }
}

#[test]
fn values_at_the_depth_limit_round_trip_and_one_more_level_fails() {
    type Wrap = fn(Value) -> Value;
    let wraps: [(&str, Wrap); 6] = [
        ("vector", |v| Value::vector([v])),
        ("list", |v| Value::List(vec![v])),
        ("set", |v| Value::set([v])),
        ("map value", |v| Value::map([(Value::keyword("k"), v)])),
        ("map key", |v| Value::map([(v, Value::Nil)])),
        ("tagged", |v| Value::tagged("my/tag", v)),
    ];
    for p in [TransitPacker::new(), TransitPacker::verbose()] {
        for (name, wrap) in wraps {
            let mut v = Value::from(1);
            for _ in 1..DEFAULT_MAX_DEPTH {
                v = wrap(v);
            }
            assert_eq!(v.depth(), DEFAULT_MAX_DEPTH);
            let packed = p.pack(true, &v).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(p.unpack(true, packed.as_ref()).unwrap(), v, "{name}");
            let deeper = wrap(v);
            assert!(
                matches!(p.pack(true, &deeper), Err(PackError::TooDeep { .. })),
                "{name}"
            );
        }
    }
}

#[test]
fn malformed_input_errors_carry_offsets() {
    let p = TransitPacker::new();
    let cases = [
        (
            r#"[["~:my/ev",null],"~:ajax""#,
            UnpackErrorKind::UnexpectedEnd,
            26,
        ),
        (r#"[["~:my/ev",null] "x"]"#, UnpackErrorKind::Syntax, 18),
        (r#"["~:chsk/ws-ping",nul]"#, UnpackErrorKind::Syntax, 18),
        (r#"["~:a",] "#, UnpackErrorKind::Syntax, 7),
        (r#"["~uzzz",null]"#, UnpackErrorKind::InvalidLiteral, 1),
        (r#"["~:a","^5"]"#, UnpackErrorKind::InvalidLiteral, 7),
        (r#"[1] [2]"#, UnpackErrorKind::TrailingInput, 4),
        ("", UnpackErrorKind::UnexpectedEnd, 0),
    ];
    for (text, kind, offset) in cases {
        let e = p.unpack(false, PackedRef::Text(text)).unwrap_err();
        assert_eq!((e.kind(), e.offset()), (kind, Some(offset)), "{text}: {e}");
        assert!(e.to_string().starts_with("transit unpack failed"), "{e}");
    }
}

#[test]
fn binary_frames_are_rejected() {
    let p = TransitPacker::new();
    assert_eq!(p.name(), "transit");
    assert!(!p.is_binary());
    let e = p
        .unpack(true, PackedRef::Binary(br#"["~:chsk/ws-ping",null]"#))
        .unwrap_err();
    assert_eq!(e.kind(), UnpackErrorKind::WrongPayloadKind);
}
