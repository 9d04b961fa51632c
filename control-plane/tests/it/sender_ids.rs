//! Sender IDs, customer side: registration, listing, withdrawal, the default and the
//! `approved_sender` look-up sending code uses; plus the helpers the staff-side tests share.

use axum::http::{Method, StatusCode};
use semalink_control_plane::admin::permissions::Permissions;
use semalink_control_plane::admin::store as staff_store;
use semalink_control_plane::identity::scope::AccountScope;
use semalink_control_plane::sender_ids::approved_sender;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::*;

pub const USE_CASE: &str = "One-time passwords and order updates for our shop";

pub fn registration(name: &str, country: &str) -> Value {
    json!({"name": name, "country": country, "use_case": USE_CASE, "traffic_type": "transactional"})
}

/// Registers `name` in `country` and returns the response.
pub async fn register(app: &TestApp, token: &str, name: &str, country: &str) -> Resp {
    app.post("/v1/sender-ids", Some(token), registration(name, country))
        .await
}

/// Registers `name` in KE, expecting success; returns the id.
pub async fn registered(app: &TestApp, token: &str, name: &str) -> String {
    let r = register(app, token, name, "KE").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json["id"].as_str().unwrap().to_owned()
}

/// A staff member with `permissions` (no pending password change); returns an access token.
pub async fn staff_token(app: &TestApp, email: &str, permissions: Value) -> String {
    let hash = app.state.passwords.hash(PASSWORD.to_owned()).await.unwrap();
    let id = staff_store::insert(&app.app_pool, email, "Reviewer", &hash)
        .await
        .unwrap();
    let permissions: Permissions = serde_json::from_value(permissions).unwrap();
    let mut conn = app.app_pool.acquire().await.unwrap();
    staff_store::set_permissions(&mut conn, id, &permissions)
        .await
        .unwrap();
    staff_store::set_password(&app.app_pool, id, &hash)
        .await
        .unwrap();
    let r = app
        .post(
            "/v1/admin/auth/login",
            None,
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json["access_token"].as_str().unwrap().to_owned()
}

pub async fn reviewer(app: &TestApp) -> String {
    staff_token(
        app,
        "reviewer@semalink.africa",
        json!({"sender_ids": "admin"}),
    )
    .await
}

/// Posts a staff decision (`approve`, `reject`, …) on sender ID `id`.
pub async fn decide(app: &TestApp, staff: &str, id: &str, action: &str, body: Value) -> Resp {
    app.post(
        &format!("/v1/admin/sender-ids/{id}/{action}"),
        Some(staff),
        body,
    )
    .await
}

/// A plain member of `owner`'s organisation; returns their access token for it.
pub async fn member_of(app: &TestApp, owner: &User, email: &str) -> String {
    app.post(
        "/v1/account/invitations",
        Some(&owner.access),
        json!({"email": email, "role": "member"}),
    )
    .await;
    let token = app.email_token(email, "invitation").await;
    let member = app.signup(email).await;
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
    switched.json["access_token"].as_str().unwrap().to_owned()
}

pub fn field_errors(r: &Resp) -> Vec<String> {
    r.json["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["field"].as_str().unwrap_or("").to_owned())
        .collect()
}

pub async fn api_key(app: &TestApp, owner: &User, scopes: Value) -> String {
    let r = app
        .post(
            "/v1/api-keys",
            Some(&owner.access),
            json!({"name": "k", "scopes": scopes}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json["secret"].as_str().unwrap().to_owned()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn customers_register_list_get_and_withdraw(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;

    let r = register(&app, &owner.access, " AcmeCorp ", "ke").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["name"], "AcmeCorp");
    assert_eq!(r.json["country"], "KE");
    assert_eq!(r.json["kind"], "alphanumeric");
    assert_eq!(r.json["status"], "pending");
    assert_eq!(r.json["is_default"], false);
    let acme = r.json["id"].as_str().unwrap().to_owned();
    let short = register(&app, &owner.access, "22141", "KE").await;
    assert_eq!(short.json["kind"], "short_code");
    let long = register(&app, &owner.access, "0712 345 678", "KE").await;
    assert_eq!(long.status, StatusCode::CREATED, "{}", long.text);
    assert_eq!(
        (&long.json["kind"], &long.json["name"]),
        (&json!("long_number"), &json!("+254712345678"))
    );

    // Validation names every bad field; a bad enum value names its field too.
    let bad = app
        .post(
            "/v1/sender-ids",
            Some(&owner.access),
            json!({"name": "Acme-Corp", "country": "Kenya", "use_case": "otp", "traffic_type": "promotional", "sample_message": "  "}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert_eq!(
        field_errors(&bad),
        ["country", "name", "use_case", "sample_message"]
    );
    for (name, why) in [
        ("AB", "3 to 11"),
        ("ABCDEFGHIJKL", "3 to 11"),
        ("12", "short code"),
    ] {
        let r = register(&app, &owner.access, name, "KE").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(
            r.json["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(why),
            "{}",
            r.text
        );
    }
    let mut body = registration("Shop", "KE");
    body["traffic_type"] = json!("marketing");
    let r = app.post("/v1/sender-ids", Some(&owner.access), body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(field_errors(&r), ["traffic_type"]);

    // The same name and country twice (any case) is a conflict; another country is not.
    let dup = register(&app, &owner.access, "ACMECORP", "KE").await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.text);
    assert_eq!(
        register(&app, &owner.access, "AcmeCorp", "UG").await.status,
        StatusCode::CREATED
    );

    // Members read but cannot change.
    let member = member_of(&app, &owner, "member@example.com").await;
    let list = app.get("/v1/sender-ids", &member).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.json["data"].as_array().unwrap().len(), 4);
    assert_eq!(
        app.get(&format!("/v1/sender-ids/{acme}"), &member)
            .await
            .json["name"],
        "AcmeCorp"
    );
    assert_eq!(
        register(&app, &member, "Member", "KE").await.status,
        StatusCode::FORBIDDEN
    );
    let path = format!("/v1/sender-ids/{acme}");
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&member), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Withdraw while pending: kept, status withdrawn; again is a 409 naming the status.
    let w = app
        .call(Method::DELETE, &path, Some(&owner.access), None)
        .await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.text);
    assert_eq!(w.json["status"], "withdrawn");
    let again = app
        .call(Method::DELETE, &path, Some(&owner.access), None)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.json["detail"].as_str().unwrap().contains("withdrawn"));
    // A withdrawn name may be registered again.
    assert_eq!(
        register(&app, &owner.access, "AcmeCorp", "KE").await.status,
        StatusCode::CREATED
    );
    let withdrawn = app.get("/v1/sender-ids?status=withdrawn", &member).await;
    assert_eq!(withdrawn.json["data"].as_array().unwrap().len(), 1);
    assert_eq!(withdrawn.json["data"][0]["id"], acme.as_str());
    let paged = app
        .get("/v1/sender-ids?status=pending&limit=2", &member)
        .await;
    assert_eq!(paged.json["data"].as_array().unwrap().len(), 2);
    assert!(paged.json["next_cursor"].is_string());
    let unknown = app.get("/v1/sender-ids?status=sleeping", &member).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let events: Vec<(Option<String>, String, Option<Uuid>)> = sqlx::query_as(
        "SELECT from_status::text, to_status::text, user_id FROM sender_id_events
         WHERE sender_id_id = $1::uuid ORDER BY id",
    )
    .bind(&acme)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        events,
        [
            (None, "pending".into(), Some(owner.user_id)),
            (
                Some("pending".into()),
                "withdrawn".into(),
                Some(owner.user_id)
            ),
        ]
    );

    // API keys: read and write are separate scopes.
    let reader = api_key(&app, &owner, json!(["sender_ids:read"])).await;
    assert_eq!(
        app.get("/v1/sender-ids", &reader).await.status,
        StatusCode::OK
    );
    assert_eq!(
        register(&app, &reader, "KeyShop", "KE").await.status,
        StatusCode::FORBIDDEN
    );
    let other = api_key(&app, &owner, json!(["contacts:read"])).await;
    assert_eq!(
        app.get("/v1/sender-ids", &other).await.status,
        StatusCode::FORBIDDEN
    );
    let writer = api_key(&app, &owner, json!(["sender_ids:write"])).await;
    let by_key = register(&app, &writer, "KeyShop", "KE").await;
    assert_eq!(by_key.status, StatusCode::CREATED, "{}", by_key.text);
    let submitted_by: Option<Uuid> =
        sqlx::query_scalar("SELECT submitted_by FROM sender_ids WHERE id = $1::uuid")
            .bind(by_key.json["id"].as_str().unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(submitted_by, None);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn one_approved_default_and_the_approved_sender_lookup(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;
    let other = app.verified("other@example.com").await;
    let staff = reviewer(&app).await;
    let acme = registered(&app, &owner.access, "AcmeCorp").await;
    let shop = registered(&app, &owner.access, "AcmeShop").await;
    let number = registered(&app, &owner.access, "+254712345678").await;
    let default_path = |id: &str| format!("/v1/sender-ids/{id}/default");

    // Only an approved sender ID can be the default.
    let early = app
        .call(Method::PUT, &default_path(&acme), Some(&owner.access), None)
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(early.json["detail"].as_str().unwrap().contains("pending"));
    for id in [&acme, &shop, &number] {
        decide(&app, &staff, id, "approve", json!({})).await;
    }
    let member = member_of(&app, &owner, "member@example.com").await;
    assert_eq!(
        app.call(Method::PUT, &default_path(&acme), Some(&member), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let set = app
        .call(Method::PUT, &default_path(&acme), Some(&owner.access), None)
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.json["is_default"], true);
    let moved = app
        .call(Method::PUT, &default_path(&shop), Some(&owner.access), None)
        .await;
    assert_eq!(moved.json["is_default"], true);
    let defaults: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM sender_ids WHERE account_id = $1 AND is_default")
            .bind(owner.account_id)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(defaults, [shop.parse::<Uuid>().unwrap()]);
    // The database itself refuses a second default or a default that is not approved.
    let second = sqlx::query("UPDATE sender_ids SET is_default = true WHERE id = $1::uuid")
        .bind(&acme)
        .execute(&app.db)
        .await;
    assert!(second.is_err());

    let pool = &app.app_pool;
    let lookup = |name: Option<&'static str>| {
        approved_sender(pool, AccountScope::trusted(owner.account_id), name)
    };
    assert_eq!(lookup(None).await.unwrap().unwrap().id.to_string(), shop);
    assert_eq!(
        lookup(Some("  ")).await.unwrap().unwrap().id.to_string(),
        shop
    );
    assert_eq!(
        lookup(Some("acmecorp")).await.unwrap().unwrap().name,
        "AcmeCorp"
    );
    assert_eq!(
        lookup(Some("254712345678"))
            .await
            .unwrap()
            .unwrap()
            .id
            .to_string(),
        number
    );
    assert!(lookup(Some("Unknown")).await.unwrap().is_none());
    assert!(
        approved_sender(
            pool,
            AccountScope::trusted(other.account_id),
            Some("AcmeCorp")
        )
        .await
        .unwrap()
        .is_none()
    );

    // Suspending the default clears it; a suspended sender is not usable.
    let s = decide(
        &app,
        &staff,
        &shop,
        "suspend",
        json!({"reason": "Complaints"}),
    )
    .await;
    assert_eq!(s.json["is_default"], false, "{}", s.text);
    let notice = app.get("/v1/notifications?limit=1", &owner.access).await;
    assert!(
        notice.json["data"][0]["body"]
            .as_str()
            .unwrap()
            .contains("no longer your default")
    );
    assert!(lookup(None).await.unwrap().is_none());
    assert!(lookup(Some("AcmeShop")).await.unwrap().is_none());

    // Clearing is idempotent and leaves no default.
    app.call(Method::PUT, &default_path(&acme), Some(&owner.access), None)
        .await;
    for _ in 0..2 {
        let cleared = app
            .call(
                Method::DELETE,
                &default_path(&acme),
                Some(&owner.access),
                None,
            )
            .await;
        assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
        assert_eq!(cleared.json["is_default"], false);
    }
    assert!(lookup(None).await.unwrap().is_none());
}
