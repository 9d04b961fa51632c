//! In-app notifications: raised by modules with an email copy to owners and admins, listed,
//! counted and marked read by the organisation's members.

use axum::http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn notifications_are_listed_counted_and_marked_read(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;
    app.post(
        "/v1/account/invitations",
        Some(&owner.access),
        json!({"email": "member@example.com", "role": "member"}),
    )
    .await;
    let token = app.email_token("member@example.com", "invitation").await;
    let member = app.signup("member@example.com").await;
    let r = app
        .post(
            "/v1/invitations/accept",
            Some(&member.access),
            json!({"token": token}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let switched = app
        .post(
            "/v1/accounts/switch",
            Some(&member.access),
            json!({"account_id": owner.account_id}),
        )
        .await;
    assert_eq!(switched.status, StatusCode::OK, "{}", switched.text);
    let member_access = switched.json["access_token"].as_str().unwrap().to_owned();

    let first = notify(&app, owner.account_id, "sender_id.approved").await;
    let second = notify(&app, owner.account_id, "credits.low").await;
    // The owner gets an email copy; a plain member does not.
    assert_eq!(
        app.email_count("owner@example.com", "notification").await,
        2
    );
    assert_eq!(
        app.email_count("member@example.com", "notification").await,
        0
    );

    // Every member sees them, newest first, paginated.
    let page = app.get("/v1/notifications?limit=1", &member_access).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(page.json["data"][0]["id"], second.to_string());
    assert_eq!(page.json["data"][0]["kind"], "credits.low");
    let cursor = page.json["next_cursor"].as_str().unwrap().to_owned();
    let next = app
        .get(
            &format!("/v1/notifications?limit=1&cursor={cursor}"),
            &member_access,
        )
        .await;
    assert_eq!(
        next.json["data"][0]["id"],
        first.to_string(),
        "{}",
        next.text
    );
    assert!(next.json["next_cursor"].is_null());

    let count = app
        .get("/v1/notifications/unread-count", &owner.access)
        .await;
    assert_eq!(count.json["unread"], 2);
    let read = app
        .post(
            &format!("/v1/notifications/{first}/read"),
            Some(&owner.access),
            json!({}),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert!(read.json["read_at"].is_string());
    // Marking again keeps the first read time.
    let again = app
        .post(
            &format!("/v1/notifications/{first}/read"),
            Some(&owner.access),
            json!({}),
        )
        .await;
    assert_eq!(again.json["read_at"], read.json["read_at"]);
    let unread = app
        .get("/v1/notifications?unread=true", &owner.access)
        .await;
    let ids: Vec<_> = unread.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(second.to_string())]);

    let all = app
        .post(
            "/v1/notifications/read-all",
            Some(&member_access),
            json!({}),
        )
        .await;
    assert_eq!(all.json["marked"], 1);
    let count = app
        .get("/v1/notifications/unread-count", &owner.access)
        .await;
    assert_eq!(count.json["unread"], 0);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn bad_queries_name_the_field(db: PgPool) {
    let app = spawn_app(db);
    let user = app.verified("owner@example.com").await;
    let r = app.get("/v1/notifications?limit=0", &user.access).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("limit"), "{}", r.text);
    let r = app.get("/v1/notifications?cursor=%%%", &user.access).await;
    assert!(r.status.is_client_error(), "{}", r.text);
    let r = app.get("/v1/notifications?colour=red", &user.access).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = app
        .call(
            Method::POST,
            "/v1/notifications/not-a-uuid/read",
            Some(&user.access),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
}
