//! The wire names of fieldless enums, written once: [`wire_names!`] turns one table per enum
//! (statuses, scopes, per-recipient errors) into `as_str` and `parse`.

/// Implements `as_str` (the wire name, as serialised and stored) and `parse` (its inverse,
/// `None` for a name this code does not know) for a fieldless enum from one table of
/// `Variant => "name"` rows. An optional `fn name = "prefix"` after the table (with its doc
/// comment) adds a method answering the prefix followed by the name, as a `&'static str`
/// (e.g. the 409 detail naming a status).
macro_rules! wire_names {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The wire name, as serialised and stored.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }

            /// The value of a wire name (`None` for a name this code does not know).
            pub fn parse(name: &str) -> Option<$ty> {
                match name {
                    $($name => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }
    };
    (
        $ty:ident { $($variant:ident => $name:literal),+ $(,)? }
        $(#[$meta:meta])* fn $prefixed:ident = $prefix:literal
    ) => {
        $crate::wire::wire_names!($ty { $($variant => $name),+ });

        impl $ty {
            $(#[$meta])*
            pub fn $prefixed(self) -> &'static str {
                match self {
                    $($ty::$variant => concat!($prefix, $name),)+
                }
            }
        }
    };
}

pub(crate) use wire_names;
