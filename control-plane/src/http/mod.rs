//! HTTP plumbing shared by every resource: extractors that answer with problem documents,
//! pagination, client IP, rate limiting and the cross-cutting layers.

pub mod client_ip;
pub mod extract;
pub mod json;
pub mod layers;
pub mod pagination;
pub mod rate_limit;

pub use extract::{Path, Query};
pub use json::Json;
pub use pagination::{Page, PageQuery, Paged};
