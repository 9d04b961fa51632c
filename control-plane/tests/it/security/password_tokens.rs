//! A password reset or change spends every other reset / magic link of the user and ends
//! their other sessions (an older reset link used to change the password again, and a magic
//! link from before the reset still signed in).

use super::*;

async fn ask(app: &TestApp, path: &str, email: &str) {
    let r = app.post(path, None, json!({ "email": email })).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn reset_spends_older_links_and_sessions(db: PgPool) {
    let app = spawn_app(db);
    let email = "reset-all@example.com";
    let user = app.verified(email).await;
    ask(&app, "/v1/auth/magic-link", email).await;
    let magic = app.email_token(email, "magic_link").await;
    ask(&app, "/v1/auth/password/forgot", email).await;
    let older = app.email_token(email, "password_reset").await;
    ask(&app, "/v1/auth/password/forgot", email).await;
    let newer = app.email_token(email, "password_reset").await;
    assert_ne!(older, newer);

    let reset = |token: String, password: &'static str| {
        let app = &app;
        async move {
            app.post(
                "/v1/auth/password/reset",
                None,
                json!({"token": token, "new_password": password}),
            )
            .await
        }
    };
    let ok = reset(newer, "Brand-New-Pass-81").await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.text);
    let replay = reset(older, "Attacker-Pass-99").await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "{}", replay.text);
    assert_eq!(problem_type(&replay), "invalid-token");
    let signed_in = app
        .post("/v1/auth/magic-link/redeem", None, json!({"token": magic}))
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::BAD_REQUEST,
        "{}",
        signed_in.text
    );
    let refresh = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": user.refresh}),
        )
        .await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login(email, "Brand-New-Pass-81").await.status,
        StatusCode::OK
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn change_spends_links_and_other_sessions_but_keeps_mine(db: PgPool) {
    let app = spawn_app(db);
    let email = "change-all@example.com";
    let user = app.verified(email).await;
    let other = app.login(email, PASSWORD).await;
    assert_eq!(other.status, StatusCode::OK);
    ask(&app, "/v1/auth/magic-link", email).await;
    let magic = app.email_token(email, "magic_link").await;
    ask(&app, "/v1/auth/password/forgot", email).await;
    let reset_link = app.email_token(email, "password_reset").await;

    let changed = app
        .post(
            "/v1/me/password",
            Some(&user.access),
            json!({"current_password": PASSWORD, "new_password": "Changed-Pass-55"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.text);

    let replay = app
        .post(
            "/v1/auth/password/reset",
            None,
            json!({"token": reset_link, "new_password": "Attacker-Pass-99"}),
        )
        .await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "{}", replay.text);
    let signed_in = app
        .post("/v1/auth/magic-link/redeem", None, json!({"token": magic}))
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::BAD_REQUEST,
        "{}",
        signed_in.text
    );
    let other_refresh = other.json["tokens"]["refresh_token"].as_str().unwrap();
    let gone = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": other_refresh}),
        )
        .await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
    let mine = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": user.refresh}),
        )
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
}
