//! Inputs found by `fuzz/run` (cargo-fuzz, see README.md, "Fuzzing"), fed to
//! the same API their fuzz target calls.
#![cfg(feature = "edn")]

use sente::packer::{EdnPacker, PackedRef, Packer};

/// `unpack_edn`'s check: unpacking arbitrary text returns a value or an error;
/// these inputs are not EDN, so they must come back as an error.
fn edn_rejects(input: &[u8]) {
    let text = std::str::from_utf8(input).expect("the fuzz input is UTF-8");
    let p = EdnPacker::new();
    if let Ok(v) = p.unpack(true, PackedRef::Text(text)) {
        let again = p
            .pack(true, &v)
            .map(|packed| p.unpack(true, packed.as_ref()));
        panic!(
            "{text:?} is not EDN but unpacked to {v:?}; packing that and unpacking it again gives {again:?}"
        );
    }
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// `#::{\0 \0}` (minimised by `cargo fuzz tmin`): the auto-resolved namespaced
/// map prefix `#::` was read as the namespace ":", so the key became the
/// symbol `:/\0`, which the writer emits as text the reader refuses
/// ("our own output must unpack": invalid keyword `:/\0`).
#[test]
fn edn_auto_resolved_namespaced_map_is_an_error() {
    edn_rejects(b"#::{\x00 \x00}");
}

/// The input as first found (141 bytes): the `#::...{` prefix qualifies a
/// symbol key with a namespace starting with ':', which packs as
/// `:ns/name` and unpacks as a keyword, so the round trip is unequal.
#[test]
fn edn_colon_namespace_prefix_is_an_error() {
    let input = unhex(concat!(
        "233a3a0100233a01000047474747472326237b0700000000000000000000002f",
        "0000000000000000000000000000002000000000000000000000000000000000",
        "0000000000000000000000000020000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000a00000000000000000000",
        "0000000000000000000000007d",
    ));
    assert_eq!(input.len(), 141);
    edn_rejects(&input);
}
