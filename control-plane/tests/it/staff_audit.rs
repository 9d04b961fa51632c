//! Staff lock-out, and the audit log being INSERT-only for the service's database role.

use axum::http::StatusCode;
use semalink_control_plane::admin::seed::seed_first_owner;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;
use crate::staff::{SEED_PASSWORD, audit_actions};

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn staff_login_locks_out(db: PgPool) {
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
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            app.post(
                "/v1/admin/auth/login",
                None,
                json!({"email": "root@semalink.africa", "password": "Wrong-Pass-000"}),
            )
            .await
            .status,
        );
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::LOCKED,
            StatusCode::LOCKED
        ]
    );
    let right = app
        .post(
            "/v1/admin/auth/login",
            None,
            json!({"email": "root@semalink.africa", "password": SEED_PASSWORD}),
        )
        .await;
    assert_eq!(right.status, StatusCode::LOCKED);
    assert!(
        audit_actions(&app)
            .await
            .contains(&"auth.locked_out".to_owned())
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn audit_log_is_insert_only_for_the_service_role(db: PgPool) {
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
    let role: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&app.app_pool)
        .await
        .unwrap();
    assert_eq!(role, "semalink_api");
    let update = sqlx::query("UPDATE audit_log SET action = 'tampered'")
        .execute(&app.app_pool)
        .await;
    let delete = sqlx::query("DELETE FROM audit_log")
        .execute(&app.app_pool)
        .await;
    let truncate = sqlx::query("TRUNCATE audit_log")
        .execute(&app.app_pool)
        .await;
    for result in [update, delete, truncate] {
        let err = result.expect_err("must be refused");
        assert!(err.to_string().contains("permission denied"), "{err}");
    }
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'staff.seed_owner'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(rows, 1);
    // Ordinary tables stay writable for the role.
    sqlx::query("UPDATE admin_staff SET name = 'Root Two'")
        .execute(&app.app_pool)
        .await
        .unwrap();
}
