//! Engineering (the `engineering` staff module): what operations need to see — queue depth
//! and consumers, failed messages, applied migrations, API health from the service's own
//! metrics and the last server errors (kept in memory by [`crate::metrics::Metrics`]).

pub mod staff;
pub mod store;
pub mod types;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The staff routes of the module.
pub fn staff_routes() -> OpenApiRouter<AppState> {
    staff::router()
}
