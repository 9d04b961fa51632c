//! Pricing: scope precedence, future-dated rates, quotes (segments × rate), the bulk quote,
//! the public table, customer rates, and the staff endpoints with their permissions,
//! validation, margins and audit rows.

mod rates;
mod staff;

use axum::http::StatusCode;
use semalink_control_plane::admin::permissions::{Level, Module};
use semalink_control_plane::pricing::quote::{self, Content};
use semalink_control_plane::pricing::types::RateScope;
use semalink_protocol::msisdn::Msisdn;
use serde_json::{Value, json};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::credits::{d, staff_token};
use crate::helpers::*;

pub const SAFARICOM: &str = "+254712345678";
pub const AIRTEL: &str = "+254733123456";

pub async fn set_rate(app: &TestApp, token: &str, body: Value) -> Resp {
    app.post("/v1/admin/pricing/rates", Some(token), body).await
}

pub async fn set_ok(app: &TestApp, token: &str, body: Value) -> Value {
    let r = set_rate(app, token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json
}

pub async fn make_agent(app: &TestApp, agent: Uuid, customer: Uuid) {
    sqlx::query("UPDATE accounts SET type = 'agent' WHERE id = $1")
        .bind(agent)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("UPDATE accounts SET type = 'agent_customer', parent_agent_id = $1, billing_account_id = $1 WHERE id = $2")
        .bind(agent)
        .bind(customer)
        .execute(&app.db)
        .await
        .unwrap();
}
