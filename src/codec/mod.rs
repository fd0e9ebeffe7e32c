//! The bottom layer of the data path: what every codec shares and nothing
//! else. Payloads ([`Packed`], [`PackedRef`]), the errors of packing and
//! unpacking ([`PackError`], [`UnpackError`]), the nesting limits
//! ([`DEFAULT_MAX_DEPTH`], [`MAX_DEPTH_CEILING`]) and base64 for bytes in
//! text formats.
//!
//! It imports nothing from the rest of the crate, so that everything above
//! it (the data model and its EDN printer in [`crate::value`], the EDN
//! reader in [`crate::edn`], the packers, the wire envelope, the channel
//! traits) can use these types without importing the layer that uses them.
//! The public paths are the re-exports: `sente::packer::{PackError,
//! UnpackError, UnpackErrorKind, Packed, PackedRef}`, `sente::{Packed,
//! PackedRef}` and `sente::edn::{DEFAULT_MAX_DEPTH, MAX_DEPTH_CEILING}`.

pub(crate) mod base64;
mod error;
mod limits;
mod packed;

pub use error::{PackError, UnpackError, UnpackErrorKind};
pub use limits::{DEFAULT_MAX_DEPTH, MAX_DEPTH_CEILING};
pub use packed::{Packed, PackedRef};
