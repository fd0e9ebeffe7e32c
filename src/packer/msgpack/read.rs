//! The msgpack reader: everything Sente writes, plus the standard forms it
//! never writes (uint64, float32, timestamp32/64) and the JVM typed arrays.
//!
//! The framing (markers, lengths, integers, floats, headers) is read with
//! `rmp` on a cursor over what is left of the current region, so it can
//! never read past an extension payload or the input; every length it
//! returns is checked against the bytes left before anything is allocated
//! or taken. The value mapping, Sente's extension types, the key cache and
//! the limits are ours.

use std::borrow::Cow;
use std::sync::Arc;

use rmp::Marker;
use rmp::decode::bytes::BytesReadError;
use rmp::decode::{self, Bytes, NumValueReadError};

use super::{KEY_CACHE_CAPACITY, PACKER_NAME, ext_type, is_cachable_key};
use crate::packer::{UnpackError, UnpackErrorKind as Kind};
use crate::value::{BigInt, Inst, Keyword, Map, Ratio, Set, Symbol, Uuid, Value};

/// The most items an array or map header may reserve room for before they
/// are read: a claimed count is not trusted further.
const PREALLOC_MAX: usize = 256;

/// Reads one top-level value from `input` with a fresh key cache. Bytes after
/// it are ignored when `allow_trailing`, else they are an error.
pub(super) fn read_value(
    input: &[u8],
    max_depth: usize,
    allow_trailing: bool,
) -> Result<Value, UnpackError> {
    let mut reader = Reader {
        input,
        pos: 0,
        end: input.len(),
        max_depth,
        key_cache: Vec::new(),
    };
    let value = reader.value(1)?;
    if !allow_trailing && reader.pos != input.len() {
        return Err(reader.error(
            Kind::TrailingInput,
            reader.pos,
            format!("{} bytes after the value", input.len() - reader.pos),
        ));
    }
    Ok(value)
}

struct Reader<'a> {
    input: &'a [u8],
    /// The offset of the next byte to read.
    pos: usize,
    /// Where the current region ends: the input's end, or the end of the
    /// extension payload being read in place.
    end: usize,
    max_depth: usize,
    /// Keyword and string map keys read so far, indexed by ext 8 references.
    key_cache: Vec<Value>,
}

/// An extension payload being read in place: where its header starts, where
/// its content ends, and where the enclosing region ends.
struct Payload {
    at: usize,
    end: usize,
    outer_end: usize,
}

/// What `rmp` reports when a header or scalar cannot be read.
type FramingError = NumValueReadError<BytesReadError>;

/// The header of an extension: where it starts, its type and its content length.
struct ExtHeader {
    at: usize,
    type_id: i8,
    len: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, kind: Kind, at: usize, detail: impl Into<Cow<'static, str>>) -> UnpackError {
        UnpackError::new(PACKER_NAME, kind, Some(at), detail)
    }

    fn remaining(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    /// Takes the next `len` bytes of the current region.
    fn take(&mut self, len: usize) -> Result<&'a [u8], UnpackError> {
        let bytes = self
            .input
            .get(self.pos..self.end)
            .and_then(|rest| rest.get(..len))
            .ok_or_else(|| {
                self.error(
                    Kind::UnexpectedEnd,
                    self.pos,
                    format!("needed {len} bytes, {} left", self.remaining()),
                )
            })?;
        self.pos += len;
        Ok(bytes)
    }

    /// Takes the `len` bytes a header at `at` claims, reporting a shortfall
    /// at the header.
    fn claimed(&mut self, at: usize, len: usize) -> Result<&'a [u8], UnpackError> {
        self.check_fits(at, len, 1)?;
        self.take(len)
    }

    /// Takes the next `N` bytes as an array.
    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], UnpackError> {
        let at = self.pos;
        let bytes = self.take(N)?;
        bytes
            .first_chunk::<N>()
            .copied()
            .ok_or_else(|| self.error(Kind::UnexpectedEnd, at, "input ended"))
    }

    /// The marker of the next value, not consumed.
    fn peek_marker(&self) -> Result<Marker, UnpackError> {
        match self.input.get(self.pos) {
            Some(&code) if self.pos < self.end => Ok(Marker::from_u8(code)),
            _ => Err(self.error(Kind::UnexpectedEnd, self.pos, "input ended")),
        }
    }

    /// Reads one header or scalar with `rmp` from what is left of the
    /// current region (so never past it) and moves past the bytes it read;
    /// `at` is where the value starts, for errors.
    fn framed<T, E>(
        &mut self,
        at: usize,
        read: impl FnOnce(&mut Bytes<'a>) -> Result<T, E>,
    ) -> Result<T, UnpackError>
    where
        FramingError: From<E>,
    {
        let rest = self.input.get(self.pos..self.end).unwrap_or_default();
        let mut cursor = Bytes::new(rest);
        let result = read(&mut cursor);
        self.pos += rest.len() - cursor.remaining_slice().len();
        result.map_err(|e| self.framing_error(at, FramingError::from(e)))
    }

    /// Reads a length or count header with `rmp`. (A `u32` fits a `usize`
    /// on every target this crate builds for; were it not to, the length
    /// saturates and fails the checks against the bytes left.)
    fn framed_len<E>(
        &mut self,
        at: usize,
        read: impl FnOnce(&mut Bytes<'a>) -> Result<u32, E>,
    ) -> Result<usize, UnpackError>
    where
        FramingError: From<E>,
    {
        let len = self.framed(at, read)?;
        Ok(usize::try_from(len).unwrap_or(usize::MAX))
    }

    /// An `rmp` read error: over a byte slice, running out of input. (The
    /// marker was checked before the read, so it cannot mismatch.)
    #[cold]
    fn framing_error(&self, at: usize, e: FramingError) -> UnpackError {
        let kind = match e {
            NumValueReadError::InvalidMarkerRead(_) | NumValueReadError::InvalidDataRead(_) => {
                Kind::UnexpectedEnd
            }
            _ => Kind::Syntax,
        };
        self.error(kind, at, format!("malformed header: {e}"))
    }

    /// Checks that `count` items of at least `min_item_bytes` each could fit in
    /// what is left, so no claimed length ever drives an allocation.
    fn check_fits(
        &self,
        at: usize,
        count: usize,
        min_item_bytes: usize,
    ) -> Result<(), UnpackError> {
        if count.saturating_mul(min_item_bytes) > self.remaining() {
            return Err(self.error(
                Kind::UnexpectedEnd,
                at,
                format!(
                    "claims {count} items or bytes but only {} bytes are left",
                    self.remaining()
                ),
            ));
        }
        Ok(())
    }

    /// Reads one value. Only collections and the set and ratio extensions
    /// recurse, and they do it through small frames: the depth limit must
    /// hold within a default thread stack in debug builds too.
    fn value(&mut self, depth: usize) -> Result<Value, UnpackError> {
        if depth > self.max_depth {
            return Err(self.too_deep());
        }
        let at = self.pos;
        match self.peek_marker()? {
            Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => {
                let count = self.framed_len(at, decode::read_map_len)?;
                self.map(at, count, depth)
            }
            Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => {
                let count = self.framed_len(at, decode::read_array_len)?;
                self.array(at, count, depth).map(Value::Vector)
            }
            marker if is_ext(marker) => self.ext(at, depth),
            marker => self.scalar(at, marker),
        }
    }

    #[cold]
    fn too_deep(&self) -> UnpackError {
        self.error(
            Kind::TooDeep,
            self.pos,
            format!("more than {} levels", self.max_depth),
        )
    }

    /// Reads a value that holds no other values; `marker` is its first byte.
    fn scalar(&mut self, at: usize, marker: Marker) -> Result<Value, UnpackError> {
        let value = match marker {
            Marker::Null => self.framed(at, decode::read_nil).map(|()| Value::Nil)?,
            Marker::True | Marker::False => Value::Bool(self.framed(at, decode::read_bool)?),
            Marker::FixPos(_)
            | Marker::FixNeg(_)
            | Marker::U8
            | Marker::U16
            | Marker::U32
            | Marker::I8
            | Marker::I16
            | Marker::I32
            | Marker::I64 => Value::Int(self.framed(at, decode::read_int)?),
            Marker::U64 => Value::from(self.framed(at, decode::read_u64)?),
            Marker::F32 => Value::Float(f64::from(self.framed(at, decode::read_f32)?)),
            Marker::F64 => Value::Float(self.framed(at, decode::read_f64)?),
            Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => {
                let len = self.framed_len(at, decode::read_str_len)?;
                self.string(at, len)?
            }
            Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => {
                let len = self.framed_len(at, decode::read_bin_len)?;
                Value::Bytes(Arc::from(self.claimed(at, len)?))
            }
            other => {
                return Err(self.error(
                    Kind::Syntax,
                    at,
                    format!("0x{:02x} is not a msgpack type code", other.to_u8()),
                ));
            }
        };
        Ok(value)
    }

    /// Reads an array's `count` elements after its header (at `at`), each
    /// one level deeper than `depth`.
    fn array(&mut self, at: usize, count: usize, depth: usize) -> Result<Vec<Value>, UnpackError> {
        self.check_fits(at, count, 1)?;
        // The count is the sender's claim: reserve no more than a few items
        // up front (each level of a hostile nest would otherwise reserve
        // 32 bytes per claimed item), and grow with what really arrives.
        let mut items = Vec::with_capacity(count.min(PREALLOC_MAX));
        for _ in 0..count {
            items.push(self.value(depth + 1)?);
        }
        Ok(items)
    }

    /// Reads a map's `count` entries after its header (at `at`); a repeated
    /// key keeps the last value, as in Sente.
    fn map(&mut self, at: usize, count: usize, depth: usize) -> Result<Value, UnpackError> {
        self.check_fits(at, count, 2)?;
        let mut map = Map::with_capacity_and_hasher(count.min(PREALLOC_MAX), Default::default());
        for _ in 0..count {
            let key = self.map_key(depth + 1)?;
            let value = self.value(depth + 1)?;
            map.insert(key, value);
        }
        Ok(Value::Map(Box::new(map)))
    }

    /// Reads a map key: an ext 8 reference is replaced by the cached key; a
    /// keyword or string is added to the cache while it has room.
    fn map_key(&mut self, depth: usize) -> Result<Value, UnpackError> {
        let at = self.pos;
        if self.peek_marker().is_ok_and(is_ext) {
            let header = self.ext_header(at)?;
            if header.type_id == ext_type::CACHED_KEY {
                return self.cached_key(&header);
            }
            self.pos = at;
        }
        let key = self.value(depth)?;
        if is_cachable_key(&key) && self.key_cache.len() < KEY_CACHE_CAPACITY {
            self.key_cache.push(key.clone());
        }
        Ok(key)
    }

    /// Reads the cache index of an ext 8 map key and returns the cached key.
    fn cached_key(&mut self, header: &ExtHeader) -> Result<Value, UnpackError> {
        if header.len != 1 {
            return Err(self.error(
                Kind::InvalidLiteral,
                header.at,
                format!("a cached-key reference holds 1 byte, not {}", header.len),
            ));
        }
        let [index] = self.fixed()?;
        // Sente (taoensso.msgpack.impl, `extend-packable 8`): `(get cache
        // idx)`, so an index that was never assigned reads as nil.
        Ok(self
            .key_cache
            .get(usize::from(index))
            .cloned()
            .unwrap_or(Value::Nil))
    }

    /// Reads the extension header at `at`, checking that the content it
    /// claims is there.
    fn ext_header(&mut self, at: usize) -> Result<ExtHeader, UnpackError> {
        let meta = self.framed(at, decode::read_ext_meta)?;
        let type_id = meta.typeid;
        let len = usize::try_from(meta.size).unwrap_or(usize::MAX);
        if len > self.remaining() {
            return Err(self.error(
                Kind::UnexpectedEnd,
                at,
                format!(
                    "extension claims {len} bytes but only {} are left",
                    self.remaining()
                ),
            ));
        }
        Ok(ExtHeader { at, type_id, len })
    }

    /// Reads the extension at `at`. Set and ratio payloads are read in
    /// place; the other types hold no values.
    fn ext(&mut self, at: usize, depth: usize) -> Result<Value, UnpackError> {
        let header = self.ext_header(at)?;
        match header.type_id {
            ext_type::SET | ext_type::RATIO => {
                let payload = self.enter_payload(&header);
                let value = if header.type_id == ext_type::SET {
                    self.set(depth)
                } else {
                    self.ratio(at, depth)
                };
                self.leave_payload(payload, value)
            }
            _ => self.flat_ext(&header),
        }
    }

    /// Reads the content of an extension that holds no nested msgpack.
    fn flat_ext(&mut self, header: &ExtHeader) -> Result<Value, UnpackError> {
        let at = header.at;
        match header.type_id {
            ext_type::KEYWORD => Ok(Value::Keyword(Keyword::cached(&self.text(at, header.len)?))),
            ext_type::SYMBOL => Ok(Value::Symbol(Symbol::new(self.text(at, header.len)?))),
            ext_type::CHAR => {
                let text = self.text(at, header.len)?;
                let mut chars = text.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Ok(Value::Char(c)),
                    _ => Err(self.error(
                        Kind::InvalidLiteral,
                        at,
                        "a character holds exactly one char",
                    )),
                }
            }
            ext_type::INT_ARRAY => {
                self.typed_array::<4>(header, |b| Value::Int(i64::from(i32::from_be_bytes(b))))
            }
            ext_type::FLOAT_ARRAY => {
                self.typed_array::<4>(header, |b| Value::Float(f64::from(f32::from_be_bytes(b))))
            }
            ext_type::DOUBLE_ARRAY => {
                self.typed_array::<8>(header, |b| Value::Float(f64::from_be_bytes(b)))
            }
            ext_type::CACHED_KEY => Err(self.error(
                Kind::Syntax,
                at,
                "a cached-key reference (ext 8) is only valid as a map key",
            )),
            ext_type::UUID => {
                let text = self.text(at, header.len)?;
                Uuid::try_parse(&text)
                    .map(Value::Uuid)
                    .map_err(|_| self.error(Kind::InvalidLiteral, at, "not a UUID's text"))
            }
            ext_type::TIMESTAMP => self.timestamp(header),
            other => {
                // Sente's `unpack-ext :default` (taoensso.msgpack.common):
                // a PackableExt record, which packs back to the same bytes.
                let content = self.claimed(at, header.len)?;
                Ok(super::opaque_ext(other, content))
            }
        }
    }

    /// Reads the `len` bytes of text claimed by the header at `at`. Invalid
    /// UTF-8 becomes U+FFFD, as Sente decodes it (`(String. ba UTF_8)` in
    /// taoensso.msgpack.impl's `read-str` and the keyword, symbol and
    /// character extensions; `TextDecoder` in ClojureScript).
    fn text(&mut self, at: usize, len: usize) -> Result<Cow<'a, str>, UnpackError> {
        let bytes = self.claimed(at, len)?;
        Ok(String::from_utf8_lossy(bytes))
    }

    fn string(&mut self, at: usize, len: usize) -> Result<Value, UnpackError> {
        self.text(at, len).map(|s| Value::String(Arc::from(s)))
    }

    /// Makes the extension's content the current region, so reading cannot
    /// run past it. Offsets stay absolute and the key cache is shared, as
    /// Sente reads these payloads in place.
    fn enter_payload(&mut self, header: &ExtHeader) -> Payload {
        let end = self.pos + header.len.min(self.remaining());
        Payload {
            at: header.at,
            end,
            outer_end: std::mem::replace(&mut self.end, end),
        }
    }

    /// Restores the enclosing region after reading a payload, which must
    /// have been consumed exactly.
    fn leave_payload(
        &mut self,
        payload: Payload,
        value: Result<Value, UnpackError>,
    ) -> Result<Value, UnpackError> {
        self.end = payload.outer_end;
        let value = value?;
        if self.pos != payload.end {
            return Err(self.error(
                Kind::Syntax,
                payload.at,
                format!(
                    "{} unread bytes at the end of the extension payload",
                    payload.end - self.pos
                ),
            ));
        }
        Ok(value)
    }

    /// A ratio payload: two integers, numerator then denominator.
    fn ratio(&mut self, at: usize, depth: usize) -> Result<Value, UnpackError> {
        let numerator = self.value(depth + 1)?;
        let denominator = self.value(depth + 1)?;
        let invalid = |detail: &'static str| self.error(Kind::InvalidLiteral, at, detail);
        let (Some(n), Some(d)) = (as_i128(&numerator), as_i128(&denominator)) else {
            return Err(invalid("a ratio's parts must be integers"));
        };
        // Sente's ext 3 reader (taoensso.msgpack.impl, `extend-packable 3`)
        // divides, `(/ n d)`: Long parts give a Long when exact (a uint64
        // part is a BigInteger there, so a BigInt), else a reduced ratio.
        let longs = matches!((&numerator, &denominator), (Value::Int(_), Value::Int(_)));
        Ratio::divide(&BigInt::from_i128(n), &BigInt::from_i128(d), longs)
            .ok_or_else(|| invalid("a ratio's denominator must not be zero"))
    }

    /// A set payload: one array; duplicate elements collapse, as in Sente.
    fn set(&mut self, depth: usize) -> Result<Value, UnpackError> {
        let at = self.pos;
        match self.peek_marker()? {
            Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => {
                let count = self.framed_len(at, decode::read_array_len)?;
                let items = self.array(at, count, depth)?;
                Ok(Value::Set(Box::new(items.into_iter().collect::<Set>())))
            }
            _ => Err(self.error(Kind::Syntax, at, "a set's payload must be an array")),
        }
    }

    /// A JVM typed array: big-endian elements of `N` bytes each.
    fn typed_array<const N: usize>(
        &mut self,
        header: &ExtHeader,
        element: impl Fn([u8; N]) -> Value,
    ) -> Result<Value, UnpackError> {
        if !header.len.is_multiple_of(N) {
            return Err(self.error(
                Kind::InvalidLiteral,
                header.at,
                format!(
                    "a typed array of {N}-byte elements is {} bytes long",
                    header.len
                ),
            ));
        }
        let bytes = self.claimed(header.at, header.len)?;
        let elements = bytes
            .chunks_exact(N)
            .filter_map(|chunk| chunk.first_chunk::<N>().copied())
            .map(element);
        Ok(Value::Vector(elements.collect()))
    }

    /// The msgpack timestamp extension in its 4-, 8- or 12-byte form.
    fn timestamp(&mut self, header: &ExtHeader) -> Result<Value, UnpackError> {
        let (secs, nanos) = match header.len {
            4 => (i64::from(u32::from_be_bytes(self.fixed()?)), 0),
            8 => {
                let packed = u64::from_be_bytes(self.fixed()?);
                // Upper 30 bits nanoseconds, lower 34 bits seconds.
                let nanos = u32::try_from(packed >> 34).unwrap_or(u32::MAX);
                let secs = i64::try_from(packed & 0x3_ffff_ffff).unwrap_or(i64::MAX);
                (secs, nanos)
            }
            12 => {
                let nanos = u32::from_be_bytes(self.fixed()?);
                (i64::from_be_bytes(self.fixed()?), nanos)
            }
            other => {
                return Err(self.error(
                    Kind::InvalidLiteral,
                    header.at,
                    format!("a timestamp is 4, 8 or 12 bytes, not {other}"),
                ));
            }
        };
        Inst::new(secs, nanos).map(Value::Inst).ok_or_else(|| {
            self.error(
                Kind::InvalidLiteral,
                header.at,
                "timestamp nanoseconds of 10^9 or more",
            )
        })
    }
}

/// True for the markers of the extension family (fixext1–16, ext8/16/32).
fn is_ext(marker: Marker) -> bool {
    matches!(
        marker,
        Marker::FixExt1
            | Marker::FixExt2
            | Marker::FixExt4
            | Marker::FixExt8
            | Marker::FixExt16
            | Marker::Ext8
            | Marker::Ext16
            | Marker::Ext32
    )
}

fn as_i128(value: &Value) -> Option<i128> {
    match value {
        Value::Int(n) => Some(i128::from(*n)),
        Value::BigInt(n) => n.to_i128(),
        _ => None,
    }
}
