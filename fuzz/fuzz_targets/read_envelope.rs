//! Reading arbitrary payloads as client or server messages never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sente::packer::{EdnPacker, MsgpackPacker, PackedRef, TransitPacker};
use sente::wire::{read_ajax_reply, read_client_message, read_server_message};

fuzz_target!(|data: &[u8]| {
    let msgpack = MsgpackPacker::new();
    let _ = read_client_message(&msgpack, true, PackedRef::Binary(data));
    let _ = read_server_message(&msgpack, false, PackedRef::Binary(data));
    let Ok(text) = std::str::from_utf8(data) else { return };
    for p in [&EdnPacker::new() as &dyn sente::Packer, &TransitPacker::new()] {
        let _ = read_client_message(p, true, PackedRef::Text(text));
        let _ = read_server_message(p, true, PackedRef::Text(text));
        let _ = read_ajax_reply(p, PackedRef::Text(text));
    }
});
