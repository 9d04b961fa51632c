//! Sessions end a fixed time after sign-in however often they are refreshed.

use super::*;

async fn refresh(app: &TestApp, token: &str) -> Resp {
    app.post("/v1/auth/refresh", None, json!({ "refresh_token": token }))
        .await
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn refresh_cannot_extend_a_session_past_its_absolute_lifetime(db: PgPool) {
    let mut config = test_config();
    config.auth.refresh_token_ttl_secs = 3600;
    config.auth.session_max_lifetime_secs = 2 * 3600;
    let app = spawn_app_with(db, config);
    let user = app.signup("lifetime@example.com").await;
    let age = |minutes: i32| {
        let app = &app;
        async move {
            sqlx::query("UPDATE sessions SET created_at = now() - make_interval(mins => $1)")
                .bind(minutes)
                .execute(&app.db)
                .await
                .unwrap();
        }
    };

    // 90 minutes in: the refresh works but the session now ends at the 2-hour mark.
    age(90).await;
    let r = refresh(&app, &user.refresh).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let left: f64 =
        sqlx::query_scalar("SELECT EXTRACT(EPOCH FROM expires_at - now())::float8 FROM sessions")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(
        left <= 30.0 * 60.0 + 5.0,
        "{left} s left: extended past the lifetime"
    );

    // Past 2 hours: no refresh, and the access token stops too.
    age(121).await;
    let next = r.json["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&app, next).await.status, StatusCode::UNAUTHORIZED);
    let access = r.json["access_token"].as_str().unwrap();
    sqlx::query("UPDATE sessions SET expires_at = created_at + interval '2 hours'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(
        app.get("/v1/me", access).await.status,
        StatusCode::UNAUTHORIZED
    );
}
