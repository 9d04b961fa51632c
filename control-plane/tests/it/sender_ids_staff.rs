//! Sender IDs, staff side: the queue, decisions, bulk approval and history, with their
//! permissions, notifications, emails and audit rows.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::*;
use crate::sender_ids::{decide, field_errors, registered, reviewer, staff_token};

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn staff_decisions_notify_audit_and_keep_history(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;
    let staff = reviewer(&app).await;
    let acme = registered(&app, &owner.access, "AcmeCorp").await;
    let spam = registered(&app, &owner.access, "FreeMoney").await;

    let ok = decide(
        &app,
        &staff,
        &acme,
        "approve",
        json!({"note": " Looks good "}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.json["status"], "approved");
    assert_eq!(ok.json["status_note"], "Looks good");
    assert_eq!(ok.json["account_name"], "Org of owner@example.com");
    assert!(ok.json["reviewed_by"].is_string() && ok.json["reviewed_at"].is_string());

    // Reject needs a reason; the error names the field.
    let no_reason = decide(&app, &staff, &spam, "reject", json!({"reason": "  "})).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&no_reason), ["reason"]);
    let missing = decide(&app, &staff, &spam, "reject", json!({})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let rejected = decide(
        &app,
        &staff,
        &spam,
        "reject",
        json!({"reason": "Misleading name"}),
    )
    .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    assert_eq!(rejected.json["status"], "rejected");

    // Illegal transitions are 409s naming the current status; unknown ids 404.
    for (id, action, body, status) in [
        (&acme, "approve", json!({}), "approved"),
        (&acme, "reinstate", json!({}), "approved"),
        (&spam, "suspend", json!({"reason": "x"}), "rejected"),
        (&spam, "approve", json!({}), "rejected"),
    ] {
        let r = decide(&app, &staff, id, action, body).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{action}: {}", r.text);
        let detail = r.json["detail"].as_str().unwrap();
        assert!(detail.contains(status), "{action}: {detail}");
    }
    let nobody = Uuid::now_v7();
    assert_eq!(
        decide(&app, &staff, &nobody.to_string(), "approve", json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The customer cannot withdraw what is no longer pending.
    let w = app
        .call(
            Method::DELETE,
            &format!("/v1/sender-ids/{acme}"),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(w.status, StatusCode::CONFLICT);
    assert!(w.json["detail"].as_str().unwrap().contains("approved"));

    // Suspend (reason required), then reinstate.
    let s = decide(
        &app,
        &staff,
        &acme,
        "suspend",
        json!({"reason": "Complaints"}),
    )
    .await;
    assert_eq!(s.json["status"], "suspended", "{}", s.text);
    let twice = decide(&app, &staff, &acme, "suspend", json!({"reason": "x"})).await;
    assert!(twice.json["detail"].as_str().unwrap().contains("suspended"));
    let back = decide(&app, &staff, &acme, "reinstate", json!({})).await;
    assert_eq!(back.json["status"], "approved", "{}", back.text);

    // Each decision: a notification, an email to the owner, an audit row.
    let notes = app.get("/v1/notifications?limit=10", &owner.access).await;
    let kinds: Vec<&str> = notes.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "sender_id.reinstated",
            "sender_id.suspended",
            "sender_id.rejected",
            "sender_id.approved"
        ]
    );
    let rejection = &notes.json["data"][2];
    assert!(
        rejection["body"]
            .as_str()
            .unwrap()
            .contains("Reason: Misleading name")
    );
    assert_eq!(rejection["data"]["sender_id_id"], spam.as_str());
    assert_eq!(
        app.email_count("owner@example.com", "notification").await,
        4
    );
    let audit: Vec<(String, String, Value)> = sqlx::query_as(
        "SELECT action, target_id, metadata FROM audit_log
         WHERE module = 'sender_ids' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let actions: Vec<&str> = audit.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "sender_id.approve",
            "sender_id.reject",
            "sender_id.suspend",
            "sender_id.reinstate"
        ]
    );
    assert_eq!(audit[1].1, spam);
    assert_eq!(audit[1].2["note"], "Misleading name");
    assert_eq!(audit[2].2["from"], "approved");

    // History of the organisation: every sender ID with its events, actors included.
    let history = app
        .get(
            &format!("/v1/admin/accounts/{}/sender-ids", owner.account_id),
            &staff,
        )
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text);
    let items = history.json["data"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let acme_item = items.iter().find(|i| i["id"] == acme.as_str()).unwrap();
    let steps: Vec<(Value, Value)> = acme_item["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from_status"].clone(), e["to_status"].clone()))
        .collect();
    assert_eq!(
        steps,
        [
            (Value::Null, json!("pending")),
            (json!("pending"), json!("approved")),
            (json!("approved"), json!("suspended")),
            (json!("suspended"), json!("approved")),
        ]
    );
    assert_eq!(acme_item["events"][0]["user_id"], owner.user_id.to_string());
    assert!(acme_item["events"][1]["staff_id"].is_string());
    assert_eq!(acme_item["events"][2]["note"], "Complaints");
    let one = app
        .get(&format!("/v1/admin/sender-ids/{spam}"), &staff)
        .await;
    assert_eq!(
        one.json["events"].as_array().unwrap().len(),
        2,
        "{}",
        one.text
    );
    assert_eq!(
        app.get(&format!("/v1/admin/accounts/{nobody}/sender-ids"), &staff)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn staff_permissions_are_enforced(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;
    let id = registered(&app, &owner.access, "AcmeCorp").await;
    let read = staff_token(&app, "read@semalink.africa", json!({"sender_ids": "read"})).await;
    let crm = staff_token(&app, "crm@semalink.africa", json!({"crm": "owner"})).await;
    let history = format!("/v1/admin/accounts/{}/sender-ids", owner.account_id);
    let one = format!("/v1/admin/sender-ids/{id}");

    for path in ["/v1/admin/sender-ids/queue", history.as_str(), one.as_str()] {
        assert_eq!(app.get(path, &read).await.status, StatusCode::OK, "{path}");
        assert_eq!(
            app.get(path, &crm).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            app.get(path, &owner.access).await.status,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    for (action, body) in [
        ("approve", json!({})),
        ("reject", json!({"reason": "no"})),
        ("suspend", json!({"reason": "no"})),
        ("reinstate", json!({})),
    ] {
        let r = decide(&app, &read, &id, action, body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{action}");
    }
    let bulk = app
        .post(
            "/v1/admin/sender-ids/bulk-approve",
            Some(&read),
            json!({"sender_id_ids": [id]}),
        )
        .await;
    assert_eq!(bulk.status, StatusCode::FORBIDDEN);
    // Nothing changed, nothing audited, nobody notified.
    let status: String = sqlx::query_scalar("SELECT status::text FROM sender_ids")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "pending");
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE module = 'sender_ids'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(audited, 0);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn queue_is_oldest_first_across_accounts(db: PgPool) {
    let app = spawn_app(db);
    let alpha = app.verified("alpha@example.com").await;
    let bravo = app.verified("bravo@example.com").await;
    let staff = reviewer(&app).await;
    let first = registered(&app, &alpha.access, "AlphaOne").await;
    let second = registered(&app, &bravo.access, "BravoOne").await;
    let third = registered(&app, &alpha.access, "AlphaTwo").await;
    let fourth = registered(&app, &bravo.access, "BravoTwo").await;
    decide(&app, &staff, &third, "approve", json!({})).await;

    let page = app.get("/v1/admin/sender-ids/queue?limit=2", &staff).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let ids: Vec<&str> = page.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [first.as_str(), second.as_str()]);
    assert_eq!(
        page.json["data"][1]["account_name"],
        "Org of bravo@example.com"
    );
    let cursor = page.json["next_cursor"].as_str().unwrap();
    let next = app
        .get(
            &format!("/v1/admin/sender-ids/queue?limit=2&cursor={cursor}"),
            &staff,
        )
        .await;
    assert_eq!(next.json["data"].as_array().unwrap().len(), 1);
    assert_eq!(next.json["data"][0]["id"], fourth.as_str());
    assert!(next.json["next_cursor"].is_null());
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn bulk_approve_reports_each_id(db: PgPool) {
    let app = spawn_app(db);
    let alpha = app.verified("alpha@example.com").await;
    let bravo = app.verified("bravo@example.com").await;
    let staff = reviewer(&app).await;
    let a = registered(&app, &alpha.access, "AlphaOne").await;
    let b = registered(&app, &bravo.access, "BravoOne").await;
    let gone = registered(&app, &alpha.access, "AlphaGone").await;
    app.call(
        Method::DELETE,
        &format!("/v1/sender-ids/{gone}"),
        Some(&alpha.access),
        None,
    )
    .await;
    let unknown = Uuid::now_v7().to_string();

    let r = app
        .post(
            "/v1/admin/sender-ids/bulk-approve",
            Some(&staff),
            json!({"sender_id_ids": [b, gone, a, unknown, b], "note": "Batch"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["approved"], 2);
    assert_eq!(
        r.json["results"],
        json!([
            {"sender_id_id": b, "outcome": "approved", "status": "approved"},
            {"sender_id_id": gone, "outcome": "not_pending", "status": "withdrawn"},
            {"sender_id_id": a, "outcome": "approved", "status": "approved"},
            {"sender_id_id": unknown, "outcome": "not_found", "status": null},
        ])
    );
    assert_eq!(
        app.email_count("alpha@example.com", "notification").await,
        1
    );
    assert_eq!(
        app.email_count("bravo@example.com", "notification").await,
        1
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'sender_id.approve' AND metadata->>'note' = 'Batch'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(audited, 2);

    let empty = app
        .post(
            "/v1/admin/sender-ids/bulk-approve",
            Some(&staff),
            json!({"sender_id_ids": []}),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&empty), ["sender_id_ids"]);
    let many: Vec<String> = (0..101).map(|_| Uuid::now_v7().to_string()).collect();
    let too_many = app
        .post(
            "/v1/admin/sender-ids/bulk-approve",
            Some(&staff),
            json!({"sender_id_ids": many}),
        )
        .await;
    assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// A submission emails the staff who can decide it (`sender_ids` admin or owner), not the
/// read-only staff nor other modules' staff.
#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_submission_alerts_the_reviewers(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;
    reviewer(&app).await;
    staff_token(&app, "read@semalink.africa", json!({"sender_ids": "read"})).await;
    staff_token(&app, "crm@semalink.africa", json!({"crm": "owner"})).await;
    registered(&app, &owner.access, "AcmeCorp").await;
    assert_eq!(
        app.email_count("reviewer@semalink.africa", "sender_id_submitted")
            .await,
        1
    );
    for other in [
        "read@semalink.africa",
        "crm@semalink.africa",
        "owner@example.com",
    ] {
        assert_eq!(
            app.email_count(other, "sender_id_submitted").await,
            0,
            "{other}"
        );
    }
    let body: String = sqlx::query_scalar(
        "SELECT body_text FROM email_outbox WHERE template = 'sender_id_submitted'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(
        body.contains("Org of owner@example.com submitted the sender ID AcmeCorp for KE"),
        "{body}"
    );
}
