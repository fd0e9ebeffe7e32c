//! The serde bridge: your own `#[derive(Serialize, Deserialize)]` types to and
//! from [`Value`], with a Clojure-idiomatic mapping.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use sente::{from_value, to_value, Value};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct User {
//!     #[serde(rename = "user/name")]
//!     name: String,
//!     age: u32,
//! }
//!
//! let user = User { name: "ana".into(), age: 3 };
//! let value = to_value(&user).unwrap();
//! assert_eq!(value.to_string(), r#"{:user/name "ana", :age 3}"#);
//! assert_eq!(from_value::<User>(value).unwrap(), user);
//! ```
//!
//! [`to_value`] documents the mapping from Rust to `Value` and how a `Value`
//! itself serializes (here and in other formats); [`from_value`] documents
//! what each Rust type accepts when reading. In short: structs are maps with
//! keyword keys, unit variants are keywords, other variants single-entry maps
//! `{:Variant payload}`, sequences are vectors, `None` is `nil`; reading is
//! lenient (keyword, string or symbol keys; keywords where strings are
//! expected), and errors carry the path to the offending part
//! ([`ValueError`]).

mod de;
mod error;
mod impls;
mod ser;

use ::serde::{Deserialize, Serialize, de::DeserializeOwned};

pub use de::ValueDeserializer;
pub use error::{PathSegment, ValueError, ValueErrorKind};
pub use ser::ValueSerializer;

use super::Value;

/// Converts any serializable value into a [`Value`].
///
/// ```
/// use sente::{to_value, Value};
///
/// assert_eq!(to_value(&(1, "two", None::<u8>)).unwrap().to_string(), r#"[1 "two" nil]"#);
/// ```
///
/// # Mapping
///
/// | Rust (serde data model) | `Value` |
/// |---|---|
/// | `bool` | `Bool` |
/// | `i8`…`i64`, `u8`…`u32` | `Int` |
/// | `u64`, `i128`, `u128` | `Int` when it fits an `i64`, else `BigInt` |
/// | `f32`, `f64` | `Float` |
/// | `char` | `Char` |
/// | `&str`, `String` | `String` |
/// | bytes (`serde_bytes`) | `Bytes` |
/// | `None`, `()`, unit struct | `Nil` |
/// | `Some(x)`, newtype struct `T(x)` | what `x` maps to |
/// | sequence, tuple, tuple struct (`Vec<T>`, `(A, B)`, `T(A, B)`) | `Vector` |
/// | struct | `Map` with keyword keys: `:field_name` as written; `#[serde(rename = "user/name")]` gives `:user/name` |
/// | map (`HashMap`, `BTreeMap`, …) | `Map`; each key through `to_value` (so `String` keys stay strings) |
/// | unit variant `E::A` | keyword `:A` |
/// | newtype, tuple and struct variants | single-entry map `{:A payload}` |
/// | [`Keyword`], [`Symbol`], [`Inst`], [`Value`] | themselves, exactly |
///
/// Field and variant names are used as written: Clojure's `kebab-case` is
/// one `#[serde(rename_all = "kebab-case")]` away.
///
/// # `Value` through serde
///
/// `Value` implements [`Serialize`](::serde::Serialize) and
/// [`Deserialize`](::serde::Deserialize), so a `Value` can be a field of your
/// own types, and can be written to other serde formats. Through this bridge
/// (`to_value`, `from_value`) it passes unchanged: every variant, keyword,
/// set, tag and ratio is kept. Other formats see the foreign mapping:
///
/// | `Value` | other serde formats (e.g. `serde_json`) |
/// |---|---|
/// | `Nil`, `Bool`, `Int`, `Float`, `String`, `Char`, `Bytes` | unit, bool, i64, f64, str, char, bytes |
/// | `Keyword`, `Symbol` | the string `"ns/name"` (no colon) |
/// | `BigInt`, `BigDec` | their decimal text as a string |
/// | `Ratio` | its nearest `f64` |
/// | `Uuid` | its hyphenated text |
/// | `Inst` | its RFC 3339 text |
/// | `Vector`, `List`, `Set` | a sequence |
/// | `Map` | a map with keys serialized as values (the format decides which keys it accepts; JSON takes strings, keywords and integers) |
/// | `Tagged` | the single-entry map `{"tag": value}` |
///
/// Deserializing a `Value` from other self-describing formats builds `Nil`,
/// `Bool`, `Int` (or `BigInt` past `i64`), `Float`, `String`, `Char`, `Bytes`,
/// `Vector` and `Map` (an enum from such a format becomes the single-entry map
/// `{"Variant" payload}`).
///
/// Limits and losses:
/// - Nesting is bounded: [`ValueSerializer`] and [`ValueDeserializer`] refuse
///   values nested deeper than [`SERDE_MAX_DEPTH`] levels (lower with
///   `with_max_depth`), and `Value`'s own `Serialize` refuses a `Value` nested
///   deeper than [`SERDE_MAX_DEPTH`] in any format.
/// - A `Value` inside `#[serde(flatten)]` or an untagged enum goes through
///   serde's self-describing buffer, which keeps only the foreign mapping
///   (keywords come back as strings there).
///
/// # Errors
/// A [`ValueError`] when `value`'s `Serialize` implementation fails, or when it
/// nests deeper than [`SERDE_MAX_DEPTH`] levels.
///
/// [`Keyword`]: crate::value::Keyword
/// [`Symbol`]: crate::value::Symbol
/// [`Inst`]: crate::value::Inst
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ValueError> {
    value.serialize(ValueSerializer::new())
}

/// Converts a [`Value`] into any deserializable type.
///
/// ```
/// use sente::{from_value, Value};
///
/// let v = Value::vector([Value::from(1), Value::from(2)]);
/// assert_eq!(from_value::<Vec<u8>>(v).unwrap(), vec![1, 2]);
/// ```
///
/// # Mapping
///
/// The inverse, leniently:
///
/// | target | accepts |
/// |---|---|
/// | struct | a `Map` whose keys are keywords, strings or symbols (`:age`, `"age"`, `age`); or a `Vector`/`List` of the fields in order |
/// | field name, variant name (identifiers) | keyword, string or symbol (the text without the colon); a non-negative `Int` as an index |
/// | enum | a keyword, string or symbol for a unit variant; a single-entry map `{:Variant payload}` for any variant (`{:Variant nil}` for a unit one) |
/// | `String`, `&str` | `String`; also a keyword or symbol as its text `ns/name` without the colon, a `Char`, a `BigInt`/`BigDec` as its decimal text, a `Uuid` as its canonical hyphenated text, an `Inst` as its RFC 3339 text (`2024-01-01T00:00:00.000-00:00`) |
/// | integers | `Int` or `BigInt` in the target's range (out of range is an error, with the path) |
/// | `f32`, `f64` | any number (`Int`, `BigInt`, `Float`, `BigDec`, `Ratio`) |
/// | `char` | `Char`, or a `String` of exactly one character |
/// | `bool` | `Bool` |
/// | sequences, tuples | `Vector`, `List`, `Set` (in its order), or `Bytes` (as `u8`s); a tuple must have exactly its length |
/// | bytes (`serde_bytes`) | `Bytes`, or a `Vector`/`List` of integers 0–255 |
/// | maps | `Map`; a `Tagged` as the single-entry map `{tag value}` |
/// | `Option` | `Nil` is `None`, anything else `Some` |
/// | `()`, unit struct | `Nil` |
/// | [`Keyword`], [`Symbol`] | a keyword, symbol or string, as a name of that text |
/// | [`Inst`] | an `Inst` exactly, RFC 3339 text, or an `Int` of milliseconds since the epoch |
/// | [`Value`] | anything, exactly |
///
/// Strings are borrowed where the target allows it (`&str` with
/// [`from_value_ref`]). Self-describing targets (`deserialize_any`: untagged
/// and internally tagged enums, `#[serde(flatten)]`, `serde_json::Value`) see
/// `Nil` as unit, keywords and symbols as their text without the colon
/// (`"user/name"`), `BigInt` as an integer when it fits 128 bits and as its
/// text otherwise, `BigDec` as its text, `Ratio` as a double, `Uuid` and `Inst`
/// as their text, `Set` and `List` as sequences, `Tagged` as the single-entry
/// map `{"tag" value}`.
///
/// Errors ([`ValueError`]) carry the path to the offending part in
/// `get-in` form: `invalid type: string "x", expected u32 at [:users 2 :age]`.
///
/// # Errors
/// A [`ValueError`] with the path to the offending part when the value does
/// not have the shape `T` expects, or nests deeper than
/// [`SERDE_MAX_DEPTH`] levels.
///
/// [`Keyword`]: crate::value::Keyword
/// [`Symbol`]: crate::value::Symbol
/// [`Inst`]: crate::value::Inst
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ValueError> {
    from_value_ref(&value)
}

/// Like [`from_value`], borrowing from `value`: `&str` and `&[u8]` fields
/// point into it.
///
/// ```
/// use sente::{from_value_ref, Value};
///
/// let v = Value::keyword("chsk/ws-ping");
/// let text: &str = from_value_ref(&v).unwrap();
/// assert_eq!(text, "chsk/ws-ping");
/// ```
///
/// # Errors
/// As [`from_value`].
pub fn from_value_ref<'de, T: Deserialize<'de>>(value: &'de Value) -> Result<T, ValueError> {
    T::deserialize(ValueDeserializer::new(value))
}

/// Collections claiming more elements than this are not preallocated beyond it.
const MAX_PREALLOCATION: usize = 4096;

/// The nesting limit of the serde bridge ([`to_value`], [`from_value`],
/// [`ValueSerializer`], [`ValueDeserializer`], and `Value`'s own
/// `Serialize`): 256 levels, and the most `with_max_depth` can set.
///
/// Lower than the packers' [`crate::edn::DEFAULT_MAX_DEPTH`]: the bridge
/// recurses through serde's generic code once per level, at up to 1.3 KiB
/// of stack a level in release builds and 6.8 KiB in debug builds
/// (`tests/stack_depth.rs`), on the caller's thread (serde gives no way to
/// move the work to a thread of its own). 256 levels take at most 333 KiB
/// in release and 1.7 MiB in debug. A value read deeper than this from the
/// wire is still a [`Value`]; only its conversion is refused, with
/// [`ValueErrorKind::TooDeep`].
pub const SERDE_MAX_DEPTH: usize = 256;

/// `max_depth`, lowered to [`SERDE_MAX_DEPTH`].
const fn serde_capped(max_depth: usize) -> usize {
    if max_depth < SERDE_MAX_DEPTH {
        max_depth
    } else {
        SERDE_MAX_DEPTH
    }
}

/// The private serde names that carry `Value` variants serde has no word for
/// through this bridge exactly (a newtype struct name when serializing, an
/// enum variant name when deserializing). Other formats ignore the names and
/// see the foreign mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Keyword,
    Symbol,
    BigInt,
    BigDec,
    Ratio,
    Uuid,
    Inst,
    List,
    Set,
    Tagged,
}

/// The newtype-struct name `Value`'s `Deserialize` asks for: our deserializer
/// answers it with the exact variant (as an enum of [`Token`] names).
const VALUE_TOKEN: &str = "$sente::private::Value";

impl Token {
    const ALL: [Token; 10] = [
        Token::Keyword,
        Token::Symbol,
        Token::BigInt,
        Token::BigDec,
        Token::Ratio,
        Token::Uuid,
        Token::Inst,
        Token::List,
        Token::Set,
        Token::Tagged,
    ];

    fn name(self) -> &'static str {
        match self {
            Token::Keyword => "$sente::private::Keyword",
            Token::Symbol => "$sente::private::Symbol",
            Token::BigInt => "$sente::private::BigInt",
            Token::BigDec => "$sente::private::BigDec",
            Token::Ratio => "$sente::private::Ratio",
            Token::Uuid => "$sente::private::Uuid",
            Token::Inst => "$sente::private::Inst",
            Token::List => "$sente::private::List",
            Token::Set => "$sente::private::Set",
            Token::Tagged => "$sente::private::Tagged",
        }
    }

    fn from_name(name: &str) -> Option<Token> {
        if !name.starts_with("$sente::private::") {
            return None;
        }
        Token::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The name of the variant, as [`Value::type_name`] gives it.
    fn type_name(self) -> &'static str {
        match self {
            Token::Keyword => "keyword",
            Token::Symbol => "symbol",
            Token::BigInt => "bigint",
            Token::BigDec => "bigdec",
            Token::Ratio => "ratio",
            Token::Uuid => "uuid",
            Token::Inst => "inst",
            Token::List => "list",
            Token::Set => "set",
            Token::Tagged => "tagged",
        }
    }

    /// The token of a variant that needs one, `None` for variants serde's
    /// data model carries as they are.
    fn of(value: &Value) -> Option<Token> {
        Some(match value {
            Value::Keyword(_) => Token::Keyword,
            Value::Symbol(_) => Token::Symbol,
            Value::BigInt(_) => Token::BigInt,
            Value::BigDec(_) => Token::BigDec,
            Value::Ratio(_) => Token::Ratio,
            Value::Uuid(_) => Token::Uuid,
            Value::Inst(_) => Token::Inst,
            Value::List(_) => Token::List,
            Value::Set(_) => Token::Set,
            Value::Tagged(_) => Token::Tagged,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests;
