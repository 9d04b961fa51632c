//! CRM (the `crm` staff module): organisations across the platform — list, detail, suspend
//! and reactivate atomically, delete with the typed name ([`staff`]); users across
//! organisations with their memberships and login history, disable and re-enable
//! ([`users`]); read-only impersonation ([`impersonation`]). Reads in [`store`], changes in
//! [`changes`], shapes in [`types`]. What a deletion removes is in `docs/staff-admin.md`.

pub mod changes;
pub mod impersonation;
pub mod staff;
pub mod store;
pub mod suspension;
pub mod types;
pub mod users;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The staff routes of the module (`/v1/admin/crm/...`).
pub fn staff_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(staff::router())
        .merge(users::router())
        .merge(impersonation::staff::router())
}
