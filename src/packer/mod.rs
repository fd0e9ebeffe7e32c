//! Packers: how a [`Value`] becomes the bytes of a frame or an HTTP body, and back.
//!
//! A [`Packer`] is a stateless value codec, shared by every connection
//! (`Send + Sync`). Its output is [`Packed::Text`] (sent as WebSocket text
//! frames and as the form-encoded `ppstr` of an Ajax POST) or
//! [`Packed::Binary`] (binary frames, `application/octet-stream` bodies).
//! Client and server must use the same packer: nothing on the wire says
//! which one was used.
//!
//! | packer | feature | output | reads what Sente writes |
//! |---|---|---|---|
//! | [`EdnPacker`] | `edn` (default) | text | yes, byte for byte |
//! | `TransitPacker` | `transit` | text | yes (transit-json, verbose readable) |
//! | `MsgpackPacker` | `msgpack` | binary | yes (Sente 1.21's extension types) |
//! | `JsonPacker` | `json` | text | no (a lossy JSON mapping for JS clients) |
//! | `BincodePacker` | `bincode` | binary | no (Rust peers only) |
//! | `GzipPacker` | `gzip` | binary | yes (Sente's gzip wrapper) |
//!
//! Errors are values: packing an unrepresentable value gives a [`PackError`],
//! unpacking malformed bytes an [`UnpackError`] with the byte offset; nothing
//! panics, and nesting depth and sizes are bounded.

#[cfg(feature = "bincode")]
mod bincode;
#[cfg(feature = "edn")]
mod edn;
mod error;
#[cfg(feature = "gzip")]
mod gzip;
#[cfg(feature = "json")]
mod json;
#[cfg(feature = "msgpack")]
mod msgpack;
#[cfg(feature = "transit")]
mod transit;

use std::sync::Arc;

#[cfg(feature = "bincode")]
pub use self::bincode::BincodePacker;
#[cfg(feature = "edn")]
pub use edn::EdnPacker;
pub use error::{PackError, UnpackError, UnpackErrorKind};
#[cfg(feature = "gzip")]
pub use gzip::GzipPacker;
#[cfg(feature = "json")]
pub use json::JsonPacker;
#[cfg(feature = "msgpack")]
pub use msgpack::MsgpackPacker;
#[cfg(feature = "transit")]
pub use transit::TransitPacker;

use crate::value::Value;

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

/// A value codec. Stateless and shared by all connections.
///
/// `websocket` tells which transport the payload is for (`true` for a
/// WebSocket frame, `false` for an Ajax body), as in Sente's `IPacker2`; most
/// packers ignore it.
pub trait Packer: Send + Sync + 'static {
    /// A short name for logs and errors: `"edn"`, `"transit"`, …
    fn name(&self) -> &'static str;

    /// True when [`pack`](Self::pack) produces [`Packed::Binary`]. Decides the
    /// Ajax response type and the WebSocket frame kind.
    fn is_binary(&self) -> bool;

    /// Packs a value.
    ///
    /// # Errors
    /// [`PackError`] when the value has no representation in this format or
    /// nests too deeply.
    fn pack(&self, websocket: bool, value: &Value) -> Result<Packed, PackError>;

    /// Packs the two-element vector `[first second]`, Sente's envelope
    /// (`[event cb-id]`, `[reply cb-id]`): the same bytes as
    /// [`pack`](Self::pack) of `Value::Vector(vec![first, second])`. The
    /// default builds that vector, cloning both values; a packer that can
    /// write the pair directly overrides it (the EDN packer does).
    ///
    /// # Errors
    /// As [`pack`](Self::pack).
    fn pack_pair(
        &self,
        websocket: bool,
        first: &Value,
        second: &Value,
    ) -> Result<Packed, PackError> {
        self.pack(
            websocket,
            &Value::Vector(vec![first.clone(), second.clone()]),
        )
    }

    /// Checks that `value` can be packed where it sits `below` levels
    /// beneath the top of a message (a push batch `[[event …] nil]` holds
    /// each event two levels down), and returns about how many bytes it
    /// packs to. The server calls it for every pushed event, so that one
    /// event that cannot be packed is refused to its sender instead of
    /// failing the batch it would have joined.
    ///
    /// The default packs `value` nested in `below` vectors (exact, but a
    /// full pack); a packer whose only failure is depth answers from a walk
    /// of the value (the EDN packer does).
    ///
    /// # Errors
    /// As [`pack`](Self::pack) of that nested value.
    fn check_pack(&self, websocket: bool, value: &Value, below: usize) -> Result<usize, PackError> {
        let mut nested = value.clone();
        for _ in 0..below {
            nested = Value::Vector(vec![nested]);
        }
        self.pack(websocket, &nested)
            .map(|p| p.len().saturating_sub(2 * below))
    }

    /// Unpacks one value.
    ///
    /// # Errors
    /// [`UnpackError`] for malformed, oversized, too deeply nested or
    /// wrong-kind input, with the byte offset where it was found.
    fn unpack(&self, websocket: bool, packed: PackedRef<'_>) -> Result<Value, UnpackError>;

    /// False for packers that turn keywords into strings (JSON). The envelope
    /// reader then accepts a `"ns/name"` string wherever Sente expects a
    /// keyword (event ids and control markers).
    fn keeps_keywords(&self) -> bool {
        true
    }
}

/// A shared or boxed packer is a packer.
macro_rules! delegate_packer {
    ($($wrapper:ident),*) => {$(
        impl<P: Packer + ?Sized> Packer for $wrapper<P> {
            fn name(&self) -> &'static str {
                (**self).name()
            }
            fn is_binary(&self) -> bool {
                (**self).is_binary()
            }
            fn pack(&self, websocket: bool, value: &Value) -> Result<Packed, PackError> {
                (**self).pack(websocket, value)
            }
            fn pack_pair(&self, websocket: bool, first: &Value, second: &Value) -> Result<Packed, PackError> {
                (**self).pack_pair(websocket, first, second)
            }
            fn check_pack(&self, websocket: bool, value: &Value, below: usize) -> Result<usize, PackError> {
                (**self).check_pack(websocket, value, below)
            }
            fn unpack(&self, websocket: bool, packed: PackedRef<'_>) -> Result<Value, UnpackError> {
                (**self).unpack(websocket, packed)
            }
            fn keeps_keywords(&self) -> bool {
                (**self).keeps_keywords()
            }
        }
    )*};
}

delegate_packer!(Arc, Box);
