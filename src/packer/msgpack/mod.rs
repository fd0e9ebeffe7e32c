//! The msgpack packer: Sente 1.21's `taoensso.sente.packers.msgpack` wire
//! format (Sente's own MessagePack codec with its extension types and map-key
//! cache).
//!
//! The framing (markers, lengths, integers, floats, and the str, bin, array,
//! map and ext headers) is the `rmp` crate's: `rmp::encode::write_*` into a
//! `ByteBuf`, `rmp::decode::read_*` on a cursor over what is left of the
//! region being read. What is Sente's stays here: the value mapping and
//! Sente's choices where a generic writer would differ (non-negative
//! integers above `u32` go out as `0xd3` int64, never `0xcf`; instants are
//! always timestamp96 in an ext8), its extension types, the per-message
//! map-key cache, and the limits (nesting depth; every claimed length is
//! checked against the bytes left before it is allocated or taken).
//!
//! Against the hand-written framing it replaced (`cargo bench --bench
//! packers`, the msgpack rows, alternating runs on one machine): packing
//! costs 1–3% more time, unpacking 5–7% more (8% more instructions under
//! callgrind), mostly in reading extension headers (BENCHMARKS.md).

mod read;
mod write;

#[cfg(test)]
mod tests;

use super::{PackError, Packed, PackedRef, Packer, UnpackError, UnpackErrorKind};
use crate::value::{Tagged, Value};

/// The packer's name, in errors and logs.
const PACKER_NAME: &str = "msgpack";

/// How many map keys the per-message key cache holds (indices 0–255).
const KEY_CACHE_CAPACITY: usize = 256;

/// Sente's extension type bytes.
mod ext_type {
    /// A keyword: the UTF-8 of its text without the colon.
    pub(super) const KEYWORD: i8 = 0;
    /// A symbol: the UTF-8 of its text.
    pub(super) const SYMBOL: i8 = 1;
    /// A character: its UTF-8.
    pub(super) const CHAR: i8 = 2;
    /// A ratio: nested msgpack numerator, then denominator.
    pub(super) const RATIO: i8 = 3;
    /// A set: a nested msgpack array of the elements.
    pub(super) const SET: i8 = 4;
    /// A JVM `int[]`: big-endian 4-byte integers (read only).
    pub(super) const INT_ARRAY: i8 = 5;
    /// A JVM `float[]`: big-endian 4-byte floats (read only).
    pub(super) const FLOAT_ARRAY: i8 = 6;
    /// A JVM `double[]`: big-endian 8-byte doubles (read only).
    pub(super) const DOUBLE_ARRAY: i8 = 7;
    /// A reference to an earlier map key of the same message: 1 byte, its cache index.
    pub(super) const CACHED_KEY: i8 = 8;
    /// A UUID: the UTF-8 of its canonical 36-character text.
    pub(super) const UUID: i8 = 9;
    /// The msgpack timestamp extension (Sente writes the 12-byte form).
    pub(super) const TIMESTAMP: i8 = -1;
}

/// An extension of a type this packer does not interpret, as Sente holds it
/// (a `taoensso.msgpack.common.PackableExt` record): the tagged map
/// `{:byte-id type, :ba-content bytes}`.
fn opaque_ext(type_id: i8, content: &[u8]) -> Value {
    Value::tagged(
        MsgpackPacker::OPAQUE_EXT_TAG,
        Value::map([
            (Value::keyword("byte-id"), Value::Int(i64::from(type_id))),
            (Value::keyword("ba-content"), Value::Bytes(content.into())),
        ]),
    )
}

/// The type and content of an [`opaque_ext`] value, if `tagged` is one.
fn as_opaque_ext(tagged: &Tagged) -> Option<(i8, &[u8])> {
    if tagged.tag.as_str() != MsgpackPacker::OPAQUE_EXT_TAG {
        return None;
    }
    let map = tagged.value.as_map().filter(|m| m.len() == 2)?;
    let type_id = match map.get(&Value::keyword("byte-id"))? {
        Value::Int(n) => i8::try_from(*n).ok()?,
        _ => return None,
    };
    match map.get(&Value::keyword("ba-content"))? {
        Value::Bytes(content) => Some((type_id, content)),
        _ => None,
    }
}

/// True for the map keys the key cache applies to: keywords and strings.
fn is_cachable_key(key: &Value) -> bool {
    matches!(key, Value::Keyword(_) | Value::String(_))
}

/// Packs values as MessagePack, byte-identical to Sente 1.21's msgpack
/// packer (`taoensso.sente.packers.msgpack/get-packer`) and able to read
/// everything it writes. Output is always [`Packed::Binary`].
///
/// # Mapping
///
/// | [`Value`] | written as | read back as |
/// |---|---|---|
/// | `Nil`, `Bool` | `c0`, `c2`/`c3` | the same |
/// | `Int` | the smallest of positive/negative fixint, `cc` `cd` `ce` (non-negative), `d0` `d1` `d2` (negative), else `d3` int64 | `Int` (`cf` uint64 above `i64::MAX` reads as `BigInt`) |
/// | `BigInt` | as `Int` when it fits in an `i64`; otherwise [`PackError::Unsupported`] | `Int` |
/// | `Float` | `cb` float64 | `Float` (`ca` float32 is read too) |
/// | `BigDec` | `cb` float64 (**lossy**, as Sente does) | `Float` |
/// | `String` | fixstr, `d9`, `da`, `db` | `String` |
/// | `Bytes` | `c4`, `c5`, `c6` | `Bytes` |
/// | `Vector`, `List` | fixarray, `dc`, `dd` | `Vector` |
/// | `Map` | fixmap, `de`, `df` (keys through the key cache) | `Map` |
/// | `Keyword`, `Symbol`, `Char` | ext 0, 1, 2: UTF-8 text | the same |
/// | `Ratio` | ext 3: nested numerator and denominator (each must fit an `i64`) | `Ratio` (or `Int` when exact: `4/2` is `2`) |
/// | `Set` | ext 4: a nested array | `Set` |
/// | `Uuid` | ext 9: the 36-character text (`c7 24 09 …`) | `Uuid` |
/// | `Inst` | ext −1 timestamp96, always ext8: `c7 0c ff` + u32 nanos + i64 secs | `Inst` (timestamp32/64 are read too) |
/// | `Tagged` [`MsgpackPacker::OPAQUE_EXT_TAG`] `{:byte-id t, :ba-content bytes}` | ext `t` with the bytes as content | the same |
/// | any other `Tagged` | [`PackError::Unsupported`] (Sente 1.22 throws on unsupported types) | — |
///
/// Extensions use fixext1/2/4/8/16 when the content is exactly 1, 2, 4, 8 or
/// 16 bytes long, else ext8/16/32. The typed-array extensions 5, 6 and 7
/// (JVM `int[]`, `float[]`, `double[]`) are read as vectors of `Int` or
/// `Float` in **big-endian** order, as the JVM writes them (a browser writes
/// its native little-endian bytes, which read back as different numbers).
/// Any other extension type reads as Sente reads it, an opaque
/// `PackableExt` (`unpack-ext :default` in `taoensso.msgpack.common`): the
/// tagged value `#taoensso.msgpack.common.PackableExt {:byte-id 106,
/// :ba-content #sente/bytes "…"}`, which packs back to the same extension
/// (build one with [`MsgpackPacker::opaque_ext`]).
///
/// **Text.** Strings, keywords, symbols and characters with invalid UTF-8
/// read with U+FFFD in place of each bad sequence, as Sente decodes them
/// (`new String(bytes, UTF_8)`; `TextDecoder` in the browser).
///
/// **Map-key cache.** Within one message, a keyword or string map key that
/// already appeared as a map key is written as `d4 08 <index>`; the first
/// 256 distinct such keys get indices, in the order they are written
/// (including keys inside set and ratio payloads). Reading mirrors this.
///
/// **Trailing bytes.** For Ajax bodies (`websocket == false`) one top-level
/// value is read and any bytes after it are ignored: browsers post Sente's
/// msgpack output with trailing zero bytes. For WebSocket frames trailing
/// bytes are [`UnpackErrorKind::TrailingInput`].
///
/// # Differences from Sente
///
/// - `Float` is an `f64`, so it is always `cb`; Sente on the JVM writes a
///   `java.lang.Float` as `ca`, and ClojureScript writes any f32-exact number
///   as `ca` (both read back here as `Float`).
/// - Reading is stricter where Sente would produce garbage or throw later:
///   an ext 8 outside a map-key position, a malformed extension payload and
///   a zero ratio denominator are errors. A cached-key reference to an index
///   that was never assigned reads as `nil`, as in Sente (`(get cache idx)`). Duplicate map keys keep the last
///   value and duplicate set elements collapse, as in Sente.
/// - A ratio is divided as Sente divides it (`(/ n d)`): `4/2` reads as
///   `Int(2)`, `-3/9` as `-1/3`, a negative denominator's sign moves to the
///   numerator (see [`Value::ratio`]).
/// - Sente ignores bytes after the top-level value on every transport; here
///   only Ajax bodies may carry them.
///
/// ```
/// use sente::packer::{MsgpackPacker, Packer};
/// use sente::Value;
///
/// let packed = MsgpackPacker::new().pack(true, &Value::keyword("ajax")).unwrap();
/// assert_eq!(packed.as_bytes(), [0xd6, 0x00, b'a', b'j', b'a', b'x']);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MsgpackPacker {
    max_depth: usize,
}

impl MsgpackPacker {
    /// A msgpack packer with the default nesting limit ([`crate::edn::DEFAULT_MAX_DEPTH`]).
    pub const fn new() -> Self {
        Self {
            max_depth: crate::edn::DEFAULT_MAX_DEPTH,
        }
    }

    /// Sets the nesting limit for both directions; a limit above
    /// [`crate::edn::MAX_DEPTH_CEILING`] is lowered to it. Sets and ratios
    /// count as a level, as collections do.
    pub const fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = crate::stack::capped(max_depth);
        self
    }

    /// The nesting limit in effect.
    pub const fn max_depth(&self) -> usize {
        self.max_depth
    }
}

impl MsgpackPacker {
    /// The tag of an extension whose type this packer does not interpret:
    /// Sente's record for it, `taoensso.msgpack.common.PackableExt`.
    pub const OPAQUE_EXT_TAG: &'static str = "taoensso.msgpack.common.PackableExt";

    /// The value an extension of type `type_id` with `content` reads as when
    /// this packer does not interpret the type, and which packs as that
    /// extension: `#taoensso.msgpack.common.PackableExt {:byte-id type_id,
    /// :ba-content content}`.
    ///
    /// ```
    /// use sente::packer::{MsgpackPacker, Packer, PackedRef};
    ///
    /// let ext = MsgpackPacker::opaque_ext(106, &[1, 2]);
    /// let packed = MsgpackPacker::new().pack(true, &ext).unwrap();
    /// assert_eq!(packed.as_bytes(), [0xd5, 106, 1, 2]);
    /// assert_eq!(MsgpackPacker::new().unpack(true, PackedRef::Binary(&[0xd5, 106, 1, 2])).unwrap(), ext);
    /// ```
    pub fn opaque_ext(type_id: i8, content: &[u8]) -> Value {
        opaque_ext(type_id, content)
    }
}

impl Default for MsgpackPacker {
    fn default() -> Self {
        Self::new()
    }
}

impl Packer for MsgpackPacker {
    fn name(&self) -> &'static str {
        PACKER_NAME
    }

    fn is_binary(&self) -> bool {
        true
    }

    fn pack(&self, _websocket: bool, value: &Value) -> Result<Packed, PackError> {
        crate::stack::pack(self.max_depth, |limit| write::write_value(value, limit))
            .map(Packed::Binary)
    }

    fn unpack(&self, websocket: bool, packed: PackedRef<'_>) -> Result<Value, UnpackError> {
        match packed {
            PackedRef::Binary(bytes) => {
                crate::stack::unpack(PACKER_NAME, self.max_depth, |limit| {
                    read::read_value(bytes, limit, !websocket)
                })
            }
            PackedRef::Text(_) => Err(UnpackError::new(
                PACKER_NAME,
                UnpackErrorKind::WrongPayloadKind,
                None,
                "the msgpack packer reads binary payloads, not text",
            )),
        }
    }
}
