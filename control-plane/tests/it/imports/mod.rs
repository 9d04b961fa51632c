//! CSV imports: upload → dry run → commit, header detection and mapping, hostile files,
//! roles and scopes, cancel/delete, and the 100k-row benchmark (ignored; run in release).

mod flow;
mod hostile;

use std::time::Instant;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::*;

/// Uploads `body` as a raw `text/csv` request with the query string `query` (`?a=b` or "").
pub async fn upload(app: &TestApp, token: &str, query: &str, body: impl Into<Body>) -> Resp {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/v1/contacts/imports{query}"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "text/csv")
        .body(body.into())
        .unwrap();
    app.send(request).await
}

/// Uploads and commits into a new list; returns (import, list id).
pub async fn import_into_new_list(
    app: &TestApp,
    token: &str,
    csv: &str,
    list: &str,
) -> (Value, String) {
    let up = upload(app, token, "", csv.to_owned()).await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text);
    let id = up.json["id"].as_str().unwrap();
    let done = app
        .post(
            &format!("/v1/contacts/imports/{id}/commit"),
            Some(token),
            json!({"list_name": list}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let list_id = done.json["list_id"].as_str().unwrap().to_owned();
    (done.json, list_id)
}

/// `SELECT count(*) …` on the test database.
pub async fn count(db: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(db)
        .await
        .unwrap()
}

pub async fn contact_count(db: &PgPool, account_id: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM contacts WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(db)
        .await
        .unwrap()
}
