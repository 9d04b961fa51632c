//! Impersonation: a CRM admin views an organisation read-only; every request is audited,
//! every mutation refused with 403, and exiting (or losing the permission) ends it at once.

use axum::http::{Method, StatusCode};
use semalink_control_plane::admin::permissions::{Level, Module};
use serde_json::json;
use sqlx::PgPool;

use super::*;
use crate::credits::staff_token;
use crate::helpers::*;

async fn start(app: &TestApp, staff: &str, org: Uuid) -> (String, String) {
    let r = app
        .post(
            &format!("/v1/admin/crm/orgs/{org}/impersonate"),
            Some(staff),
            json!({"reason": "Support ticket 42"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(r.json["expires_in"].as_i64().unwrap() <= 900);
    (
        r.json["access_token"].as_str().unwrap().to_owned(),
        r.json["impersonation_id"].as_str().unwrap().to_owned(),
    )
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn impersonation_is_read_only_audited_and_revocable(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;
    let org = owner.account_id;
    let admin = staff_token(&app, &[(Module::Crm, Level::Admin)]).await;
    let admin_id = staff_id(&app, &admin).await;
    let (token, id) = start(&app, &admin, org).await;
    let started = audit_rows(&app, "impersonation.start").await;
    assert_eq!(started[0].0, Some(admin_id));
    assert_eq!(started[0].2, Some(org.to_string()));
    assert_eq!(started[0].3["reason"], "Support ticket 42");

    // Reads work, as the organisation.
    let account = app.get("/v1/account", &token).await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.text);
    assert_eq!(account.json["id"], org.to_string());
    let contacts = app.get("/v1/contacts", &token).await;
    assert_eq!(contacts.status, StatusCode::OK, "{}", contacts.text);
    // Every mutation is refused.
    for (method, path, body) in [
        (
            Method::POST,
            "/v1/contacts",
            Some(json!({"phone": "+254712345678"})),
        ),
        (
            Method::PATCH,
            "/v1/account",
            Some(json!({"name": "Hacked"})),
        ),
        (
            Method::POST,
            "/v1/messages",
            Some(json!({"to": ["+254712345678"], "text": "hi"})),
        ),
        (
            Method::DELETE,
            "/v1/api-keys/00000000-0000-0000-0000-000000000000",
            None,
        ),
    ] {
        let r = app.call(method.clone(), path, Some(&token), body).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            r.text
        );
    }
    let name: String = sqlx::query_scalar("SELECT name FROM accounts WHERE id = $1")
        .bind(org)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(name, "Org of owner@example.com");
    // Every request is in the audit log, with the staff member, the org and the path.
    let views = audit_rows(&app, "impersonation.view").await;
    assert_eq!(views.len(), 2);
    assert!(
        views
            .iter()
            .all(|v| v.0 == Some(admin_id) && v.2 == Some(org.to_string()))
    );
    assert_eq!(views[0].3["path"], "/v1/account");
    assert_eq!(views[0].3["impersonation_id"], id.as_str());
    let refused = audit_rows(&app, "impersonation.refused").await;
    assert_eq!(refused.len(), 4);
    assert_eq!(refused[0].3["method"], "POST");
    // The token is no staff token.
    assert_eq!(
        app.get("/v1/admin/crm/orgs", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    // A forged or tampered token is refused.
    let tampered = format!("{token}x");
    assert_eq!(
        app.get("/v1/account", &tampered).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Exit: refused from the next request on, and audited.
    let exit = app
        .post(
            &format!("/v1/admin/crm/impersonations/{id}/exit"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(exit.status, StatusCode::NO_CONTENT, "{}", exit.text);
    assert_eq!(
        app.get("/v1/account", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let exits = audit_rows(&app, "impersonation.exit").await;
    assert_eq!(exits[0].2, Some(org.to_string()));
    assert_eq!(exits[0].3["was_live"], true);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn losing_the_permission_ends_the_impersonation(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;
    let admin = staff_token(&app, &[(Module::Crm, Level::Admin)]).await;
    let other = staff_token(&app, &[(Module::Crm, Level::Admin)]).await;
    let admin_id = staff_id(&app, &admin).await;
    let (token, id) = start(&app, &admin, owner.account_id).await;
    assert_eq!(app.get("/v1/account", &token).await.status, StatusCode::OK);
    // Another admin may not end it; a CRM owner may.
    let r = app
        .post(
            &format!("/v1/admin/crm/impersonations/{id}/exit"),
            Some(&other),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/v1/account", &token).await.status, StatusCode::OK);
    // Demoted to read: the token stops working at once.
    sqlx::query("UPDATE staff_permissions SET level = 'read' WHERE staff_id = $1")
        .bind(admin_id)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(
        app.get("/v1/account", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
}
