//! Decoding arbitrary client bytes as WebSocket frames, split at arbitrary
//! points, never panics, always makes progress, and never claims more bytes
//! than it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sente::ws::Decoder;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the read size, the rest is the stream.
    let Some((&step, stream)) = data.split_first() else { return };
    let step = usize::from(step).max(1);
    let mut dec = Decoder::new(4096);
    for chunk in stream.chunks(step) {
        let mut at = 0;
        while at < chunk.len() {
            match dec.decode(&chunk[at..]) {
                Ok((used, _item)) => {
                    // Progress on every call, and never past the input.
                    assert!(used > 0 && used <= chunk.len() - at);
                    at += used;
                }
                Err(_) => return,
            }
        }
    }
});
