//! Unpacking arbitrary bytes with the bincode packer returns a value or an error, never panics;
//! whatever unpacks packs again and unpacks to an equal value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sente::packer::{BincodePacker, PackedRef, Packer};

fuzz_target!(|data: &[u8]| {
    let p = BincodePacker::new();
    for websocket in [true, false] {
        if let Ok(v) = p.unpack(websocket, PackedRef::Binary(data)) {
            if let Ok(packed) = p.pack(websocket, &v) {
                let again = p.unpack(websocket, packed.as_ref()).expect("our own output must unpack");
                assert_eq!(again, v);
            }
        }
    }
});
