//! API keys: created with the secret shown once, accepted as Bearer or X-API-Key, stored as
//! hashes, revocable, last use stamped, and limited to admins.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn create_use_and_revoke_a_key(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("quinn@example.com").await;
    let created = app.post("/v1/api-keys", Some(&owner.access), json!({"name": "backend", "scopes": ["messages:send", "reports:read", "messages:send"]})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let secret = created.json["secret"].as_str().unwrap().to_owned();
    let prefix = created.json["key"]["prefix"].as_str().unwrap().to_owned();
    let id = created.json["key"]["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("sl_live_") && secret.starts_with(&prefix) && prefix.len() == 16);
    assert_eq!(
        created.json["key"]["scopes"],
        json!(["messages:send", "reports:read"])
    );

    let list = app.get("/v1/api-keys", &owner.access).await;
    assert_eq!(list.json["data"][0]["prefix"], prefix.as_str());
    assert!(!list.text.contains(&secret));
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE key_hash = sha256($1::bytea)")
            .bind(secret.as_bytes())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored, 1);

    // Both header forms authenticate.
    let bearer = app.get("/v1/api-keys/current", &secret).await;
    assert_eq!(bearer.status, StatusCode::OK, "{}", bearer.text);
    assert_eq!(bearer.json["id"], id.as_str());
    let header = Request::builder()
        .uri("/v1/api-keys/current")
        .header("x-api-key", &secret)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(header).await.status, StatusCode::OK);
    // A key is not a user token.
    assert_eq!(
        app.get("/v1/me", &secret).await.status,
        StatusCode::UNAUTHORIZED
    );

    // last_used_at is stamped (asynchronously, at most once a minute).
    let mut stamped = false;
    for _ in 0..400 {
        let at: Option<time::OffsetDateTime> =
            sqlx::query_scalar("SELECT last_used_at FROM api_keys")
                .fetch_one(&app.db)
                .await
                .unwrap();
        if at.is_some() {
            stamped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(stamped);

    let revoke = app
        .call(
            Method::DELETE,
            &format!("/v1/api-keys/{id}"),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/v1/api-keys/current", &secret).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/v1/api-keys/{id}"),
            Some(&owner.access),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn keys_need_admin_and_valid_input(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("rehema@example.com").await;
    app.post(
        "/v1/account/invitations",
        Some(&owner.access),
        json!({"email": "sefu@example.com", "role": "member"}),
    )
    .await;
    let token = app.email_token("sefu@example.com", "invitation").await;
    let sefu = app.verified("sefu@example.com").await;
    app.post(
        "/v1/invitations/accept",
        Some(&sefu.access),
        json!({"token": token}),
    )
    .await;
    let member = app
        .post(
            "/v1/accounts/switch",
            Some(&sefu.access),
            json!({"account_id": owner.account_id}),
        )
        .await;
    let member_token = member.json["access_token"].as_str().unwrap();
    let denied = app
        .post(
            "/v1/api-keys",
            Some(member_token),
            json!({"name": "x", "scopes": ["contacts:read"]}),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/v1/api-keys", member_token).await.status,
        StatusCode::FORBIDDEN
    );

    let no_scopes = app
        .post(
            "/v1/api-keys",
            Some(&owner.access),
            json!({"name": "x", "scopes": []}),
        )
        .await;
    assert_eq!(no_scopes.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_scope = app
        .post(
            "/v1/api-keys",
            Some(&owner.access),
            json!({"name": "x", "scopes": ["root"]}),
        )
        .await;
    assert_eq!(bad_scope.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_scope.json["errors"][0]["field"], "scopes[0]");
    assert_eq!(
        app.get("/v1/api-keys/current", "sl_live_notakey")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}
