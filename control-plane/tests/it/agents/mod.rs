//! Agents (issue 18) and the staff agent manager (issue 17): sub-customers created and
//! invited, deactivated and reactivated, imported from CSV ([`customers`]); a sub-customer's
//! sends charged to its agent at wholesale with the retail cost recorded, the agent at zero,
//! per-customer limits, settlement once and the ledger invariant under concurrent campaigns
//! ([`charging`]); the walls between agents, sub-customers and direct customers on every
//! agent route ([`walls`]); the staff agent manager's permissions, audit rows and
//! suspension ([`staff`]).

mod charging;
mod customers;
mod staff;
mod walls;

use axum::http::{Method, StatusCode};
use rust_decimal::Decimal;
use semalink_control_plane::admin::permissions::{Level, Module};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::credits::{fund, staff_token};
use crate::helpers::*;

/// The platform rate for KE every test here uses (what a direct customer pays).
pub const PLATFORM: &str = "0.80";
/// What the agents here pay Sema Link per part (their wholesale list).
pub const WHOLESALE: &str = "0.50";

/// A staff rate row (`pricing: owner`); a second identical one in a test is a 409, fine.
pub async fn staff_rate(app: &TestApp, body: Value) {
    let token = staff_token(app, &[(Module::Pricing, Level::Owner)]).await;
    let r = app
        .post("/v1/admin/pricing/rates", Some(&token), body)
        .await;
    assert!(
        r.status == StatusCode::CREATED || r.status == StatusCode::CONFLICT,
        "{}",
        r.text
    );
}

/// An agent account with `credits` credits, the KE platform rate and its own wholesale
/// rate for KE ([`WHOLESALE`]).
pub async fn agent(app: &TestApp, email: &str, credits: &str) -> User {
    let user = app.verified(email).await;
    sqlx::query("UPDATE accounts SET type = 'agent', status = 'active' WHERE id = $1")
        .bind(user.account_id)
        .execute(&app.db)
        .await
        .unwrap();
    staff_rate(
        app,
        json!({"scope": "platform", "country": "KE", "rate": PLATFORM}),
    )
    .await;
    staff_rate(
        app,
        json!({"scope": "agent_wholesale", "account_id": user.account_id, "country": "KE", "rate": WHOLESALE}),
    )
    .await;
    if credits != "0" {
        fund(
            app,
            user.account_id,
            &format!("agent-fund-{}", user.account_id),
            credits,
        )
        .await;
    }
    user
}

/// `POST /v1/agent/customers`; the answer.
pub async fn create_customer(app: &TestApp, agent: &User, name: &str, owner: &str) -> Resp {
    app.post(
        "/v1/agent/customers",
        Some(&agent.access),
        json!({"name": name, "owner_email": owner}),
    )
    .await
}

/// A sub-customer of `agent` whose owner `owner` accepted the invitation: the owner's
/// handles acting for the sub-customer (switched to it), with an approved default sender
/// ID. (`ready_to_send` also puts 100 credits on the sub-customer's own, unused, balance.)
pub async fn customer(app: &TestApp, agent: &User, owner: &str) -> User {
    let r = create_customer(app, agent, &format!("Shop of {owner}"), owner).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    let user = join(app, owner, id).await;
    crate::messages::ready_to_send(app, &user).await;
    user
}

/// `email` signs up, accepts the newest invitation sent to it and switches to `account_id`.
pub async fn join(app: &TestApp, email: &str, account_id: Uuid) -> User {
    let token = app.email_token(email, "invitation").await;
    let me = app.verified(email).await;
    let r = app
        .post(
            "/v1/invitations/accept",
            Some(&me.access),
            json!({"token": token}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["role"], "owner", "{}", r.text);
    let r = app
        .post(
            "/v1/accounts/switch",
            Some(&me.access),
            json!({"account_id": account_id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    User {
        user_id: me.user_id,
        account_id,
        access: r.json["access_token"].as_str().unwrap().to_owned(),
        refresh: r.json["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    }
}

/// `POST /v1/agent/customers/{id}/rates`.
pub async fn retail_rate(app: &TestApp, agent: &User, customer: Uuid, rate: &str) -> Resp {
    app.post(
        &format!("/v1/agent/customers/{customer}/rates"),
        Some(&agent.access),
        json!({"country": "KE", "rate": rate}),
    )
    .await
}

/// `PUT /v1/agent/customers/{id}/limits`.
pub async fn set_limits(app: &TestApp, agent: &User, customer: Uuid, body: Value) -> Resp {
    app.call(
        Method::PUT,
        &format!("/v1/agent/customers/{customer}/limits"),
        Some(&agent.access),
        Some(body),
    )
    .await
}

/// Balance and reserved credits of an account.
pub async fn money(app: &TestApp, account_id: Uuid) -> (Decimal, Decimal) {
    crate::credits::balances(app, account_id).await
}

/// `balance = sum(amount)` and `reserved = sum(reserved_delta)` for the account.
pub async fn ledger_holds(app: &TestApp, account_id: Uuid) -> bool {
    semalink_control_plane::credits::store::verify(&app.db, account_id)
        .await
        .unwrap()
}

/// One "Hi" to a Safaricom number from `user`: refused with `status` and `detail`.
pub async fn refused(app: &TestApp, user: &User, status: StatusCode, detail: &str) {
    let body = json!({"to": [crate::messages::SAFARICOM], "text": "Hi"});
    let r = crate::messages::send_json(app, &user.access, body, None).await;
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.json["detail"], detail, "{}", r.text);
}

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}
