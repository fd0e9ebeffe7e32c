//! EDN text: the reader, and the text functions behind the
//! [EDN packer](crate::packer::EdnPacker).
//!
//! The printer (in [`crate::value`], where [`Value`]'s `Display` uses it)
//! matches Clojure's `pr-str` byte for byte for every value
//! Clojure can print readably (`{:a 1, :b 2}`, `#uuid "…"`, `#inst "…"`,
//! `1.0E10`, `##NaN`, `\newline`, …). Byte strings, which EDN has no literal
//! for, print as `#sente/bytes "<base64>"` and read back as bytes.

mod read;

pub use crate::codec::{DEFAULT_MAX_DEPTH, MAX_DEPTH_CEILING};
use crate::codec::{PackError, UnpackError};
use crate::value::Value;
use crate::value::print;

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
///
/// `max_depth` is capped at [`MAX_DEPTH_CEILING`].
pub fn to_string_with_depth(value: &Value, max_depth: usize) -> Result<String, PackError> {
    print::to_string(value, max_depth)
}

/// Prints the vector `[first second]` without building it: the text
/// [`to_string_with_depth`] gives for that vector.
pub(crate) fn pair_to_string_with_depth(
    first: &Value,
    second: &Value,
    max_depth: usize,
) -> Result<String, PackError> {
    crate::stack::pack(max_depth, |limit| {
        let mut out = String::with_capacity(64);
        print::write_pair(&mut out, first, second, limit)?;
        Ok(out)
    })
}

/// Reads one EDN value from `text`; empty text reads as `nil`.
///
/// # Errors
/// An [`UnpackError`] with the byte offset of the problem: malformed syntax,
/// an invalid literal, a duplicate map key, trailing input, or nesting deeper
/// than [`DEFAULT_MAX_DEPTH`].
pub fn from_str(text: &str) -> Result<Value, UnpackError> {
    from_str_with_depth(text, DEFAULT_MAX_DEPTH)
}

/// Like [`from_str`] with an explicit nesting limit, capped at
/// [`MAX_DEPTH_CEILING`].
///
/// # Errors
/// As [`from_str`].
pub fn from_str_with_depth(text: &str, max_depth: usize) -> Result<Value, UnpackError> {
    crate::stack::unpack("edn", max_depth, |limit| read::read_value(text, limit))
}

#[cfg(test)]
mod tests;
