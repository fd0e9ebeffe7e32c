//! Unpacking: JSON text → [`Value`], through a depth-counting seed.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::error::Category;

use super::PACKER;
use crate::packer::{UnpackError, UnpackErrorKind as Kind};
use crate::value::{Map, Value};

/// Reads exactly one JSON value from `text` (surrounding whitespace allowed),
/// nesting at most `max_depth` levels.
pub(super) fn from_json(text: &str, max_depth: usize) -> Result<Value, UnpackError> {
    let ctx = Ctx {
        max_depth,
        failure: RefCell::new(None),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let value = ValueSeed {
        depth: 1,
        ctx: &ctx,
    }
    .deserialize(&mut de)
    .map_err(|e| {
        let kind = match ctx.failure.take() {
            Some(kind) => kind,
            None => kind_of(&e),
        };
        to_unpack_error(text, &e, kind)
    })?;
    de.end()
        .map_err(|e| to_unpack_error(text, &e, Kind::TrailingInput))?;
    Ok(value)
}

/// The kind of an error serde_json raised itself.
fn kind_of(error: &serde_json::Error) -> Kind {
    match error.classify() {
        Category::Eof => Kind::UnexpectedEnd,
        Category::Syntax => {
            let message = error.to_string();
            if message.starts_with("recursion limit exceeded") {
                Kind::TooDeep
            } else if message.starts_with("number out of range") {
                Kind::InvalidLiteral
            } else {
                Kind::Syntax
            }
        }
        Category::Data | Category::Io => Kind::Syntax,
    }
}

fn to_unpack_error(text: &str, error: &serde_json::Error, kind: Kind) -> UnpackError {
    let offset = match (kind, error.classify()) {
        (Kind::UnexpectedEnd, _) => Some(text.len()),
        // Raised by the seeds below: serde_json points at the next unread byte.
        (_, Category::Data) => byte_offset(text, error.line(), error.column() + 1),
        // serde_json's own errors point just past the offending byte.
        _ => byte_offset(text, error.line(), error.column()),
    };
    let message = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    let detail = message
        .strip_suffix(&position)
        .unwrap_or(&message)
        .to_owned();
    UnpackError::new(PACKER, kind, offset, detail)
}

/// The byte offset before serde_json's 1-based `line` and `column`.
fn byte_offset(text: &str, line: usize, column: usize) -> Option<usize> {
    let line_start = match line {
        0 => return None,
        1 => 0,
        _ => {
            let (newline, _) = text.match_indices('\n').nth(line - 2)?;
            newline + 1
        }
    };
    Some(
        line_start
            .saturating_add(column.saturating_sub(1))
            .min(text.len()),
    )
}

/// What one `unpack` call shares: the limit, and the kind of the first
/// failure raised by the seeds below (serde carries it only as a message).
struct Ctx {
    max_depth: usize,
    failure: RefCell<Option<Kind>>,
}

impl Ctx {
    fn fail<E: serde::de::Error>(&self, kind: Kind, message: fmt::Arguments<'_>) -> E {
        let mut slot = self.failure.borrow_mut();
        if slot.is_none() {
            *slot = Some(kind);
        }
        E::custom(message)
    }
}

/// Reads one value at `depth`.
#[derive(Clone, Copy)]
struct ValueSeed<'c> {
    depth: usize,
    ctx: &'c Ctx,
}

impl ValueSeed<'_> {
    fn child(self) -> Self {
        Self {
            depth: self.depth + 1,
            ctx: self.ctx,
        }
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        if self.depth > self.ctx.max_depth {
            return Err(self.ctx.fail(
                Kind::TooDeep,
                format_args!("more than {} levels", self.ctx.max_depth),
            ));
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(Value::from(u))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(Arc::from(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child())? {
            items.push(item);
        }
        Ok(Value::Vector(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::default();
        while let Some(key) = access.next_key_seed(KeySeed)? {
            if map.contains_key(&key) {
                return Err(self.ctx.fail(
                    Kind::DuplicateKey,
                    format_args!("the key {key} appears twice"),
                ));
            }
            let value = access.next_value_seed(self.child())?;
            map.insert(key, value);
        }
        Ok(Value::Map(Box::new(map)))
    }
}

/// Reads an object key as a [`Value::String`].
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(Arc::from(s)))
    }
}
