//! EDN text: the reader and printer behind [`Value`]'s `Display` and the
//! [EDN packer](crate::packer::EdnPacker).
//!
//! The printer matches Clojure's `pr-str` byte for byte for every value
//! Clojure can print readably (`{:a 1, :b 2}`, `#uuid "…"`, `#inst "…"`,
//! `1.0E10`, `##NaN`, `\newline`, …). Byte strings, which EDN has no literal
//! for, print as `#sente/bytes "<base64>"` and read back as bytes.

mod read;
mod write;

use base64::Engine as _;

use crate::packer::{PackError, UnpackError};
use crate::value::Value;

pub(crate) use read::{is_keyword_text, is_symbol_text};
#[cfg(feature = "transit")]
pub(crate) use write::write_double;

/// The nesting limit used by [`to_string`] and [`from_str`]: 256 levels.
pub const DEFAULT_MAX_DEPTH: usize = 256;

/// Prints `value` as EDN, exactly as Clojure's `pr-str` would.
///
/// # Errors
/// [`PackError::TooDeep`] when the value nests deeper than [`DEFAULT_MAX_DEPTH`].
pub fn to_string(value: &Value) -> Result<String, PackError> {
    to_string_with_depth(value, DEFAULT_MAX_DEPTH)
}

/// Like [`to_string`] with an explicit nesting limit.
///
/// # Errors
/// [`PackError::TooDeep`] when the value nests deeper than `max_depth`.
pub fn to_string_with_depth(value: &Value, max_depth: usize) -> Result<String, PackError> {
    let mut out = String::with_capacity(64);
    write::write_value(&mut out, value, max_depth)?;
    Ok(out)
}

/// Prints the vector `[first second]` without building it: the text
/// [`to_string_with_depth`] gives for that vector.
pub(crate) fn pair_to_string_with_depth(
    first: &Value,
    second: &Value,
    max_depth: usize,
) -> Result<String, PackError> {
    let mut out = String::with_capacity(64);
    write::write_pair(&mut out, first, second, max_depth)?;
    Ok(out)
}

/// Reads one EDN value from `text`; empty text reads as `nil`.
///
/// # Errors
/// An [`UnpackError`] with the byte offset of the problem: malformed syntax,
/// an invalid literal, a duplicate map key, trailing input, or nesting deeper
/// than [`DEFAULT_MAX_DEPTH`].
pub fn from_str(text: &str) -> Result<Value, UnpackError> {
    read::read_value(text, DEFAULT_MAX_DEPTH)
}

/// Like [`from_str`] with an explicit nesting limit.
///
/// # Errors
/// As [`from_str`].
pub fn from_str_with_depth(text: &str, max_depth: usize) -> Result<Value, UnpackError> {
    read::read_value(text, max_depth)
}

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests;
