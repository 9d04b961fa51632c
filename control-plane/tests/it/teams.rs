//! Organisations and teams: many memberships, switching, business profile, invitations and
//! role enforcement (owner > admin > member).

use axum::http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn create_list_and_switch_organisations(db: PgPool) {
    let app = spawn_app(db);
    let user = app.signup("kofi@example.com").await;
    let created = app
        .post(
            "/v1/accounts",
            Some(&user.access),
            json!({"name": "Kofi Reseller", "country": "GH", "timezone": "Africa/Accra"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let second = created.json["id"].as_str().unwrap().to_owned();

    let mine = app.get("/v1/accounts?limit=1", &user.access).await;
    assert_eq!(mine.json["data"].as_array().unwrap().len(), 1);
    let cursor = mine.json["next_cursor"].as_str().unwrap().to_owned();
    let rest = app
        .get(
            &format!("/v1/accounts?limit=1&cursor={cursor}"),
            &user.access,
        )
        .await;
    assert_eq!(rest.json["data"].as_array().unwrap().len(), 1);
    assert!(rest.json["next_cursor"].is_null());

    let switched = app
        .post(
            "/v1/accounts/switch",
            Some(&user.access),
            json!({"account_id": second}),
        )
        .await;
    assert_eq!(switched.status, StatusCode::OK, "{}", switched.text);
    let token = switched.json["access_token"].as_str().unwrap();
    let current = app.get("/v1/account", token).await;
    assert_eq!(current.json["id"], second.as_str());
    assert_eq!(current.json["country"], "GH");
    // The refresh token from before the switch is spent; the new one keeps the new account.
    let refreshed = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": switched.json["refresh_token"]}),
        )
        .await;
    assert_eq!(refreshed.json["account_id"], second.as_str());

    let stranger = app.signup("lulu@example.com").await;
    let not_mine = app
        .post(
            "/v1/accounts/switch",
            Some(&stranger.access),
            json!({"account_id": second}),
        )
        .await;
    assert_eq!(not_mine.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn invitations_roles_and_removal(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.signup("mosi@example.com").await;
    let invite = app
        .post(
            "/v1/account/invitations",
            Some(&owner.access),
            json!({"email": "nia@example.com", "role": "member"}),
        )
        .await;
    assert_eq!(invite.status, StatusCode::CREATED, "{}", invite.text);
    let token = app.email_token("nia@example.com", "invitation").await;

    let nia = app.signup("nia@example.com").await;
    let outsider = app.signup("omar@example.com").await;
    let wrong_person = app
        .post(
            "/v1/invitations/accept",
            Some(&outsider.access),
            json!({"token": token}),
        )
        .await;
    assert_eq!(wrong_person.status, StatusCode::FORBIDDEN);
    let accepted = app
        .post(
            "/v1/invitations/accept",
            Some(&nia.access),
            json!({"token": token}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    assert_eq!(
        app.post(
            "/v1/invitations/accept",
            Some(&nia.access),
            json!({"token": token})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );

    let as_member = app
        .post(
            "/v1/accounts/switch",
            Some(&nia.access),
            json!({"account_id": owner.account_id}),
        )
        .await;
    let member_token = as_member.json["access_token"].as_str().unwrap().to_owned();
    let member_refresh = as_member.json["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(as_member.json["role"], "member");

    let members = app.get("/v1/account/members", &owner.access).await;
    assert_eq!(members.json["data"].as_array().unwrap().len(), 2);
    // Members read but cannot administer.
    assert_eq!(
        app.get("/v1/account/members", &member_token).await.status,
        StatusCode::OK
    );
    let patch = app
        .call(
            Method::PATCH,
            "/v1/account",
            Some(&member_token),
            Some(json!({"name": "Hijacked"})),
        )
        .await;
    assert_eq!(patch.status, StatusCode::FORBIDDEN);
    let invite_as_member = app
        .post(
            "/v1/account/invitations",
            Some(&member_token),
            json!({"email": "p@example.com", "role": "member"}),
        )
        .await;
    assert_eq!(invite_as_member.status, StatusCode::FORBIDDEN);
    let promote_self = app
        .call(
            Method::PATCH,
            &format!("/v1/account/members/{}", nia.user_id),
            Some(&member_token),
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(promote_self.status, StatusCode::FORBIDDEN);

    // Owner promotes to admin; admins may update the profile but not change roles or remove.
    let promote = app
        .call(
            Method::PATCH,
            &format!("/v1/account/members/{}", nia.user_id),
            Some(&owner.access),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(promote.status, StatusCode::NO_CONTENT);
    let admin = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": member_refresh}),
        )
        .await;
    assert_eq!(admin.json["role"], "admin");
    let admin_token = admin.json["access_token"].as_str().unwrap().to_owned();
    let admin_refresh = admin.json["refresh_token"].as_str().unwrap().to_owned();
    let profile = app
        .call(
            Method::PATCH,
            "/v1/account",
            Some(&admin_token),
            Some(json!({"city": "Nairobi", "country": "KE"})),
        )
        .await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.text);
    assert_eq!(profile.json["city"], "Nairobi");
    let remove_owner = app
        .call(
            Method::DELETE,
            &format!("/v1/account/members/{}", owner.user_id),
            Some(&admin_token),
            None,
        )
        .await;
    assert_eq!(remove_owner.status, StatusCode::FORBIDDEN);

    // The last owner cannot demote themselves.
    let demote = app
        .call(
            Method::PATCH,
            &format!("/v1/account/members/{}", owner.user_id),
            Some(&owner.access),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(demote.status, StatusCode::CONFLICT);

    // Removal ends the member's sessions for this organisation.
    let remove = app
        .call(
            Method::DELETE,
            &format!("/v1/account/members/{}", nia.user_id),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(remove.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": admin_refresh})
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    let again = app
        .call(
            Method::DELETE,
            &format!("/v1/account/members/{}", nia.user_id),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn profile_update_and_password_change(db: PgPool) {
    let app = spawn_app(db);
    let user = app.signup("pendo@example.com").await;
    let other = app.login("pendo@example.com", PASSWORD).await.json["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .call(
            Method::PATCH,
            "/v1/me",
            Some(&user.access),
            Some(json!({"first_name": "Pendo", "phone": "+254712345678"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["phone"], "+254712345678");
    let bad = app
        .call(
            Method::PATCH,
            "/v1/me",
            Some(&user.access),
            Some(json!({"phone": "0712"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json["errors"][0]["field"], "phone");

    let wrong = app
        .post(
            "/v1/me/password",
            Some(&user.access),
            json!({"current_password": "Nope-Nope-123", "new_password": "Brand-New-Pass-9"}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let ok = app
        .post(
            "/v1/me/password",
            Some(&user.access),
            json!({"current_password": PASSWORD, "new_password": "Brand-New-Pass-9"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.login("pendo@example.com", "Brand-New-Pass-9")
            .await
            .status,
        StatusCode::OK
    );
    // Other sessions end; the current one keeps working.
    assert_eq!(
        app.post("/v1/auth/refresh", None, json!({"refresh_token": other}))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": user.refresh})
        )
        .await
        .status,
        StatusCode::OK
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn accepting_a_stale_invitation_never_changes_a_role(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.signup("xola@example.com").await;
    let invite = |role: &'static str| {
        let access = owner.access.clone();
        let app = &app;
        async move {
            let r = app
                .post(
                    "/v1/account/invitations",
                    Some(&access),
                    json!({"email": "yusuf@example.com", "role": role}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            app.email_token("yusuf@example.com", "invitation").await
        }
    };
    let as_member = invite("member").await;
    let as_admin = invite("admin").await;
    let yusuf = app.signup("yusuf@example.com").await;
    let first = app
        .post(
            "/v1/invitations/accept",
            Some(&yusuf.access),
            json!({"token": as_admin}),
        )
        .await;
    assert_eq!(first.json["role"], "admin");
    app.post(
        "/v1/invitations/accept",
        Some(&yusuf.access),
        json!({"token": as_member}),
    )
    .await;
    let role: String = sqlx::query_scalar(
        "SELECT role::text FROM account_members WHERE user_id = $1 AND account_id = $2",
    )
    .bind(yusuf.user_id)
    .bind(owner.account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(role, "admin");
}
