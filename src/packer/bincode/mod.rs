//! The bincode packer: lossless binary frames for Rust peers; see [`BincodePacker`].

mod read;
mod write;

use super::{PackError, Packed, PackedRef, Packer, UnpackError, UnpackErrorKind};
use crate::value::Value;

const PACKER: &str = "bincode";

/// The bincode configuration both directions use.
///
/// It sets no byte limit (`with_limit`): that limit is a compile-time
/// constant, while [`BincodePacker::with_max_len`] is set at run time. The
/// reader does not need it either: it decodes from a slice, borrows strings
/// and byte strings from it (a claimed length beyond the input fails before
/// anything is allocated) and caps what collections reserve, so the input
/// length, checked against `max_len` first, bounds every allocation.
fn config() -> ::bincode::config::Configuration {
    ::bincode::config::standard()
}

/// Packs values as bincode 2 bytes: a compact, lossless binary format for
/// Rust↔Rust peers.
///
/// Sente has no bincode packer and a ClojureScript client cannot read it: use
/// it when both ends are this crate. Every [`Value`] survives a round trip
/// exactly: vectors stay vectors and lists stay lists, `Int` and `BigInt` stay
/// apart, floats keep their bits (NaN, `-0.0`, infinities), instants keep
/// their nanoseconds, maps and sets keep their order.
///
/// # Wire format
///
/// bincode 2 with its standard configuration (little-endian, variable-length
/// integers). bincode is not self-describing, so each value starts with its
/// variant index (a varint: one byte below 251), followed by its body:
///
/// | index | variant | body |
/// |---|---|---|
/// | 0 | `Nil` | — |
/// | 1 | `Bool` | one byte, 0 or 1 |
/// | 2 | `Int` | `i64` (zigzag varint) |
/// | 3 | `BigInt` | string: canonical decimal digits |
/// | 4 | `Float` | `f64`, 8 bytes |
/// | 5 | `BigDec` | string: the decimal text |
/// | 6 | `Ratio` | string numerator, string denominator |
/// | 7 | `String` | string |
/// | 8 | `Char` | the UTF-8 bytes of the character |
/// | 9 | `Keyword` | string: `ns/name` without the colon |
/// | 10 | `Symbol` | string |
/// | 11 | `Vector` | varint count, then the values |
/// | 12 | `List` | varint count, then the values |
/// | 13 | `Map` | varint count, then key, value, key, value, … |
/// | 14 | `Set` | varint count, then the values |
/// | 15 | `Uuid` | `u128` (varint) |
/// | 16 | `Inst` | `i64` seconds since the epoch, `u32` nanoseconds |
/// | 17 | `Bytes` | varint length, then the bytes |
/// | 18 | `Tagged` | string tag, then the value |
///
/// A string is a varint byte length followed by UTF-8.
///
/// # Limits
///
/// Unpacking reads strings and byte strings in place from the input and
/// never reserves room for more than a few hundred elements up front, so a
/// hostile length prefix cannot make it allocate: a claimed length beyond
/// the input is [`UnpackErrorKind::UnexpectedEnd`]. Input longer than
/// [`BincodePacker::with_max_len`] (16 MiB by default) is refused outright
/// with [`UnpackErrorKind::TooLarge`]. Nesting is bounded in both directions
/// by [`BincodePacker::with_max_depth`]. One value must fill the whole
/// input: anything after it is [`UnpackErrorKind::TrailingInput`].
///
/// # Example
///
/// ```
/// use sente::packer::{BincodePacker, Packer};
/// use sente::Value;
///
/// let p = BincodePacker::new();
/// let value = Value::List(vec![Value::keyword("a"), Value::Float(f64::NAN)]);
/// let packed = p.pack(true, &value).unwrap();
/// assert!(packed.is_binary());
/// assert_eq!(p.unpack(true, packed.as_ref()).unwrap(), value);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BincodePacker {
    max_depth: usize,
    max_len: usize,
}

impl BincodePacker {
    /// The default limit on the size of a payload to unpack: 16 MiB.
    pub const DEFAULT_MAX_LEN: usize = 16 * 1024 * 1024;

    /// A bincode packer with the default nesting limit
    /// ([`crate::edn::DEFAULT_MAX_DEPTH`]) and size limit
    /// ([`Self::DEFAULT_MAX_LEN`]).
    pub const fn new() -> Self {
        Self {
            max_depth: crate::edn::DEFAULT_MAX_DEPTH,
            max_len: Self::DEFAULT_MAX_LEN,
        }
    }

    /// Sets the nesting limit for both directions; a limit above
    /// [`crate::edn::MAX_DEPTH_CEILING`] is lowered to it.
    pub const fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = crate::stack::capped(max_depth);
        self
    }

    /// The nesting limit in effect.
    pub const fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// Sets the largest payload, in bytes, that [`Packer::unpack`] accepts.
    pub const fn with_max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }
}

impl Default for BincodePacker {
    fn default() -> Self {
        Self::new()
    }
}

impl Packer for BincodePacker {
    fn name(&self) -> &'static str {
        PACKER
    }

    fn is_binary(&self) -> bool {
        true
    }

    fn pack(&self, _websocket: bool, value: &Value) -> Result<Packed, PackError> {
        crate::stack::pack(self.max_depth, |limit| write::to_bytes(value, limit))
            .map(Packed::Binary)
    }

    fn unpack(&self, _websocket: bool, packed: PackedRef<'_>) -> Result<Value, UnpackError> {
        match packed {
            PackedRef::Binary(bytes) if bytes.len() > self.max_len => Err(UnpackError::new(
                PACKER,
                UnpackErrorKind::TooLarge,
                Some(self.max_len),
                format!(
                    "the payload is {} bytes, over the limit of {}",
                    bytes.len(),
                    self.max_len
                ),
            )),
            PackedRef::Binary(bytes) => crate::stack::unpack(PACKER, self.max_depth, |limit| {
                read::from_bytes(bytes, limit)
            }),
            PackedRef::Text(_) => Err(UnpackError::new(
                PACKER,
                UnpackErrorKind::WrongPayloadKind,
                None,
                "the bincode packer reads binary frames, not text",
            )),
        }
    }
}

/// The variant indexes of the wire format (the table in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Nil,
    Bool,
    Int,
    BigInt,
    Float,
    BigDec,
    Ratio,
    String,
    Char,
    Keyword,
    Symbol,
    Vector,
    List,
    Map,
    Set,
    Uuid,
    Inst,
    Bytes,
    Tagged,
}

/// The serde name of the enum `Value` travels as.
const ENUM_NAME: &str = "Value";

impl Variant {
    /// Every variant, in index order.
    const ALL: [Variant; 19] = [
        Self::Nil,
        Self::Bool,
        Self::Int,
        Self::BigInt,
        Self::Float,
        Self::BigDec,
        Self::Ratio,
        Self::String,
        Self::Char,
        Self::Keyword,
        Self::Symbol,
        Self::Vector,
        Self::List,
        Self::Map,
        Self::Set,
        Self::Uuid,
        Self::Inst,
        Self::Bytes,
        Self::Tagged,
    ];

    /// The variant names, in index order (serde wants them for enums).
    const NAMES: [&'static str; 19] = [
        "Nil", "Bool", "Int", "BigInt", "Float", "BigDec", "Ratio", "String", "Char", "Keyword",
        "Symbol", "Vector", "List", "Map", "Set", "Uuid", "Inst", "Bytes", "Tagged",
    ];

    fn of(value: &Value) -> Self {
        match value {
            Value::Nil => Self::Nil,
            Value::Bool(_) => Self::Bool,
            Value::Int(_) => Self::Int,
            Value::BigInt(_) => Self::BigInt,
            Value::Float(_) => Self::Float,
            Value::BigDec(_) => Self::BigDec,
            Value::Ratio(_) => Self::Ratio,
            Value::String(_) => Self::String,
            Value::Char(_) => Self::Char,
            Value::Keyword(_) => Self::Keyword,
            Value::Symbol(_) => Self::Symbol,
            Value::Vector(_) => Self::Vector,
            Value::List(_) => Self::List,
            Value::Map(_) => Self::Map,
            Value::Set(_) => Self::Set,
            Value::Uuid(_) => Self::Uuid,
            Value::Inst(_) => Self::Inst,
            Value::Bytes(_) => Self::Bytes,
            Value::Tagged(_) => Self::Tagged,
        }
    }

    fn from_index(index: u64) -> Option<Self> {
        Self::ALL.get(usize::try_from(index).ok()?).copied()
    }

    fn index(self) -> u32 {
        self as u32
    }

    fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

#[cfg(test)]
mod tests;
