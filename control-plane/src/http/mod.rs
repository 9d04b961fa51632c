//! HTTP plumbing shared by every resource: extractors that answer with problem documents,
//! pagination, client IP and the cross-cutting layers. It depends on the state, never the other
//! way round (the rate limiters the state holds live in [`crate::rate_limit`]).

pub mod client_ip;
pub mod extract;
pub mod json;
pub mod layers;
pub mod pagination;
pub mod reply;
pub mod with;

pub use extract::{Path, Query};
pub use json::Json;
pub use pagination::{Page, PageQuery, Paged};
