//! Staff auth and permissions: seeded owner, forced password change, lock-out, per-module
//! guards, separate token secret/audience, audit rows, and the INSERT-only audit table.

use axum::http::{Method, StatusCode};
use semalink_control_plane::admin::seed::seed_first_owner;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::*;

pub const SEED_PASSWORD: &str = "Seed-Password-123";
const NEW_PASSWORD: &str = "Owner-Chosen-456";

async fn staff_login(app: &TestApp, email: &str, password: &str) -> Value {
    let r = app
        .post(
            "/v1/admin/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json
}

/// Seeds the owner, changes the password and returns fresh tokens.
async fn ready_owner(app: &TestApp) -> Value {
    seed_first_owner(
        &app.app_pool,
        &app.state.passwords,
        "root@semalink.africa",
        "Root",
        SEED_PASSWORD,
    )
    .await
    .unwrap();
    let first = staff_login(app, "root@semalink.africa", SEED_PASSWORD).await;
    let access = first["access_token"].as_str().unwrap();
    let change = app
        .post(
            "/v1/admin/auth/password",
            Some(access),
            json!({"current_password": SEED_PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(change.status, StatusCode::NO_CONTENT, "{}", change.text);
    let refreshed = app
        .post(
            "/v1/admin/auth/refresh",
            None,
            json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK);
    refreshed.json
}

pub async fn audit_actions(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT action FROM audit_log ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn seeded_owner_must_change_password_first(db: PgPool) {
    let app = spawn_app(db);
    seed_first_owner(
        &app.app_pool,
        &app.state.passwords,
        "root@semalink.africa",
        "Root",
        SEED_PASSWORD,
    )
    .await
    .unwrap();
    assert!(
        seed_first_owner(
            &app.app_pool,
            &app.state.passwords,
            "two@semalink.africa",
            "Two",
            SEED_PASSWORD
        )
        .await
        .is_err()
    );
    let first = staff_login(&app, "root@semalink.africa", SEED_PASSWORD).await;
    assert_eq!(first["must_change_password"], true);
    assert_eq!(first["permissions"]["staff"], "owner");
    let access = first["access_token"].as_str().unwrap();
    let blocked = app.get("/v1/admin/staff", access).await;
    assert_eq!(blocked.status, StatusCode::FORBIDDEN);
    assert_eq!(problem_type(&blocked), "password-change-required");

    let tokens = ready_owner_after_seed(&app, &first).await;
    assert_eq!(tokens["must_change_password"], false);
    let list = app
        .get("/v1/admin/staff", tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.json["data"][0]["email"], "root@semalink.africa");
    assert_eq!(
        audit_actions(&app).await,
        ["staff.seed_owner", "auth.login", "auth.password_changed"]
    );
}

async fn ready_owner_after_seed(app: &TestApp, first: &Value) -> Value {
    let access = first["access_token"].as_str().unwrap();
    let same = app
        .post(
            "/v1/admin/auth/password",
            Some(access),
            json!({"current_password": SEED_PASSWORD, "new_password": SEED_PASSWORD}),
        )
        .await;
    assert_eq!(same.status, StatusCode::UNPROCESSABLE_ENTITY);
    let change = app
        .post(
            "/v1/admin/auth/password",
            Some(access),
            json!({"current_password": SEED_PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(change.status, StatusCode::NO_CONTENT, "{}", change.text);
    app.post(
        "/v1/admin/auth/refresh",
        None,
        json!({"refresh_token": first["refresh_token"]}),
    )
    .await
    .json
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn module_permissions_are_enforced_and_audited(db: PgPool) {
    let app = spawn_app(db);
    let owner = ready_owner(&app).await;
    let owner_access = owner["access_token"].as_str().unwrap().to_owned();

    let created = app
        .post("/v1/admin/staff", Some(&owner_access), json!({"email": "ops@semalink.africa", "name": "Ops", "permissions": {"crm": "admin", "staff": "read"}}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let ops_id = created.json["staff"]["id"].as_str().unwrap().to_owned();
    let temp = created.json["temporary_password"]
        .as_str()
        .unwrap()
        .to_owned();
    let dup = app
        .post(
            "/v1/admin/staff",
            Some(&owner_access),
            json!({"email": "OPS@semalink.africa", "name": "Dup"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);

    let ops_first = staff_login(&app, "ops@semalink.africa", &temp).await;
    let ops_access = ops_first["access_token"].as_str().unwrap();
    let changed = app
        .post(
            "/v1/admin/auth/password",
            Some(ops_access),
            json!({"current_password": temp, "new_password": "Ops-Own-Secret-91"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.text);
    let ops = app
        .post(
            "/v1/admin/auth/refresh",
            None,
            json!({"refresh_token": ops_first["refresh_token"]}),
        )
        .await
        .json;
    let ops_access = ops["access_token"].as_str().unwrap().to_owned();

    // staff: read lists, but creating or changing permissions needs owner; audit needs audit.
    assert_eq!(
        app.get("/v1/admin/staff", &ops_access).await.status,
        StatusCode::OK
    );
    let create = app
        .post(
            "/v1/admin/staff",
            Some(&ops_access),
            json!({"email": "x@semalink.africa", "name": "X"}),
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    let perms = app
        .call(
            Method::PUT,
            &format!("/v1/admin/staff/{ops_id}/permissions"),
            Some(&ops_access),
            Some(json!({"permissions": {"staff": "owner"}})),
        )
        .await;
    assert_eq!(perms.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/v1/admin/audit", &ops_access).await.status,
        StatusCode::FORBIDDEN
    );

    // The owner grants audit: read; it applies from the next refresh.
    let set = app
        .call(
            Method::PUT,
            &format!("/v1/admin/staff/{ops_id}/permissions"),
            Some(&owner_access),
            Some(json!({"permissions": {"audit": "read"}})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.json["permissions"], json!({"audit": "read"}));
    let ops2 = app
        .post(
            "/v1/admin/auth/refresh",
            None,
            json!({"refresh_token": ops["refresh_token"]}),
        )
        .await
        .json;
    let ops2_access = ops2["access_token"].as_str().unwrap();
    assert_eq!(
        app.get("/v1/admin/staff", ops2_access).await.status,
        StatusCode::FORBIDDEN
    );
    let audit = app.get("/v1/admin/audit", ops2_access).await;
    assert_eq!(audit.status, StatusCode::OK);
    let self_demote = app
        .call(
            Method::PUT,
            &format!("/v1/admin/staff/{}/permissions", owner_staff_id(&app).await),
            Some(&owner_access),
            Some(json!({"permissions": {}})),
        )
        .await;
    assert_eq!(self_demote.status, StatusCode::CONFLICT);

    let actions = audit_actions(&app).await;
    for expected in [
        "staff.create",
        "auth.login",
        "auth.password_changed",
        "staff.set_permissions",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} missing from {actions:?}"
        );
    }
    let target: String = sqlx::query_scalar(
        "SELECT target_id FROM audit_log WHERE action = 'staff.set_permissions'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(target, ops_id);
}

async fn owner_staff_id(app: &TestApp) -> String {
    sqlx::query_scalar::<_, uuid::Uuid>(
        "SELECT id FROM admin_staff WHERE email = 'root@semalink.africa'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap()
    .to_string()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn staff_and_customer_tokens_do_not_cross(db: PgPool) {
    let app = spawn_app(db);
    let owner = ready_owner(&app).await;
    let staff_access = owner["access_token"].as_str().unwrap();
    let customer = app.signup("tumaini@example.com").await;
    assert_eq!(
        app.get("/v1/admin/staff", &customer.access).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/v1/me", staff_access).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Refresh tokens are not interchangeable either.
    let cross = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": owner["refresh_token"]}),
        )
        .await;
    assert_eq!(cross.status, StatusCode::UNAUTHORIZED);
    let cross = app
        .post(
            "/v1/admin/auth/refresh",
            None,
            json!({"refresh_token": customer.refresh}),
        )
        .await;
    assert_eq!(cross.status, StatusCode::UNAUTHORIZED);
    // Staff logout revokes; reuse of a staff refresh token revokes too.
    assert_eq!(
        app.call(
            Method::POST,
            "/v1/admin/auth/logout",
            Some(staff_access),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.post(
            "/v1/admin/auth/refresh",
            None,
            json!({"refresh_token": owner["refresh_token"]})
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
}
