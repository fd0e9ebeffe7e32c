//! Packing: [`Value`] → bincode bytes, through a depth-counting `Serialize`
//! view that writes each value as an explicitly indexed enum variant.

use std::cell::Cell;

use serde::ser::{
    Error as _, Serialize, SerializeMap, SerializeSeq, SerializeTupleVariant, Serializer,
};

use super::{ENUM_NAME, PACKER, Variant, config};
use crate::packer::PackError;
use crate::value::Value;

/// Packs `value`, nesting at most `max_depth` levels.
pub(super) fn to_bytes(value: &Value, max_depth: usize) -> Result<Vec<u8>, PackError> {
    let ctx = Ctx {
        max_depth,
        too_deep: Cell::new(false),
    };
    let view = Wire {
        value,
        depth: 1,
        ctx: &ctx,
    };
    ::bincode::serde::encode_to_vec(&view, config()).map_err(|e| {
        if ctx.too_deep.get() {
            PackError::TooDeep { limit: max_depth }
        } else {
            PackError::Encoder {
                packer: PACKER,
                detail: e.to_string(),
            }
        }
    })
}

/// What one `pack` call shares: the limit, and whether it was exceeded
/// (serde errors are strings; the typed error is rebuilt from this).
struct Ctx {
    max_depth: usize,
    too_deep: Cell<bool>,
}

/// A value at a given depth.
struct Wire<'a> {
    value: &'a Value,
    depth: usize,
    ctx: &'a Ctx,
}

impl<'a> Wire<'a> {
    fn child(&self, value: &'a Value) -> Self {
        Self {
            value,
            depth: self.depth + 1,
            ctx: self.ctx,
        }
    }
}

impl Serialize for Wire<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.depth > self.ctx.max_depth {
            self.ctx.too_deep.set(true);
            return Err(S::Error::custom(format_args!(
                "value nests deeper than {} levels",
                self.ctx.max_depth
            )));
        }
        let variant = Variant::of(self.value);
        let (index, name) = (variant.index(), variant.name());
        match self.value {
            Value::Nil => serializer.serialize_unit_variant(ENUM_NAME, index, name),
            Value::Bool(b) => serializer.serialize_newtype_variant(ENUM_NAME, index, name, b),
            Value::Int(i) => serializer.serialize_newtype_variant(ENUM_NAME, index, name, i),
            Value::BigInt(b) => {
                serializer.serialize_newtype_variant(ENUM_NAME, index, name, b.as_str())
            }
            Value::Float(f) => serializer.serialize_newtype_variant(ENUM_NAME, index, name, f),
            Value::BigDec(d) => {
                serializer.serialize_newtype_variant(ENUM_NAME, index, name, d.as_str())
            }
            Value::Ratio(r) => {
                let mut fields = serializer.serialize_tuple_variant(ENUM_NAME, index, name, 2)?;
                fields.serialize_field(r.numerator().as_str())?;
                fields.serialize_field(r.denominator().as_str())?;
                fields.end()
            }
            Value::String(s) => serializer.serialize_newtype_variant(ENUM_NAME, index, name, &**s),
            Value::Char(c) => serializer.serialize_newtype_variant(ENUM_NAME, index, name, c),
            Value::Keyword(k) => {
                serializer.serialize_newtype_variant(ENUM_NAME, index, name, k.as_str())
            }
            Value::Symbol(s) => {
                serializer.serialize_newtype_variant(ENUM_NAME, index, name, s.as_str())
            }
            Value::Vector(xs) | Value::List(xs) => {
                let items = Items {
                    parent: self,
                    items: xs.iter(),
                };
                serializer.serialize_newtype_variant(ENUM_NAME, index, name, &items)
            }
            Value::Set(xs) => {
                let items = Items {
                    parent: self,
                    items: xs.iter(),
                };
                serializer.serialize_newtype_variant(ENUM_NAME, index, name, &items)
            }
            Value::Map(m) => {
                let entries = Entries {
                    parent: self,
                    entries: m.iter(),
                };
                serializer.serialize_newtype_variant(ENUM_NAME, index, name, &entries)
            }
            Value::Uuid(u) => {
                serializer.serialize_newtype_variant(ENUM_NAME, index, name, &u.as_u128())
            }
            Value::Inst(i) => {
                let mut fields = serializer.serialize_tuple_variant(ENUM_NAME, index, name, 2)?;
                fields.serialize_field(&i.secs())?;
                fields.serialize_field(&i.subsec_nanos())?;
                fields.end()
            }
            Value::Bytes(b) => {
                serializer.serialize_newtype_variant(ENUM_NAME, index, name, &RawBytes(b))
            }
            Value::Tagged(t) => {
                let mut fields = serializer.serialize_tuple_variant(ENUM_NAME, index, name, 2)?;
                fields.serialize_field(t.tag.as_str())?;
                fields.serialize_field(&self.child(&t.value))?;
                fields.end()
            }
        }
    }
}

/// The elements of a vector, list or set, one level down.
struct Items<'a, I> {
    parent: &'a Wire<'a>,
    items: I,
}

impl<'a, I> Serialize for Items<'a, I>
where
    I: ExactSizeIterator<Item = &'a Value> + Clone,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.items.len()))?;
        for item in self.items.clone() {
            seq.serialize_element(&self.parent.child(item))?;
        }
        seq.end()
    }
}

/// The entries of a map, one level down.
struct Entries<'a> {
    parent: &'a Wire<'a>,
    entries: indexmap::map::Iter<'a, Value, Value>,
}

impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (k, v) in self.entries.clone() {
            map.serialize_entry(&self.parent.child(k), &self.parent.child(v))?;
        }
        map.end()
    }
}

/// A byte string, written as bytes rather than as a sequence of numbers.
struct RawBytes<'a>(&'a [u8]);

impl Serialize for RawBytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}
