//! `Serialize` and `Deserialize` for [`Value`], [`Keyword`], [`Symbol`] and [`Inst`].
//!
//! Variants serde has no word for travel under private names (see [`Token`]):
//! a newtype struct of the foreign form when serializing (other formats see
//! just the foreign form), an enum variant with an exact payload when our
//! deserializer hands a value to `Value`'s `Deserialize`.

use std::fmt;
use std::sync::Arc;

use ::serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IgnoredAny, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};
use ::serde::ser::{self, SerializeMap, Serializer};
use ::serde::{Deserialize, Serialize};

use super::SERDE_MAX_DEPTH;
use super::ser::offering_exact;
use super::{MAX_PREALLOCATION, Token, VALUE_TOKEN};
use crate::value::{BigDec, BigInt, Inst, Keyword, Map, Symbol, Tagged, Uuid, Value};

impl Serialize for Value {
    /// Serializes exactly through [`to_value`](crate::to_value), by the
    /// foreign mapping (documented there) in other formats.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Nested {
            value: self,
            depth: 1,
        }
        .serialize(serializer)
    }
}

/// A value at a known depth, so that serializing a `Value` in any format is
/// bounded by [`SERDE_MAX_DEPTH`] levels.
struct Nested<'a> {
    value: &'a Value,
    depth: usize,
}

impl Serialize for Nested<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.depth > SERDE_MAX_DEPTH {
            return Err(ser::Error::custom(format_args!(
                "value nests deeper than {SERDE_MAX_DEPTH} levels"
            )));
        }
        let below = self.depth + 1;
        let child = |value| Nested {
            value,
            depth: below,
        };
        match self.value {
            Value::Nil => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::BigInt(b) => s.serialize_newtype_struct(Token::BigInt.name(), b.as_str()),
            Value::Float(f) => s.serialize_f64(*f),
            Value::BigDec(d) => s.serialize_newtype_struct(Token::BigDec.name(), d.as_str()),
            Value::Ratio(r) => offering_exact(self.value.clone(), || {
                s.serialize_newtype_struct(Token::Ratio.name(), &r.to_f64())
            }),
            Value::String(text) => s.serialize_str(text),
            Value::Char(c) => s.serialize_char(*c),
            Value::Keyword(k) => k.serialize(s),
            Value::Symbol(sym) => sym.serialize(s),
            Value::Vector(items) => s.collect_seq(items.iter().map(child)),
            Value::List(items) => s.serialize_newtype_struct(
                Token::List.name(),
                &Elements {
                    items: items.iter(),
                    depth: below,
                },
            ),
            Value::Set(items) => s.serialize_newtype_struct(
                Token::Set.name(),
                &Elements {
                    items: items.iter(),
                    depth: below,
                },
            ),
            Value::Map(map) => s.collect_map(map.iter().map(|(k, v)| (child(k), child(v)))),
            Value::Uuid(u) => {
                let mut buffer = Uuid::encode_buffer();
                let text: &str = u.hyphenated().encode_lower(&mut buffer);
                s.serialize_newtype_struct(Token::Uuid.name(), text)
            }
            Value::Inst(i) => i.serialize(s),
            Value::Bytes(bytes) => s.serialize_bytes(bytes),
            Value::Tagged(tagged) => s.serialize_newtype_struct(
                Token::Tagged.name(),
                &TagEntry {
                    tagged,
                    depth: below,
                },
            ),
        }
    }
}

/// The elements of a list or set, as a sequence.
struct Elements<I> {
    items: I,
    /// The depth of the elements.
    depth: usize,
}

impl<'a, I: Iterator<Item = &'a Value> + Clone> Serialize for Elements<I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.items.clone().map(|value| Nested {
            value,
            depth: self.depth,
        }))
    }
}

/// A tagged value as the single-entry map `{"tag" value}`.
struct TagEntry<'a> {
    tagged: &'a Tagged,
    /// The depth of the tagged value.
    depth: usize,
}

impl Serialize for TagEntry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        let value = Nested {
            value: &self.tagged.value,
            depth: self.depth,
        };
        map.serialize_entry(self.tagged.tag.as_str(), &value)?;
        map.end()
    }
}

impl Serialize for Keyword {
    /// A keyword through [`to_value`](crate::to_value); its text `ns/name`
    /// (without the colon) in other formats.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(Token::Keyword.name(), self.as_str())
    }
}

impl Serialize for Symbol {
    /// A symbol through [`to_value`](crate::to_value); its text in other formats.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(Token::Symbol.name(), self.as_str())
    }
}

impl Serialize for Inst {
    /// An instant through [`to_value`](crate::to_value); its RFC 3339 text in other formats.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        offering_exact(Value::Inst(*self), || {
            s.serialize_newtype_struct(Token::Inst.name(), &self.to_rfc3339())
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    /// Rebuilds a value exactly from [`from_value`](crate::from_value); from
    /// other self-describing formats, the value their data maps to.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_newtype_struct(VALUE_TOKEN, ValueVisitor)
    }
}

pub(super) struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        match i128::try_from(v) {
            Ok(small) => Ok(Value::from(small)),
            Err(_) => BigInt::parse(&v.to_string())
                .map(Value::BigInt)
                .ok_or_else(|| E::custom("u128 did not print as digits")),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<Value, E> {
        Ok(Value::Char(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(Arc::from(v)))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(Arc::from(v)))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Value, D::Error> {
        // Not `Value::deserialize`: formats answer our newtype request with
        // this call, and asking again would never end.
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_PREALLOCATION));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Vector(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::with_capacity_and_hasher(
            access.size_hint().unwrap_or(0).min(MAX_PREALLOCATION),
            Default::default(),
        );
        while let Some((key, value)) = access.next_entry()? {
            map.insert(key, value);
        }
        Ok(Value::Map(Box::new(map)))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        match data.variant()? {
            (VariantName::Exact(token), variant) => exact_value(token, variant),
            (VariantName::Other(name), variant) => {
                let payload: Value = variant.newtype_variant()?;
                Ok(Value::map([(Value::from(name), payload)]))
            }
        }
    }
}

/// Rebuilds the variant `token` names from the exact payload our
/// deserializer gives (see `ExactVariant` in `de.rs`).
fn exact_value<'de, A: VariantAccess<'de>>(token: Token, variant: A) -> Result<Value, A::Error> {
    let text = |make: fn(&str) -> Option<Value>| FromText {
        make,
        expecting: "the text of a keyword, symbol or number",
    };
    match token {
        Token::Keyword => {
            variant.newtype_variant_seed(text(|s| Some(Value::Keyword(Keyword::new(s)))))
        }
        Token::Symbol => {
            variant.newtype_variant_seed(text(|s| Some(Value::Symbol(Symbol::new(s)))))
        }
        Token::BigInt => {
            variant.newtype_variant_seed(text(|s| BigInt::parse(s).map(Value::BigInt)))
        }
        Token::BigDec => {
            variant.newtype_variant_seed(text(|s| BigDec::parse(s).map(Value::BigDec)))
        }
        Token::Ratio => variant.newtype_variant_seed(text(parse_ratio)),
        Token::Uuid => Ok(Value::Uuid(Uuid::from_u128(variant.newtype_variant()?))),
        Token::Inst => {
            let nanos: i128 = variant.newtype_variant()?;
            inst_from_nanos(nanos)
                .map(Value::Inst)
                .ok_or_else(|| de::Error::custom("instant out of range"))
        }
        Token::List => Ok(Value::List(variant.newtype_variant()?)),
        Token::Set => Ok(Value::set(variant.newtype_variant::<Vec<Value>>()?)),
        Token::Tagged => variant.newtype_variant_seed(TaggedSeed),
    }
}

fn parse_ratio(text: &str) -> Option<Value> {
    let (numerator, denominator) = text.split_once('/')?;
    // Made as Clojure's reader makes ratios: reduced (`4/2` is `2`).
    Value::ratio(BigInt::parse(numerator)?, BigInt::parse(denominator)?)
}

fn inst_from_nanos(nanos: i128) -> Option<Inst> {
    const NANOS_PER_SEC: i128 = 1_000_000_000;
    let secs = i64::try_from(nanos.div_euclid(NANOS_PER_SEC)).ok()?;
    let subsec = u32::try_from(nanos.rem_euclid(NANOS_PER_SEC)).ok()?;
    Inst::new(secs, subsec)
}

/// The variant name of an enum handed to `Value`: one of our private tokens,
/// or a foreign format's own variant.
enum VariantName {
    Exact(Token),
    Other(String),
}

impl<'de> Deserialize<'de> for VariantName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_identifier(VariantNameVisitor)
    }
}

struct VariantNameVisitor;

impl Visitor<'_> for VariantNameVisitor {
    type Value = VariantName;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a variant name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<VariantName, E> {
        Ok(
            Token::from_name(v)
                .map_or_else(|| VariantName::Other(v.to_owned()), VariantName::Exact),
        )
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<VariantName, E> {
        Ok(VariantName::Other(v.to_string()))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<VariantName, E> {
        self.visit_str(&String::from_utf8_lossy(v))
    }
}

/// Makes a `T` from text (a string, or a keyword's or symbol's text).
struct FromText<T> {
    make: fn(&str) -> Option<T>,
    expecting: &'static str,
}

impl<T> Visitor<'_> for FromText<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.make)(v).ok_or_else(|| E::invalid_value(Unexpected::Str(v), &self))
    }
}

impl<'de, T> DeserializeSeed<'de> for FromText<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_str(self)
    }
}

/// Reads the single-entry map `{"tag" value}` as a tagged value.
struct TaggedSeed;

impl<'de> DeserializeSeed<'de> for TaggedSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TaggedSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a single-entry map {tag value}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let Some((tag, value)) = access.next_entry::<String, Value>()? else {
            return Err(de::Error::invalid_length(0, &self));
        };
        if access.next_key::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(2, &self));
        }
        Ok(Value::Tagged(Box::new(Tagged {
            tag: Symbol::new(tag),
            value,
        })))
    }
}

impl<'de> Deserialize<'de> for Keyword {
    /// Reads a keyword, or a symbol or string as the keyword of that text.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(FromText {
            make: |s| Some(Keyword::new(s)),
            expecting: "a keyword",
        })
    }
}

impl<'de> Deserialize<'de> for Symbol {
    /// Reads a symbol, or a keyword or string as the symbol of that text.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(FromText {
            make: |s| Some(Symbol::new(s)),
            expecting: "a symbol",
        })
    }
}

impl<'de> Deserialize<'de> for Inst {
    /// Reads an instant exactly from [`from_value`](crate::from_value), or
    /// RFC 3339 text, or milliseconds since the epoch (a JS `Date`).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(VALUE_TOKEN, InstVisitor)
    }
}

struct InstVisitor;

impl<'de> Visitor<'de> for InstVisitor {
    type Value = Inst;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an instant (RFC 3339 text or epoch milliseconds)")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<Inst, D::Error> {
        deserializer.deserialize_str(self)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Inst, A::Error> {
        match data.variant()? {
            (VariantName::Exact(Token::Inst), variant) => {
                let nanos: i128 = variant.newtype_variant()?;
                inst_from_nanos(nanos).ok_or_else(|| de::Error::custom("instant out of range"))
            }
            (VariantName::Exact(token), _) => Err(de::Error::invalid_type(
                Unexpected::Other(token.type_name()),
                &self,
            )),
            (VariantName::Other(_), _) => Err(de::Error::invalid_type(Unexpected::Enum, &self)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Inst, E> {
        Inst::parse_rfc3339(v).ok_or_else(|| E::invalid_value(Unexpected::Str(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Inst, E> {
        Ok(Inst::from_millis(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Inst, E> {
        i64::try_from(v)
            .map(Inst::from_millis)
            .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
    }
}
