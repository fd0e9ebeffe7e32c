//! How deep a value may nest: the limits every packer, the EDN text
//! functions and the deep-stack runner share.

/// The nesting limit used by [`edn::to_string`] and [`edn::from_str`], and the
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
/// [`PackError::TooDeep`]: crate::packer::PackError::TooDeep
/// [`edn::to_string`]: crate::edn::to_string
/// [`edn::from_str`]: crate::edn::from_str
pub const DEFAULT_MAX_DEPTH: usize = 1000;

/// The deepest nesting a packer can be set to accept: 2,000 levels (past
/// Sente's own reach). `with_max_depth` on the EDN, transit, msgpack and
/// bincode packers, and [`edn::to_string_with_depth`] / [`edn::from_str_with_depth`],
/// lower larger limits to this one.
///
/// The ceiling bounds the stack a deep value can need: on the thread that
/// reads or writes it (8 KiB a level are reserved there), and where it is
/// dropped afterwards (at most 336 bytes a level in a debug build, 69 in
/// release: 672 KiB at the ceiling, within a 2 MiB thread).
///
/// [`edn::to_string_with_depth`]: crate::edn::to_string_with_depth
/// [`edn::from_str_with_depth`]: crate::edn::from_str_with_depth
pub const MAX_DEPTH_CEILING: usize = 2000;
