//! The bincode packer: exact round-trips of every value, and no panics or
//! runaway allocation on arbitrary bytes.
#![cfg(feature = "bincode")]

mod support;

use proptest::prelude::*;
use sente::packer::{BincodePacker, PackedRef, Packer, UnpackErrorKind};
use support::{Caps, arb_value};

fn unpack(bytes: &[u8]) -> Result<sente::Value, sente::packer::UnpackError> {
    BincodePacker::new().unpack(true, PackedRef::Binary(bytes))
}

#[test]
fn hostile_nesting_is_too_deep_not_a_stack_overflow() {
    // 11 = Vector, 12 = List, 13 = Map, 14 = Set, 18 = Tagged "t"; each claims one element.
    for level in [&[11u8, 1][..], &[12, 1], &[13, 1], &[14, 1], &[18, 1, b't']] {
        let bytes = level.repeat(100_000);
        assert_eq!(
            unpack(&bytes).unwrap_err().kind(),
            UnpackErrorKind::TooDeep,
            "{level:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Equal values, and the same EDN text, which also tells vectors from
    /// lists, `1` from `1N` and `-0.0` from `0.0`.
    #[test]
    fn bincode_round_trips_every_value_exactly(v in arb_value(Caps::ALL)) {
        let p = BincodePacker::new();
        let packed = p.pack(true, &v).unwrap();
        prop_assert!(packed.is_binary());
        let back = p.unpack(true, packed.as_ref()).unwrap();
        prop_assert_eq!(back.to_string(), v.to_string());
        prop_assert_eq!(back, v);
    }

    /// Whatever unpacks packs again and unpacks to an equal value.
    #[test]
    fn bincode_unpack_of_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(v) = unpack(&bytes) {
            let p = BincodePacker::new();
            let packed = p.pack(true, &v).unwrap();
            prop_assert_eq!(p.unpack(true, packed.as_ref()).unwrap(), v);
        }
    }

    /// Bytes that mostly are small variant indexes and lengths reach deeper
    /// into the decoder than uniform noise does.
    #[test]
    fn bincode_unpack_of_bincode_like_bytes_never_panics(bytes in proptest::collection::vec(0u8..24, 0..64)) {
        let _ = unpack(&bytes);
    }

    #[test]
    fn bincode_unpack_of_damaged_values_never_panics(
        v in arb_value(Caps::ALL),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<bool>(),
    ) {
        let mut bytes = BincodePacker::new().pack(true, &v).unwrap().as_bytes().to_vec();
        let i = at.index(bytes.len());
        if cut {
            bytes.truncate(i);
            prop_assert!(unpack(&bytes).is_err());
        } else {
            bytes[i] = byte;
            let _ = unpack(&bytes);
        }
    }
}
