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

/// The nesting limit used by [`to_string`] and [`from_str`], and the
/// default of the EDN, transit, msgpack and bincode packers: 1,000 levels,
/// which is what Sente reads (its reader recurses on the JVM's stack and
/// overflows near 2,000).
///
/// A scalar is one level; each collection or tagged literal around it adds
/// one. Deeper input is refused with [`UnpackErrorKind::TooDeep`]
/// (the server answers it with `chsk/bad-package`), deeper values with
/// [`PackError::TooDeep`].
///
/// Reading or writing more than 64 levels happens on a thread with a stack
/// sized for the limit, so the caller's stack is never at risk whatever it
/// is (see `tests/stack_depth.rs` for the stack each level costs).
///
/// [`UnpackErrorKind::TooDeep`]: crate::packer::UnpackErrorKind::TooDeep
pub const DEFAULT_MAX_DEPTH: usize = 1000;

/// The deepest nesting a packer can be set to accept: 2,000 levels (past
/// Sente's own reach). `with_max_depth` on the EDN, transit, msgpack and
/// bincode packers, and [`to_string_with_depth`] / [`from_str_with_depth`],
/// lower larger limits to this one.
///
/// The ceiling bounds the stack a deep value can need: on the thread that
/// reads or writes it (8 KiB a level are reserved there), and where it is
/// dropped afterwards (at most 336 bytes a level in a debug build, 69 in
/// release: 672 KiB at the ceiling, within a 2 MiB thread).
pub const MAX_DEPTH_CEILING: usize = 2000;

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
    crate::stack::pack(max_depth, |limit| {
        let mut out = String::with_capacity(64);
        write::write_value(&mut out, value, limit)?;
        Ok(out)
    })
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
        write::write_pair(&mut out, first, second, limit)?;
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

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests;
