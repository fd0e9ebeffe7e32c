//! Transit's meaning of what the JSON holds: ground values from their
//! `"~x…"` strings, and tagged values from their tag and representation.

use std::borrow::Cow;
use std::sync::Arc;

use super::is_interpreted_tag;
use crate::codec::base64::decode as base64_decode;
use crate::value::{BigDec, BigInt, Inst, Keyword, Map, Ratio, Symbol, Tagged, Uuid, Value};

/// Why a representation does not decode (the reader adds kind and offset).
pub(super) type Detail = Cow<'static, str>;

/// The tags whose representation is an array of items.
#[derive(Clone, Copy)]
pub(super) enum CollectionTag {
    Set,
    List,
    Cmap,
    Ratio,
}

impl CollectionTag {
    pub(super) fn of(tag: &str) -> Option<Self> {
        match tag {
            "set" => Some(Self::Set),
            "list" => Some(Self::List),
            "cmap" => Some(Self::Cmap),
            "ratio" => Some(Self::Ratio),
            _ => None,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Set => "set",
            Self::List => "list",
            Self::Cmap => "cmap",
            Self::Ratio => "ratio",
        }
    }

    /// The value of this tag with the given items.
    pub(super) fn build(self, items: Vec<Value>) -> Result<Value, Detail> {
        match self {
            Self::Set => Ok(Value::set(items)),
            Self::List => Ok(Value::List(items)),
            Self::Cmap => {
                if !items.len().is_multiple_of(2) {
                    return Err("a cmap needs an even number of items".into());
                }
                let mut items = items.into_iter();
                let mut map = Map::with_capacity_and_hasher(items.len() / 2, Default::default());
                while let (Some(k), Some(v)) = (items.next(), items.next()) {
                    map.insert(k, v);
                }
                Ok(Value::Map(Box::new(map)))
            }
            Self::Ratio => {
                let big = |v: &Value| match v {
                    Value::Int(i) => Some(BigInt::from_i128(i128::from(*i))),
                    Value::BigInt(b) => Some(b.clone()),
                    _ => None,
                };
                // transit-clj's "ratio" read handler: (/ n d), where "~n"
                // parts are BigInts (so an exact result is a BigInt, `2N`)
                // and JSON integers are Longs.
                let longs = matches!(items.as_slice(), [Value::Int(_), Value::Int(_)]);
                match items.as_slice() {
                    [n, d] => big(n)
                        .zip(big(d))
                        .and_then(|(n, d)| Ratio::divide(&n, &d, longs)),
                    _ => None,
                }
                .ok_or_else(|| "a ratio needs two integers and a non-zero denominator".into())
            }
        }
    }
}

/// Decodes the scalar `"~<tag><text>"`. An unknown tag gives a [`Tagged`]
/// value with the text as its string value.
pub(super) fn decode_scalar(tag: char, text: &str) -> Result<Value, Detail> {
    let invalid = |what: &str| -> Detail { format!("invalid {what} \"~{tag}{text}\"").into() };
    match tag {
        '_' => Ok(Value::Nil),
        '?' => match text {
            "t" => Ok(Value::Bool(true)),
            "f" => Ok(Value::Bool(false)),
            _ => Err(invalid("boolean")),
        },
        'i' => BigInt::parse(text)
            .map(|b| b.to_i64().map_or(Value::BigInt(b), Value::Int))
            .ok_or_else(|| invalid("integer")),
        'd' => text
            .parse()
            .map(Value::Float)
            .map_err(|_| invalid("double")),
        'n' => BigInt::parse(text)
            .map(Value::BigInt)
            .ok_or_else(|| invalid("big integer")),
        'f' => BigDec::parse(text)
            .map(Value::BigDec)
            .ok_or_else(|| invalid("big decimal")),
        ':' => Ok(Value::Keyword(Keyword::cached(text))),
        '$' => Ok(Value::Symbol(Symbol::new(text))),
        'c' => {
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Ok(Value::Char(c)),
                _ => Err(invalid("character")),
            }
        }
        'u' => Uuid::try_parse(text)
            .map(Value::Uuid)
            .map_err(|_| invalid("UUID")),
        'm' => text
            .parse()
            .map(|ms| Value::Inst(Inst::from_millis(ms)))
            .map_err(|_| invalid("instant")),
        // Millisecond precision, as transit-java reads it (and as "~m" carries it).
        't' => Inst::parse_rfc3339(text)
            .map(|i| Value::Inst(Inst::from_millis(i.millis())))
            .ok_or_else(|| invalid("instant")),
        'b' => base64_decode(text)
            .map(|b| Value::Bytes(Arc::from(b)))
            .ok_or_else(|| invalid("base64 bytes")),
        'z' => match text {
            "NaN" => Ok(Value::Float(f64::NAN)),
            "INF" => Ok(Value::Float(f64::INFINITY)),
            "-INF" => Ok(Value::Float(f64::NEG_INFINITY)),
            _ => Err(invalid("special number")),
        },
        '\'' => Ok(Value::String(Arc::from(text))),
        _ => Ok(Value::Tagged(Box::new(Tagged {
            tag: Symbol::new(tag.encode_utf8(&mut [0; 4])),
            value: Value::String(Arc::from(text)),
        }))),
    }
}

/// Decodes `["~#tag",rep]` for every tag but the collection tags (`set`,
/// `list`, `cmap`, `ratio`: see [`CollectionTag`]).
pub(super) fn decode_tagged(tag: Symbol, rep: Value) -> Result<Value, Detail> {
    let name = tag.as_str();
    let mut chars = name.chars();
    let single = match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    };
    match (single, rep) {
        (Some('\''), rep) => Ok(rep),
        (Some(c), Value::String(text)) => decode_scalar(c, &text),
        (Some('m'), Value::Int(ms)) => Ok(Value::Inst(Inst::from_millis(ms))),
        (Some('u'), Value::Vector(halves)) => match halves.as_slice() {
            [Value::Int(hi), Value::Int(lo)] => {
                Ok(Value::Uuid(Uuid::from_u64_pair(*hi as u64, *lo as u64)))
            }
            _ => Err("a UUID array needs two 64-bit integers".into()),
        },
        (_, rep) if is_interpreted_tag(name) => {
            Err(format!("the tag `{name}` cannot take a {}", rep.type_name()).into())
        }
        (_, value) => Ok(Value::Tagged(Box::new(Tagged { tag, value }))),
    }
}
