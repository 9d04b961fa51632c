//! Agents (resellers, issue 18): an agent's users work through the agent API
//! (`/v1/agent/…`, the [`crate::identity::agent::AgentUser`] extractor) — its sub-customers
//! ([`customers`], [`import`]), their retail rates and send limits ([`rates`]), usage and
//! margins ([`usage`]) — and Sema Link's staff through the agent manager ([`staff`],
//! `/v1/admin/agents…`). A sub-customer's sends are priced at its retail price and paid from
//! its agent's credits at the agent's price ([`charge`], used by the messages API and the
//! campaign dispatcher; [`limits`] are checked there). The agent's own balance, top-up and
//! statements are the ordinary credits routes (`/v1/credits…`), which serve any organisation.
//! See `docs/agents.md`.

pub mod charge;
pub mod customers;
pub mod import;
pub mod limits;
pub mod rates;
pub mod staff;
pub mod store;
pub mod types;
pub mod usage;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The agent routes of the module (`/v1/agent/...`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(customers::router())
        .merge(import::router())
        .merge(rates::router())
        .merge(usage::router())
}

/// The staff routes of the module (`/v1/admin/agents...`).
pub use staff::router as staff_routes;
