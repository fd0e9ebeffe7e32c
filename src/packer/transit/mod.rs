//! The transit-json packer ([`TransitPacker`]): Sente's `TransitPacker` wire
//! (`taoensso.sente.packers.transit`). The mapping and its lossy corners are
//! documented on [`TransitPacker`].

mod decode;
mod read;
mod write;

use super::{PackError, Packed, PackedRef, Packer, UnpackError, UnpackErrorKind};
use crate::value::Value;

const PACKER: &str = "transit";

/// The first element of an array that holds a map (`["^ ",k,v,…]`).
const MAP_AS_ARRAY: &str = "^ ";
/// Cache codes are one or two base-44 digits.
const CACHE_CODE_DIGITS: usize = 44;
/// The character of digit 0 in a cache code.
const CACHE_CODE_BASE: u8 = b'0';
/// The cache starts over when it holds this many entries.
const MAX_CACHE_ENTRIES: usize = CACHE_CODE_DIGITS * CACHE_CODE_DIGITS;

/// Packs values as transit-json text, byte-identical to Sente's
/// `TransitPacker` on transit-clj (cache included), and reads transit-json
/// and json-verbose as transit-clj and transit-js write them.
///
/// A binary frame is rejected with [`UnpackErrorKind::WrongPayloadKind`].
///
/// ```
/// use sente::packer::{PackedRef, Packer, TransitPacker};
/// use sente::Value;
///
/// let p = TransitPacker::new();
/// let msg = Value::vector([Value::keyword("chsk/ws-ping"), Value::Nil]);
/// let packed = p.pack(true, &msg)?;
/// assert_eq!(packed.as_bytes(), br#"["~:chsk/ws-ping",null]"#);
/// assert_eq!(p.unpack(true, PackedRef::Text(r#"["~:chsk/ws-ping",null]"#))?, msg);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Mapping
///
/// | [`Value`] | transit-json | as a map key |
/// |---|---|---|
/// | `Nil` | `null` | `"~_"` |
/// | `Bool` | `true` / `false` | `"~?t"` / `"~?f"` |
/// | `Int` | a JSON number; `"~i…"` outside ±(2^53 − 1) | `"~i…"` |
/// | `BigInt` | `"~n123"` | same |
/// | `Float` | a JSON number as Java prints it (`1.0`, `1.0E10`); `"~zNaN"`, `"~zINF"`, `"~z-INF"` | `"~d1.5"` |
/// | `BigDec` | `"~f1.5"` | same |
/// | `Ratio` | `["~#ratio",["~n1","~n3"]]` | (map becomes a cmap) |
/// | `String` | itself; `"~"` prepended when it starts with `~`, `^` or `` ` `` | same |
/// | `Char` | `"~cx"` | same |
/// | `Keyword` / `Symbol` | `"~:ns/name"` / `"~$name"` | same |
/// | `Vector` | a JSON array | (cmap) |
/// | `List` / `Set` | `["~#list",[…]]` / `["~#set",[…]]` | (cmap) |
/// | `Map`, all keys scalar | `["^ ",k,v,…]` | (cmap) |
/// | `Map`, other keys | `["~#cmap",[k,v,…]]` | (cmap) |
/// | `Uuid` | `"~u…"` | same |
/// | `Inst` | `"~m<millis>"` | same |
/// | `Bytes` | `"~b<base64>"` | same |
/// | `Tagged` | `["~#tag",value]`; `"~xtext"` for a one-character tag with a string value | same (scalar form only) |
///
/// A top-level scalar is wrapped as `["~#'",x]`, as every transit writer does.
///
/// **Cache.** Within one message, an encoded string of four or more UTF-16
/// units that is a map key, or a keyword, symbol or tag (`~:`, `~$`, `~#`)
/// anywhere, is written in full the first time and as a cache code
/// (`"^0"`, `"^1"`, …, base-44 digits from `'0'`, two digits from the 45th
/// entry) afterwards; the cache starts over after 44 × 44 entries. This is
/// transit-java's policy (transit-js clears a full cache on the next
/// cacheable string even when it is a hit; readers follow either writer).
///
/// **Verbose.** [`TransitPacker::verbose`] writes json-verbose: maps with
/// scalar keys as JSON objects, tagged values as `{"~#tag":rep}`, instants as
/// `"~t2024-01-01T00:00:00.000Z"` and no cache codes. Either constructor reads both
/// forms, so the choice only matters for what the peer expects to read.
///
/// # Lossy or lenient corners
///
/// - Instants travel in milliseconds (floor): sub-millisecond nanoseconds are
///   lost when writing, and dropped when reading a finer `"~t…"`, as
///   transit-java does.
///   Verbose mode writes `"~m"` for years outside 0000–9999, which `"~t"` cannot carry.
/// - Doubles print as transit-clj prints them (Java's `Double.toString`:
///   `1.0`, `1.0E10`), so `Float(1.0)` reads back as a double. transit-js
///   writes `1` for the double 1.0, which reads as `Int(1)`.
/// - `"~n5"` reads as `BigInt(5)` (equal to `Int(5)`); a ratio is divided
///   as transit-clj divides it (`(/ n d)`): `["~#ratio",["~n4","~n2"]]`
///   reads as `BigInt(2)`, `["~n-3","~n9"]` as `-1/3`.
/// - A map with a key twice keeps the last value, and a set with an element
///   twice keeps one, as transit-clj's builders do.
/// - An unknown `["~#tag",rep]` reads as [`Value::Tagged`]; so does an
///   unknown scalar `"~xtext"` (tag `x`, string value), which includes
///   transit URIs (`"~rhttp://…"` reads as tag `r`).
/// - Packing a `Tagged` whose tag transit itself interprets (`set`, `list`,
///   `cmap`, `ratio`, `'` or a one-character ground tag such as `i`) is a
///   [`PackError::Unsupported`]: the reader would decode it as that type.
/// - Empty input is an error ([`UnpackErrorKind::UnexpectedEnd`]), as in
///   transit-clj (the EDN packer reads it as `nil`).
/// - JSON strings are escaped as Jackson escapes them for transit-clj
///   (`\n`, `\u001F`, and a character beyond the BMP as its two surrogates,
///   `\uD83D\uDE00`); a lone surrogate escape reads as U+FFFD.
///
/// # Depth
///
/// Nesting is bounded both ways ([`TransitPacker::with_max_depth`]). A level
/// is a level of [`Value`]; in addition a ratio's two integers and the
/// quoted scalar of a top-level `["~#'",x]` sit one level below their wrapper.
#[derive(Debug, Clone, Copy)]
pub struct TransitPacker {
    verbose: bool,
    max_depth: usize,
}

impl TransitPacker {
    /// A packer writing transit-json (Sente's default `:json` format), with
    /// the default nesting limit ([`crate::edn::DEFAULT_MAX_DEPTH`]).
    pub const fn new() -> Self {
        Self {
            verbose: false,
            max_depth: crate::edn::DEFAULT_MAX_DEPTH,
        }
    }

    /// A packer writing json-verbose (Sente's `:json-verbose` format).
    pub const fn verbose() -> Self {
        Self {
            verbose: true,
            ..Self::new()
        }
    }

    /// Sets the nesting limit for both directions; a limit above
    /// [`crate::edn::MAX_DEPTH_CEILING`] is lowered to it.
    pub const fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = crate::stack::capped(max_depth);
        self
    }

    /// The nesting limit in effect.
    pub const fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// True when this packer writes json-verbose.
    pub const fn is_verbose(&self) -> bool {
        self.verbose
    }
}

impl Default for TransitPacker {
    fn default() -> Self {
        Self::new()
    }
}

impl Packer for TransitPacker {
    fn name(&self) -> &'static str {
        PACKER
    }

    fn is_binary(&self) -> bool {
        false
    }

    fn pack(&self, _websocket: bool, value: &Value) -> Result<Packed, PackError> {
        crate::stack::pack(self.max_depth, |limit| {
            write::write_value(value, self.verbose, limit)
        })
        .map(Packed::Text)
    }

    fn unpack(&self, _websocket: bool, packed: PackedRef<'_>) -> Result<Value, UnpackError> {
        match packed {
            PackedRef::Text(text) => crate::stack::unpack(PACKER, self.max_depth, |limit| {
                read::read_value(text, limit)
            }),
            PackedRef::Binary(_) => Err(UnpackError::new(
                PACKER,
                UnpackErrorKind::WrongPayloadKind,
                None,
                "the transit packer reads text, not binary frames",
            )),
        }
    }
}

/// True when an encoded string goes into the cache: at least four UTF-16
/// units (transit counts as Java and JavaScript do) and either a map key or
/// a keyword, symbol or tag.
fn is_cacheable(encoded: &str, as_map_key: bool) -> bool {
    encoded.len() >= 4
        && encoded.encode_utf16().nth(3).is_some()
        && (as_map_key || matches!(encoded.as_bytes(), [b'~', b':' | b'$' | b'#', ..]))
}

/// Appends the cache code of entry `index` (below [`MAX_CACHE_ENTRIES`]).
fn push_cache_code(out: &mut String, index: usize) {
    let digit = |d: usize| char::from(CACHE_CODE_BASE + (d % CACHE_CODE_DIGITS) as u8);
    out.push('^');
    if index >= CACHE_CODE_DIGITS {
        out.push(digit(index / CACHE_CODE_DIGITS));
    }
    out.push(digit(index));
}

/// The entry index of a cache code such as `^0` or `^1A`; `None` when the
/// text is not a well-formed code.
fn cache_index(code: &str) -> Option<usize> {
    let digit = |b: &u8| {
        let d = usize::from(b.checked_sub(CACHE_CODE_BASE)?);
        (d < CACHE_CODE_DIGITS).then_some(d)
    };
    match code.as_bytes() {
        [b'^', lo] => digit(lo),
        [b'^', hi, lo] => Some(digit(hi)? * CACHE_CODE_DIGITS + digit(lo)?),
        _ => None,
    }
}

/// Tags the reader decodes itself: a `Tagged` value with one of these tags
/// cannot be written, since it would read back as something else.
fn is_interpreted_tag(tag: &str) -> bool {
    matches!(
        tag,
        "_" | "?"
            | "i"
            | "d"
            | "n"
            | "f"
            | ":"
            | "$"
            | "c"
            | "u"
            | "m"
            | "t"
            | "b"
            | "z"
            | "'"
            | "~"
            | "^"
            | "`"
            | "#"
            | "set"
            | "list"
            | "cmap"
            | "ratio"
    )
}

#[cfg(test)]
mod tests;
