//! Organisations (accounts): memberships, the business profile, team members and invitations.

pub mod gate;
pub mod routes;
pub mod store;
pub mod team;
pub mod types;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The customer routes of the module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(routes::router())
        .merge(team::routes::router())
        .merge(team::invitations::router())
}
