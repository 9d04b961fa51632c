//! Customer authentication: signup, login with lock-out and TOTP, rotating refresh tokens,
//! sessions, email-link flows, and the extractors other modules use to know who is calling.

pub mod flows;
pub mod issue;
pub mod lockout;
pub mod mfa;
pub mod mfa_store;
pub mod routes;
pub mod sessions;
pub mod switch;
pub mod totp;
pub mod types;

use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;
use crate::worker::Worker;

/// The module's background workers: the login-throttle sweep.
pub fn workers(state: &AppState, stop: &CancellationToken) -> Vec<Worker> {
    vec![lockout::worker(state.pool.clone(), stop.clone())]
}

/// Every customer auth route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(routes::router())
        .merge(flows::router())
        .merge(sessions::routes::router())
        .merge(mfa::router())
        .merge(switch::router())
}
