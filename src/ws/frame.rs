//! Frame opcodes, server frame headers, and close payloads.

/// Continuation of a fragmented message.
pub(super) const OP_CONTINUATION: u8 = 0x0;
/// A text data frame.
pub(super) const OP_TEXT: u8 = 0x1;
/// A binary data frame.
pub(super) const OP_BINARY: u8 = 0x2;
/// A close control frame.
pub(super) const OP_CLOSE: u8 = 0x8;
/// A ping control frame.
pub(super) const OP_PING: u8 = 0x9;
/// A pong control frame.
pub(super) const OP_PONG: u8 = 0xA;

/// The largest payload of a control frame.
pub(super) const MAX_CONTROL_PAYLOAD: u64 = 125;

/// The largest header a client frame can have: 2 bytes, an 8-byte extended
/// length, and a 4-byte mask.
pub(super) const MAX_CLIENT_HEADER: usize = 14;

/// The header of a final, unmasked (server) frame with `opcode` and a
/// payload of `len` bytes, and how many of its 10 bytes are used.
pub(super) fn server_header(opcode: u8, len: usize) -> ([u8; 10], u8) {
    let mut head = [0u8; 10];
    head[0] = 0x80 | opcode;
    let used = if len < 126 {
        head[1] = len as u8;
        2
    } else if let Ok(len) = u16::try_from(len) {
        head[1] = 126;
        head[2..4].copy_from_slice(&len.to_be_bytes());
        4
    } else {
        head[1] = 127;
        head[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    (head, used)
}

/// The payload of a close frame: the code, big-endian, then the reason
/// (cut at a character boundary to fit the 125-byte control frame bound).
pub(super) fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(MAX_CONTROL_PAYLOAD as usize - 2);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut payload = Vec::with_capacity(2 + end);
    payload.extend_from_slice(&code.to_be_bytes());
    payload.extend_from_slice(&reason.as_bytes()[..end]);
    payload
}

/// True for the close codes a peer may send (RFC 6455 7.4: 1004, 1005,
/// 1006 and 1015 are reserved, 1016–2999 unassigned, 3000–4999 for
/// libraries and applications).
pub(super) fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// XORs `data` with `mask`, the first byte of `data` being byte `offset` of
/// the frame's payload.
pub(super) fn apply_mask(data: &mut [u8], mask: [u8; 4], offset: usize) {
    let mut rotated = [0u8; 4];
    for (i, m) in rotated.iter_mut().enumerate() {
        *m = mask[(offset + i) & 3];
    }
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= rotated[i & 3];
    }
}
