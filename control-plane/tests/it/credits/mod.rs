//! Credits: the ledger operations and their idempotency, prepaid/postpaid limits, the
//! customer endpoints (balance, history, threshold + low-credit notice), the staff endpoints
//! (top-up, adjustment, refund, billing settings, ledger view, audit). The concurrency test is
//! in `ledger_concurrency.rs`.

mod customer;
mod settlement;
mod staff;

use axum::http::{Method, StatusCode};
use rust_decimal::Decimal;
use semalink_control_plane::admin::permissions::{Level, Module};
use semalink_control_plane::credits::ledger::{self, Entry};
use semalink_control_plane::credits::store;
use semalink_control_plane::credits::types::{Actor, Movement};
use semalink_control_plane::error::Error;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::*;

/// An access token of a new staff member with exactly `perms` (a real row and session: the
/// guards read permissions from the database, so a forged token would be refused).
pub async fn staff_token(app: &TestApp, perms: &[(Module, Level)]) -> String {
    let perms: std::collections::BTreeMap<Module, Level> = perms.iter().copied().collect();
    let email = format!("staff-{}@semalink.africa", Uuid::now_v7());
    crate::sender_ids::staff_token(app, &email, serde_json::to_value(perms).unwrap()).await
}

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub fn entry(account_id: Uuid, reference: &str) -> Entry<'_> {
    Entry {
        account_id,
        reference,
        actor: Actor::System("test"),
        reason: None,
        metadata: json!({}),
        base_url: "http://app.test",
    }
}

/// Tops up `amount` through the ledger (as the status consumer or a provider would).
pub async fn fund(app: &TestApp, account_id: Uuid, reference: &str, amount: &str) -> Movement {
    let mut conn = app.app_pool.acquire().await.unwrap();
    ledger::topup(&mut conn, &entry(account_id, reference), d(amount))
        .await
        .unwrap()
}

pub async fn balances(app: &TestApp, account_id: Uuid) -> (Decimal, Decimal) {
    sqlx::query_as("SELECT balance, reserved_balance FROM credits WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

pub async fn notices(app: &TestApp, account_id: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = 'credits.low'",
    )
    .bind(account_id)
    .fetch_one(&app.db)
    .await
    .unwrap()
}
