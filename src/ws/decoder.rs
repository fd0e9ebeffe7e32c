//! The sans-IO decoder of client frames.

use crate::packer::Packed;

use super::frame::{
    MAX_CLIENT_HEADER, MAX_CONTROL_PAYLOAD, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG,
    OP_TEXT, apply_mask, is_valid_close_code,
};

/// What a complete client frame (or fragmented message) decoded to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A whole data message: text (valid UTF-8) or binary.
    Message(Packed),
    /// A ping, with its payload (to echo in a pong).
    Ping(Vec<u8>),
    /// A pong, with its payload.
    Pong(Vec<u8>),
    /// A close frame: its code (none when the frame was empty) and reason.
    Close {
        /// The status code, when the frame had one.
        code: Option<u16>,
        /// The reason text (empty when none).
        reason: String,
    },
}

/// Why a client's frames broke the protocol: the close code to answer with
/// (RFC 6455 7.4.1) and a short reason for the close frame and the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("WebSocket protocol error {code}: {reason}")]
pub struct ProtocolError {
    /// 1002 (protocol error), 1007 (invalid UTF-8) or 1009 (too large).
    pub code: u16,
    /// What was wrong.
    pub reason: &'static str,
}

const fn fail(code: u16, reason: &'static str) -> ProtocolError {
    ProtocolError { code, reason }
}

/// The frame whose payload is being read.
#[derive(Debug, Clone, Copy)]
struct FrameInProgress {
    fin: bool,
    opcode: u8,
    mask: [u8; 4],
    /// Payload bytes still to come.
    remaining: u64,
    /// Payload bytes seen so far (the mask's phase).
    seen: usize,
}

/// A streaming decoder of the frames a client sends a server.
///
/// Feed it bytes as they arrive with [`decode`](Self::decode): it copies
/// payloads straight into the message being assembled (unmasking them on the
/// way), keeps a partial header in a 14-byte array, and owns no buffer
/// between messages. Fragmented messages are assembled; control frames may
/// come between their fragments. After an error it stays failed.
#[derive(Debug, Clone)]
pub struct Decoder {
    max_message_size: usize,
    head: [u8; MAX_CLIENT_HEADER],
    head_len: u8,
    frame: Option<FrameInProgress>,
    /// The opcode of the data message being assembled (0 when none).
    message_opcode: u8,
    message: Vec<u8>,
    control: Vec<u8>,
    failed: Option<ProtocolError>,
}

impl Decoder {
    /// A decoder that refuses messages (the sum of their fragments) larger
    /// than `max_message_size` bytes.
    pub fn new(max_message_size: usize) -> Self {
        Self {
            max_message_size,
            head: [0; MAX_CLIENT_HEADER],
            head_len: 0,
            frame: None,
            message_opcode: 0,
            message: Vec::new(),
            control: Vec::new(),
            failed: None,
        }
    }

    /// True when no frame or message is half-read: the decoder holds no
    /// bytes of the peer's.
    pub fn is_idle(&self) -> bool {
        self.head_len == 0 && self.frame.is_none() && self.message_opcode == 0
    }

    /// Decodes from `input` until one item is complete or the input runs
    /// out. Returns how many bytes it used and the item, if one completed;
    /// call again with the rest of the input for the next one.
    ///
    /// # Errors
    /// A [`ProtocolError`] when the client broke the protocol (see the
    /// [module docs](super) for each rule and its close code). The decoder
    /// then returns the same error forever.
    pub fn decode(&mut self, input: &[u8]) -> Result<(usize, Option<Decoded>), ProtocolError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let result = self.decode_inner(input);
        if let Err(e) = result {
            self.failed = Some(e);
            self.message = Vec::new();
            self.control = Vec::new();
        }
        result
    }

    fn decode_inner(&mut self, input: &[u8]) -> Result<(usize, Option<Decoded>), ProtocolError> {
        let mut used = 0;
        loop {
            let mut frame = match self.frame {
                Some(f) => f,
                None => {
                    used += self.read_header(&input[used..]);
                    match self.parse_header()? {
                        Some(f) => f,
                        None => return Ok((used, None)),
                    }
                }
            };
            let take = usize::try_from(frame.remaining)
                .unwrap_or(usize::MAX)
                .min(input.len() - used);
            let chunk = &input[used..used + take];
            let target = if frame.opcode >= OP_CLOSE {
                &mut self.control
            } else {
                &mut self.message
            };
            let start = target.len();
            target.extend_from_slice(chunk);
            apply_mask(&mut target[start..], frame.mask, frame.seen);
            used += take;
            frame.seen += take;
            frame.remaining -= take as u64;
            if frame.remaining > 0 {
                self.frame = Some(frame);
                return Ok((used, None));
            }
            self.frame = None;
            if let Some(item) = self.finish_frame(frame)? {
                return Ok((used, Some(item)));
            }
        }
    }

    /// Copies header bytes from `input` until the header is whole (its size
    /// is known from its first two bytes). Returns the bytes used.
    fn read_header(&mut self, input: &[u8]) -> usize {
        let mut used = 0;
        loop {
            let have = usize::from(self.head_len);
            let need = self.header_len();
            if have >= need || used == input.len() {
                return used;
            }
            let take = (need - have).min(input.len() - used);
            self.head[have..have + take].copy_from_slice(&input[used..used + take]);
            self.head_len += take as u8;
            used += take;
        }
    }

    /// The length of the header being read, as far as its bytes tell.
    fn header_len(&self) -> usize {
        if self.head_len < 2 {
            return 2;
        }
        let ext = match self.head[1] & 0x7F {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask = if self.head[1] & 0x80 != 0 { 4 } else { 0 };
        2 + ext + mask
    }

    /// Checks a whole header and starts its frame; `None` while it is partial.
    fn parse_header(&mut self) -> Result<Option<FrameInProgress>, ProtocolError> {
        if usize::from(self.head_len) < self.header_len() {
            return Ok(None);
        }
        let h = self.head;
        self.head_len = 0;
        let fin = h[0] & 0x80 != 0;
        if h[0] & 0x70 != 0 {
            return Err(fail(1002, "reserved bits set"));
        }
        let opcode = h[0] & 0x0F;
        if h[1] & 0x80 == 0 {
            return Err(fail(1002, "unmasked client frame"));
        }
        let (len, mask_at) = match h[1] & 0x7F {
            126 => (u64::from(u16::from_be_bytes([h[2], h[3]])), 4),
            127 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&h[2..10]);
                (u64::from_be_bytes(b), 10)
            }
            n => (u64::from(n), 2),
        };
        let mut mask = [0u8; 4];
        mask.copy_from_slice(&h[mask_at..mask_at + 4]);
        match opcode {
            OP_CLOSE | OP_PING | OP_PONG => {
                if !fin {
                    return Err(fail(1002, "fragmented control frame"));
                }
                if len > MAX_CONTROL_PAYLOAD {
                    return Err(fail(1002, "control frame over 125 bytes"));
                }
                self.control = Vec::with_capacity(len as usize);
            }
            OP_TEXT | OP_BINARY | OP_CONTINUATION => {
                if opcode == OP_CONTINUATION && self.message_opcode == 0 {
                    return Err(fail(1002, "continuation outside a fragmented message"));
                }
                if opcode != OP_CONTINUATION && self.message_opcode != 0 {
                    return Err(fail(1002, "new message inside a fragmented message"));
                }
                let total = (self.message.len() as u64).saturating_add(len);
                if total > self.max_message_size as u64 {
                    return Err(fail(1009, "message too large"));
                }
                if opcode != OP_CONTINUATION {
                    self.message_opcode = opcode;
                }
                // Room for this frame, growing geometrically over fragments;
                // a frame's length is only a claim, so at most 64 KiB ahead.
                self.message.reserve((len as usize).min(64 * 1024));
            }
            _ => return Err(fail(1002, "unknown opcode")),
        }
        Ok(Some(FrameInProgress {
            fin,
            opcode,
            mask,
            remaining: len,
            seen: 0,
        }))
    }

    /// What a completed frame yields: a control item, a whole message, or
    /// nothing yet (a fragment).
    fn finish_frame(&mut self, frame: FrameInProgress) -> Result<Option<Decoded>, ProtocolError> {
        match frame.opcode {
            OP_PING => Ok(Some(Decoded::Ping(std::mem::take(&mut self.control)))),
            OP_PONG => Ok(Some(Decoded::Pong(std::mem::take(&mut self.control)))),
            OP_CLOSE => {
                let payload = std::mem::take(&mut self.control);
                match payload.len() {
                    0 => Ok(Some(Decoded::Close {
                        code: None,
                        reason: String::new(),
                    })),
                    1 => Err(fail(1002, "close frame with a 1-byte payload")),
                    _ => {
                        let code = u16::from_be_bytes([payload[0], payload[1]]);
                        if !is_valid_close_code(code) {
                            return Err(fail(1002, "invalid close code"));
                        }
                        let reason = String::from_utf8(payload[2..].to_vec())
                            .map_err(|_| fail(1007, "close reason not UTF-8"))?;
                        Ok(Some(Decoded::Close {
                            code: Some(code),
                            reason,
                        }))
                    }
                }
            }
            _ if !frame.fin => Ok(None),
            _ => {
                let data = std::mem::take(&mut self.message);
                let opcode = std::mem::replace(&mut self.message_opcode, 0);
                if opcode == OP_TEXT {
                    let text = String::from_utf8(data).map_err(|_| fail(1007, "text not UTF-8"))?;
                    Ok(Some(Decoded::Message(Packed::Text(text))))
                } else {
                    Ok(Some(Decoded::Message(Packed::Binary(data))))
                }
            }
        }
    }
}
