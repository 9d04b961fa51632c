//! The staff module: permission matrix, invitations (inactive until a password is set),
//! removal (every token refused at once, audited) and the staff login history.

use axum::http::{Method, StatusCode};
use semalink_control_plane::admin::permissions::{Level, Module};
use serde_json::json;
use sqlx::PgPool;

use super::*;
use crate::credits::staff_token;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn staff_module_permission_matrix(db: PgPool) {
    let app = spawn_app(db);
    let tokens = tokens_per_level(&app, Module::Staff).await;
    let victim = staff_token(&app, &[(Module::Crm, Level::Read)]).await;
    let victim_id = staff_id(&app, &victim).await;
    let nobody = Uuid::now_v7();
    let routes = [
        route(Method::GET, "/v1/admin/staff", None, Level::Read),
        route(
            Method::GET,
            format!("/v1/admin/staff/{victim_id}/logins"),
            None,
            Level::Read,
        ),
        route(
            Method::PUT,
            format!("/v1/admin/staff/{nobody}/permissions"),
            Some(json!({"permissions": {}})),
            Level::Owner,
        ),
        route(
            Method::POST,
            "/v1/admin/staff/invitations",
            Some(json!({"email": "not-an-email", "name": "X"})),
            Level::Owner,
        ),
        route(
            Method::DELETE,
            format!("/v1/admin/staff/{nobody}"),
            None,
            Level::Owner,
        ),
    ];
    check_matrix(&app, &tokens, &routes).await;
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn invite_accept_remove_and_login_history(db: PgPool) {
    let app = spawn_app(db);
    let owner = staff_token(&app, &[(Module::Staff, Level::Owner)]).await;
    let owner_id = staff_id(&app, &owner).await;
    let r = app
        .post(
            "/v1/admin/staff/invitations",
            Some(&owner),
            json!({"email": "new@semalink.africa", "name": "New Person", "permissions": {"crm": "read"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["is_active"], false);
    let new_id: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    let invite = audit_rows(&app, "staff.invite").await;
    assert_eq!(invite[0].0, Some(owner_id));
    assert_eq!(invite[0].2, Some(new_id.to_string()));

    let token = app
        .email_token("new@semalink.africa", "staff_invitation")
        .await;
    let weak = app
        .post(
            "/v1/admin/auth/accept-invite",
            None,
            json!({"token": token, "password": "short"}),
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ok = app
        .post(
            "/v1/admin/auth/accept-invite",
            None,
            json!({"token": token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.text);
    let again = app
        .post(
            "/v1/admin/auth/accept-invite",
            None,
            json!({"token": token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "single use");
    let bad = app
        .post(
            "/v1/admin/auth/login",
            None,
            json!({"email": "new@semalink.africa", "password": "Wrong-Pass-000"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let login = app
        .post(
            "/v1/admin/auth/login",
            None,
            json!({"email": "new@semalink.africa", "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    let access = login.json["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/v1/admin/crm/orgs", &access).await.status,
        StatusCode::OK
    );

    let history = app
        .get(&format!("/v1/admin/staff/{new_id}/logins"), &owner)
        .await;
    let events = history.json["data"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{}", history.text);
    assert_eq!(events[0]["success"], true);
    assert_eq!(events[1]["reason"], "invalid_credentials");

    // Removal: refused from the very next request, audited, cannot sign in again.
    let me = app
        .call(
            Method::DELETE,
            &format!("/v1/admin/staff/{owner_id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(me.status, StatusCode::CONFLICT);
    let r = app
        .call(
            Method::DELETE,
            &format!("/v1/admin/staff/{new_id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(
        app.get("/v1/admin/crm/orgs", &access).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/v1/admin/me", &access).await.status,
        StatusCode::UNAUTHORIZED
    );
    let refresh = app
        .post(
            "/v1/admin/auth/refresh",
            None,
            json!({"refresh_token": login.json["refresh_token"]}),
        )
        .await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
    let relogin = app
        .post(
            "/v1/admin/auth/login",
            None,
            json!({"email": "new@semalink.africa", "password": PASSWORD}),
        )
        .await;
    assert_eq!(relogin.status, StatusCode::FORBIDDEN);
    let removed = audit_rows(&app, "staff.remove").await;
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].0, Some(owner_id));
    assert_eq!(removed[0].2, Some(new_id.to_string()));
    assert_eq!(removed[0].3["permissions"]["crm"], "read");
    let twice = app
        .call(
            Method::DELETE,
            &format!("/v1/admin/staff/{new_id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(twice.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn removing_a_staff_member_ends_their_impersonations(db: PgPool) {
    let app = spawn_app(db);
    let owner = staff_token(&app, &[(Module::Staff, Level::Owner)]).await;
    let crm = staff_token(&app, &[(Module::Crm, Level::Admin)]).await;
    let crm_id = staff_id(&app, &crm).await;
    let org = app.verified("org@example.com").await;
    let r = app
        .post(
            &format!("/v1/admin/crm/orgs/{}/impersonate", org.account_id),
            Some(&crm),
            json!({"reason": "ticket"}),
        )
        .await;
    let view = r.json["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/v1/account", &view).await.status, StatusCode::OK);
    let r = app
        .call(
            Method::DELETE,
            &format!("/v1/admin/staff/{crm_id}"),
            Some(&owner),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/v1/account", &view).await.status,
        StatusCode::UNAUTHORIZED
    );
}
