//! The one send gate: a suspended organisation, or one whose agent is suspended, cannot send
//! by any path (messages API, Kannel, Africa's Talking, campaign send / schedule / resume), and
//! what it had accepted before is held by the dispatcher and the publisher until reactivated.

use semalink_control_plane::bus::Queues;
use semalink_control_plane::campaigns::dispatch::Pass;
use semalink_control_plane::messages::publisher::{OutboxPublisher, PublisherConfig};
use semalink_protocol::contracts::SubmitRequest;
use sqlx::PgPool;

use super::*;
use crate::messages::{outbox, send_json};
use crate::sender_ids::api_key;

async fn set_status(app: &TestApp, account_id: Uuid, status: &str) {
    sqlx::query("UPDATE accounts SET status = $2::account_status WHERE id = $1")
        .bind(account_id)
        .bind(status)
        .execute(&app.db)
        .await
        .unwrap();
}

/// Every sending path refuses with `reason`, and nothing new is written.
pub async fn refused_everywhere(app: &TestApp, user: &User, key: &str, draft: &str, reason: &str) {
    let before = crate::messages::count(app, "messages", user.account_id).await;
    let r = send_json(
        app,
        &user.access,
        json!({"to": ["+254712345678"], "text": "Hi"}),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.json["detail"], reason, "{}", r.text);
    let r = crate::messages::kannel::sendsms(
        app,
        &format!("username=shop&password={key}&to=254712345678&text=Hi"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.text, reason);
    let r = crate::messages::africastalking::messaging(
        app,
        key,
        "username=shop&to=%2B254712345678&message=Hi",
    )
    .await;
    let line = &r.json["SMSMessageData"]["Recipients"][0];
    assert_eq!(line["statusCode"], 401, "{}", r.text);
    assert_eq!(line["status"], "RiskHold", "{}", r.text);
    for action in ["send", "schedule"] {
        let body = json!({"send_at": "2099-01-01T09:00:00Z"});
        let r = act(app, user, draft, action, body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{action}: {}", r.text);
        assert_eq!(r.json["detail"], reason);
    }
    assert_eq!(
        crate::messages::count(app, "messages", user.account_id).await,
        before
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_suspended_organisation_or_agent_stops_every_sending_path(db: PgPool) {
    let app = spawn_app(db);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let key = api_key(&app, &a, json!(["messages:send"])).await;
    let list = list_of(&app, &a, "Customers", 0, 6).await;
    let _sub = app
        .state
        .bus
        .subscribe::<SubmitRequest>(&Queues::of(None).normal, 100)
        .unwrap();
    let publisher = OutboxPublisher::new(
        app.app_pool.clone(),
        &app.state.bus,
        &Queues::of(None),
        PublisherConfig::default(),
    )
    .unwrap();
    // A campaign part-way out, and one approved but not yet sent.
    let running = queued(&app, &a, &sender, &list, "Hi").await;
    let dispatcher = dispatcher(&app, 3);
    dispatcher.run_once().await.unwrap();
    assert_eq!(
        dispatcher.run_once().await.unwrap(),
        Pass::Dispatched { messages: 3 }
    );
    let c = create(
        &app,
        &a,
        json!({"name": "Later", "sender_id": sender, "list_ids": [list], "message": "Hey"}),
    )
    .await;
    let draft = c["id"].as_str().unwrap().to_owned();
    let r = act(&app, &a, &draft, "submit", json!({})).await;
    assert_eq!(r.json["status"], "approved", "{}", r.text);

    set_status(&app, a.account_id, "suspended").await;
    let reason = "the organisation is suspended: sending is not allowed";
    refused_everywhere(&app, &a, &key, &draft, reason).await;
    // Held, not lost: the dispatcher writes no more, the publisher publishes none of the three.
    assert_eq!(dispatcher.drain().await.unwrap(), 0);
    assert_eq!(publisher.drain_once().await.unwrap(), 0);
    assert_eq!(outbox(&app, a.account_id).await, 3);
    assert_eq!(campaign(&app, &a, &running).await["dispatched_count"], 3);

    // Reactivated: both carry on from where they stopped.
    set_status(&app, a.account_id, "active").await;
    assert_eq!(publisher.drain_once().await.unwrap(), 3);
    assert_eq!(dispatcher.drain().await.unwrap(), 1);
    assert_eq!(campaign(&app, &a, &running).await["dispatched_count"], 6);

    // The same organisation as a sub-customer of an agent: the agent's suspension bars it.
    let agent = app.verified("agent@example.com").await;
    sqlx::query("UPDATE accounts SET type = 'agent' WHERE id = $1")
        .bind(agent.account_id)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("UPDATE accounts SET type = 'agent_customer', parent_agent_id = $2 WHERE id = $1")
        .bind(a.account_id)
        .bind(agent.account_id)
        .execute(&app.db)
        .await
        .unwrap();
    set_status(&app, agent.account_id, "suspended").await;
    let reason = "the organisation's agent is suspended: sending is not allowed";
    refused_everywhere(&app, &a, &key, &draft, reason).await;
    set_status(&app, agent.account_id, "active").await;
    // A sub-customer's sends draw from its agent's credits (docs/agents.md).
    crate::credits::fund(&app, agent.account_id, "agent-fund", "100").await;
    let r = send_json(
        &app,
        &a.access,
        json!({"to": ["+254712345678"], "text": "Hi"}),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}
