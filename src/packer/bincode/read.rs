//! Unpacking: bincode bytes → [`Value`], through depth-counting seeds that
//! borrow strings and byte strings from the input.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use ::bincode::error::DecodeError;
use serde::de::{DeserializeSeed, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};

use super::{ENUM_NAME, PACKER, Variant, config};
use crate::packer::{UnpackError, UnpackErrorKind as Kind};
use crate::value::{BigDec, BigInt, Inst, Keyword, Map, Set, Symbol, Tagged, Uuid, Value};

/// Collections reserve room for at most this many elements before reading
/// them; the rest grows as elements actually arrive.
const MAX_PREALLOCATED: usize = 256;

/// Reads exactly one value from `input`, nesting at most `max_depth` levels.
pub(super) fn from_bytes(input: &[u8], max_depth: usize) -> Result<Value, UnpackError> {
    let ctx = Ctx {
        input,
        max_depth,
        failure: RefCell::new(None),
    };
    let seed = ValueSeed {
        depth: 1,
        ctx: &ctx,
    };
    match ::bincode::serde::seed_decode_from_slice(seed, input, config()) {
        Ok((value, read)) if read == input.len() => Ok(value),
        Ok((_, read)) => Err(UnpackError::new(
            PACKER,
            Kind::TrailingInput,
            Some(read),
            format!("{} bytes follow the value", input.len() - read),
        )),
        Err(e) => Err(ctx.failure.take().unwrap_or_else(|| decode_error(input, e))),
    }
}

/// An error bincode raised itself.
fn decode_error(input: &[u8], error: DecodeError) -> UnpackError {
    let (kind, offset) = match &error {
        DecodeError::UnexpectedEnd { .. } => (Kind::UnexpectedEnd, Some(input.len())),
        DecodeError::LimitExceeded | DecodeError::OutsideUsizeRange(_) => (Kind::TooLarge, None),
        DecodeError::Utf8 { .. } => (Kind::InvalidUtf8, None),
        DecodeError::InvalidCharEncoding(_) | DecodeError::InvalidBooleanValue(_) => {
            (Kind::InvalidLiteral, None)
        }
        _ => (Kind::Syntax, None),
    };
    UnpackError::new(PACKER, kind, offset, error.to_string())
}

/// What one `unpack` call shares: the input (to locate borrowed text), the
/// limit, and the first typed failure raised by the seeds below (serde
/// carries errors only as messages).
struct Ctx<'de> {
    input: &'de [u8],
    max_depth: usize,
    failure: RefCell<Option<UnpackError>>,
}

impl Ctx<'_> {
    fn fail<E: serde::de::Error>(&self, kind: Kind, offset: Option<usize>, detail: String) -> E {
        let error = E::custom(&detail);
        let mut slot = self.failure.borrow_mut();
        if slot.is_none() {
            *slot = Some(UnpackError::new(PACKER, kind, offset, detail));
        }
        error
    }

    /// The offset of `part`, a slice borrowed from the input.
    fn offset_of(&self, part: &[u8]) -> Option<usize> {
        let offset = (part.as_ptr() as usize).checked_sub(self.input.as_ptr() as usize)?;
        (offset <= self.input.len()).then_some(offset)
    }

    fn invalid<E: serde::de::Error>(&self, what: &str, text: &str) -> E {
        self.fail(
            Kind::InvalidLiteral,
            self.offset_of(text.as_bytes()),
            format!("{what} {text:?} is malformed"),
        )
    }
}

/// Reads one value at `depth`.
#[derive(Clone, Copy)]
struct ValueSeed<'c, 'de> {
    depth: usize,
    ctx: &'c Ctx<'de>,
}

impl ValueSeed<'_, '_> {
    fn child(self) -> Self {
        Self {
            depth: self.depth + 1,
            ctx: self.ctx,
        }
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, 'de> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        if self.depth > self.ctx.max_depth {
            return Err(self.ctx.fail(
                Kind::TooDeep,
                None,
                format!("more than {} levels", self.ctx.max_depth),
            ));
        }
        deserializer.deserialize_enum(ENUM_NAME, &Variant::NAMES, self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, 'de> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sente value")
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let ctx = self.ctx;
        let (variant, body) = data.variant_seed(VariantSeed { ctx })?;
        Ok(match variant {
            Variant::Nil => {
                body.unit_variant()?;
                Value::Nil
            }
            Variant::Bool => Value::Bool(body.newtype_variant()?),
            Variant::Int => Value::Int(body.newtype_variant()?),
            Variant::BigInt => {
                let digits = body.newtype_variant_seed(TextSeed)?;
                Value::BigInt(
                    BigInt::parse(digits).ok_or_else(|| ctx.invalid("big integer", digits))?,
                )
            }
            Variant::Float => Value::Float(body.newtype_variant()?),
            Variant::BigDec => {
                let digits = body.newtype_variant_seed(TextSeed)?;
                Value::BigDec(
                    BigDec::parse(digits).ok_or_else(|| ctx.invalid("big decimal", digits))?,
                )
            }
            Variant::Ratio => body.tuple_variant(2, RatioVisitor { ctx })?,
            Variant::String => Value::String(Arc::from(body.newtype_variant_seed(TextSeed)?)),
            Variant::Char => Value::Char(body.newtype_variant()?),
            Variant::Keyword => Value::Keyword(Keyword::new(body.newtype_variant_seed(TextSeed)?)),
            Variant::Symbol => Value::Symbol(Symbol::new(body.newtype_variant_seed(TextSeed)?)),
            Variant::Vector => Value::Vector(body.newtype_variant_seed(SeqSeed { parent: self })?),
            Variant::List => Value::List(body.newtype_variant_seed(SeqSeed { parent: self })?),
            Variant::Map => body.newtype_variant_seed(MapSeed { parent: self })?,
            Variant::Set => body.newtype_variant_seed(SetSeed { parent: self })?,
            Variant::Uuid => Value::Uuid(Uuid::from_u128(body.newtype_variant()?)),
            Variant::Inst => body.tuple_variant(2, InstVisitor { ctx })?,
            Variant::Bytes => Value::Bytes(Arc::from(body.newtype_variant_seed(BytesSeed)?)),
            Variant::Tagged => body.tuple_variant(2, TaggedVisitor { parent: self })?,
        })
    }
}

/// Reads a variant index.
struct VariantSeed<'c, 'de> {
    ctx: &'c Ctx<'de>,
}

impl<'de> DeserializeSeed<'de> for VariantSeed<'_, 'de> {
    type Value = Variant;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Variant, D::Error> {
        deserializer.deserialize_u32(self)
    }
}

impl Visitor<'_> for VariantSeed<'_, '_> {
    type Value = Variant;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a variant index")
    }

    fn visit_u64<E: serde::de::Error>(self, index: u64) -> Result<Variant, E> {
        Variant::from_index(index).ok_or_else(|| {
            self.ctx.fail(
                Kind::Unsupported,
                None,
                format!("unknown variant index {index}"),
            )
        })
    }
}

/// Reads a string in place from the input.
#[derive(Clone, Copy)]
struct TextSeed;

impl<'de> DeserializeSeed<'de> for TextSeed {
    type Value = &'de str;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<&'de str, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for TextSeed {
    type Value = &'de str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<&'de str, E> {
        Ok(s)
    }
}

/// Reads a byte string in place from the input.
struct BytesSeed;

impl<'de> DeserializeSeed<'de> for BytesSeed {
    type Value = &'de [u8];

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<&'de [u8], D::Error> {
        deserializer.deserialize_bytes(self)
    }
}

impl<'de> Visitor<'de> for BytesSeed {
    type Value = &'de [u8];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a byte string")
    }

    fn visit_borrowed_bytes<E: serde::de::Error>(self, b: &'de [u8]) -> Result<&'de [u8], E> {
        Ok(b)
    }
}

/// Reads the next element of a tuple, which must be there.
fn field<'de, A: SeqAccess<'de>, T: DeserializeSeed<'de>>(
    seq: &mut A,
    seed: T,
    ctx: &Ctx<'_>,
) -> Result<T::Value, A::Error> {
    seq.next_element_seed(seed)?
        .ok_or_else(|| ctx.fail(Kind::Syntax, None, "a field is missing".to_owned()))
}

struct RatioVisitor<'c, 'de> {
    ctx: &'c Ctx<'de>,
}

impl<'de> Visitor<'de> for RatioVisitor<'_, 'de> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a ratio")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let ctx = self.ctx;
        let numerator = field(&mut seq, TextSeed, ctx)?;
        let denominator = field(&mut seq, TextSeed, ctx)?;
        // Made as Clojure's reader makes ratios: reduced (`4/2` is `2`).
        BigInt::parse(numerator)
            .zip(BigInt::parse(denominator))
            .and_then(|(n, d)| Value::ratio(n, d))
            .ok_or_else(|| ctx.invalid("ratio", &format!("{numerator}/{denominator}")))
    }
}

struct InstVisitor<'c, 'de> {
    ctx: &'c Ctx<'de>,
}

impl<'de> Visitor<'de> for InstVisitor<'_, 'de> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an instant")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let secs: i64 = field(&mut seq, std::marker::PhantomData, self.ctx)?;
        let nanos: u32 = field(&mut seq, std::marker::PhantomData, self.ctx)?;
        let inst = Inst::new(secs, nanos).ok_or_else(|| {
            self.ctx.fail(
                Kind::InvalidLiteral,
                None,
                format!("{nanos} nanoseconds is not below one second"),
            )
        })?;
        Ok(Value::Inst(inst))
    }
}

struct TaggedVisitor<'c, 'de> {
    parent: ValueSeed<'c, 'de>,
}

impl<'de> Visitor<'de> for TaggedVisitor<'_, 'de> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tagged value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let ctx = self.parent.ctx;
        let tag = field(&mut seq, TextSeed, ctx)?;
        let value = field(&mut seq, self.parent.child(), ctx)?;
        Ok(Value::Tagged(Box::new(Tagged {
            tag: Symbol::new(tag),
            value,
        })))
    }
}

/// How much room to reserve for a collection that claims `hint` elements.
fn capacity(hint: Option<usize>) -> usize {
    hint.unwrap_or(0).min(MAX_PREALLOCATED)
}

/// Reads the elements of a vector or a list, one level down.
struct SeqSeed<'c, 'de> {
    parent: ValueSeed<'c, 'de>,
}

impl<'de> DeserializeSeed<'de> for SeqSeed<'_, 'de> {
    type Value = Vec<Value>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Vec<Value>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SeqSeed<'_, 'de> {
    type Value = Vec<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Value>, A::Error> {
        let mut items = Vec::with_capacity(capacity(seq.size_hint()));
        while let Some(item) = seq.next_element_seed(self.parent.child())? {
            items.push(item);
        }
        Ok(items)
    }
}

/// Reads the elements of a set, one level down.
struct SetSeed<'c, 'de> {
    parent: ValueSeed<'c, 'de>,
}

impl<'de> DeserializeSeed<'de> for SetSeed<'_, 'de> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SetSeed<'_, 'de> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a set")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut set = Set::with_capacity_and_hasher(capacity(seq.size_hint()), Default::default());
        while let Some(item) = seq.next_element_seed(self.parent.child())? {
            if let (_, false) = set.insert_full(item) {
                return Err(self.parent.ctx.fail(
                    Kind::DuplicateKey,
                    None,
                    "a set has the same element twice".to_owned(),
                ));
            }
        }
        Ok(Value::Set(Box::new(set)))
    }
}

/// Reads the entries of a map, one level down.
struct MapSeed<'c, 'de> {
    parent: ValueSeed<'c, 'de>,
}

impl<'de> DeserializeSeed<'de> for MapSeed<'_, 'de> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MapSeed<'_, 'de> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map =
            Map::with_capacity_and_hasher(capacity(access.size_hint()), Default::default());
        while let Some(key) = access.next_key_seed(self.parent.child())? {
            if map.contains_key(&key) {
                return Err(self.parent.ctx.fail(
                    Kind::DuplicateKey,
                    None,
                    format!("the key {key} appears twice"),
                ));
            }
            let value = access.next_value_seed(self.parent.child())?;
            map.insert(key, value);
        }
        Ok(Value::Map(Box::new(map)))
    }
}
