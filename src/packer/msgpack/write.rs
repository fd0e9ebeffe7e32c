//! The msgpack writer: Sente's exact encoding choices.

use std::borrow::Cow;
use std::collections::HashMap;

use super::{KEY_CACHE_CAPACITY, PACKER_NAME, ext_type, is_cachable_key};
use crate::packer::PackError;
use crate::value::{BigInt, Value};

/// Packs `value` into a fresh buffer with a fresh key cache, nesting at most
/// `max_depth` levels.
pub(super) fn write_value(value: &Value, max_depth: usize) -> Result<Vec<u8>, PackError> {
    let mut writer = Writer {
        out: Vec::with_capacity(64),
        max_depth,
        key_cache: HashMap::new(),
    };
    writer.value(value, 1)?;
    Ok(writer.out)
}

/// The header codes of a length-prefixed family: the fix form (base code and
/// largest length), then the 8-, 16- and 32-bit length forms where they exist.
struct LengthCodes {
    fix: Option<(u8, usize)>,
    len8: Option<u8>,
    len16: u8,
    len32: u8,
}

const STR: LengthCodes = LengthCodes {
    fix: Some((0xa0, 31)),
    len8: Some(0xd9),
    len16: 0xda,
    len32: 0xdb,
};
const BIN: LengthCodes = LengthCodes {
    fix: None,
    len8: Some(0xc4),
    len16: 0xc5,
    len32: 0xc6,
};
const ARRAY: LengthCodes = LengthCodes {
    fix: Some((0x90, 15)),
    len8: None,
    len16: 0xdc,
    len32: 0xdd,
};
const MAP: LengthCodes = LengthCodes {
    fix: Some((0x80, 15)),
    len8: None,
    len16: 0xde,
    len32: 0xdf,
};

struct Writer<'v> {
    out: Vec<u8>,
    max_depth: usize,
    /// Keyword and string map keys already written, with their cache index.
    key_cache: HashMap<&'v Value, u8>,
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

/// Appends the header of an extension whose content is `len` bytes long:
/// fixext when the length is exactly 1, 2, 4, 8 or 16, else ext8/16/32.
fn push_ext_header(
    out: &mut Vec<u8>,
    len: usize,
    type_id: i8,
    owner: &Value,
) -> Result<(), PackError> {
    let fixext_code = match len {
        1 => Some(0xd4),
        2 => Some(0xd5),
        4 => Some(0xd6),
        8 => Some(0xd7),
        16 => Some(0xd8),
        _ => None,
    };
    if let Some(code) = fixext_code {
        out.push(code);
    } else if let Ok(n) = u8::try_from(len) {
        out.extend_from_slice(&[0xc7, n]);
    } else if let Ok(n) = u16::try_from(len) {
        out.push(0xc8);
        out.extend_from_slice(&n.to_be_bytes());
    } else if let Ok(n) = u32::try_from(len) {
        out.push(0xc9);
        out.extend_from_slice(&n.to_be_bytes());
    } else {
        return Err(unsupported(
            owner,
            "extension content longer than 2^32 - 1 bytes",
        ));
    }
    out.extend_from_slice(&type_id.to_be_bytes());
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
                self.length_header(&ARRAY, items.len(), v)?;
                self.items(items.iter(), depth)
            }
            Value::Map(map) => {
                self.length_header(&MAP, map.len(), v)?;
                for (key, item) in map.iter() {
                    self.map_key(key, depth)?;
                    self.value(item, depth + 1)?;
                }
                Ok(())
            }
            Value::Set(set) => {
                // Ext 4 around an array, written in place (sharing the key
                // cache); the header goes in front once the length is known.
                let start = self.out.len();
                self.length_header(&ARRAY, set.len(), v)?;
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
            Value::Nil => self.out.push(0xc0),
            Value::Bool(false) => self.out.push(0xc2),
            Value::Bool(true) => self.out.push(0xc3),
            Value::Int(n) => self.int(*n),
            Value::BigInt(n) => self.int(big_int_as_i64(n, v)?),
            Value::Float(f) => self.float(*f),
            Value::BigDec(d) => self.float(d.to_f64()),
            Value::String(s) => self.bytes_with(&STR, s.as_bytes(), v)?,
            Value::Bytes(b) => self.bytes_with(&BIN, b, v)?,
            Value::Keyword(k) => self.ext(ext_type::KEYWORD, k.as_str().as_bytes(), v)?,
            Value::Symbol(s) => self.ext(ext_type::SYMBOL, s.as_str().as_bytes(), v)?,
            Value::Char(c) => self.ext(ext_type::CHAR, c.encode_utf8(&mut [0; 4]).as_bytes(), v)?,
            Value::Ratio(r) => {
                let numerator = big_int_as_i64(r.numerator(), v)?;
                let denominator = big_int_as_i64(r.denominator(), v)?;
                let start = self.out.len();
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
                let cached_key_type = ext_type::CACHED_KEY.to_be_bytes()[0];
                self.out.extend_from_slice(&[0xd4, cached_key_type, index]);
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

    /// Writes an integer in the smallest form Sente uses. (The `as` casts
    /// keep exactly the bytes of the range each arm matched.)
    fn int(&mut self, n: i64) {
        let out = &mut self.out;
        match n {
            // Positive and negative fixint: the byte is the value.
            -32..=0x7f => out.push(n as u8),
            0x80..=0xff => out.extend_from_slice(&[0xcc, n as u8]),
            0x100..=0xffff => {
                out.push(0xcd);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(0xce);
                out.extend_from_slice(&(n as u32).to_be_bytes());
            }
            -0x80..=-33 => out.extend_from_slice(&[0xd0, n as u8]),
            -0x8000..=-0x81 => {
                out.push(0xd1);
                out.extend_from_slice(&(n as i16).to_be_bytes());
            }
            -0x8000_0000..=-0x8001 => {
                out.push(0xd2);
                out.extend_from_slice(&(n as i32).to_be_bytes());
            }
            // Above u32 or below i32: int64. Sente never writes uint64 (0xcf).
            _ => {
                out.push(0xd3);
                out.extend_from_slice(&n.to_be_bytes());
            }
        }
    }

    fn float(&mut self, f: f64) {
        self.out.push(0xcb);
        self.out.extend_from_slice(&f.to_be_bytes());
    }

    /// Writes the header of a string, binary, array or map of `len` items.
    fn length_header(
        &mut self,
        codes: &LengthCodes,
        len: usize,
        owner: &Value,
    ) -> Result<(), PackError> {
        let out = &mut self.out;
        match codes.fix {
            Some((base, max)) if len <= max => {
                // `len <= max <= 31`: it fits the code's low bits.
                out.push(base | len as u8);
                return Ok(());
            }
            _ => {}
        }
        match (codes.len8, u8::try_from(len)) {
            (Some(code), Ok(n)) => out.extend_from_slice(&[code, n]),
            _ => {
                if let Ok(n) = u16::try_from(len) {
                    out.push(codes.len16);
                    out.extend_from_slice(&n.to_be_bytes());
                } else if let Ok(n) = u32::try_from(len) {
                    out.push(codes.len32);
                    out.extend_from_slice(&n.to_be_bytes());
                } else {
                    return Err(unsupported(owner, "more than 2^32 - 1 bytes or items"));
                }
            }
        }
        Ok(())
    }

    fn bytes_with(
        &mut self,
        codes: &LengthCodes,
        bytes: &[u8],
        owner: &Value,
    ) -> Result<(), PackError> {
        self.length_header(codes, bytes.len(), owner)?;
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    /// Writes an extension with the given content.
    fn ext(&mut self, type_id: i8, content: &[u8], owner: &Value) -> Result<(), PackError> {
        push_ext_header(&mut self.out, content.len(), type_id, owner)?;
        self.out.extend_from_slice(content);
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
        let len = self.out.len() - start;
        let mut header = Vec::with_capacity(6);
        push_ext_header(&mut header, len, type_id, owner)?;
        self.out.splice(start..start, header);
        Ok(())
    }
}
