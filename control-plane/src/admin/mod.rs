//! Sema Link staff (the admin app): separate token secret and audience, per-module permission
//! levels carried in the token and enforced by route guards, and the append-only audit log.

pub mod action;
pub mod audit;
pub mod audit_export;
pub mod auth;
pub mod guard;
pub mod invites;
pub mod notices;
pub mod permissions;
pub mod seed;
pub mod staff;
pub mod store;
pub mod types;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Every route of the module (all staff: `/v1/admin/...`).
pub fn staff_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(staff::router())
        .merge(audit::router())
        .merge(notices::routes::router())
}
