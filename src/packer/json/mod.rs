//! The JSON packer: a lossy mapping of `Value` onto plain JSON; see [`JsonPacker`].

mod read;
mod write;

use super::{PackError, Packed, PackedRef, Packer, UnpackError, UnpackErrorKind};
use crate::value::Value;

const PACKER: &str = "json";

/// Packs values as plain JSON text: a documented, lossy mapping for
/// JavaScript clients that speak JSON rather than EDN or Transit.
///
/// Sente has no JSON packer, so this format is this crate's own; both ends
/// must use it. It favours what a JS client reads naturally (keywords become
/// plain strings, instants become what `JSON.stringify(new Date())` writes) over
/// round-tripping every EDN type. Because keywords come back as strings,
/// [`JsonPacker::keeps_keywords`] is false, and the envelope reader accepts a
/// `"chsk/handshake"` string wherever Sente expects a keyword.
///
/// # The mapping
///
/// | [`Value`] | packed as JSON | unpacked back as |
/// |---|---|---|
/// | `Nil` | `null` | `Nil` |
/// | `Bool` | `true` / `false` | `Bool` |
/// | `Int` | a number | `Int` |
/// | `BigInt` | a number when it fits `i64` or `u64`, else a string of its decimal digits | `Int` or `BigInt`; the string stays a `String` |
/// | `Float`, finite | a number in its shortest round-trip form (`1.0`, `1e300`) | `Float` (bit-exact) |
/// | `Float`, NaN or ±infinity | [`PackError::Unsupported`]: JSON has no such numbers, and `null` would silently change the meaning | — |
/// | `BigDec`, `Ratio` | the nearest double (`Unsupported` when that is not finite) | `Float` |
/// | `String` | a string | `String` |
/// | `Char` | a one-character string | `String` |
/// | `Keyword`, `Symbol` | the string `"ns/name"` or `"name"` (no colon) | `String` |
/// | `Vector`, `List`, `Set` | an array | `Vector` |
/// | `Map` whose keys are all strings, keywords or symbols | an object keyed by each key's text (`Unsupported` if two keys have the same text, like `:a` and `"a"`) | `Map` with `String` keys |
/// | `Map` with any other key | an object keyed by the EDN text of **every** key (`{1 :x, "a" :y}` → `{"1":"x","\"a\"":"y"}`), so no two keys collide | `Map` with `String` keys |
/// | `Uuid` | the canonical lowercase string `"0b4c7e0e-4d2a-…"` | `String` |
/// | `Inst` | the string JavaScript's `Date.prototype.toISOString` writes, `"2024-01-01T00:00:00.000Z"`: milliseconds (floored), UTC, `±YYYYYY` years outside 0000–9999. `new Date(s)` reads it, and it is what `JSON.stringify` makes of a `Date` | `String` |
/// | `Bytes` | a base64 string (standard alphabet, padded) | `String` |
/// | `Tagged` `#my/tag v` | a one-entry object `{"#my/tag": v}` | `Map` |
///
/// Unpacking: objects become maps with string keys (a key that appears twice
/// is an [`UnpackErrorKind::DuplicateKey`] error), arrays become vectors,
/// integer literals become `Int` (or `BigInt` between `i64::MAX` and
/// `u64::MAX`, so every `u64` survives), and every other number (a fraction,
/// an exponent, or an integer beyond `u64`) becomes `Float`. Strings are never
/// guessed at: a UUID or date string stays a `String`. Empty text is an error,
/// and so is a binary frame.
///
/// # Depth
///
/// serde_json refuses to read more than 127 nested arrays or objects, and
/// this packer keeps packing and unpacking symmetric: its nesting limit is
/// [`JsonPacker::MAX_DEPTH`] = 127 levels (a scalar is one level, each array,
/// object or tag adds one), and [`JsonPacker::with_max_depth`] can only lower
/// it.
///
/// # Example
///
/// ```
/// use sente::packer::{JsonPacker, Packed, Packer};
/// use sente::Value;
///
/// let p = JsonPacker::new();
/// let event = Value::vector([
///     Value::vector([Value::keyword("chat/msg"), Value::map([(Value::keyword("text"), "hi".into())])]),
///     Value::Nil,
/// ]);
/// let packed = p.pack(true, &event).unwrap();
/// assert_eq!(packed, Packed::Text(r#"[["chat/msg",{"text":"hi"}],null]"#.into()));
///
/// let back = p.unpack(true, packed.as_ref()).unwrap();
/// assert_eq!(back.as_seq().unwrap()[0].as_seq().unwrap()[0], Value::from("chat/msg"));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct JsonPacker {
    max_depth: usize,
}

impl JsonPacker {
    /// The deepest nesting this packer can handle, and its default limit:
    /// 127 levels, because serde_json reads at most 127 nested arrays or
    /// objects.
    pub const MAX_DEPTH: usize = 127;

    /// A JSON packer with the nesting limit [`Self::MAX_DEPTH`].
    pub const fn new() -> Self {
        Self {
            max_depth: Self::MAX_DEPTH,
        }
    }

    /// Sets the nesting limit for both directions. Values above
    /// [`Self::MAX_DEPTH`] are lowered to it, so that whatever packs also
    /// unpacks.
    pub const fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = if max_depth < Self::MAX_DEPTH {
            max_depth
        } else {
            Self::MAX_DEPTH
        };
        self
    }

    /// The nesting limit in effect.
    pub const fn max_depth(&self) -> usize {
        self.max_depth
    }
}

impl Default for JsonPacker {
    fn default() -> Self {
        Self::new()
    }
}

impl Packer for JsonPacker {
    fn name(&self) -> &'static str {
        PACKER
    }

    fn is_binary(&self) -> bool {
        false
    }

    fn pack(&self, _websocket: bool, value: &Value) -> Result<Packed, PackError> {
        write::to_json(value, self.max_depth).map(Packed::Text)
    }

    fn unpack(&self, _websocket: bool, packed: PackedRef<'_>) -> Result<Value, UnpackError> {
        match packed {
            PackedRef::Text(text) => read::from_json(text, self.max_depth),
            PackedRef::Binary(_) => Err(UnpackError::new(
                PACKER,
                UnpackErrorKind::WrongPayloadKind,
                None,
                "the JSON packer reads text, not binary frames",
            )),
        }
    }

    /// False: keywords travel as plain strings.
    fn keeps_keywords(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests;
