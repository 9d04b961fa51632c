//! Users: the profile of the signed-in user and password changes.

pub mod routes;
pub mod store;
pub mod types;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The customer routes of the module.
pub fn routes() -> OpenApiRouter<AppState> {
    routes::router()
}
