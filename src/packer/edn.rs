//! The EDN packer: Sente's default wire format.

use super::{PackError, Packed, PackedRef, Packer, UnpackError, UnpackErrorKind};
use crate::value::Value;

/// Packs values as EDN text, byte-identical to Sente's `:edn` packer
/// (`pr-str` output; `tools.reader.edn` reading).
///
/// Empty input unpacks as `nil`, as in Sente. A binary frame is rejected with
/// [`UnpackErrorKind::WrongPayloadKind`] (Sente's reader rejects non-strings too).
#[derive(Debug, Clone, Copy)]
pub struct EdnPacker {
    max_depth: usize,
}

impl EdnPacker {
    /// An EDN packer with the default nesting limit ([`crate::edn::DEFAULT_MAX_DEPTH`]).
    pub const fn new() -> Self {
        Self {
            max_depth: crate::edn::DEFAULT_MAX_DEPTH,
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
}

impl Default for EdnPacker {
    fn default() -> Self {
        Self::new()
    }
}

impl Packer for EdnPacker {
    fn name(&self) -> &'static str {
        "edn"
    }

    fn is_binary(&self) -> bool {
        false
    }

    fn pack(&self, _websocket: bool, value: &Value) -> Result<Packed, PackError> {
        crate::edn::to_string_with_depth(value, self.max_depth).map(Packed::Text)
    }

    /// Every value has an EDN form: only its depth can fail, so a walk of
    /// the value answers (no packing).
    fn check_pack(
        &self,
        _websocket: bool,
        value: &Value,
        below: usize,
    ) -> Result<usize, PackError> {
        let (depth, size) = value.depth_and_size();
        if depth + below > self.max_depth {
            return Err(PackError::TooDeep {
                limit: self.max_depth,
            });
        }
        Ok(size)
    }

    fn pack_pair(
        &self,
        _websocket: bool,
        first: &Value,
        second: &Value,
    ) -> Result<Packed, PackError> {
        crate::edn::pair_to_string_with_depth(first, second, self.max_depth).map(Packed::Text)
    }

    fn unpack(&self, _websocket: bool, packed: PackedRef<'_>) -> Result<Value, UnpackError> {
        match packed {
            PackedRef::Text(s) => crate::edn::from_str_with_depth(s, self.max_depth),
            PackedRef::Binary(_) => Err(UnpackError::new(
                "edn",
                UnpackErrorKind::WrongPayloadKind,
                None,
                "the EDN packer reads text, not binary frames",
            )),
        }
    }
}
