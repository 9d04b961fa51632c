//! My sessions (refresh-token families): the routes that list and revoke them. The session
//! store itself is [`crate::identity::sessions`] (re-exported here for the auth flows), so the
//! features that end sessions (team, users) do not depend on `auth`.

pub mod routes;

pub use crate::identity::sessions::*;
