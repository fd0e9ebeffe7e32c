//! The `SeqAccess`, `MapAccess` and `EnumAccess` that walk a [`Value`]'s
//! collections for [`ValueDeserializer`], adding the path to errors on the way up.

use ::serde::de::value::{
    BorrowedStrDeserializer, I128Deserializer, StringDeserializer, U128Deserializer,
};
use ::serde::de::{
    self, DeserializeSeed, EnumAccess, Error as _, MapAccess, SeqAccess, Unexpected, VariantAccess,
    Visitor,
};

use super::ValueDeserializer;
use crate::value::serde::Token;
use crate::value::serde::error::ValueError;
use crate::value::{Map, Tagged, Value};

impl<'de> ValueDeserializer<'de> {
    /// Visits `items` as a sequence; elements the visitor leaves unread are an
    /// error (a tuple of the wrong length), as in `serde_json`.
    pub(super) fn visit_items<I, V>(self, items: I, visitor: V) -> Result<V::Value, ValueError>
    where
        I: ExactSizeIterator<Item = &'de Value>,
        V: Visitor<'de>,
    {
        let len = items.len();
        let mut access = Items {
            items,
            index: 0,
            parent: self,
        };
        let out = visitor.visit_seq(&mut access)?;
        if access.items.len() > 0 {
            return Err(ValueError::invalid_length(
                len,
                &format!("{} elements", access.index).as_str(),
            ));
        }
        Ok(out)
    }

    /// Visits `map`'s entries; entries the visitor leaves unread are an error.
    pub(super) fn visit_entries<V: Visitor<'de>>(
        self,
        map: &'de Map,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        let mut access = Entries {
            entries: map.iter(),
            pending: None,
            parent: self,
        };
        let out = visitor.visit_map(&mut access)?;
        let left = access.entries.len();
        if left > 0 {
            let expected = format!("{} entries", map.len() - left);
            return Err(ValueError::invalid_length(map.len(), &expected.as_str()));
        }
        Ok(out)
    }

    /// Visits a tagged value as the single-entry map `{"tag" value}`.
    pub(super) fn visit_tagged<V: Visitor<'de>>(
        self,
        tagged: &'de Tagged,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        visitor.visit_map(TaggedEntry {
            key: Some(tagged),
            value: None,
            parent: self,
        })
    }
}

/// A deserializer of borrowed text.
fn borrowed_text(text: &str) -> BorrowedStrDeserializer<'_, ValueError> {
    BorrowedStrDeserializer::new(text)
}

/// The elements of a vector, list or set.
struct Items<'de, I> {
    items: I,
    index: usize,
    parent: ValueDeserializer<'de>,
}

impl<'de, I: ExactSizeIterator<Item = &'de Value>> SeqAccess<'de> for Items<'de, I> {
    type Error = ValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ValueError> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let index = self.index;
        self.index += 1;
        let part = self.parent.child(item).map_err(|e| e.at_index(index))?;
        seed.deserialize(part)
            .map(Some)
            .map_err(|e| e.at_index(index))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// The entries of a map.
struct Entries<'de> {
    entries: indexmap::map::Iter<'de, Value, Value>,
    pending: Option<(&'de Value, &'de Value)>,
    parent: ValueDeserializer<'de>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = ValueError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ValueError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some((key, value));
        let part = self.parent.child(key).map_err(|e| e.at_key(key))?;
        seed.deserialize(part).map(Some).map_err(|e| e.at_key(key))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, ValueError> {
        let Some((key, value)) = self.pending.take() else {
            return Err(ValueError::custom(
                "a map value was asked for before its key",
            ));
        };
        let part = self.parent.child(value).map_err(|e| e.at_key(key))?;
        seed.deserialize(part).map_err(|e| e.at_key(key))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A tagged value seen as the single-entry map `{"tag" value}`.
struct TaggedEntry<'de> {
    key: Option<&'de Tagged>,
    value: Option<&'de Tagged>,
    parent: ValueDeserializer<'de>,
}

impl<'de> MapAccess<'de> for TaggedEntry<'de> {
    type Error = ValueError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ValueError> {
        let Some(tagged) = self.key.take() else {
            return Ok(None);
        };
        self.value = Some(tagged);
        seed.deserialize(borrowed_text(tagged.tag.as_str()))
            .map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, ValueError> {
        let Some(tagged) = self.value.take() else {
            return Err(ValueError::custom(
                "a map value was asked for before its key",
            ));
        };
        let at_tag = |e: ValueError| e.at_key(&Value::Symbol(tagged.tag.clone()));
        let part = self.parent.child(&tagged.value).map_err(at_tag)?;
        seed.deserialize(part).map_err(at_tag)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(usize::from(self.key.is_some()))
    }
}

/// A unit variant named by a keyword, string or symbol.
pub(super) struct NameVariant<'de>(pub(super) ValueDeserializer<'de>);

impl<'de> EnumAccess<'de> for NameVariant<'de> {
    type Error = ValueError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), ValueError> {
        Ok((seed.deserialize(self.0)?, self))
    }
}

impl<'de> VariantAccess<'de> for NameVariant<'de> {
    type Error = ValueError;

    fn unit_variant(self) -> Result<(), ValueError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        _seed: T,
    ) -> Result<T::Value, ValueError> {
        Err(ValueError::invalid_type(
            Unexpected::UnitVariant,
            &"a newtype variant {:Variant payload}",
        ))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, ValueError> {
        Err(ValueError::invalid_type(
            Unexpected::UnitVariant,
            &"a tuple variant {:Variant [...]}",
        ))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, ValueError> {
        Err(ValueError::invalid_type(
            Unexpected::UnitVariant,
            &"a struct variant {:Variant {...}}",
        ))
    }
}

/// A variant as the single-entry map `{:Variant payload}`.
pub(super) struct EntryVariant<'de> {
    pub(super) key: &'de Value,
    pub(super) value: &'de Value,
    pub(super) parent: ValueDeserializer<'de>,
}

impl EntryVariant<'_> {
    fn at_key(&self) -> impl Fn(ValueError) -> ValueError + '_ {
        |e| e.at_key(self.key)
    }
}

impl<'de> EnumAccess<'de> for EntryVariant<'de> {
    type Error = ValueError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), ValueError> {
        let name = self
            .parent
            .child(self.key)
            .and_then(|key| seed.deserialize(key));
        Ok((name.map_err(self.at_key())?, self))
    }
}

impl<'de> VariantAccess<'de> for EntryVariant<'de> {
    type Error = ValueError;

    fn unit_variant(self) -> Result<(), ValueError> {
        match self.value {
            Value::Nil => Ok(()),
            _ => {
                let payload = self.parent.child(self.value).map_err(self.at_key())?;
                Err(payload.invalid_type(&"nil (the payload of a unit variant)"))
                    .map_err(self.at_key())
            }
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, ValueError> {
        let payload = self
            .parent
            .child(self.value)
            .and_then(|payload| seed.deserialize(payload));
        payload.map_err(self.at_key())
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        let payload = self.parent.child(self.value);
        let payload =
            payload.and_then(|payload| de::Deserializer::deserialize_tuple(payload, len, visitor));
        payload.map_err(self.at_key())
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ValueError> {
        let payload = self.parent.child(self.value);
        let payload = payload
            .and_then(|payload| de::Deserializer::deserialize_struct(payload, "", fields, visitor));
        payload.map_err(self.at_key())
    }
}

/// A variant serde's data model has no word for, handed to `Value`'s own
/// `Deserialize` as an enum: the variant is the private [`Token`] name, the
/// payload an exact plain form (text, a `u128`, nanoseconds, the elements).
pub(super) struct ExactVariant<'de> {
    pub(super) token: Token,
    pub(super) de: ValueDeserializer<'de>,
}

impl<'de> EnumAccess<'de> for ExactVariant<'de> {
    type Error = ValueError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), ValueError> {
        let name = seed.deserialize(borrowed_text(self.token.name()))?;
        Ok((name, self))
    }
}

impl<'de> VariantAccess<'de> for ExactVariant<'de> {
    type Error = ValueError;

    fn unit_variant(self) -> Result<(), ValueError> {
        Err(ValueError::invalid_type(
            Unexpected::NewtypeVariant,
            &"a unit variant",
        ))
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, ValueError> {
        match self.de.value {
            Value::Keyword(k) => seed.deserialize(borrowed_text(k.as_str())),
            Value::Symbol(s) => seed.deserialize(borrowed_text(s.as_str())),
            Value::BigInt(b) => seed.deserialize(borrowed_text(b.as_str())),
            Value::BigDec(d) => seed.deserialize(borrowed_text(d.as_str())),
            Value::Ratio(r) => seed.deserialize(StringDeserializer::<ValueError>::new(format!(
                "{}/{}",
                r.numerator().as_str(),
                r.denominator().as_str()
            ))),
            Value::Uuid(u) => seed.deserialize(U128Deserializer::<ValueError>::new(u.as_u128())),
            Value::Inst(i) => seed.deserialize(I128Deserializer::<ValueError>::new(
                i128::from(i.secs()) * 1_000_000_000 + i128::from(i.subsec_nanos()),
            )),
            // Collections go as themselves: a sequence, or the map `{"tag" value}`.
            _ => seed.deserialize(self.de),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, ValueError> {
        Err(ValueError::invalid_type(
            Unexpected::NewtypeVariant,
            &"a tuple variant",
        ))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, ValueError> {
        Err(ValueError::invalid_type(
            Unexpected::NewtypeVariant,
            &"a struct variant",
        ))
    }
}
