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
    fn edn_unpack_never_panics(s in "\\PC{0,64}") {
        let _ = EdnPacker::new().unpack(false, PackedRef::Text(&s));
    }

    #[test]
    fn edn_unpack_of_edn_like_text_never_panics(s in "[\\[\\]{}()#_:;\\\\\"a-z0-9 ./NM^@~`'-]{0,64}") {
        let _ = EdnPacker::new().unpack(false, PackedRef::Text(&s));
    }
}
