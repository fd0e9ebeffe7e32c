//! Unpacking arbitrary text with the json packer returns a value or an error, never panics;
//! whatever unpacks packs again and unpacks to an equal value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sente::packer::{JsonPacker, PackedRef, Packer};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let p = JsonPacker::new();
    if let Ok(v) = p.unpack(true, PackedRef::Text(text)) {
        if let Ok(packed) = p.pack(true, &v) {
            let again = p.unpack(true, packed.as_ref()).expect("our own output must unpack");
            assert_eq!(again, v);
        }
    }
});
