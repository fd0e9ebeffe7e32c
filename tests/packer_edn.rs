//! Property tests of the EDN packer: round-trips and no panics on arbitrary input.
#![cfg(feature = "edn")]
mod support;

use proptest::prelude::*;
use sente::packer::{EdnPacker, PackedRef, Packer};
use support::{Caps, arb_value};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn edn_round_trips(v in arb_value(Caps::ALL)) {
        let p = EdnPacker::new();
        let packed = p.pack(true, &v).unwrap();
        let back = p.unpack(true, packed.as_ref()).unwrap();
        prop_assert_eq!(back, v);
    }

    #[test]
    fn edn_pack_pair_is_the_pack_of_the_vector(a in arb_value(Caps::ALL), b in arb_value(Caps::ALL)) {
        let p = EdnPacker::new();
        let pair = p.pack_pair(true, &a, &b).unwrap();
        let vector = p.pack(true, &sente::Value::Vector(vec![a, b])).unwrap();
        prop_assert_eq!(pair, vector);
    }

    #[test]
    fn edn_unpack_never_panics(s in "\\PC{0,64}") {
        let _ = EdnPacker::new().unpack(false, PackedRef::Text(&s));
    }

    #[test]
    fn edn_unpack_of_edn_like_text_never_panics(s in "[\\[\\]{}()#_:;\\\\\"a-z0-9 ./NM^@~`'-]{0,64}") {
        let _ = EdnPacker::new().unpack(false, PackedRef::Text(&s));
    }
}

#[test]
fn edn_pack_pair_keeps_the_depth_bound() {
    use sente::Value;
    let deep = (0..10).fold(Value::Nil, |v, _| Value::Vector(vec![v]));
    let p = EdnPacker::new().with_max_depth(11);
    assert!(
        p.pack(true, &Value::Vector(vec![deep.clone(), Value::Nil]))
            .is_err()
    );
    assert!(p.pack_pair(true, &deep, &Value::Nil).is_err());
    let p = EdnPacker::new().with_max_depth(12);
    assert_eq!(
        p.pack_pair(true, &deep, &Value::Nil).unwrap(),
        p.pack(true, &Value::Vector(vec![deep, Value::Nil]))
            .unwrap()
    );
}
