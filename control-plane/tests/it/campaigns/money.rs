//! The money side of campaigns: pause / resume / cancel with the refunds equal to the ledger,
//! a budget cap and a lack of credit pausing a campaign (with a notification), the staff
//! kill switch stopping the dispatcher and the publisher for one account or the platform.

use axum::http::Method;
use semalink_control_plane::admin::permissions::{Level, Module};
use semalink_control_plane::bus::Queues;
use semalink_control_plane::campaigns::dispatch::Pass;
use semalink_control_plane::messages::publisher::{OutboxPublisher, PublisherConfig};
use semalink_protocol::contracts::SubmitRequest;
use sqlx::PgPool;

use super::*;
use crate::credits::{d, staff_token};
use crate::messages::{money, outbox};

pub(super) async fn verified_ledger(app: &TestApp, account_id: Uuid) -> bool {
    let mut conn = app.app_pool.acquire().await.unwrap();
    semalink_control_plane::credits::store::verify(&mut *conn, account_id)
        .await
        .unwrap()
}

async fn paused_notices(app: &TestApp, account_id: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = 'campaign.paused'",
    )
    .bind(account_id)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

fn publisher(app: &TestApp) -> OutboxPublisher {
    OutboxPublisher::new(
        app.app_pool.clone(),
        &app.state.bus,
        &Queues::of(None),
        PublisherConfig::default(),
    )
    .unwrap()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn pause_resume_and_cancel_refund_exactly_what_was_not_sent(db: PgPool) {
    let app = spawn_app(db);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let list = list_of(&app, &a, "Customers", 0, 10).await;
    let id = queued(&app, &a, &sender, &list, "Hi {first_name|there}").await;
    let dispatcher = dispatcher(&app, 4);
    dispatcher.run_once().await.unwrap(); // expansion
    assert_eq!(
        dispatcher.run_once().await.unwrap(),
        Pass::Dispatched { messages: 4 }
    );
    // Paused: nothing more is written.
    let r = act(
        &app,
        &a,
        &id,
        "pause",
        json!({"reason": "checking the list"}),
    )
    .await;
    assert_eq!(r.json["status"], "paused", "{}", r.text);
    assert_eq!(r.json["pause_reason"], "checking the list");
    assert_eq!(dispatcher.drain().await.unwrap(), 0);
    assert_eq!(campaign(&app, &a, &id).await["dispatched_count"], 4);
    // Resumed: the next batch goes.
    let r = act(&app, &a, &id, "resume", json!({})).await;
    assert_eq!(r.json["status"], "sending", "{}", r.text);
    assert_eq!(
        dispatcher.run_once().await.unwrap(),
        Pass::Dispatched { messages: 4 }
    );
    // Two of the eight are published (queued), six wait in the outbox.
    let _sub = app
        .state
        .bus
        .subscribe::<SubmitRequest>(&Queues::of(None).normal, 100)
        .unwrap();
    let published = OutboxPublisher::new(
        app.app_pool.clone(),
        &app.state.bus,
        &Queues::of(None),
        PublisherConfig {
            batch: 2,
            ..PublisherConfig::default()
        },
    )
    .unwrap();
    assert_eq!(published.drain_once().await.unwrap(), 2);
    assert_eq!(money(&app, a.account_id).await, (d("93.6000"), d("6.4000")));
    // Cancel: the six unsent are taken out, cancelled and refunded; the two queued stay.
    let r = act(&app, &a, &id, "cancel", json!({})).await;
    assert_eq!(r.json["status"], "cancelled", "{}", r.text);
    assert_eq!(r.json["report"]["cancelled_messages"], 6);
    assert_eq!(r.json["report"]["refunded"], "4.8000");
    assert_eq!(outbox(&app, a.account_id).await, 0);
    let statuses: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status::text, count(*) FROM messages WHERE campaign_id = $1::uuid
         GROUP BY status ORDER BY status::text",
    )
    .bind(&id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(statuses, [("cancelled".into(), 6), ("queued".into(), 2)]);
    // The refund is on the ledger: 1.60 still held for the two queued messages.
    assert_eq!(money(&app, a.account_id).await, (d("98.4000"), d("1.6000")));
    assert!(verified_ledger(&app, a.account_id).await);
    let refunded: rust_decimal::Decimal = sqlx::query_scalar(
        "SELECT sum(amount) FROM credit_transactions WHERE account_id = $1 AND type = 'refund'",
    )
    .bind(a.account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(refunded, d("4.8000"));
    // Nothing more is dispatched, and a cancelled campaign cannot resume.
    assert_eq!(dispatcher.drain().await.unwrap(), 0);
    let r = act(&app, &a, &id, "resume", json!({})).await;
    assert_eq!(r.json["detail"], "not allowed: the campaign is cancelled");
    let timeline = crate::messages::timeline(
        &app,
        sqlx::query_scalar(
            "SELECT id FROM messages WHERE campaign_id = $1::uuid AND status = 'cancelled' LIMIT 1",
        )
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(timeline, ["submitted", "cancelled"]);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_budget_cap_or_a_lack_of_credit_pauses_with_a_reason(db: PgPool) {
    let app = spawn_app(db);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let list = list_of(&app, &a, "Customers", 0, 10).await;
    // A daily cap of 5 credits: the first batch (4 × 0.80) fits, the second would not.
    let r = app
        .call(
            Method::PUT,
            "/v1/budget",
            Some(&a.access),
            Some(json!({"daily_limit": "5", "monthly_limit": "100"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["daily_limit"], "5.0000");
    let r = app
        .call(
            Method::PUT,
            "/v1/budget",
            Some(&a.access),
            Some(json!({"daily_limit": "0", "monthly_limit": "x"})),
        )
        .await;
    assert_eq!(fields(&r), ["daily_limit", "monthly_limit"], "{}", r.text);
    let id = queued(&app, &a, &sender, &list, "Hi").await;
    let dispatcher = dispatcher(&app, 4);
    assert_eq!(dispatcher.drain().await.unwrap(), 1);
    let c = campaign(&app, &a, &id).await;
    assert_eq!(c["status"], "paused");
    assert!(
        c["pause_reason"]
            .as_str()
            .unwrap()
            .starts_with("daily budget of 5.0000"),
        "{c}"
    );
    assert_eq!(c["dispatched_count"], 4);
    assert_eq!(paused_notices(&app, a.account_id).await, 1);
    let budget = app.get("/v1/budget", &a.access).await;
    assert_eq!(budget.json["spent_today"], "3.2000");
    // Lifting the cap and resuming finishes it; the money check then stops a second one.
    app.call(Method::PUT, "/v1/budget", Some(&a.access), Some(json!({})))
        .await;
    act(&app, &a, &id, "resume", json!({})).await;
    assert_eq!(dispatcher.drain().await.unwrap(), 2);
    assert_eq!(campaign(&app, &a, &id).await["dispatched_count"], 10);
    // 92 credits left; a campaign of 200 recipients (160 credits) pauses once they run out.
    let big = list_of(&app, &a, "Big", 1000, 200).await;
    let id = queued(&app, &a, &sender, &big, "Hi").await;
    let dispatcher = super::dispatcher(&app, 50);
    assert_eq!(dispatcher.drain().await.unwrap(), 2);
    let c = campaign(&app, &a, &id).await;
    assert_eq!(c["status"], "paused");
    assert!(
        c["pause_reason"]
            .as_str()
            .unwrap()
            .starts_with("insufficient credit"),
        "{c}"
    );
    assert_eq!(c["dispatched_count"], 100);
    assert_eq!(
        money(&app, a.account_id).await,
        (d("12.0000"), d("88.0000"))
    );
    assert_eq!(paused_notices(&app, a.account_id).await, 2);
    assert!(verified_ledger(&app, a.account_id).await);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn the_kill_switch_stops_dispatch_and_publication_until_lifted(db: PgPool) {
    let app = spawn_app(db);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let list = list_of(&app, &a, "Customers", 0, 6).await;
    let _sub = app
        .state
        .bus
        .subscribe::<SubmitRequest>(&Queues::of(None).normal, 100)
        .unwrap();
    let id = queued(&app, &a, &sender, &list, "Hi").await;
    let dispatcher = dispatcher(&app, 3);
    dispatcher.run_once().await.unwrap();
    assert_eq!(
        dispatcher.run_once().await.unwrap(),
        Pass::Dispatched { messages: 3 }
    );

    let reader = staff_token(&app, &[(Module::Campaigns, Level::Read)]).await;
    let r = app
        .post(
            &format!("/v1/admin/accounts/{}/sending-halt", a.account_id),
            Some(&reader),
            json!({"reason": "fraud review"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let staff = staff_token(&app, &[(Module::Campaigns, Level::Admin)]).await;
    let halt = format!("/v1/admin/accounts/{}/sending-halt", a.account_id);
    let r = app.post(&halt, Some(&staff), json!({"reason": " "})).await;
    assert_eq!(fields(&r), ["reason"]);
    let r = app
        .post(&halt, Some(&staff), json!({"reason": "fraud review"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = app
        .post(&halt, Some(&staff), json!({"reason": "again"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'sending.halt' AND target_id = $1",
    )
    .bind(a.account_id.to_string())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // Halted: the dispatcher writes nothing, the publisher publishes nothing of the account.
    assert_eq!(dispatcher.drain().await.unwrap(), 0);
    let publisher = publisher(&app);
    assert_eq!(publisher.drain_once().await.unwrap(), 0);
    assert_eq!(outbox(&app, a.account_id).await, 3);
    assert_eq!(campaign(&app, &a, &id).await["status"], "sending");

    // Lifted: both carry on.
    let r = app.call(Method::DELETE, &halt, Some(&staff), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json["lifted_at"].is_string());
    assert_eq!(publisher.drain_once().await.unwrap(), 3);
    assert_eq!(dispatcher.drain().await.unwrap(), 1);
    assert_eq!(campaign(&app, &a, &id).await["dispatched_count"], 6);

    // The platform switch stops everyone.
    let r = app
        .post(
            "/v1/admin/sending-halt",
            Some(&staff),
            json!({"reason": "upstream incident"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let halts = app.get("/v1/admin/sending-halts", &staff).await;
    assert_eq!(halts.json["data"][0]["account_id"], Value::Null);
    assert_eq!(publisher.drain_once().await.unwrap(), 0);
    let r = app
        .call(Method::DELETE, "/v1/admin/sending-halt", Some(&staff), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(publisher.drain_once().await.unwrap(), 3);
    let r = app
        .call(Method::DELETE, "/v1/admin/sending-halt", Some(&staff), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
