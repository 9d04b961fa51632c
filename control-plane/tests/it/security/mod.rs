//! Security hardening (issue 20): each module pins one failure an attacker or a careless
//! client found, so that it cannot come back.

mod least_privilege;
mod live_permissions;
mod lockout;
mod metrics;
mod money_edges;
mod nul_params;
mod openapi;
mod outbox;
mod password_tokens;
mod session_lifetime;
mod timeouts;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;
