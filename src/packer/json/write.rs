//! Packing: [`Value`] → JSON text, through a depth-counting `Serialize` view.

use std::cell::RefCell;
use std::collections::HashSet;
use std::mem::discriminant;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::PACKER;
use crate::packer::PackError;
use crate::value::{Inst, Map, Value};

/// Packs `value` as JSON text, nesting at most `max_depth` levels.
pub(super) fn to_json(value: &Value, max_depth: usize) -> Result<String, PackError> {
    let ctx = Ctx {
        max_depth,
        failure: RefCell::new(None),
    };
    let view = Json {
        value,
        depth: 1,
        ctx: &ctx,
    };
    serde_json::to_string(&view).map_err(|e| {
        ctx.failure.take().unwrap_or_else(|| PackError::Encoder {
            packer: PACKER,
            detail: e.to_string(),
        })
    })
}

/// What one `pack` call shares: the limit, and the first typed failure (serde
/// errors are strings; the typed error is kept here and returned instead).
struct Ctx {
    max_depth: usize,
    failure: RefCell<Option<PackError>>,
}

impl Ctx {
    fn fail<E: serde::ser::Error>(&self, error: PackError) -> E {
        let message = error.to_string();
        let mut slot = self.failure.borrow_mut();
        if slot.is_none() {
            *slot = Some(error);
        }
        E::custom(message)
    }

    fn unsupported<E: serde::ser::Error>(&self, value: &Value, detail: String) -> E {
        self.fail(PackError::Unsupported {
            packer: PACKER,
            type_name: value.type_name(),
            detail: detail.into(),
        })
    }
}

/// A value at a given depth, serialized with the JSON mapping.
struct Json<'a> {
    value: &'a Value,
    depth: usize,
    ctx: &'a Ctx,
}

impl<'a> Json<'a> {
    fn child(&self, value: &'a Value) -> Self {
        Self {
            value,
            depth: self.depth + 1,
            ctx: self.ctx,
        }
    }

    fn number<S: Serializer>(&self, f: f64, serializer: S) -> Result<S::Ok, S::Error> {
        if f.is_finite() {
            serializer.serialize_f64(f)
        } else {
            Err(self.ctx.unsupported(
                self.value,
                format!("{f} is not a finite number, and JSON has no NaN or infinity"),
            ))
        }
    }

    fn seq<S: Serializer>(
        &self,
        len: usize,
        items: impl Iterator<Item = &'a Value>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(len))?;
        for item in items {
            seq.serialize_element(&self.child(item))?;
        }
        seq.end()
    }

    fn map<S: Serializer>(&self, map: &'a Map, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_map(Some(map.len()))?;
        if map.keys().all(|k| name_text(k).is_some()) {
            self.check_distinct_texts(map)?;
            for (k, v) in map {
                out.serialize_entry(name_text(k).unwrap_or_default(), &self.child(v))?;
            }
        } else {
            // The key sits one level below the map: it may nest as deep as
            // what is left of the budget.
            let key_budget = self.ctx.max_depth - self.depth;
            for (k, v) in map {
                let text =
                    crate::edn::to_string_with_depth(k, key_budget).map_err(|e| match e {
                        PackError::TooDeep { .. } => self.ctx.fail(PackError::TooDeep {
                            limit: self.ctx.max_depth,
                        }),
                        other => self.ctx.fail(other),
                    })?;
                out.serialize_entry(&text, &self.child(v))?;
            }
        }
        out.end()
    }

    /// Strings, keywords and symbols that print the same (`"a"`, `:a`, `a`)
    /// would become one JSON key: refuse rather than drop an entry.
    fn check_distinct_texts<E: serde::ser::Error>(&self, map: &Map) -> Result<(), E> {
        let mut keys = map.keys();
        let Some(first) = keys.next() else {
            return Ok(());
        };
        if keys.all(|k| discriminant(k) == discriminant(first)) {
            return Ok(());
        }
        let mut seen = HashSet::with_capacity(map.len());
        for key in map.keys() {
            let text = name_text(key).unwrap_or_default();
            if !seen.insert(text) {
                return Err(self.ctx.unsupported(
                    self.value,
                    format!("two keys would both become the JSON key {text:?}"),
                ));
            }
        }
        Ok(())
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.depth > self.ctx.max_depth {
            return Err(self.ctx.fail(PackError::TooDeep {
                limit: self.ctx.max_depth,
            }));
        }
        match self.value {
            Value::Nil => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::BigInt(b) => {
                if let Some(i) = b.to_i64() {
                    serializer.serialize_i64(i)
                } else if let Ok(u) = b.as_str().parse::<u64>() {
                    serializer.serialize_u64(u)
                } else {
                    serializer.serialize_str(b.as_str())
                }
            }
            Value::Float(f) => self.number(*f, serializer),
            Value::BigDec(d) => self.number(d.to_f64(), serializer),
            Value::Ratio(r) => self.number(r.to_f64(), serializer),
            Value::String(s) => serializer.serialize_str(s),
            Value::Char(c) => serializer.serialize_char(*c),
            Value::Keyword(k) => serializer.serialize_str(k.as_str()),
            Value::Symbol(s) => serializer.serialize_str(s.as_str()),
            Value::Vector(xs) | Value::List(xs) => self.seq(xs.len(), xs.iter(), serializer),
            Value::Set(xs) => self.seq(xs.len(), xs.iter(), serializer),
            Value::Map(m) => self.map(m, serializer),
            Value::Uuid(u) => serializer.collect_str(&u.hyphenated()),
            Value::Inst(i) => serializer.serialize_str(&iso_8601(i)),
            Value::Bytes(b) => serializer.serialize_str(&crate::codec::base64::encode(b)),
            Value::Tagged(t) => {
                let mut out = serializer.serialize_map(Some(1))?;
                out.serialize_entry(&format!("#{}", t.tag.as_str()), &self.child(&t.value))?;
                out.end()
            }
        }
    }
}

/// The text of a string, keyword or symbol key.
fn name_text(key: &Value) -> Option<&str> {
    match key {
        Value::String(s) => Some(s),
        Value::Keyword(k) => Some(k.as_str()),
        Value::Symbol(s) => Some(s.as_str()),
        _ => None,
    }
}

/// The text JavaScript's `Date.prototype.toISOString` gives for the instant
/// (floored to the millisecond): `2024-01-01T00:00:00.000Z`, with a signed
/// six-digit year outside 0000–9999 (`+012345-…`, `-000001-…`).
pub(super) fn iso_8601(inst: &Inst) -> String {
    // `to_rfc3339` of a whole-millisecond instant is `<year>-MM-DDTHH:MM:SS.mmm-00:00`.
    let rfc3339 = Inst::from_millis(inst.millis()).to_rfc3339();
    let body = rfc3339.strip_suffix("-00:00").unwrap_or(&rfc3339);
    const AFTER_YEAR: usize = "-MM-DDTHH:MM:SS.mmm".len();
    let split = body.len().saturating_sub(AFTER_YEAR);
    let (Some(year), Some(rest)) = (body.get(..split), body.get(split..)) else {
        return rfc3339;
    };
    match year.parse::<i64>() {
        Ok(y) if (0..=9999).contains(&y) => format!("{year}{rest}Z"),
        Ok(y) => {
            let sign = if y < 0 { '-' } else { '+' };
            format!("{sign}{:06}{rest}Z", y.unsigned_abs())
        }
        Err(_) => rfc3339,
    }
}
