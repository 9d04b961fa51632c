//! A sub-customer's sends: reserved and settled on its agent's credits at the agent's
//! wholesale price, the retail price recorded as the message's cost; settlement exactly once;
//! the agent at zero refuses every sub-customer send (API 402 and campaigns paused, nothing
//! reserved); the limits an agent sets; `balance = sum(ledger)` under concurrent campaigns.

use axum::http::StatusCode;
use semalink_protocol::contracts::DeliveryState;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::*;
use crate::campaigns::{act, campaign, dispatcher, list_of, queued};
use crate::messages::{SAFARICOM, SAFARICOM_2, send_json, sent};
use crate::results::{apply, event};

/// cost, unit_price, billed_account_id, billed_unit_price, billed_cost.
type Billing = (
    Decimal,
    Decimal,
    Option<Uuid>,
    Option<Decimal>,
    Option<Decimal>,
);

/// The sender ID id of the sub-customer's default (set by `ready_to_send`).
async fn sender_of(app: &TestApp, user: &User) -> String {
    let r = app.get("/v1/sender-ids", &user.access).await;
    r.json["data"][0]["id"].as_str().unwrap().to_owned()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_sub_customers_send_is_charged_to_its_agent_at_wholesale(db: PgPool) {
    let app = spawn_app(db);
    let agent = agent(&app, "agent@example.com", "100").await;
    let sub = customer(&app, &agent, "shop@example.com").await;
    let r = retail_rate(&app, &agent, sub.account_id, "1.20").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let (sub_balance, _) = money(&app, sub.account_id).await;

    let r = send_json(
        &app,
        &sub.access,
        json!({"to": [SAFARICOM, SAFARICOM_2], "text": "Hi"}),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // The sub-customer sees its retail price, never the wholesale one.
    assert_eq!(r.json["total_cost"], "2.4000", "{}", r.text);
    assert_eq!(r.json["recipients"][0]["cost"], "1.2000", "{}", r.text);
    assert!(!r.text.contains("\"0.5"), "{}", r.text);
    let ids: Vec<Uuid> = r.json["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["message_id"].as_str().unwrap().parse().unwrap())
        .collect();
    // Per message: retail cost recorded, the agent billed at wholesale.
    let rows: Vec<Billing> = sqlx::query_as(
        "SELECT cost, unit_price, billed_account_id, billed_unit_price, billed_cost
             FROM messages WHERE id = ANY($1) ORDER BY id",
    )
    .bind(&ids)
    .fetch_all(&app.db)
    .await
    .unwrap();
    for row in &rows {
        assert_eq!(
            *row,
            (
                d("1.2000"),
                d("1.2"),
                Some(agent.account_id),
                Some(d("0.5")),
                Some(d("0.5000"))
            )
        );
    }
    assert_eq!(money(&app, agent.account_id).await, (d("99"), d("1")));
    assert_eq!(money(&app, sub.account_id).await, (sub_balance, d("0")));
    let read = app
        .get(&format!("/v1/messages/{}", ids[0]), &sub.access)
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert!(
        // A wholesale figure would be a JSON string starting `"0.5` (a timestamp can hold
        // "0.5" too, so the bare digits are not enough).
        !read.text.contains("billed") && !read.text.contains("\"0.5"),
        "{}",
        read.text
    );
    // The sub-customer's own rates never show the agent's list.
    let rates = app.get("/v1/pricing/rates", &sub.access).await;
    assert!(!rates.text.contains("agent_wholesale"), "{}", rates.text);
    assert!(!rates.text.contains("\"0.500000"), "{}", rates.text);

    // One delivered, one failed; the envelope comes twice: settled once.
    let events = [
        event(ids[0], DeliveryState::Delivered, 10),
        event(ids[1], DeliveryState::Failed, 11),
    ];
    apply(&app.app_pool, &events).await;
    apply(&app.app_pool, &events).await;
    assert_eq!(money(&app, agent.account_id).await, (d("99.5"), d("0")));
    assert_eq!(money(&app, sub.account_id).await, (sub_balance, d("0")));
    assert!(ledger_holds(&app, agent.account_id).await);
    assert!(ledger_holds(&app, sub.account_id).await);

    // The agent's report: wholesale 0.50, retail 1.20 for the delivered one.
    let usage = app.get("/v1/agent/usage", &agent.access).await;
    assert_eq!(usage.status, StatusCode::OK, "{}", usage.text);
    let row = &usage.json["rows"][0];
    assert_eq!(row["customer_id"], json!(sub.account_id), "{}", usage.text);
    assert_eq!(row["messages"], 2);
    assert_eq!(row["parts"], 2);
    assert_eq!(row["delivered"], 1);
    assert_eq!(row["delivery_rate"], "0.50");
    assert_eq!(row["wholesale_cost"], "0.5000");
    assert_eq!(row["retail_revenue"], "1.2000");
    assert_eq!(row["margin"], "0.7000");
    assert_eq!(usage.json["margin"], "0.7000");
    let monthly = app
        .get(
            &format!("/v1/agent/customers/{}/usage?period=month", sub.account_id),
            &agent.access,
        )
        .await;
    assert_eq!(monthly.json["rows"][0]["messages"], 2, "{}", monthly.text);
    let csv = app.get("/v1/agent/usage?format=csv", &agent.access).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert!(
        csv.text.contains("wholesale_cost,retail_revenue,margin"),
        "{}",
        csv.text
    );
    assert!(
        csv.text.contains("Shop of shop@example.com"),
        "{}",
        csv.text
    );
    assert!(csv.text.contains("0.5000,1.2000,0.7000"), "{}", csv.text);
    // The agent's own balance and statement are the ordinary credits routes.
    let balance = app.get("/v1/credits", &agent.access).await;
    assert_eq!(balance.json["balance"], "99.5000", "{}", balance.text);
    let statement = app.get("/v1/credits/transactions", &agent.access).await;
    let kinds: Vec<&str> = statement.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"reservation") && kinds.contains(&"refund"),
        "{}",
        statement.text
    );
    let theirs = app.get("/v1/credits/transactions", &sub.access).await;
    assert!(!theirs.text.contains("reservation"), "{}", theirs.text);
    // The list shows this month's figures.
    let list = app.get("/v1/agent/customers", &agent.access).await;
    let c = &list.json["data"][0];
    assert_eq!(c["state"], "active", "{}", list.text);
    assert_eq!(c["messages_this_month"], 2);
    assert_eq!(c["spend_this_month"], "1.2000");
    assert_eq!(c["wholesale_this_month"], "0.5000");
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn an_agent_at_zero_blocks_every_sub_customer(db: PgPool) {
    let app = spawn_app(db);
    let agent = agent(&app, "agent@example.com", "1").await;
    let one = customer(&app, &agent, "one@example.com").await;
    let two = customer(&app, &agent, "two@example.com").await;
    let list = list_of(&app, &two, "Two's list", 0, 4).await;
    let sender = sender_of(&app, &two).await;
    let id = queued(&app, &two, &sender, &list, "Hi").await;

    // Two messages use up the agent's 1.00.
    sent(
        &app,
        &one.access,
        json!({"to": [SAFARICOM, SAFARICOM_2], "text": "Hi"}),
    )
    .await;
    assert_eq!(money(&app, agent.account_id).await, (d("0"), d("1")));
    let reason =
        "the organisation's agent has no credit left: sending is refused until the agent tops up";
    for who in [&one, &two] {
        refused(&app, who, StatusCode::PAYMENT_REQUIRED, reason).await;
    }
    // The campaign pauses with the reason, nothing reserved, nothing written.
    let d1 = dispatcher(&app, 10);
    d1.drain().await.unwrap();
    let k = campaign(&app, &two, &id).await;
    assert_eq!(k["status"], "paused", "{k}");
    assert_eq!(k["dispatched_count"], 0, "{k}");
    assert!(
        k["pause_reason"]
            .as_str()
            .unwrap_or("")
            .contains("no credit left"),
        "{k}"
    );
    assert_eq!(money(&app, agent.account_id).await, (d("0"), d("1")));
    let r = act(&app, &two, &id, "resume", json!({})).await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{}", r.text);
    assert_eq!(
        crate::messages::count(&app, "messages", two.account_id).await,
        0
    );
    assert!(ledger_holds(&app, agent.account_id).await);

    // The agent tops up: both send again, the campaign resumes and goes out.
    fund(&app, agent.account_id, "top-up-2", "10").await;
    sent(&app, &one.access, json!({"to": [SAFARICOM], "text": "Hi"})).await;
    let r = act(&app, &two, &id, "resume", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    d1.drain().await.unwrap();
    assert_eq!(campaign(&app, &two, &id).await["dispatched_count"], 4);
    // 1 + 10 funded, 3 + 4 messages at 0.50.
    assert_eq!(money(&app, agent.account_id).await, (d("7.5"), d("3.5")));
    assert!(ledger_holds(&app, agent.account_id).await);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn the_limits_an_agent_sets_are_enforced_by_api_and_dispatcher(db: PgPool) {
    let app = spawn_app(db);
    let agent = agent(&app, "agent@example.com", "100").await;
    let sub = customer(&app, &agent, "shop@example.com").await;
    // Retail 0.80 (the platform rate): a daily limit of 2.00 allows two messages.
    let r = set_limits(&app, &agent, sub.account_id, json!({"daily_limit": "2"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["daily_limit"], "2.0000");
    sent(
        &app,
        &sub.access,
        json!({"to": [SAFARICOM, SAFARICOM_2], "text": "Hi"}),
    )
    .await;
    refused(
        &app,
        &sub,
        StatusCode::PAYMENT_REQUIRED,
        "the daily sending limit set by the organisation's agent is reached",
    )
    .await;
    let standing = app
        .get(
            &format!("/v1/agent/customers/{}/limits", sub.account_id),
            &agent.access,
        )
        .await;
    assert_eq!(standing.json["spent_today"], "1.6000", "{}", standing.text);

    // A credit line of 1.00 (counted from now) with no daily cap: one more message, then no.
    let r = set_limits(&app, &agent, sub.account_id, json!({"credit_line": "1"})).await;
    assert_eq!(r.json["credit_line_used"], "0", "{}", r.text);
    sent(&app, &sub.access, json!({"to": [SAFARICOM], "text": "Hi"})).await;
    refused(
        &app,
        &sub,
        StatusCode::PAYMENT_REQUIRED,
        "the credit line set by the organisation's agent is used up",
    )
    .await;

    // The dispatcher pauses a campaign whose batch would cross the line.
    let list = list_of(&app, &sub, "List", 0, 3).await;
    let sender = sender_of(&app, &sub).await;
    let id = queued(&app, &sub, &sender, &list, "Hi").await;
    let before = money(&app, agent.account_id).await;
    dispatcher(&app, 10).drain().await.unwrap();
    let k = campaign(&app, &sub, &id).await;
    assert_eq!(k["status"], "paused", "{k}");
    assert!(
        k["pause_reason"].as_str().unwrap().contains("credit line"),
        "{k}"
    );
    assert_eq!(money(&app, agent.account_id).await, before);

    // Renewed and widened: the campaign goes out.
    let r = set_limits(
        &app,
        &agent,
        sub.account_id,
        json!({"credit_line": "10", "renew_credit_line": true}),
    )
    .await;
    assert_eq!(r.json["credit_line_used"], "0", "{}", r.text);
    act(&app, &sub, &id, "resume", json!({})).await;
    dispatcher(&app, 10).drain().await.unwrap();
    assert_eq!(campaign(&app, &sub, &id).await["dispatched_count"], 3);
    // Limits are removed by sending none.
    let r = set_limits(&app, &agent, sub.account_id, json!({})).await;
    assert_eq!(r.json["credit_line"], serde_json::Value::Null, "{}", r.text);
    let bad = set_limits(&app, &agent, sub.account_id, json!({"daily_limit": "-1"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn the_agents_ledger_holds_under_concurrent_sub_customer_campaigns(db: PgPool) {
    let app = spawn_app(db);
    let agent = agent(&app, "agent@example.com", "30").await;
    let mut campaigns = Vec::new();
    for i in 0..3u32 {
        let sub = customer(&app, &agent, &format!("shop{i}@example.com")).await;
        let list = list_of(&app, &sub, "List", i * 100, 30).await;
        let sender = sender_of(&app, &sub).await;
        let id = queued(&app, &sub, &sender, &list, "Hi").await;
        campaigns.push((sub, id));
    }
    // 90 messages at 0.50 = 45 > 30: four dispatchers race, the agent's credits decide.
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let d = dispatcher(&app, 7);
            tokio::spawn(async move { d.drain().await })
        })
        .collect();
    for run in runs {
        run.await.unwrap().unwrap();
    }
    let (balance, reserved) = money(&app, agent.account_id).await;
    assert!(balance >= Decimal::ZERO, "{balance}");
    let written: Decimal = sqlx::query_scalar(
        "SELECT coalesce(sum(billed_cost), 0) FROM messages WHERE billed_account_id = $1",
    )
    .bind(agent.account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(reserved, written);
    assert_eq!(balance + reserved, d("30"));
    assert!(ledger_holds(&app, agent.account_id).await);
    // Settle all that was written, some delivered, some failed (and replayed).
    let ids: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM messages WHERE billed_account_id = $1 ORDER BY id")
            .bind(agent.account_id)
            .fetch_all(&app.db)
            .await
            .unwrap();
    let events: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let state = if i % 3 == 0 {
                DeliveryState::Failed
            } else {
                DeliveryState::Delivered
            };
            event(*id, state, i as i64)
        })
        .collect();
    for chunk in events.chunks(11) {
        apply(&app.app_pool, chunk).await;
    }
    apply(&app.app_pool, &events).await;
    let failed = ids.len().div_ceil(3);
    let (balance, reserved) = money(&app, agent.account_id).await;
    assert_eq!(reserved, Decimal::ZERO);
    let charged = d("0.5") * Decimal::from(ids.len() - failed);
    assert_eq!(balance, d("30") - charged);
    assert!(ledger_holds(&app, agent.account_id).await);
    for (sub, _) in &campaigns {
        assert!(ledger_holds(&app, sub.account_id).await);
    }
}
