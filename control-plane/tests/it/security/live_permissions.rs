//! Demotions, deactivations and logouts take effect on the next request, not when the
//! access token expires (a billing admin demoted to `read` could still post top-ups).

use semalink_control_plane::admin::permissions::{Level, Module};

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn staff_demotion_deactivation_and_logout_apply_at_once(db: PgPool) {
    let app = spawn_app(db);
    let account = app.signup("payer@example.com").await.account_id;
    let topups = format!("/v1/admin/billing/accounts/{account}/topups");
    let topup = |reference: &str| json!({"amount": "10", "reference": reference, "reason": "wire"});
    let admin = crate::credits::staff_token(&app, &[(Module::Billing, Level::Admin)]).await;
    let r = app.post(&topups, Some(&admin), topup("wire-1")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let me = app.get("/v1/admin/me", &admin).await;
    let staff_id: uuid::Uuid = me.json["id"].as_str().unwrap().parse().unwrap();
    sqlx::query(
        "UPDATE staff_permissions SET level = 'read' WHERE staff_id = $1 AND module = 'billing'",
    )
    .bind(staff_id)
    .execute(&app.db)
    .await
    .unwrap();
    let demoted = app.post(&topups, Some(&admin), topup("wire-2")).await;
    assert_eq!(demoted.status, StatusCode::FORBIDDEN, "{}", demoted.text);
    // Reading is still within `read`.
    let credits = format!("/v1/admin/billing/accounts/{account}/credits");
    assert_eq!(app.get(&credits, &admin).await.status, StatusCode::OK);

    let out = app
        .call(Method::POST, "/v1/admin/auth/logout", Some(&admin), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let after = app.get(&credits, &admin).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.text);

    let other = crate::credits::staff_token(&app, &[(Module::Billing, Level::Owner)]).await;
    sqlx::query("UPDATE admin_staff SET is_active = false WHERE id <> $1")
        .bind(staff_id)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(
        app.get(&credits, &other).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn customer_role_change_and_logout_apply_at_once(db: PgPool) {
    let app = spawn_app(db);
    let user = app.verified("role-change@example.com").await;
    let threshold = |value: &str| json!({ "low_credit_threshold": value });
    let put = |token: &str, body| {
        let app = &app;
        let token = token.to_owned();
        async move {
            app.call(
                Method::PUT,
                "/v1/credits/threshold",
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    assert_eq!(
        put(&user.access, threshold("5")).await.status,
        StatusCode::OK
    );
    sqlx::query("UPDATE account_members SET role = 'member' WHERE user_id = $1")
        .bind(user.user_id)
        .execute(&app.db)
        .await
        .unwrap();
    let demoted = put(&user.access, threshold("6")).await;
    assert_eq!(demoted.status, StatusCode::FORBIDDEN, "{}", demoted.text);

    let out = app
        .call(Method::POST, "/v1/auth/logout", Some(&user.access), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let after = app.get("/v1/me", &user.access).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.text);
}
