//! Campaigns oversight: the human content-check queue — campaigns a review rule holds
//! (`[campaigns] review_words`, `review_first_campaign`) are listed for staff, approved or
//! rejected through the life cycle, audited, and their owners notified.

use axum::http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use super::*;
use crate::campaigns::{act, campaign, list_of, sender_ready, submitted};
use crate::credits::staff_token;

fn app_with_review_rules(db: PgPool) -> TestApp {
    let mut config = test_config();
    config.campaigns.review_words = vec!["Loan".into()];
    config.campaigns.review_first_campaign = true;
    spawn_app_with(db, config)
}

/// The kinds of the organisation's campaign notifications, newest first.
async fn notice_kinds(app: &TestApp, user: &User) -> Vec<String> {
    let r = app.get("/v1/notifications", &user.access).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .filter(|kind| kind.starts_with("campaign."))
        .collect()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn review_queue_permission_matrix(db: PgPool) {
    let app = app_with_review_rules(db);
    let tokens = tokens_per_level(&app, Module::Campaigns).await;
    let nobody = Uuid::now_v7();
    let routes = [
        route(
            Method::GET,
            "/v1/admin/campaigns/reviews",
            None,
            Level::Read,
        ),
        route(
            Method::POST,
            format!("/v1/admin/campaigns/{nobody}/review/approve"),
            Some(json!({})),
            Level::Admin,
        ),
        route(
            Method::POST,
            format!("/v1/admin/campaigns/{nobody}/review/reject"),
            Some(json!({"reason": "matrix"})),
            Level::Admin,
        ),
    ];
    check_matrix(&app, &tokens, &routes).await;
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn held_campaigns_are_approved_or_rejected_by_staff_audited_and_notified(db: PgPool) {
    let app = app_with_review_rules(db);
    let (a, sender) = sender_ready(&app, "review@example.com").await;
    let list = list_of(&app, &a, "Customers", 0, 3).await;
    let staff = staff_token(&app, &[(Module::Campaigns, Level::Admin)]).await;
    let me = staff_id(&app, &staff).await;

    // The organisation's first campaign waits for a human.
    let (first, answer) = submitted(&app, &a, &sender, &list, "Hello {first_name|there}").await;
    assert_eq!(
        answer.json["status"], "pending_content_check",
        "{}",
        answer.text
    );
    let queue = app.get("/v1/admin/campaigns/reviews", &staff).await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text);
    assert_eq!(queue.json["data"].as_array().unwrap().len(), 1);
    assert_eq!(queue.json["data"][0]["id"], first.as_str());
    assert_eq!(
        queue.json["data"][0]["account_id"],
        a.account_id.to_string()
    );
    assert!(
        queue.json["data"][0]["review_reason"]
            .as_str()
            .unwrap()
            .contains("first campaign")
    );
    // The customer cannot send it meanwhile.
    let r = act(&app, &a, &first, "send", json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    let r = app
        .post(
            &format!("/v1/admin/campaigns/{first}/review/approve"),
            Some(&staff),
            json!({"note": "looks fine"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["status"], "approved");
    assert_eq!(campaign(&app, &a, &first).await["status"], "approved");
    let audit = audit_rows(&app, "campaign.review.approve").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, Some(me));
    assert_eq!(audit[0].1.as_deref(), Some("campaign"));
    assert_eq!(audit[0].2.as_deref(), Some(first.as_str()));
    assert_eq!(audit[0].3["note"], "looks fine");
    assert_eq!(notice_kinds(&app, &a).await, ["campaign.approved"]);
    // Decided: out of the queue, and a second decision is a 409 naming the status.
    let queue = app.get("/v1/admin/campaigns/reviews", &staff).await;
    assert!(queue.json["data"].as_array().unwrap().is_empty());
    let again = app
        .post(
            &format!("/v1/admin/campaigns/{first}/review/reject"),
            Some(&staff),
            json!({"reason": "late"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert!(again.json["detail"].as_str().unwrap().contains("approved"));

    // Not the first any more: a plain text is approved at once, a review word is held.
    let (plain, answer) = submitted(&app, &a, &sender, &list, "Hello again").await;
    assert_eq!(answer.json["status"], "approved", "{}", answer.text);
    let (held, answer) = submitted(&app, &a, &sender, &list, "Quick loan today").await;
    assert_eq!(
        answer.json["status"], "pending_content_check",
        "{}",
        answer.text
    );
    let r = app
        .post(
            &format!("/v1/admin/campaigns/{plain}/review/approve"),
            Some(&staff),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let blank = app
        .post(
            &format!("/v1/admin/campaigns/{held}/review/reject"),
            Some(&staff),
            json!({"reason": "  "}),
        )
        .await;
    assert_eq!(
        blank.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        blank.text
    );
    let r = app
        .post(
            &format!("/v1/admin/campaigns/{held}/review/reject"),
            Some(&staff),
            json!({"reason": "Loan offers need a licence number"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["status"], "rejected");
    assert!(
        r.json["rejection_reason"]
            .as_str()
            .unwrap()
            .contains("Loan offers need a licence number")
    );
    let audit = audit_rows(&app, "campaign.review.reject").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].2.as_deref(), Some(held.as_str()));
    assert_eq!(
        notice_kinds(&app, &a).await,
        ["campaign.rejected", "campaign.approved"]
    );
    // The customer may edit and submit again; the rule holds it again.
    let r = act(&app, &a, &held, "submit", json!({})).await;
    assert_eq!(r.json["status"], "pending_content_check", "{}", r.text);
}
