//! The msgpack writer: Sente's exact encoding choices, with the framing
//! (markers, lengths, integers, floats, headers) written by `rmp` into a
//! [`ByteBuf`], whose writes cannot fail.

use std::borrow::Cow;
use std::collections::HashMap;
use std::convert::Infallible;

use rmp::encode::{self, ByteBuf, RmpWrite, ValueWriteError};

use super::{KEY_CACHE_CAPACITY, PACKER_NAME, ext_type, is_cachable_key};
use crate::packer::PackError;
use crate::value::{BigInt, Value};

/// Packs `value` into a fresh buffer with a fresh key cache, nesting at most
/// `max_depth` levels.
pub(super) fn write_value(value: &Value, max_depth: usize) -> Result<Vec<u8>, PackError> {
    let mut writer = Writer {
        out: ByteBuf::with_capacity(64),
        max_depth,
        key_cache: HashMap::new(),
    };
    writer.value(value, 1)?;
    Ok(writer.out.into_vec())
}

struct Writer<'v> {
    out: ByteBuf,
    max_depth: usize,
    /// Keyword and string map keys already written, with their cache index.
    key_cache: HashMap<&'v Value, u8>,
}

/// The result of an `rmp` write into a [`ByteBuf`], which cannot fail.
fn written<T>(result: Result<T, ValueWriteError<Infallible>>) -> T {
    match result {
        Ok(value) => value,
        Err(
            ValueWriteError::InvalidMarkerWrite(never) | ValueWriteError::InvalidDataWrite(never),
        ) => match never {},
    }
}

fn unsupported(value: &Value, detail: impl Into<Cow<'static, str>>) -> PackError {
    PackError::Unsupported {
        packer: PACKER_NAME,
        type_name: value.type_name(),
        detail: detail.into(),
    }
}

/// The value of a big integer as an `i64`, which is all Sente can pack.
fn big_int_as_i64(n: &BigInt, owner: &Value) -> Result<i64, PackError> {
    n.to_i64().ok_or_else(|| {
        unsupported(
            owner,
            format!("integer {} is outside the i64 range", n.as_str()),
        )
    })
}

/// A length as msgpack holds it: at most `u32::MAX`.
fn u32_len(len: usize, owner: &Value) -> Result<u32, PackError> {
    u32::try_from(len).map_err(|_| unsupported(owner, "more than 2^32 - 1 bytes or items"))
}

/// Appends the header of an extension whose content is `len` bytes long:
/// fixext when the length is exactly 1, 2, 4, 8 or 16, else ext8/16/32 (as
/// `rmp` and Sente both choose). `write_ext_meta`'s doc says a negative type
/// panics; rmp 0.8 writes it as any other (the timestamp is type −1), and
/// the tests pin that (`instants_are_timestamp96_in_an_ext8`, negative
/// opaque types in `unknown_extensions_are_opaque_…`).
fn push_ext_header(
    out: &mut ByteBuf,
    len: usize,
    type_id: i8,
    owner: &Value,
) -> Result<(), PackError> {
    written(encode::write_ext_meta(out, u32_len(len, owner)?, type_id));
    Ok(())
}

impl<'v> Writer<'v> {
    /// Writes one value. Only collections and sets recurse, and they do it
    /// through small frames: the depth limit must hold within a default
    /// thread stack in debug builds too.
    fn value(&mut self, v: &'v Value, depth: usize) -> Result<(), PackError> {
        if depth > self.max_depth {
            return Err(PackError::TooDeep {
                limit: self.max_depth,
            });
        }
        match v {
            Value::Vector(items) | Value::List(items) => {
                written(encode::write_array_len(
                    &mut self.out,
                    u32_len(items.len(), v)?,
                ));
                self.items(items.iter(), depth)
            }
            Value::Map(map) => {
                written(encode::write_map_len(&mut self.out, u32_len(map.len(), v)?));
                for (key, item) in map.iter() {
                    self.map_key(key, depth)?;
                    self.value(item, depth + 1)?;
                }
                Ok(())
            }
            Value::Set(set) => {
                // Ext 4 around an array, written in place (sharing the key
                // cache); the header goes in front once the length is known.
                let start = self.out.as_slice().len();
                written(encode::write_array_len(
                    &mut self.out,
                    u32_len(set.len(), v)?,
                ));
                self.items(set.iter(), depth)?;
                self.prepend_ext_header(start, ext_type::SET, v)
            }
            _ => self.scalar(v, depth),
        }
    }

    fn items(
        &mut self,
        items: impl Iterator<Item = &'v Value>,
        depth: usize,
    ) -> Result<(), PackError> {
        for item in items {
            self.value(item, depth + 1)?;
        }
        Ok(())
    }

    /// Writes a value that holds no other values (collections go back to
    /// [`Self::value`], which handles them before calling this).
    fn scalar(&mut self, v: &'v Value, depth: usize) -> Result<(), PackError> {
        match v {
            Value::Nil => {
                let Ok(()) = encode::write_nil(&mut self.out);
            }
            Value::Bool(b) => {
                let Ok(()) = encode::write_bool(&mut self.out, *b);
            }
            Value::Int(n) => self.int(*n),
            Value::BigInt(n) => self.int(big_int_as_i64(n, v)?),
            Value::Float(f) => self.float(*f),
            Value::BigDec(d) => self.float(d.to_f64()),
            Value::String(s) => {
                written(encode::write_str_len(&mut self.out, u32_len(s.len(), v)?));
                self.raw(s.as_bytes());
            }
            Value::Bytes(b) => {
                written(encode::write_bin_len(&mut self.out, u32_len(b.len(), v)?));
                self.raw(b);
            }
            Value::Keyword(k) => self.ext(ext_type::KEYWORD, k.as_str().as_bytes(), v)?,
            Value::Symbol(s) => self.ext(ext_type::SYMBOL, s.as_str().as_bytes(), v)?,
            Value::Char(c) => self.ext(ext_type::CHAR, c.encode_utf8(&mut [0; 4]).as_bytes(), v)?,
            Value::Ratio(r) => {
                let numerator = big_int_as_i64(r.numerator(), v)?;
                let denominator = big_int_as_i64(r.denominator(), v)?;
                let start = self.out.as_slice().len();
                self.int(numerator);
                self.int(denominator);
                self.prepend_ext_header(start, ext_type::RATIO, v)?;
            }
            Value::Uuid(u) => {
                let mut buffer = uuid::Uuid::encode_buffer();
                let text = u.hyphenated().encode_lower(&mut buffer);
                self.ext(ext_type::UUID, text.as_bytes(), v)?;
            }
            Value::Inst(i) => {
                // timestamp96 (12 bytes, so always an ext8 `c7 0c ff`), even
                // when the 4- or 8-byte form would do, as Sente writes it.
                let mut content = [0u8; 12];
                let (nanos, secs) = content.split_at_mut(4);
                nanos.copy_from_slice(&i.subsec_nanos().to_be_bytes());
                secs.copy_from_slice(&i.secs().to_be_bytes());
                self.ext(ext_type::TIMESTAMP, &content, v)?;
            }
            Value::Tagged(t) => {
                if let Some((type_id, content)) = super::as_opaque_ext(t) {
                    return self.ext(type_id, content, v);
                }
                return Err(unsupported(
                    v,
                    format!(
                        "msgpack has no form for the tagged literal #{}",
                        t.tag.as_str()
                    ),
                ));
            }
            Value::Vector(_) | Value::List(_) | Value::Map(_) | Value::Set(_) => {
                return self.value(v, depth);
            }
        }
        Ok(())
    }

    /// Writes a map key: a back-reference `d4 08 <index>` when this keyword or
    /// string was already written as a key, else the key itself (assigning it
    /// the next index while the cache has room).
    fn map_key(&mut self, key: &'v Value, depth: usize) -> Result<(), PackError> {
        if is_cachable_key(key) {
            if let Some(&index) = self.key_cache.get(key) {
                written(encode::write_ext_meta(
                    &mut self.out,
                    1,
                    ext_type::CACHED_KEY,
                ));
                self.raw(&[index]);
                return Ok(());
            }
            if self.key_cache.len() < KEY_CACHE_CAPACITY
                && let Ok(index) = u8::try_from(self.key_cache.len())
            {
                self.key_cache.insert(key, index);
            }
        }
        self.value(key, depth + 1)
    }

    /// Writes an integer in the smallest form Sente uses: `rmp`'s choice,
    /// except above the `u32` range, where Sente writes int64 (`0xd3`), never
    /// uint64 (`0xcf`).
    fn int(&mut self, n: i64) {
        if n > i64::from(u32::MAX) {
            written(encode::write_i64(&mut self.out, n));
        } else {
            written(encode::write_sint(&mut self.out, n));
        }
    }

    fn float(&mut self, f: f64) {
        written(encode::write_f64(&mut self.out, f));
    }

    /// Appends bytes that are not framing: text, binary or extension content.
    fn raw(&mut self, bytes: &[u8]) {
        let Ok(()) = self.out.write_bytes(bytes);
    }

    /// Writes an extension with the given content.
    fn ext(&mut self, type_id: i8, content: &[u8], owner: &Value) -> Result<(), PackError> {
        push_ext_header(&mut self.out, content.len(), type_id, owner)?;
        self.raw(content);
        Ok(())
    }

    /// Turns everything written since `start` into the content of an
    /// extension by putting its header in front.
    fn prepend_ext_header(
        &mut self,
        start: usize,
        type_id: i8,
        owner: &Value,
    ) -> Result<(), PackError> {
        let len = self.out.as_slice().len() - start;
        let mut header = ByteBuf::with_capacity(6);
        push_ext_header(&mut header, len, type_id, owner)?;
        self.out
            .as_mut_vec()
            .splice(start..start, header.into_vec());
        Ok(())
    }
}
