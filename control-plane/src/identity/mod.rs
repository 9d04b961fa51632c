//! Who is asking: the request extractors ([`user::AuthUser`], [`user::VerifiedUser`],
//! [`principal::Principal`] for a user or an API key), the roles, the access-token format
//! ([`jwt`]), the API-key `last_used_at` throttle and the tenant wall every customer query
//! takes ([`scope::AccountScope`]). Features take their caller from here;
//! this module depends on no feature's routes.

pub mod action_tokens;
pub mod jwt;
pub mod password;
pub mod principal;
pub mod role;
pub mod scope;
pub mod sessions;
pub mod touch;
pub mod user;
