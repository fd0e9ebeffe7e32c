//! What a packer produces and what it reads: text or bytes.

/// The output of a packer: text or bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Packed {
    /// Text: a WebSocket text frame, or the `ppstr` of an Ajax POST.
    Text(String),
    /// Bytes: a WebSocket binary frame, or an `application/octet-stream` body.
    Binary(Vec<u8>),
}

impl Packed {
    /// Borrows the payload.
    pub fn as_ref(&self) -> PackedRef<'_> {
        match self {
            Self::Text(s) => PackedRef::Text(s),
            Self::Binary(b) => PackedRef::Binary(b),
        }
    }

    /// True for binary output.
    pub fn is_binary(&self) -> bool {
        matches!(self, Self::Binary(_))
    }

    /// The payload's bytes (UTF-8 for text).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(s) => s.as_bytes(),
            Self::Binary(b) => b,
        }
    }

    /// The payload's length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// True when the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_ref().fmt(f)
    }
}

/// A borrowed payload: what arrived in a frame or a request body.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PackedRef<'a> {
    /// A text frame or a `ppstr` form value.
    Text(&'a str),
    /// A binary frame or an octet-stream body.
    Binary(&'a [u8]),
}

impl PackedRef<'_> {
    /// The payload's bytes (UTF-8 for text).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(s) => s.as_bytes(),
            Self::Binary(b) => b,
        }
    }

    /// Copies the payload into an owned [`Packed`].
    pub fn to_owned(&self) -> Packed {
        match self {
            Self::Text(s) => Packed::Text((*s).to_owned()),
            Self::Binary(b) => Packed::Binary(b.to_vec()),
        }
    }
}

impl std::fmt::Debug for PackedRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(s) => write!(f, "Text({s:?})"),
            Self::Binary(b) => write!(f, "Binary({} bytes)", b.len()),
        }
    }
}
