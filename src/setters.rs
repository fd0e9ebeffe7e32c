//! The consuming setters of the options types, written once.

/// One consuming setter per option: `$doc` is the whole doc comment.
macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty;)*) => {$(
        $(#[$doc])*
        #[must_use]
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = value;
            self
        }
    )*};
}

/// Setters forwarding to the setter of the same name of `self.config`,
/// whose type is named `$config` (for the doc link).
macro_rules! config_setters {
    ($config:literal; $($name:ident: $ty:ty;)*) => {$(
        #[doc = concat!("Sets [`", $config, "::", stringify!($name), "`] (see there).")]
        #[must_use]
        pub fn $name(mut self, value: $ty) -> Self {
            self.config = self.config.$name(value);
            self
        }
    )*};
}

pub(crate) use {config_setters, setters};
