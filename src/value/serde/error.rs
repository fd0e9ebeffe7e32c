//! [`ValueError`]: what went wrong converting between a Rust type and a `Value`, and where.

use std::fmt;

use ::serde::{de, ser};

use crate::value::Value;

/// The kind of a [`ValueError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueErrorKind {
    /// A message from a `Serialize` or `Deserialize` implementation.
    Custom,
    /// The value has the wrong type for the target (a string where a number is expected).
    InvalidType,
    /// The value has the right type but a wrong value (an integer out of the target's range).
    InvalidValue,
    /// A sequence or map has the wrong number of elements.
    InvalidLength,
    /// An enum variant name the target does not know.
    UnknownVariant,
    /// A map key the target does not know (with `#[serde(deny_unknown_fields)]`).
    UnknownField,
    /// A key the target requires is absent.
    MissingField,
    /// A key appears twice.
    DuplicateField,
    /// The value nests deeper than the limit.
    TooDeep,
}

/// One step of the path to the part of a value an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    /// The value under this map key (or this enum variant in `{:Variant payload}`).
    Key(Value),
    /// The element at this position of a vector, list or set.
    Index(usize),
}

/// Why a value could not be converted to or from a [`Value`]: a kind, a
/// message and the path from the top of the value to the offending part.
///
/// Displays as the message followed by the path in `get-in` form:
/// `invalid type: string "x", expected u32 at [:users 2 :age]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", PathSuffix(.path))]
pub struct ValueError {
    kind: ValueErrorKind,
    message: String,
    path: Vec<PathSegment>,
}

impl ValueError {
    /// Makes an error without a path.
    pub fn new(kind: ValueErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            path: Vec::new(),
        }
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ValueErrorKind {
        self.kind
    }

    /// The message, without the path.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The path from the top of the value to the offending part; empty when
    /// the problem is at the top.
    pub fn path(&self) -> &[PathSegment] {
        &self.path
    }

    pub(super) fn too_deep(limit: usize) -> Self {
        Self::new(
            ValueErrorKind::TooDeep,
            format!("value nests deeper than {limit} levels"),
        )
    }

    /// Puts `segment` in front of the path (errors grow their path on the way up).
    fn within(mut self, segment: PathSegment) -> Self {
        // Depth is bounded, so inserting at the front stays cheap.
        self.path.insert(0, segment);
        self
    }

    pub(super) fn at_key(self, key: &Value) -> Self {
        self.within(PathSegment::Key(key.clone()))
    }

    pub(super) fn at_index(self, index: usize) -> Self {
        self.within(PathSegment::Index(index))
    }
}

/// Keys longer than this are cut in the rendered path.
const MAX_KEY_TEXT: usize = 60;

/// Renders ` at [:a 2 "k"]`, or nothing for an empty path.
struct PathSuffix<'a>(&'a [PathSegment]);

impl fmt::Display for PathSuffix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return Ok(());
        }
        f.write_str(" at [")?;
        for (i, segment) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match segment {
                PathSegment::Index(index) => write!(f, "{index}")?,
                PathSegment::Key(key) => {
                    let text = key.to_string();
                    f.write_str(clip(&text, MAX_KEY_TEXT))?;
                    if text.len() > MAX_KEY_TEXT {
                        f.write_str("…")?;
                    }
                }
            }
        }
        f.write_str("]")
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a char boundary.
pub(super) fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// Lists names as keywords: `:a, :b`.
struct KeywordList(&'static [&'static str]);

impl fmt::Display for KeywordList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        for (i, name) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, ":{name}")?;
        }
        Ok(())
    }
}

impl ser::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::new(ValueErrorKind::Custom, msg.to_string())
    }
}

impl de::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::new(ValueErrorKind::Custom, msg.to_string())
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::new(
            ValueErrorKind::InvalidType,
            format!("invalid type: {unexp}, expected {exp}"),
        )
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::new(
            ValueErrorKind::InvalidValue,
            format!("invalid value: {unexp}, expected {exp}"),
        )
    }

    fn invalid_length(len: usize, exp: &dyn de::Expected) -> Self {
        Self::new(
            ValueErrorKind::InvalidLength,
            format!("invalid length {len}, expected {exp}"),
        )
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Self::new(
            ValueErrorKind::UnknownVariant,
            format!(
                "unknown variant :{}, expected one of {}",
                clip(variant, MAX_KEY_TEXT),
                KeywordList(expected)
            ),
        )
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::new(
            ValueErrorKind::UnknownField,
            format!(
                "unknown key :{}, expected one of {}",
                clip(field, MAX_KEY_TEXT),
                KeywordList(expected)
            ),
        )
    }

    fn missing_field(field: &'static str) -> Self {
        Self::new(
            ValueErrorKind::MissingField,
            format!("missing key :{field}"),
        )
    }

    fn duplicate_field(field: &'static str) -> Self {
        Self::new(
            ValueErrorKind::DuplicateField,
            format!("duplicate key :{field}"),
        )
    }
}
