//! Campaigns oversight: every organisation's campaigns, and pause / cancel through the life
//! cycle's own transitions, audited.

use axum::http::{Method, StatusCode};
use semalink_control_plane::admin::permissions::{Level, Module};
use serde_json::json;
use sqlx::PgPool;

use super::*;
use crate::campaigns::{campaign, dispatcher, list_of, queued, sender_ready};
use crate::credits::staff_token;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn oversight_permission_matrix_pause_and_cancel(db: PgPool) {
    let app = spawn_app(db);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let list = list_of(&app, &a, "Customers", 0, 6).await;
    let first = queued(&app, &a, &sender, &list, "Hi").await;
    let tokens = tokens_per_level(&app, Module::Campaigns).await;
    let nobody = Uuid::now_v7();
    let stop = Some(json!({"reason": "matrix"}));
    let routes = [
        route(Method::GET, "/v1/admin/campaigns", None, Level::Read),
        route(
            Method::GET,
            format!(
                "/v1/admin/campaigns?status=queued&account_id={}",
                a.account_id
            ),
            None,
            Level::Read,
        ),
        route(
            Method::POST,
            format!("/v1/admin/campaigns/{nobody}/pause"),
            stop.clone(),
            Level::Admin,
        ),
        route(
            Method::POST,
            format!("/v1/admin/campaigns/{nobody}/cancel"),
            stop,
            Level::Admin,
        ),
    ];
    check_matrix(&app, &tokens, &routes).await;

    let staff = staff_token(&app, &[(Module::Campaigns, Level::Admin)]).await;
    let me = staff_id(&app, &staff).await;
    let all = app.get("/v1/admin/campaigns?status=queued", &staff).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.json["data"][0]["id"], first.as_str());
    assert_eq!(all.json["data"][0]["account_id"], a.account_id.to_string());
    assert_eq!(all.json["data"][0]["account_name"], "Org of a@example.com");

    // Pause: the customer sees why; twice is a 409 naming the status.
    let r = app
        .post(
            &format!("/v1/admin/campaigns/{first}/pause"),
            Some(&staff),
            json!({"reason": "Spam complaints"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["status"], "paused");
    assert!(
        r.json["pause_reason"]
            .as_str()
            .unwrap()
            .contains("Spam complaints")
    );
    let again = app
        .post(
            &format!("/v1/admin/campaigns/{first}/pause"),
            Some(&staff),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.json["detail"].as_str().unwrap().contains("paused"));
    let paused = audit_rows(&app, "campaign.pause").await;
    assert_eq!(
        (paused[0].0, paused[0].2.clone()),
        (Some(me), Some(first.clone()))
    );

    // Cancel a campaign part-way out: its unsent messages are refunded by the life cycle.
    let second = queued(&app, &a, &sender, &list, "Hey").await;
    let d = dispatcher(&app, 3);
    d.run_once().await.unwrap();
    d.run_once().await.unwrap();
    let r = app
        .post(
            &format!("/v1/admin/campaigns/{second}/cancel"),
            Some(&staff),
            json!({"reason": "Fraud"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["status"], "cancelled");
    let c = campaign(&app, &a, &second).await;
    assert_eq!(c["status"], "cancelled");
    let cancelled = audit_rows(&app, "campaign.cancel").await;
    assert_eq!(cancelled[0].2, Some(second.clone()));
    assert_eq!(cancelled[0].3["reason"], "Fraud");
    assert!(
        cancelled[0].3["report"]["cancelled_messages"]
            .as_u64()
            .unwrap()
            > 0,
        "{:?}",
        cancelled[0].3
    );
    let staff_refunds: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM credit_transactions WHERE account_id = $1 AND actor_type = 'staff'",
    )
    .bind(a.account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(staff_refunds > 0);
    let blank = app
        .post(
            &format!("/v1/admin/campaigns/{second}/cancel"),
            Some(&staff),
            json!({"reason": " "}),
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
}
