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

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Every customer auth route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(routes::router())
        .merge(flows::router())
        .merge(sessions::routes::router())
        .merge(mfa::router())
        .merge(switch::router())
}
