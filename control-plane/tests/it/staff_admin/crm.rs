//! CRM: the permission matrix, suspend / reactivate (atomic, audited, notified, credits
//! frozen), delete with the typed name, users across organisations, login history and
//! disable / re-enable.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use semalink_control_plane::admin::permissions::{Level, Module};
use semalink_control_plane::credits::ledger;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::*;
use crate::credits::{entry, fund, staff_token};
use crate::helpers::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn crm_permission_matrix(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;
    let (org, user) = (owner.account_id, owner.user_id);
    let tokens = tokens_per_level(&app, Module::Crm).await;
    let nobody = Uuid::now_v7();
    let reason = Some(json!({"reason": "matrix"}));
    let routes = [
        route(Method::GET, "/v1/admin/crm/orgs", None, Level::Read),
        route(
            Method::GET,
            "/v1/admin/crm/orgs?q=org&status=pending&type=direct&country=ke",
            None,
            Level::Read,
        ),
        route(
            Method::GET,
            format!("/v1/admin/crm/orgs/{org}"),
            None,
            Level::Read,
        ),
        route(
            Method::GET,
            "/v1/admin/crm/users?q=owner&role=owner",
            None,
            Level::Read,
        ),
        route(
            Method::GET,
            format!("/v1/admin/crm/users/{user}"),
            None,
            Level::Read,
        ),
        route(
            Method::GET,
            format!("/v1/admin/crm/users/{user}/logins"),
            None,
            Level::Read,
        ),
        route(
            Method::POST,
            format!("/v1/admin/crm/orgs/{org}/suspend"),
            reason.clone(),
            Level::Admin,
        ),
        route(
            Method::POST,
            format!("/v1/admin/crm/orgs/{org}/reactivate"),
            Some(json!({})),
            Level::Admin,
        ),
        route(
            Method::POST,
            format!("/v1/admin/crm/users/{user}/disable"),
            reason.clone(),
            Level::Admin,
        ),
        route(
            Method::POST,
            format!("/v1/admin/crm/users/{user}/enable"),
            Some(json!({})),
            Level::Admin,
        ),
        route(
            Method::POST,
            format!("/v1/admin/crm/orgs/{org}/impersonate"),
            reason.clone(),
            Level::Admin,
        ),
        route(
            Method::POST,
            format!("/v1/admin/crm/impersonations/{nobody}/exit"),
            None,
            Level::Admin,
        ),
        route(
            Method::DELETE,
            format!("/v1/admin/crm/orgs/{org}"),
            Some(json!({"confirm_name": "not it", "reason": "matrix"})),
            Level::Owner,
        ),
    ];
    check_matrix(&app, &tokens, &routes).await;
    // Customer tokens never pass staff routes; staff tokens never pass customer routes.
    let r = app.get("/v1/admin/crm/orgs", &owner.access).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.get("/v1/account", &tokens[3].1).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn status_of(app: &TestApp, org: Uuid) -> (String, bool) {
    sqlx::query_as(
        "SELECT a.status::text, c.frozen_at IS NOT NULL FROM accounts a JOIN credits c ON c.account_id = a.id WHERE a.id = $1",
    )
    .bind(org)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn suspend_and_reactivate_are_atomic_audited_and_notified(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;
    let org = owner.account_id;
    fund(&app, org, "fund-1", "50").await;
    let admin = staff_token(&app, &[(Module::Crm, Level::Admin)]).await;
    let crm_owner = staff_token(&app, &[(Module::Crm, Level::Owner)]).await;
    let admin_id = staff_id(&app, &admin).await;
    let path = format!("/v1/admin/crm/orgs/{org}/suspend");

    // A reason is required and named.
    let r = app.post(&path, Some(&admin), json!({"reason": "  "})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json["errors"][0]["field"], "reason");

    // A failure midway (the organisation's notification cannot be written) leaves nothing
    // changed: no status, no frozen credits, no staff notice, no audit row.
    let before = status_of(&app, org).await;
    sqlx::query(
        "CREATE FUNCTION fail_suspension() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.kind = 'account.suspended' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$",
    )
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("CREATE TRIGGER fail_suspension BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION fail_suspension()")
        .execute(&app.db)
        .await
        .unwrap();
    let r = app
        .post(&path, Some(&admin), json!({"reason": "Unpaid invoices"}))
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(status_of(&app, org).await, before);
    assert!(audit_rows(&app, "org.suspend").await.is_empty());
    let staff_notes: i64 = sqlx::query_scalar("SELECT count(*) FROM staff_notifications")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(staff_notes, 0);
    sqlx::query("DROP TRIGGER fail_suspension ON notifications")
        .execute(&app.db)
        .await
        .unwrap();

    // Now for real.
    let r = app
        .post(&path, Some(&admin), json!({"reason": "Unpaid invoices"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["account"]["status"], "suspended");
    assert_eq!(r.json["suspension"]["suspended_reason"], "Unpaid invoices");
    assert!(r.json["suspension"]["credits_frozen_at"].is_string());
    assert_eq!(status_of(&app, org).await, ("suspended".into(), true));
    let rows = audit_rows(&app, "org.suspend").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, Some(admin_id));
    assert_eq!(rows[0].1.as_deref(), Some("account"));
    assert_eq!(rows[0].2, Some(org.to_string()));
    assert_eq!(rows[0].3["reason"], "Unpaid invoices");
    // The organisation is told (in-app and by email), and so are the CRM's staff owners.
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM notifications WHERE account_id = $1")
            .bind(org)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert!(kinds.contains(&"account.suspended".to_owned()), "{kinds:?}");
    assert!(app.email_count("owner@example.com", "notification").await >= 1);
    let bell = app
        .get("/v1/admin/notifications/unread-count", &crm_owner)
        .await;
    assert_eq!(bell.json["unread"], 1, "{}", bell.text);
    let feed = app.get("/v1/admin/notifications", &crm_owner).await;
    assert_eq!(feed.json["data"][0]["kind"], "org.suspended");
    let none_for_admin = app
        .get("/v1/admin/notifications/unread-count", &admin)
        .await;
    assert_eq!(none_for_admin.json["unread"], 0);
    let id = feed.json["data"][0]["id"].as_str().unwrap();
    let read = app
        .post(
            &format!("/v1/admin/notifications/{id}/read"),
            Some(&crm_owner),
            json!({}),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert!(read.json["read_at"].is_string());
    let other = app
        .post(
            &format!("/v1/admin/notifications/{id}/read"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);

    // Frozen credits: nothing can be reserved.
    let mut conn = app.app_pool.acquire().await.unwrap();
    let refused = ledger::reserve(&mut conn, &entry(org, "reserve-1"), "1".parse().unwrap()).await;
    assert!(
        matches!(refused, Err(semalink_control_plane::Error::Forbidden(_))),
        "{refused:?}"
    );
    // Twice is a conflict.
    let again = app
        .post(&path, Some(&admin), json!({"reason": "again"}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // Reactivate: active, thawed, audited, told.
    let back = app
        .post(
            &format!("/v1/admin/crm/orgs/{org}/reactivate"),
            Some(&admin),
            json!({"note": "Paid"}),
        )
        .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text);
    assert_eq!(status_of(&app, org).await, ("active".into(), false));
    let rows = audit_rows(&app, "org.reactivate").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].2, Some(org.to_string()));
    assert_eq!(rows[0].3["note"], "Paid");
    assert!(
        ledger::reserve(&mut conn, &entry(org, "reserve-2"), "1".parse().unwrap())
            .await
            .is_ok()
    );
    let twice = app
        .post(
            &format!("/v1/admin/crm/orgs/{org}/reactivate"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    let unknown = app
        .post(
            &format!("/v1/admin/crm/orgs/{}/suspend", Uuid::now_v7()),
            Some(&admin),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn org_list_and_detail(db: PgPool) {
    let app = spawn_app(db);
    let acme = app.verified("acme@example.com").await;
    let _beta = app.verified("beta@example.com").await;
    fund(&app, acme.account_id, "fund-1", "12.5").await;
    let staff = staff_token(&app, &[(Module::Crm, Level::Read)]).await;
    let all = app.get("/v1/admin/crm/orgs", &staff).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.json["data"].as_array().unwrap().len(), 2);
    let found = app.get("/v1/admin/crm/orgs?q=ACME&limit=1", &staff).await;
    let data = found.json["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{}", found.text);
    assert_eq!(data[0]["id"], acme.account_id.to_string());
    assert_eq!(data[0]["member_count"], 1);
    assert_eq!(data[0]["balance"], "12.5000");
    assert_eq!(data[0]["billing_mode"], "prepaid");
    let wildcard = app.get("/v1/admin/crm/orgs?q=%25", &staff).await;
    assert_eq!(
        wildcard.json["data"].as_array().unwrap().len(),
        0,
        "% is literal"
    );
    let suspended = app.get("/v1/admin/crm/orgs?status=suspended", &staff).await;
    assert_eq!(suspended.json["data"].as_array().unwrap().len(), 0);
    let bad = app.get("/v1/admin/crm/orgs?status=gone", &staff).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    let detail = app
        .get(&format!("/v1/admin/crm/orgs/{}", acme.account_id), &staff)
        .await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    assert_eq!(detail.json["members"][0]["email"], "acme@example.com");
    assert_eq!(detail.json["balance"]["balance"], "12.5000");
    assert!(detail.json["sender_ids"].is_array() && detail.json["api_keys"].is_array());
    let missing = app
        .get(&format!("/v1/admin/crm/orgs/{}", Uuid::now_v7()), &staff)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn delete_needs_the_typed_name_and_keeps_ledger_and_audit(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;
    let org = owner.account_id;
    fund(&app, org, "fund-1", "10").await;
    let r = app
        .post(
            "/v1/contacts",
            Some(&owner.access),
            json!({"phone": "+254712345678"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let admin = staff_token(&app, &[(Module::Crm, Level::Admin)]).await;
    let crm_owner = staff_token(&app, &[(Module::Crm, Level::Owner)]).await;
    let path = format!("/v1/admin/crm/orgs/{org}");
    let body = json!({"confirm_name": "Org of owner@example.com", "reason": "Asked to close"});
    let r = app
        .call(Method::DELETE, &path, Some(&admin), Some(body.clone()))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "admins may not delete");
    let wrong = json!({"confirm_name": "org of owner@example.com", "reason": "x"});
    let r = app
        .call(Method::DELETE, &path, Some(&crm_owner), Some(wrong))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json["errors"][0]["field"], "confirm_name");
    let r = app
        .call(Method::DELETE, &path, Some(&crm_owner), Some(body.clone()))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["removed"]["contacts"], 1);
    assert_eq!(r.json["removed"]["account_members"], 1);
    // Anonymised and suspended; the members' sessions for it are over.
    let (name, status, deleted): (String, String, bool) = sqlx::query_as(
        "SELECT name, status::text, deleted_at IS NOT NULL FROM accounts WHERE id = $1",
    )
    .bind(org)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(name.starts_with("Deleted organisation"), "{name}");
    assert_eq!((status.as_str(), deleted), ("suspended", true));
    assert_eq!(
        app.get("/v1/account", &owner.access).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The ledger and the audit log stay.
    let ledger_rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM credit_transactions WHERE account_id = $1")
            .bind(org)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(ledger_rows, 1);
    let rows = audit_rows(&app, "org.delete").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].2, Some(org.to_string()));
    assert_eq!(rows[0].3["name"], "Org of owner@example.com");
    let twice = app
        .call(Method::DELETE, &path, Some(&crm_owner), Some(body))
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
}

/// A login with a User-Agent.
async fn login_as(app: &TestApp, email: &str, password: &str) -> Resp {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/auth/login")
        .header("content-type", "application/json")
        .header("user-agent", "CrmTest/1.0")
        .body(Body::from(
            json!({"email": email, "password": password}).to_string(),
        ))
        .unwrap();
    app.send(request).await
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn users_login_history_and_disable(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;
    let _other = app.verified("someone@example.com").await;
    let admin = staff_token(&app, &[(Module::Crm, Level::Admin)]).await;
    let uid = owner.user_id;

    let bad = login_as(&app, "owner@example.com", "Wrong-Password-1").await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let good = login_as(&app, "owner@example.com", PASSWORD).await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.text);
    let second = good.json["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let found = app.get("/v1/admin/crm/users?q=OWNER@", &admin).await;
    assert_eq!(
        found.json["data"].as_array().unwrap().len(),
        1,
        "{}",
        found.text
    );
    assert_eq!(found.json["data"][0]["membership_count"], 1);
    let owners = app.get("/v1/admin/crm/users?role=owner", &admin).await;
    assert_eq!(owners.json["data"].as_array().unwrap().len(), 2);
    let detail = app.get(&format!("/v1/admin/crm/users/{uid}"), &admin).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    assert_eq!(detail.json["memberships"][0]["role"], "owner");
    assert_eq!(
        detail.json["memberships"][0]["account_id"],
        owner.account_id.to_string()
    );

    let history = app
        .get(&format!("/v1/admin/crm/users/{uid}/logins"), &admin)
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text);
    let events = history.json["data"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{}", history.text);
    assert_eq!(events[0]["success"], true);
    assert_eq!(events[0]["user_agent"], "CrmTest/1.0");
    assert!(events[0]["ip"].is_string());
    assert_eq!(events[1]["success"], false);
    assert_eq!(events[1]["reason"], "invalid_credentials");

    // Disable: every session ends at once, and the user cannot sign in.
    let r = app
        .post(
            &format!("/v1/admin/crm/users/{uid}/disable"),
            Some(&admin),
            json!({"reason": "Fraud"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["user"]["is_active"], false);
    assert_eq!(
        app.get("/v1/account", &owner.access).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/v1/account", &second).await.status,
        StatusCode::UNAUTHORIZED
    );
    let refused = login_as(&app, "owner@example.com", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let history = app
        .get(&format!("/v1/admin/crm/users/{uid}/logins"), &admin)
        .await;
    assert_eq!(history.json["data"][0]["reason"], "deactivated");
    let rows = audit_rows(&app, "user.disable").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1.as_deref(), Some("user"));
    assert_eq!(rows[0].2, Some(uid.to_string()));

    let r = app
        .post(
            &format!("/v1/admin/crm/users/{uid}/enable"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        login_as(&app, "owner@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        audit_rows(&app, "user.enable").await[0].2,
        Some(uid.to_string())
    );
    let unknown = app
        .post(
            &format!("/v1/admin/crm/users/{}/enable", Uuid::now_v7()),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}
