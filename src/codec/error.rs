//! Errors of packing and unpacking. They are values, never panics.

use std::borrow::Cow;
use std::fmt;

/// Why a value could not be packed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PackError {
    /// The value nests deeper than the packer's limit.
    #[error("value nests deeper than {limit} levels")]
    TooDeep {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The packer has no representation for this kind of value.
    #[error("{packer} cannot represent a {type_name}: {detail}")]
    Unsupported {
        /// The packer's name.
        packer: &'static str,
        /// The offending value's type name ([`crate::Value::type_name`]).
        type_name: &'static str,
        /// What is wrong, e.g. "integer out of the i64 range".
        detail: Cow<'static, str>,
    },
    /// The underlying encoder failed.
    #[error("{packer} encoder failed: {detail}")]
    Encoder {
        /// The packer's name.
        packer: &'static str,
        /// The encoder's message.
        detail: String,
    },
}

/// The kind of an [`UnpackError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnpackErrorKind {
    /// The bytes are not well-formed in the packer's format.
    Syntax,
    /// The input ended in the middle of a value.
    UnexpectedEnd,
    /// More input follows the one top-level value.
    TrailingInput,
    /// The value nests deeper than the packer's limit.
    TooDeep,
    /// The input, or what it expands to, is larger than the packer's limit.
    TooLarge,
    /// A text packer got a binary frame, or a binary packer got text it cannot read.
    WrongPayloadKind,
    /// Text that must be UTF-8 is not.
    InvalidUtf8,
    /// A well-formed construct this packer does not support (e.g. an unknown extension type).
    Unsupported,
    /// A literal is malformed or out of range (`#uuid "x"`, a 70-digit `0x` integer, a bad date).
    InvalidLiteral,
    /// A map has the same key twice, or a set the same element twice.
    DuplicateKey,
}

impl UnpackErrorKind {
    fn describe(self) -> &'static str {
        match self {
            Self::Syntax => "syntax error",
            Self::UnexpectedEnd => "unexpected end of input",
            Self::TrailingInput => "trailing input after the value",
            Self::TooDeep => "nested too deeply",
            Self::TooLarge => "too large",
            Self::WrongPayloadKind => "wrong payload kind",
            Self::InvalidUtf8 => "invalid UTF-8",
            Self::Unsupported => "unsupported construct",
            Self::InvalidLiteral => "invalid literal",
            Self::DuplicateKey => "duplicate key",
        }
    }
}

/// Why bytes could not be unpacked: the kind, the packer, the byte offset in
/// the input where it was found (when known) and a human-readable detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackError {
    packer: &'static str,
    kind: UnpackErrorKind,
    offset: Option<usize>,
    detail: Cow<'static, str>,
}

impl UnpackError {
    /// Makes an error. `offset` is the byte offset into the packed input.
    pub fn new(
        packer: &'static str,
        kind: UnpackErrorKind,
        offset: Option<usize>,
        detail: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            packer,
            kind,
            offset,
            detail: detail.into(),
        }
    }

    /// The name of the packer that failed (`"edn"`, `"transit"`, …).
    pub fn packer(&self) -> &'static str {
        self.packer
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> UnpackErrorKind {
        self.kind
    }

    /// The byte offset in the input where the problem was found, when known.
    pub fn offset(&self) -> Option<usize> {
        self.offset
    }

    /// The detail message.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The same error attributed to another packer (used by wrapping packers).
    pub fn with_packer(mut self, packer: &'static str) -> Self {
        self.packer = packer;
        self
    }
}

impl fmt::Display for UnpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} unpack failed: {}", self.packer, self.kind.describe())?;
        if let Some(at) = self.offset {
            write!(f, " at byte {at}")?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for UnpackError {}
