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
#[cfg(feature = "gzip")]
pub use gzip::GzipPacker;
#[cfg(feature = "json")]
pub use json::JsonPacker;
#[cfg(feature = "msgpack")]
pub use msgpack::MsgpackPacker;
#[cfg(feature = "transit")]
pub use transit::TransitPacker;

// The payloads and errors of every packer live in `crate::codec` (the bottom
// layer); their public paths are here, where users look for them.
pub use crate::codec::{PackError, Packed, PackedRef, UnpackError, UnpackErrorKind};
use crate::value::Value;

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
