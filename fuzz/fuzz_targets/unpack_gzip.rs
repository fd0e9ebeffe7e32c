//! Unpacking arbitrary bytes with the gzip wrapper (around EDN) never panics
//! and never inflates past its bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sente::packer::{EdnPacker, GzipPacker, PackedRef, Packer};

fuzz_target!(|data: &[u8]| {
    let p = GzipPacker::new(EdnPacker::new());
    let _ = p.unpack(false, PackedRef::Binary(data));
});
