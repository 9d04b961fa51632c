//! Contacts, lists, search, bulk actions, trash, opt-out and the suppression list, including
//! list counts under concurrent edits.

mod lists;
mod opt_out;
mod records;

use axum::http::{Method, StatusCode};
use semalink_control_plane::contacts::{purge, suppression};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::*;

/// Adds a member (role `member`) to `owner`'s organisation; returns their handles.
pub async fn member_of(app: &TestApp, owner: &User, email: &str) -> User {
    let r = app
        .post(
            "/v1/account/invitations",
            Some(&owner.access),
            json!({"email": email, "role": "member"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let token = app.email_token(email, "invitation").await;
    let user = app.signup(email).await;
    let r = app
        .post(
            "/v1/invitations/accept",
            Some(&user.access),
            json!({"token": token}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let switched = app
        .post(
            "/v1/accounts/switch",
            Some(&user.access),
            json!({"account_id": owner.account_id}),
        )
        .await;
    assert_eq!(switched.json["role"], "member", "{}", switched.text);
    User {
        access: switched.json["access_token"].as_str().unwrap().to_owned(),
        account_id: owner.account_id,
        ..user
    }
}

pub async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post("/v1/contacts", Some(token), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json
}

pub async fn new_list(app: &TestApp, token: &str, name: &str) -> String {
    let r = app
        .post("/v1/contact-lists", Some(token), json!({"name": name}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json["id"].as_str().unwrap().to_owned()
}

pub async fn counts(app: &TestApp, token: &str, list: &str) -> (i64, i64, i64) {
    let r = app.get(&format!("/v1/contact-lists/{list}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let n = |k: &str| r.json[k].as_i64().unwrap();
    (n("total_count"), n("valid_count"), n("invalid_count"))
}

/// The real counts of a list, computed from the rows.
pub async fn real_counts(db: &PgPool, list: &str) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE c.status = 'valid'),
                count(*) FILTER (WHERE c.status = 'invalid')
         FROM contact_list_memberships m JOIN contacts c ON c.id = m.contact_id
         WHERE m.list_id = $1::uuid AND c.deleted_at IS NULL",
    )
    .bind(list)
    .fetch_one(db)
    .await
    .unwrap()
}

pub fn field_of(r: &Resp) -> String {
    r.json["errors"][0]["field"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

pub fn ids_of(r: &Resp) -> Vec<String> {
    r.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}
