//! TOTP: enrol, confirm, login with code, replay refused, backup codes, disable.

use axum::http::StatusCode;
use data_encoding::BASE32_NOPAD;
use semalink_control_plane::auth::totp::{hotp, step_at};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

/// A 6-digit code that is valid at no step near now.
fn wrong_code(secret: &str) -> String {
    let near: Vec<String> = (-2..=2).map(|o| code_now(secret, o)).collect();
    (0..)
        .map(|n| format!("{n:06}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

fn code_now(secret: &str, offset_steps: i64) -> String {
    let key = BASE32_NOPAD.decode(secret.as_bytes()).unwrap();
    let step = step_at(time::OffsetDateTime::now_utc().unix_timestamp()) + offset_steps;
    format!("{:06}", hotp(&key, step as u64))
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn totp_enrol_login_backup_codes_and_disable(db: PgPool) {
    let app = spawn_app(db);
    let user = app.signup("imani@example.com").await;
    let enrol = app
        .call(
            axum::http::Method::POST,
            "/v1/auth/mfa/totp",
            Some(&user.access),
            None,
        )
        .await;
    assert_eq!(enrol.status, StatusCode::OK, "{}", enrol.text);
    let secret = enrol.json["secret"].as_str().unwrap().to_owned();
    assert!(
        enrol.json["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Sema%20Link:imani%40example%2Ecom?secret=")
    );

    let wrong = app
        .post(
            "/v1/auth/mfa/totp/confirm",
            Some(&user.access),
            json!({"code": wrong_code(&secret)}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let confirm = app
        .post(
            "/v1/auth/mfa/totp/confirm",
            Some(&user.access),
            json!({"code": code_now(&secret, -1)}),
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.text);
    let backups: Vec<String> = confirm.json["backup_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(backups.len(), 10);

    // The password alone no longer signs in.
    let step1 = app.login("imani@example.com", PASSWORD).await;
    assert_eq!(step1.status, StatusCode::OK);
    assert_eq!(step1.json["status"], "mfa_required");
    assert!(step1.json["tokens"].is_null());
    let mfa_token = step1.json["mfa_token"].as_str().unwrap().to_owned();
    let bad = app
        .post(
            "/v1/auth/login/mfa",
            None,
            json!({"mfa_token": mfa_token, "code": wrong_code(&secret)}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let code = code_now(&secret, 0);
    let good = app
        .post(
            "/v1/auth/login/mfa",
            None,
            json!({"mfa_token": mfa_token, "code": code}),
        )
        .await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.text);
    assert!(good.json["access_token"].is_string());
    // The same code cannot be replayed.
    let replay = app
        .post(
            "/v1/auth/login/mfa",
            None,
            json!({"mfa_token": mfa_token, "code": code}),
        )
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    // An access token is not an MFA token.
    let confused = app
        .post(
            "/v1/auth/login/mfa",
            None,
            json!({"mfa_token": user.access, "code": backups[0]}),
        )
        .await;
    assert_eq!(confused.status, StatusCode::UNAUTHORIZED);

    // A backup code works once.
    let backup = app
        .post(
            "/v1/auth/login/mfa",
            None,
            json!({"mfa_token": mfa_token, "code": backups[0]}),
        )
        .await;
    assert_eq!(backup.status, StatusCode::OK, "{}", backup.text);
    let again = app
        .post(
            "/v1/auth/login/mfa",
            None,
            json!({"mfa_token": mfa_token, "code": backups[0]}),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);

    // Disabling needs the password and a code.
    let no = app
        .post(
            "/v1/auth/mfa/totp/disable",
            Some(&user.access),
            json!({"password": "Wrong-Pass-123", "code": backups[1]}),
        )
        .await;
    assert_eq!(no.status, StatusCode::UNAUTHORIZED);
    let off = app
        .post(
            "/v1/auth/mfa/totp/disable",
            Some(&user.access),
            json!({"password": PASSWORD, "code": backups[1]}),
        )
        .await;
    assert_eq!(off.status, StatusCode::NO_CONTENT, "{}", off.text);
    assert_eq!(
        app.login("imani@example.com", PASSWORD).await.json["status"],
        "authenticated"
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn wrong_totp_codes_count_towards_lock_out(db: PgPool) {
    let app = spawn_app(db);
    let user = app.signup("jabari@example.com").await;
    let enrol = app
        .call(
            axum::http::Method::POST,
            "/v1/auth/mfa/totp",
            Some(&user.access),
            None,
        )
        .await;
    let secret = enrol.json["secret"].as_str().unwrap().to_owned();
    let ok = app
        .post(
            "/v1/auth/mfa/totp/confirm",
            Some(&user.access),
            json!({"code": code_now(&secret, 0)}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let mfa_token = app.login("jabari@example.com", PASSWORD).await.json["mfa_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut last = StatusCode::OK;
    for _ in 0..5 {
        last = app
            .post(
                "/v1/auth/login/mfa",
                None,
                json!({"mfa_token": mfa_token, "code": "999999x"}),
            )
            .await
            .status;
    }
    assert_eq!(last, StatusCode::LOCKED);
}
