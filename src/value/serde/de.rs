//! [`ValueDeserializer`]: a `serde::Deserializer` reading from a [`Value`].

mod access;

use ::serde::de::value::SeqDeserializer;
use ::serde::de::{self, Error as _, Expected, Unexpected, Visitor};

use access::{EntryVariant, ExactVariant, NameVariant};

use super::error::{ValueError, clip};
use super::{Token, VALUE_TOKEN};
use crate::value::{Uuid, Value};

/// Text of a value quoted in an error message is cut to this many bytes.
const MAX_QUOTED_TEXT: usize = 40;

/// A `serde::Deserializer` over a borrowed [`Value`];
/// [`from_value_ref`](super::from_value_ref) with a settable nesting limit.
///
/// ```
/// use serde::Deserialize;
/// use sente::value::{Value, ValueDeserializer};
///
/// let nested = Value::vector([Value::vector([Value::from(1)])]);
/// let ok = Vec::<Vec<u8>>::deserialize(ValueDeserializer::new(&nested).with_max_depth(3));
/// assert_eq!(ok.unwrap(), vec![vec![1]]);
/// assert!(Vec::<Vec<u8>>::deserialize(ValueDeserializer::new(&nested).with_max_depth(2)).is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ValueDeserializer<'de> {
    value: &'de Value,
    depth: usize,
    max_depth: usize,
}

impl<'de> ValueDeserializer<'de> {
    /// A deserializer over `value` with the default nesting limit
    /// ([`super::SERDE_MAX_DEPTH`]).
    pub const fn new(value: &'de Value) -> Self {
        Self {
            value,
            depth: 1,
            max_depth: super::SERDE_MAX_DEPTH,
        }
    }

    /// Sets the nesting limit: how many levels of collections (a scalar is one
    /// level, each vector, map, set or tag adds one) the value may have.
    ///
    /// A limit above [`super::SERDE_MAX_DEPTH`] is lowered to it.
    pub const fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = super::serde_capped(max_depth);
        self
    }

    /// The deserializer for a part of this value, one level down.
    fn child(&self, value: &'de Value) -> Result<Self, ValueError> {
        let depth = self.depth + 1;
        if depth > self.max_depth {
            return Err(ValueError::too_deep(self.max_depth));
        }
        Ok(Self {
            value,
            depth,
            ..*self
        })
    }

    fn invalid_type(&self, expected: &dyn Expected) -> ValueError {
        let text: String;
        let unexpected = match self.value {
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Int(i) => Unexpected::Signed(*i),
            Value::Float(f) => Unexpected::Float(*f),
            Value::String(s) => Unexpected::Str(clip(s, MAX_QUOTED_TEXT)),
            Value::Char(c) => Unexpected::Char(*c),
            Value::Keyword(_) | Value::Symbol(_) | Value::BigInt(_) | Value::BigDec(_) => {
                text = format!(
                    "{} {}",
                    self.value.type_name(),
                    clip(&self.value.to_string(), MAX_QUOTED_TEXT)
                );
                Unexpected::Other(&text)
            }
            other => Unexpected::Other(other.type_name()),
        };
        ValueError::invalid_type(unexpected, expected)
    }

    fn out_of_range(&self, expected: &dyn Expected) -> ValueError {
        let text = format!("integer {}", clip(&self.value.to_string(), MAX_QUOTED_TEXT));
        ValueError::invalid_value(Unexpected::Other(&text), expected)
    }

    /// The integer, when this is an `Int` or a `BigInt` within 128 bits.
    fn integer(&self) -> Option<i128> {
        match self.value {
            Value::Int(i) => Some(i128::from(*i)),
            Value::BigInt(b) => b.to_i128(),
            _ => None,
        }
    }

    /// A vector of integers 0–255 as bytes.
    fn byte_vector(&self, items: &'de [Value]) -> Result<Vec<u8>, ValueError> {
        const EXPECTED: &str = "a byte (an integer 0-255)";
        let mut bytes = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let part = Self {
                value: item,
                ..*self
            };
            let byte = match item {
                Value::Int(_) | Value::BigInt(_) => part
                    .integer()
                    .and_then(|n| u8::try_from(n).ok())
                    .ok_or_else(|| part.out_of_range(&EXPECTED)),
                _ => Err(part.invalid_type(&EXPECTED)),
            };
            bytes.push(byte.map_err(|e| e.at_index(index))?);
        }
        Ok(bytes)
    }
}

macro_rules! deserialize_integer {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
            match self.value {
                Value::Int(_) | Value::BigInt(_) => {
                    match self.integer().and_then(|n| <$ty>::try_from(n).ok()) {
                        Some(n) => visitor.$visit(n),
                        None => Err(self.out_of_range(&visitor)),
                    }
                }
                _ => Err(self.invalid_type(&visitor)),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'de> {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Nil => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::BigInt(b) => {
                let text = b.as_str();
                if let Some(n) = b.to_i64() {
                    visitor.visit_i64(n)
                } else if let Ok(n) = text.parse::<u64>() {
                    visitor.visit_u64(n)
                } else if let Some(n) = b.to_i128() {
                    visitor.visit_i128(n)
                } else if let Ok(n) = text.parse::<u128>() {
                    visitor.visit_u128(n)
                } else {
                    visitor.visit_borrowed_str(text)
                }
            }
            Value::Float(f) => visitor.visit_f64(*f),
            Value::BigDec(d) => visitor.visit_borrowed_str(d.as_str()),
            Value::Ratio(r) => visitor.visit_f64(r.to_f64()),
            Value::String(_)
            | Value::Keyword(_)
            | Value::Symbol(_)
            | Value::Uuid(_)
            | Value::Inst(_) => self.deserialize_str(visitor),
            Value::Char(c) => visitor.visit_char(*c),
            Value::Vector(items) | Value::List(items) => self.visit_items(items.iter(), visitor),
            Value::Set(items) => self.visit_items(items.iter(), visitor),
            Value::Map(map) => self.visit_entries(map, visitor),
            Value::Bytes(bytes) => visitor.visit_borrowed_bytes(bytes),
            Value::Tagged(tagged) => self.visit_tagged(tagged, visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Bool(b) => visitor.visit_bool(*b),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    deserialize_integer! {
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_i128 => i128, visit_i128;
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        let n = match self.value {
            Value::Int(i) => u128::try_from(*i).ok(),
            Value::BigInt(b) => b.as_str().parse::<u128>().ok(),
            _ => return Err(self.invalid_type(&visitor)),
        };
        match n {
            Some(n) => visitor.visit_u128(n),
            None => Err(self.out_of_range(&visitor)),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value.as_f64() {
            // Narrowing to the nearest f32 is what the target asks for.
            Some(f) => visitor.visit_f32(f as f32),
            None => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value.as_f64() {
            Some(f) => visitor.visit_f64(f),
            None => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Char(c) => visitor.visit_char(*c),
            Value::String(s) => {
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => visitor.visit_char(c),
                    _ => Err(self.invalid_type(&visitor)),
                }
            }
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Keyword(k) => visitor.visit_borrowed_str(k.as_str()),
            Value::Symbol(s) => visitor.visit_borrowed_str(s.as_str()),
            Value::BigInt(b) => visitor.visit_borrowed_str(b.as_str()),
            Value::BigDec(d) => visitor.visit_borrowed_str(d.as_str()),
            Value::Char(c) => visitor.visit_str(c.encode_utf8(&mut [0; 4])),
            Value::Uuid(u) => {
                visitor.visit_str(u.hyphenated().encode_lower(&mut Uuid::encode_buffer()))
            }
            Value::Inst(i) => visitor.visit_string(i.to_rfc3339()),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Bytes(bytes) => visitor.visit_borrowed_bytes(bytes),
            Value::Vector(items) | Value::List(items) => {
                visitor.visit_byte_buf(self.byte_vector(items)?)
            }
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Nil => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Nil => visitor.visit_unit(),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        if name != VALUE_TOKEN {
            return visitor.visit_newtype_struct(self);
        }
        // `Value`'s own `Deserialize` asks: hand over the exact variant.
        match Token::of(self.value) {
            Some(token) => visitor.visit_enum(ExactVariant { token, de: self }),
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Vector(items) | Value::List(items) => self.visit_items(items.iter(), visitor),
            Value::Set(items) => self.visit_items(items.iter(), visitor),
            Value::Bytes(bytes) => {
                let mut access = SeqDeserializer::<_, ValueError>::new(bytes.iter().copied());
                let out = visitor.visit_seq(&mut access)?;
                access.end()?;
                Ok(out)
            }
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Map(map) => self.visit_entries(map, visitor),
            Value::Tagged(tagged) => self.visit_tagged(tagged, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Map(map) => self.visit_entries(map, visitor),
            Value::Vector(items) | Value::List(items) => self.visit_items(items.iter(), visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Keyword(_) | Value::String(_) | Value::Symbol(_) => {
                visitor.visit_enum(NameVariant(self))
            }
            Value::Map(map) if map.len() == 1 => match map.iter().next() {
                Some((key, value)) => visitor.visit_enum(EntryVariant {
                    key,
                    value,
                    parent: self,
                }),
                None => Err(self.invalid_type(&visitor)),
            },
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        match self.value {
            Value::Keyword(k) => visitor.visit_borrowed_str(k.as_str()),
            Value::Symbol(s) => visitor.visit_borrowed_str(s.as_str()),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Int(i) => match u64::try_from(*i) {
                Ok(index) => visitor.visit_u64(index),
                Err(_) => Err(self.invalid_type(&visitor)),
            },
            Value::Bytes(bytes) => visitor.visit_borrowed_bytes(bytes),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        visitor.visit_unit()
    }
}
