//! [`ValueSerializer`]: a `serde::Serializer` whose output is a [`Value`].

use std::cell::Cell;

use ::serde::ser::{self, Serialize};

use super::error::ValueError;
use super::{MAX_PREALLOCATION, Token};
use crate::value::{BigDec, BigInt, Inst, Keyword, Map, Symbol, Tagged, Uuid, Value};

/// A `serde::Serializer` that builds a [`Value`]; [`to_value`](super::to_value)
/// with a settable nesting limit.
///
/// ```
/// use serde::Serialize;
/// use sente::value::ValueSerializer;
///
/// // Three levels: two vectors and the integer.
/// let nested = vec![vec![1]];
/// assert!(nested.serialize(ValueSerializer::new().with_max_depth(3)).is_ok());
/// assert!(nested.serialize(ValueSerializer::new().with_max_depth(2)).is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ValueSerializer {
    depth: usize,
    max_depth: usize,
}

impl ValueSerializer {
    /// A serializer with the default nesting limit ([`super::SERDE_MAX_DEPTH`]).
    pub const fn new() -> Self {
        Self {
            depth: 1,
            max_depth: super::SERDE_MAX_DEPTH,
        }
    }

    /// Sets the nesting limit: how many levels of collections (a scalar is one
    /// level, each vector, map, set or tag adds one) the output may have.
    ///
    /// A limit above [`super::SERDE_MAX_DEPTH`] is lowered to it.
    pub const fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = super::serde_capped(max_depth);
        self
    }

    /// The serializer for an element one level down.
    fn child(self) -> Result<Self, ValueError> {
        let depth = self.depth + 1;
        if depth > self.max_depth {
            return Err(ValueError::too_deep(self.max_depth));
        }
        Ok(Self { depth, ..self })
    }

    /// Rebuilds the variant a private token names from the foreign form of
    /// its payload (see `Serialize for Value`).
    fn rebuild(self, token: Token, payload: Value) -> Result<Value, ValueError> {
        let rebuilt = match (token, payload) {
            (Token::Keyword, Value::String(s)) => Some(Value::Keyword(Keyword::new(&*s))),
            (Token::Symbol, Value::String(s)) => Some(Value::Symbol(Symbol::new(&*s))),
            (Token::BigInt, Value::String(s)) => BigInt::parse(&s).map(Value::BigInt),
            (Token::BigDec, Value::String(s)) => BigDec::parse(&s).map(Value::BigDec),
            (Token::Uuid, Value::String(s)) => Uuid::try_parse(&s).ok().map(Value::Uuid),
            (Token::Inst, Value::String(s)) => Inst::parse_rfc3339(&s).map(Value::Inst),
            // Reached only when the exact ratio was not handed over: keep the double.
            (Token::Ratio, f @ Value::Float(_)) => Some(f),
            (Token::List, Value::Vector(items)) => Some(Value::List(items)),
            (Token::Set, Value::Vector(items)) => Some(Value::set(items)),
            (Token::Tagged, Value::Map(map)) if map.len() == 1 => match map.into_iter().next() {
                Some((Value::String(tag), value)) => Some(Value::Tagged(Box::new(Tagged {
                    tag: Symbol::new(&*tag),
                    value,
                }))),
                _ => None,
            },
            _ => None,
        };
        rebuilt.ok_or_else(|| {
            <ValueError as ser::Error>::custom(format!("malformed payload for {}", token.name()))
        })
    }
}

impl Default for ValueSerializer {
    fn default() -> Self {
        Self::new()
    }
}

thread_local! {
    /// Hands a `Ratio` or an `Inst` to our serializer exactly: their foreign
    /// forms (a double, RFC 3339 text limited to years 0000–9999) lose
    /// information, and serde has no other way to pass data only we can see.
    static EXACT_SCALAR: Cell<Option<Value>> = const { Cell::new(None) };
}

/// Runs `serialize` (a `serialize_newtype_struct` with `scalar`'s token) with
/// `scalar` on offer to our serializer, and withdraws the offer afterwards
/// whichever serializer ran.
pub(super) fn offering_exact<R>(scalar: Value, serialize: impl FnOnce() -> R) -> R {
    EXACT_SCALAR.with(|slot| slot.set(Some(scalar)));
    let result = serialize();
    EXACT_SCALAR.with(Cell::take);
    result
}

/// Takes the scalar on offer if it is one `token` stands for.
fn take_exact(token: Token) -> Option<Value> {
    EXACT_SCALAR
        .with(Cell::take)
        .filter(|v| Token::of(v) == Some(token))
}

fn variant_map(variant: &'static str, payload: Value) -> Value {
    Value::map([(Value::Keyword(Keyword::new(variant)), payload)])
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = ValueError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = SeqBuilder;
    type SerializeMap = MapBuilder;
    type SerializeStruct = StructBuilder;
    type SerializeStructVariant = StructBuilder;

    fn serialize_bool(self, v: bool) -> Result<Value, ValueError> {
        Ok(Value::Bool(v))
    }

    fn serialize_i8(self, v: i8) -> Result<Value, ValueError> {
        Ok(Value::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<Value, ValueError> {
        Ok(Value::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<Value, ValueError> {
        Ok(Value::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<Value, ValueError> {
        Ok(Value::Int(v))
    }

    fn serialize_i128(self, v: i128) -> Result<Value, ValueError> {
        Ok(Value::from(v))
    }

    fn serialize_u8(self, v: u8) -> Result<Value, ValueError> {
        Ok(Value::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<Value, ValueError> {
        Ok(Value::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<Value, ValueError> {
        Ok(Value::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<Value, ValueError> {
        Ok(Value::from(v))
    }

    fn serialize_u128(self, v: u128) -> Result<Value, ValueError> {
        match i128::try_from(v) {
            Ok(small) => Ok(Value::from(small)),
            Err(_) => BigInt::parse(&v.to_string())
                .map(Value::BigInt)
                .ok_or_else(|| <ValueError as ser::Error>::custom("u128 did not print as digits")),
        }
    }

    fn serialize_f32(self, v: f32) -> Result<Value, ValueError> {
        Ok(Value::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<Value, ValueError> {
        Ok(Value::Float(v))
    }

    fn serialize_char(self, v: char) -> Result<Value, ValueError> {
        Ok(Value::Char(v))
    }

    fn serialize_str(self, v: &str) -> Result<Value, ValueError> {
        Ok(Value::from(v))
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<Value, ValueError> {
        Ok(Value::Bytes(v.into()))
    }

    fn serialize_none(self) -> Result<Value, ValueError> {
        Ok(Value::Nil)
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Value, ValueError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Value, ValueError> {
        Ok(Value::Nil)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, ValueError> {
        Ok(Value::Nil)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, ValueError> {
        Ok(Value::Keyword(Keyword::new(variant)))
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Value, ValueError> {
        let Some(token) = Token::from_name(name) else {
            return value.serialize(self);
        };
        if matches!(token, Token::Ratio | Token::Inst)
            && let Some(exact) = take_exact(token)
        {
            return Ok(exact);
        }
        let payload = value.serialize(self)?;
        self.rebuild(token, payload)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, ValueError> {
        let payload = value.serialize(self.child()?)?;
        Ok(variant_map(variant, payload))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, ValueError> {
        Ok(SeqBuilder::new(self, len, None))
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, ValueError> {
        Ok(SeqBuilder::new(self, Some(len), None))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqBuilder, ValueError> {
        Ok(SeqBuilder::new(self, Some(len), None))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqBuilder, ValueError> {
        // The vector sits one level below the variant's map.
        Ok(SeqBuilder::new(self.child()?, Some(len), Some(variant)))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<MapBuilder, ValueError> {
        Ok(MapBuilder {
            map: Map::with_capacity_and_hasher(
                len.unwrap_or(0).min(MAX_PREALLOCATION),
                Default::default(),
            ),
            pending_key: None,
            parent: self,
        })
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<StructBuilder, ValueError> {
        Ok(StructBuilder::new(self, len, None))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<StructBuilder, ValueError> {
        Ok(StructBuilder::new(self.child()?, len, Some(variant)))
    }
}

/// Builds a vector (sequences, tuples, tuple structs and tuple variants).
#[derive(Debug)]
pub struct SeqBuilder {
    items: Vec<Value>,
    parent: ValueSerializer,
    variant: Option<&'static str>,
}

impl SeqBuilder {
    fn new(parent: ValueSerializer, len: Option<usize>, variant: Option<&'static str>) -> Self {
        Self {
            items: Vec::with_capacity(len.unwrap_or(0).min(MAX_PREALLOCATION)),
            parent,
            variant,
        }
    }

    fn push<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ValueError> {
        let index = self.items.len();
        let item = value
            .serialize(self.parent.child()?)
            .map_err(|e| e.at_index(index))?;
        self.items.push(item);
        Ok(())
    }

    fn finish(self) -> Value {
        let vector = Value::Vector(self.items);
        match self.variant {
            Some(variant) => variant_map(variant, vector),
            None => vector,
        }
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ValueError> {
        self.push(value)
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(self.finish())
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ValueError> {
        self.push(value)
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(self.finish())
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ValueError> {
        self.push(value)
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(self.finish())
    }
}

impl ser::SerializeTupleVariant for SeqBuilder {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ValueError> {
        self.push(value)
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(self.finish())
    }
}

/// Builds a map whose keys go through the serializer too.
#[derive(Debug)]
pub struct MapBuilder {
    map: Map,
    pending_key: Option<Value>,
    parent: ValueSerializer,
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), ValueError> {
        self.pending_key = Some(key.serialize(self.parent.child()?)?);
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), ValueError> {
        let key = self.pending_key.take().ok_or_else(|| {
            <ValueError as ser::Error>::custom("serialize_value called before serialize_key")
        })?;
        let value = value
            .serialize(self.parent.child()?)
            .map_err(|e| e.at_key(&key))?;
        self.map.insert(key, value);
        Ok(())
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(Value::Map(Box::new(self.map)))
    }
}

/// Builds a map with keyword keys (structs and struct variants).
#[derive(Debug)]
pub struct StructBuilder {
    map: Map,
    parent: ValueSerializer,
    variant: Option<&'static str>,
}

impl StructBuilder {
    fn new(parent: ValueSerializer, len: usize, variant: Option<&'static str>) -> Self {
        Self {
            map: Map::with_capacity_and_hasher(len.min(MAX_PREALLOCATION), Default::default()),
            parent,
            variant,
        }
    }

    fn field<T: ?Sized + Serialize>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), ValueError> {
        let key = Value::Keyword(Keyword::new(name));
        match value.serialize(self.parent.child()?) {
            Ok(value) => {
                self.map.insert(key, value);
                Ok(())
            }
            Err(e) => Err(e.at_key(&key)),
        }
    }

    fn finish(self) -> Value {
        let map = Value::Map(Box::new(self.map));
        match self.variant {
            Some(variant) => variant_map(variant, map),
            None => map,
        }
    }
}

impl ser::SerializeStruct for StructBuilder {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ValueError> {
        self.field(key, value)
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(self.finish())
    }
}

impl ser::SerializeStructVariant for StructBuilder {
    type Ok = Value;
    type Error = ValueError;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ValueError> {
        self.field(key, value)
    }

    fn end(self) -> Result<Value, ValueError> {
        Ok(self.finish())
    }
}
