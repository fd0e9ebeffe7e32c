//! Unit tests of the frame decoder and encoder (no sockets).

use proptest::prelude::*;

use super::frame::{apply_mask, close_payload, server_header};
use super::{Decoded, Decoder, ProtocolError};
use crate::packer::Packed;

const MASK: [u8; 4] = [0x37, 0xFA, 0x21, 0x3D];

/// A client frame: header (with the 7/16/64-bit length), mask, masked payload.
fn client_frame(fin: bool, opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | opcode];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    let start = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[start..], mask, 0);
    out
}

/// Decodes all of `input`, fed in pieces of `step` bytes.
fn decode_all(dec: &mut Decoder, input: &[u8], step: usize) -> Result<Vec<Decoded>, ProtocolError> {
    let mut items = Vec::new();
    for piece in input.chunks(step.max(1)) {
        let mut at = 0;
        while at < piece.len() {
            let (used, item) = dec.decode(&piece[at..])?;
            at += used;
            items.extend(item);
        }
    }
    Ok(items)
}

fn text(s: &str) -> Decoded {
    Decoded::Message(Packed::Text(s.to_owned()))
}

fn error_of(input: &[u8]) -> ProtocolError {
    decode_all(&mut Decoder::new(1 << 20), input, input.len()).expect_err("should fail")
}

#[test]
fn masked_text_frame_decodes_whatever_the_read_sizes() {
    let frame = client_frame(true, 1, b"[:chsk/ws-ping]", MASK);
    for step in 1..=frame.len() {
        let mut dec = Decoder::new(1024);
        assert_eq!(
            decode_all(&mut dec, &frame, step),
            Ok(vec![text("[:chsk/ws-ping]")])
        );
        assert!(dec.is_idle());
    }
}

#[test]
fn two_frames_in_one_read_come_out_one_at_a_time() {
    let mut input = client_frame(true, 1, b"one", MASK);
    input.extend(client_frame(true, 2, &[1, 2, 3], [9, 8, 7, 6]));
    let mut dec = Decoder::new(1024);
    let (used, first) = dec.decode(&input).unwrap();
    assert_eq!(first, Some(text("one")));
    assert_eq!(used, 9);
    let (used2, second) = dec.decode(&input[used..]).unwrap();
    assert_eq!(
        second,
        Some(Decoded::Message(Packed::Binary(vec![1, 2, 3])))
    );
    assert_eq!(used + used2, input.len());
}

#[test]
fn sixteen_and_sixty_four_bit_lengths() {
    for len in [125usize, 126, 127, 65_535, 65_536, 200_000] {
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let frame = client_frame(true, 2, &payload, MASK);
        let mut dec = Decoder::new(1 << 20);
        assert_eq!(
            decode_all(&mut dec, &frame, 4096),
            Ok(vec![Decoded::Message(Packed::Binary(payload))]),
            "length {len}"
        );
    }
}

#[test]
fn fragments_assemble_with_control_frames_between_them() {
    // "héllo" split inside the two-byte é: valid only once assembled.
    let bytes = "héllo".as_bytes();
    let mut input = client_frame(false, 1, &bytes[..2], MASK);
    input.extend(client_frame(true, 9, b"are you there", MASK));
    input.extend(client_frame(false, 0, &bytes[2..4], [1, 2, 3, 4]));
    input.extend(client_frame(true, 0xA, b"", MASK));
    input.extend(client_frame(true, 0, &bytes[4..], [5, 6, 7, 8]));
    for step in [1, 3, 7, input.len()] {
        let mut dec = Decoder::new(1024);
        assert_eq!(
            decode_all(&mut dec, &input, step),
            Ok(vec![
                Decoded::Ping(b"are you there".to_vec()),
                Decoded::Pong(Vec::new()),
                text("héllo"),
            ])
        );
    }
}

#[test]
fn empty_messages_and_frames() {
    let mut input = client_frame(true, 1, b"", MASK);
    input.extend(client_frame(false, 2, b"", MASK));
    input.extend(client_frame(true, 0, b"", MASK));
    let mut dec = Decoder::new(16);
    assert_eq!(
        decode_all(&mut dec, &input, 1),
        Ok(vec![text(""), Decoded::Message(Packed::Binary(Vec::new()))])
    );
}

#[test]
fn close_frames_give_code_and_reason() {
    let mut dec = Decoder::new(16);
    let frame = client_frame(true, 8, &close_payload(1001, "going away"), MASK);
    assert_eq!(
        decode_all(&mut dec, &frame, 2),
        Ok(vec![Decoded::Close {
            code: Some(1001),
            reason: "going away".into()
        }])
    );
    let mut dec = Decoder::new(16);
    assert_eq!(
        decode_all(&mut dec, &client_frame(true, 8, b"", MASK), 100),
        Ok(vec![Decoded::Close {
            code: None,
            reason: String::new()
        }])
    );
}

#[test]
fn protocol_violations_get_their_close_codes() {
    let unmasked = [0x81, 0x02, b'h', b'i'];
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (unmasked.to_vec(), 1002, "unmasked client frame"),
        (
            {
                let mut f = client_frame(true, 1, b"x", MASK);
                f[0] |= 0x40;
                f
            },
            1002,
            "reserved bits set",
        ),
        (client_frame(true, 3, b"x", MASK), 1002, "unknown opcode"),
        (client_frame(true, 0xB, b"x", MASK), 1002, "unknown opcode"),
        (
            client_frame(true, 9, &[0; 126], MASK),
            1002,
            "control frame over 125 bytes",
        ),
        (
            client_frame(false, 9, b"", MASK),
            1002,
            "fragmented control frame",
        ),
        (
            client_frame(true, 0, b"x", MASK),
            1002,
            "continuation outside a fragmented message",
        ),
        (
            [
                client_frame(false, 1, b"a", MASK),
                client_frame(true, 1, b"b", MASK),
            ]
            .concat(),
            1002,
            "new message inside a fragmented message",
        ),
        (
            client_frame(true, 1, &[0xC3, 0x28], MASK),
            1007,
            "text not UTF-8",
        ),
        (
            client_frame(true, 8, &[0x03], MASK),
            1002,
            "close frame with a 1-byte payload",
        ),
        (
            client_frame(true, 8, &1005u16.to_be_bytes(), MASK),
            1002,
            "invalid close code",
        ),
        (
            client_frame(true, 8, &[0x03, 0xE8, 0xFF], MASK),
            1007,
            "close reason not UTF-8",
        ),
    ];
    for (input, code, reason) in cases {
        assert_eq!(
            error_of(&input),
            ProtocolError { code, reason },
            "{input:02x?}"
        );
    }
}

#[test]
fn too_large_is_refused_on_the_header_before_any_payload() {
    let mut dec = Decoder::new(1000);
    // Only the header of a frame claiming 2^40 bytes.
    let mut head = vec![0x82, 0x80 | 127];
    head.extend_from_slice(&(1u64 << 40).to_be_bytes());
    head.extend_from_slice(&MASK);
    let e = dec.decode(&head).expect_err("too large");
    assert_eq!(e.code, 1009);
    // Across fragments: 600 + 600 > 1000.
    let mut dec = Decoder::new(1000);
    let input = [
        client_frame(false, 2, &[0; 600], MASK),
        client_frame(true, 0, &[0; 600], MASK),
    ]
    .concat();
    assert_eq!(decode_all(&mut dec, &input, 50).unwrap_err().code, 1009);
    // Exactly the bound is fine.
    let mut dec = Decoder::new(1000);
    let frame = client_frame(true, 2, &[7; 1000], MASK);
    assert_eq!(decode_all(&mut dec, &frame, 999).unwrap().len(), 1);
}

#[test]
fn a_failed_decoder_stays_failed() {
    let mut dec = Decoder::new(1000);
    let e = dec.decode(&[0x81, 0x01, b'x']).unwrap_err();
    let good = client_frame(true, 1, b"ok", MASK);
    assert_eq!(dec.decode(&good), Err(e));
}

#[test]
fn server_headers_use_the_shortest_length() {
    assert_eq!(server_header(1, 0), ([0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0], 2));
    assert_eq!(server_header(2, 125).0[..2], [0x82, 125]);
    assert_eq!(
        server_header(1, 126),
        ([0x81, 126, 0, 126, 0, 0, 0, 0, 0, 0], 4)
    );
    assert_eq!(server_header(1, 65_535).0[..4], [0x81, 126, 0xFF, 0xFF]);
    assert_eq!(
        server_header(8, 65_536),
        ([0x88, 127, 0, 0, 0, 0, 0, 1, 0, 0], 10)
    );
}

#[test]
fn close_payload_fits_a_control_frame() {
    assert_eq!(close_payload(1009, "too big"), b"\x03\xf1too big");
    let long = "é".repeat(100);
    let p = close_payload(1000, &long);
    assert!(p.len() <= 125);
    assert!(std::str::from_utf8(&p[2..]).is_ok());
}

#[test]
fn mask_phase_carries_across_chunks() {
    let data: Vec<u8> = (0..=40).collect();
    let mut whole = data.clone();
    apply_mask(&mut whole, MASK, 0);
    let mut parts = data.clone();
    let (a, b) = parts.split_at_mut(7);
    apply_mask(a, MASK, 0);
    apply_mask(b, MASK, 7);
    assert_eq!(parts, whole);
}

fn arb_message() -> impl Strategy<Value = (bool, Vec<u8>)> {
    prop_oneof![
        ".{0,300}".prop_map(|s: String| (false, s.into_bytes())),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(|b| (true, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any messages, fragmented anywhere (a UTF-8 character may be split),
    /// with pings between fragments, any masks, read in any sizes: the
    /// same messages come out.
    #[test]
    fn fragmented_messages_round_trip(
        messages in proptest::collection::vec((arb_message(), 1usize..5, any::<[u8; 4]>()), 1..6),
        step in 1usize..64,
    ) {
        let mut input = Vec::new();
        let mut expected = Vec::new();
        for ((binary, bytes), pieces, mask) in &messages {
            let size = bytes.len().div_ceil(*pieces).max(1);
            let chunks: Vec<&[u8]> = if bytes.is_empty() { vec![&[]] } else { bytes.chunks(size).collect() };
            for (i, chunk) in chunks.iter().enumerate() {
                let opcode = if i > 0 { 0 } else if *binary { 2 } else { 1 };
                input.extend(client_frame(i + 1 == chunks.len(), opcode, chunk, *mask));
                if i == 0 && chunks.len() > 1 {
                    input.extend(client_frame(true, 9, b"p", *mask));
                    expected.push(Decoded::Ping(b"p".to_vec()));
                }
            }
            expected.push(Decoded::Message(if *binary {
                Packed::Binary(bytes.clone())
            } else {
                Packed::Text(String::from_utf8(bytes.clone()).unwrap())
            }));
        }
        let mut dec = Decoder::new(1 << 16);
        prop_assert_eq!(decode_all(&mut dec, &input, step), Ok(expected));
        prop_assert!(dec.is_idle());
    }

    /// Arbitrary bytes never panic the decoder, and every call on
    /// non-empty input makes progress without claiming more than it got.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), step in 1usize..32) {
        let mut dec = Decoder::new(256);
        for piece in bytes.chunks(step) {
            let mut at = 0;
            while at < piece.len() {
                match dec.decode(&piece[at..]) {
                    Ok((used, _)) => {
                        prop_assert!(used > 0 && used <= piece.len() - at);
                        at += used;
                    }
                    Err(_) => return Ok(()),
                }
            }
        }
    }
}

/// An in-memory connection: reads hand out `input` in pieces of
/// `read_step`; writes take at most `write_step` bytes (never vectored),
/// or nothing while `blocked`.
#[derive(Debug, Default)]
struct MockIo {
    input: Vec<u8>,
    read_at: usize,
    read_step: usize,
    output: Vec<u8>,
    write_step: usize,
    blocked: bool,
}

impl futures_util::io::AsyncRead for MockIo {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let n = self
            .read_step
            .min(buf.len())
            .min(self.input.len() - self.read_at);
        if n == 0 {
            return std::task::Poll::Pending;
        }
        let at = self.read_at;
        buf[..n].copy_from_slice(&self.input[at..at + n]);
        self.read_at += n;
        std::task::Poll::Ready(Ok(n))
    }
}

impl futures_util::io::AsyncWrite for MockIo {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if self.blocked {
            return std::task::Poll::Pending;
        }
        let n = buf.len().min(self.write_step);
        self.output.extend_from_slice(&buf[..n]);
        std::task::Poll::Ready(Ok(n))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// Splits server output into (opcode, payload) frames.
fn server_frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        assert_eq!(bytes[0] & 0xF0, 0x80, "final, no reserved bits");
        let (len, at) = match bytes[1] {
            126 => (usize::from(u16::from_be_bytes([bytes[2], bytes[3]])), 4),
            127 => (
                u64::from_be_bytes(bytes[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (usize::from(n), 2),
        };
        frames.push((bytes[0] & 0x0F, bytes[at..at + len].to_vec()));
        bytes = &bytes[at + len..];
    }
    frames
}

fn poll_once<T>(
    f: impl FnOnce(&mut std::task::Context<'_>) -> std::task::Poll<T>,
) -> std::task::Poll<T> {
    let waker = futures_util::task::noop_waker();
    f(&mut std::task::Context::from_waker(&waker))
}

#[test]
fn frames_survive_partial_writes_small_and_large() {
    use futures_util::Sink;
    use std::sync::Arc;
    let io = MockIo {
        write_step: 1000,
        ..MockIo::default()
    };
    let mut ch = super::WsChannel::new(io, 1024);
    let big = Packed::Binary((0..200_000u32).map(|i| i as u8).collect());
    let items = [
        crate::channel::Outbound::Message(Arc::new(Packed::Text("small".into()))),
        crate::channel::Outbound::Message(Arc::new(big.clone())),
        crate::channel::Outbound::Message(Arc::new(Packed::Text("x".repeat(300)))),
        crate::channel::Outbound::Close {
            code: 1000,
            reason: "bye",
        },
    ];
    for item in items {
        std::pin::Pin::new(&mut ch).start_send(item).unwrap();
    }
    // Nothing after a close frame.
    assert!(
        std::pin::Pin::new(&mut ch)
            .start_send(crate::channel::Outbound::Message(Arc::new(Packed::Text(
                "late".into()
            ))))
            .is_err()
    );
    let flushed = poll_once(|cx| std::pin::Pin::new(&mut ch).poll_flush(cx));
    assert!(matches!(flushed, std::task::Poll::Ready(Ok(()))));
    let frames = server_frames(&ch.get_ref().output);
    assert_eq!(
        frames,
        vec![
            (1, b"small".to_vec()),
            (2, big.as_bytes().to_vec()),
            (1, "x".repeat(300).into_bytes()),
            (8, b"\x03\xe8bye".to_vec()),
        ]
    );
}

#[test]
fn a_ping_flood_to_a_peer_that_does_not_read_keeps_one_pong() {
    use futures_util::Stream;
    let mut input = Vec::new();
    for i in 0..5000u32 {
        input.extend(client_frame(true, 9, &i.to_be_bytes(), MASK));
    }
    input.extend(client_frame(true, 1, b"after", MASK));
    let io = MockIo {
        input,
        read_step: 1500,
        write_step: usize::MAX,
        blocked: true,
        ..MockIo::default()
    };
    let mut ch = super::WsChannel::new(io, 1024);
    let mut got = None;
    for _ in 0..100 {
        match poll_once(|cx| std::pin::Pin::new(&mut ch).poll_next(cx)) {
            std::task::Poll::Ready(item) => {
                got = item;
                break;
            }
            std::task::Poll::Pending => continue,
        }
    }
    assert_eq!(
        got.map(|r| r.unwrap()),
        Some(crate::channel::Inbound::Message(Packed::Text(
            "after".into()
        )))
    );
    // The peer reads again: one pong, for the last ping.
    ch.get_mut().blocked = false;
    let flushed = poll_once(|cx| {
        futures_util::Sink::<crate::channel::Outbound>::poll_flush(std::pin::Pin::new(&mut ch), cx)
    });
    assert!(matches!(flushed, std::task::Poll::Ready(Ok(()))));
    assert_eq!(
        server_frames(&ch.get_ref().output),
        vec![(0xA, 4999u32.to_be_bytes().to_vec())]
    );
}
