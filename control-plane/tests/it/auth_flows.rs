//! Customer auth flows: signup, login, refresh rotation and reuse detection, logout, sessions,
//! lock-out, email verification, password reset, magic link, rate limiting.

use axum::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn signup_creates_user_org_owner_membership_and_zero_balance(db: PgPool) {
    let app = spawn_app(db);
    let user = app.signup("amina@example.com").await;
    let (role, balance): (String, String) = sqlx::query_as(
        "SELECT m.role::text, c.balance::text FROM account_members m JOIN credits c ON c.account_id = m.account_id
         WHERE m.user_id = $1 AND m.account_id = $2",
    )
    .bind(user.user_id)
    .bind(user.account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(role, "owner");
    assert_eq!(balance, "0.0000");
    assert_eq!(
        app.email_count("amina@example.com", "verification").await,
        1
    );
    let me = app.get("/v1/me", &user.access).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["email_verified"], false);

    let again = app
        .post("/v1/auth/signup", None, json!({"email": "AMINA@example.com", "password": PASSWORD, "first_name": "A", "last_name": "B", "organisation_name": "X"}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn signup_validation_lists_every_bad_field(db: PgPool) {
    let app = spawn_app(db);
    let r = app
        .post("/v1/auth/signup", None, json!({"email": "nope", "password": "short", "first_name": "", "last_name": "B", "organisation_name": "X"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem_type(&r), "validation");
    let fields: Vec<&str> = r.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "first_name", "password"]);
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(none, 0);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn refresh_rotates_and_reuse_revokes_the_family(db: PgPool) {
    let app = spawn_app(db);
    let user = app.signup("ben@example.com").await;
    let first = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": user.refresh}),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let second_token = first.json["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_token, user.refresh);
    let access = first.json["access_token"].as_str().unwrap();
    assert_eq!(app.get("/v1/me", access).await.status, StatusCode::OK);

    // The spent token comes back: reuse. The whole family dies, including the fresh token.
    let reuse = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": user.refresh}),
        )
        .await;
    assert_eq!(reuse.status, StatusCode::UNAUTHORIZED);
    let after = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": second_token}),
        )
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    let reason: String =
        sqlx::query_scalar("SELECT revoke_reason FROM sessions WHERE user_id = $1")
            .bind(user.user_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(reason, "refresh_token_reuse");
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn logout_revokes_and_sessions_are_listed_and_revocable(db: PgPool) {
    let app = spawn_app(db);
    let user = app.signup("chao@example.com").await;
    let second = app.login("chao@example.com", PASSWORD).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    assert_eq!(second.json["status"], "authenticated");
    let second_refresh = second.json["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let list = app.get("/v1/auth/sessions", &user.access).await;
    assert_eq!(list.status, StatusCode::OK);
    let sessions = list.json["data"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let revoke = app
        .call(
            axum::http::Method::DELETE,
            &format!("/v1/auth/sessions/{other}"),
            Some(&user.access),
            None,
        )
        .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    let dead = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": second_refresh}),
        )
        .await;
    assert_eq!(dead.status, StatusCode::UNAUTHORIZED);

    let out = app
        .call(
            axum::http::Method::POST,
            "/v1/auth/logout",
            Some(&user.access),
            None,
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let gone = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": user.refresh}),
        )
        .await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn repeated_failures_lock_the_user_out(db: PgPool) {
    let app = spawn_app(db);
    app.signup("dede@example.com").await;
    for _ in 0..4 {
        let r = app.login("dede@example.com", "Wrong-Password-1").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(problem_type(&r), "invalid-credentials");
    }
    let fifth = app.login("dede@example.com", "Wrong-Password-1").await;
    assert_eq!(fifth.status, StatusCode::LOCKED);
    // Even the right password is refused while locked, with a Retry-After.
    let right = app.login("dede@example.com", PASSWORD).await;
    assert_eq!(right.status, StatusCode::LOCKED);
    let retry: u64 = right.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900);
    // Once the lock has passed the right password works again.
    sqlx::query("UPDATE login_throttle SET blocked_until = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(
        app.login("dede@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    // Unknown users look the same as a wrong password.
    let unknown = app.login("nobody@example.com", PASSWORD).await;
    assert_eq!(problem_type(&unknown), "invalid-credentials");
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn email_verification_is_single_use_and_gates_sending(db: PgPool) {
    let app = spawn_app(db);
    let user = app.signup("esi@example.com").await;
    let key = json!({"name": "ci", "scopes": ["messages:send"]});
    let blocked = app
        .post("/v1/api-keys", Some(&user.access), key.clone())
        .await;
    assert_eq!(blocked.status, StatusCode::FORBIDDEN);
    assert_eq!(problem_type(&blocked), "email-unverified");
    // Unverified users can still read.
    assert_eq!(
        app.get("/v1/account", &user.access).await.status,
        StatusCode::OK
    );

    let token = app.email_token("esi@example.com", "verification").await;
    assert_eq!(
        app.post("/v1/auth/verify-email", None, json!({"token": token}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let replay = app
        .post("/v1/auth/verify-email", None, json!({"token": token}))
        .await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert_eq!(problem_type(&replay), "invalid-token");
    assert_eq!(
        app.post("/v1/api-keys", Some(&user.access), key)
            .await
            .status,
        StatusCode::CREATED
    );

    // Only the digest is stored.
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM auth_tokens WHERE encode(token_hash, 'hex') = $1")
            .bind(&token)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored, 0);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn password_reset_changes_password_and_ends_sessions(db: PgPool) {
    let app = spawn_app(db);
    let user = app.signup("faith@example.com").await;
    let unknown = app
        .post(
            "/v1/auth/password/forgot",
            None,
            json!({"email": "ghost@example.com"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::ACCEPTED);
    assert_eq!(
        app.email_count("ghost@example.com", "password_reset").await,
        0
    );

    let r = app
        .post(
            "/v1/auth/password/forgot",
            None,
            json!({"email": "faith@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let token = app.email_token("faith@example.com", "password_reset").await;
    let weak = app
        .post(
            "/v1/auth/password/reset",
            None,
            json!({"token": token, "new_password": "weak"}),
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let new_password = "Another-Strong-77";
    let ok = app
        .post(
            "/v1/auth/password/reset",
            None,
            json!({"token": token, "new_password": new_password}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.text);
    let again = app
        .post(
            "/v1/auth/password/reset",
            None,
            json!({"token": token, "new_password": new_password}),
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);

    assert_eq!(
        app.login("faith@example.com", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("faith@example.com", new_password).await.status,
        StatusCode::OK
    );
    let old = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": user.refresh}),
        )
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn magic_link_signs_in_once(db: PgPool) {
    let app = spawn_app(db);
    let user = app.signup("gift@example.com").await;
    assert_eq!(
        app.post(
            "/v1/auth/magic-link",
            None,
            json!({"email": "gift@example.com"})
        )
        .await
        .status,
        StatusCode::ACCEPTED
    );
    let token = app.email_token("gift@example.com", "magic_link").await;
    let r = app
        .post("/v1/auth/magic-link/redeem", None, json!({"token": token}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["account_id"], user.account_id.to_string());
    let twice = app
        .post("/v1/auth/magic-link/redeem", None, json!({"token": token}))
        .await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    // The expiry is 15 minutes.
    let minutes: f64 = sqlx::query_scalar("SELECT EXTRACT(EPOCH FROM expires_at - created_at)::float8 / 60 FROM auth_tokens WHERE type = 'magic_link'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!((minutes - 15.0).abs() < 0.1);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn email_outbox_is_drained_by_the_worker(db: PgPool) {
    let app = spawn_app(db);
    app.signup("hawa@example.com").await;
    let mailer = semalink_control_plane::email::worker::Mailer::Log;
    let sent = semalink_control_plane::email::worker::drain_once(&app.app_pool, &mailer)
        .await
        .unwrap();
    assert_eq!(sent, 1);
    let pending: i64 =
        sqlx::query_scalar("SELECT count(*) FROM email_outbox WHERE sent_at IS NULL")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(pending, 0);
    assert_eq!(
        semalink_control_plane::email::worker::drain_once(&app.app_pool, &mailer)
            .await
            .unwrap(),
        0
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn auth_endpoints_are_rate_limited_per_ip(db: PgPool) {
    let mut config = test_config();
    config.rate_limit.auth_per_minute = 1;
    config.rate_limit.auth_burst = 3;
    let app = spawn_app_with(db, config);
    for _ in 0..3 {
        assert_eq!(
            app.login("x@example.com", PASSWORD).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = app.login("x@example.com", PASSWORD).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        limited.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    let magic = app
        .post(
            "/v1/auth/magic-link",
            None,
            json!({"email": "x@example.com"}),
        )
        .await;
    assert_eq!(magic.status, StatusCode::TOO_MANY_REQUESTS);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn signup_takes_the_country_and_derives_the_timezone(db: PgPool) {
    let app = spawn_app(db);
    let signup = |email: &str, extra: Value| {
        let mut body = json!({"email": email, "password": PASSWORD, "first_name": "T",
                              "last_name": "U", "organisation_name": "Org"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        app.post("/v1/auth/signup", None, body)
    };
    for (email, extra, country, zone) in [
        ("default@example.com", json!({}), "KE", "Africa/Nairobi"),
        (
            "tz@example.com",
            json!({"country": "tz"}),
            "TZ",
            "Africa/Dar_es_Salaam",
        ),
        (
            "given@example.com",
            json!({"country": "NG", "timezone": "UTC"}),
            "NG",
            "UTC",
        ),
    ] {
        let r = signup(email, extra).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let account_id: uuid::Uuid = r.json["account_id"].as_str().unwrap().parse().unwrap();
        let (got_country, got_zone): (String, String) =
            sqlx::query_as("SELECT country, timezone FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_one(&app.db)
                .await
                .unwrap();
        assert_eq!(
            (got_country.as_str(), got_zone.as_str()),
            (country, zone),
            "{email}"
        );
    }
    for (extra, field) in [
        (json!({"country": "XX"}), "country"),
        (json!({"country": "ZZ"}), "country"),
        (json!({"timezone": "Mars"}), "timezone"),
    ] {
        let r = signup("bad@example.com", extra).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.json["errors"][0]["field"], field, "{}", r.text);
    }
}
