//! API keys for machine-to-machine access: create (secret shown once), list, revoke, scopes,
//! and the extractors that authenticate requests carrying a key.

pub mod routes;
pub mod store;
pub mod types;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The customer routes of the module.
pub fn routes() -> OpenApiRouter<AppState> {
    routes::router()
}
