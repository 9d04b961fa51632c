//! A suspension through the CRM goes through the one send gate: the suspended organisation
//! cannot send by the API, its compatibility adapters or campaigns; what it had accepted is
//! held (and flagged) until it is reactivated, then goes out.

use semalink_control_plane::admin::permissions::{Level, Module};
use semalink_control_plane::bus::Queues;
use semalink_control_plane::messages::publisher::{OutboxPublisher, PublisherConfig};
use semalink_protocol::contracts::SubmitRequest;
use serde_json::json;
use sqlx::PgPool;

use super::*;
use crate::campaigns::gate::refused_everywhere;
use crate::campaigns::{act, create, dispatcher, list_of, queued, sender_ready};
use crate::credits::staff_token;
use crate::messages::outbox;
use crate::sender_ids::api_key;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_suspended_org_cannot_send_by_any_path(db: PgPool) {
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
    let running = queued(&app, &a, &sender, &list, "Hi").await;
    let dispatcher = dispatcher(&app, 3);
    dispatcher.run_once().await.unwrap();
    dispatcher.run_once().await.unwrap();
    let c = create(
        &app,
        &a,
        json!({"name": "Later", "sender_id": sender, "list_ids": [list], "message": "Hey"}),
    )
    .await;
    let draft = c["id"].as_str().unwrap().to_owned();
    let r = act(&app, &a, &draft, "submit", json!({})).await;
    assert_eq!(r.json["status"], "approved", "{}", r.text);
    let waiting = outbox(&app, a.account_id).await;
    assert!(waiting > 0);

    let crm = staff_token(&app, &[(Module::Crm, Level::Admin)]).await;
    let r = app
        .post(
            &format!("/v1/admin/crm/orgs/{}/suspend", a.account_id),
            Some(&crm),
            json!({"reason": "Chargebacks"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["suspension"]["held_messages"], waiting, "{}", r.text);
    let reason = "the organisation is suspended: sending is not allowed";
    refused_everywhere(&app, &a, &key, &draft, reason).await;
    assert_eq!(dispatcher.drain().await.unwrap(), 0);
    assert_eq!(publisher.drain_once().await.unwrap(), 0);
    assert_eq!(outbox(&app, a.account_id).await, waiting);

    let r = app
        .post(
            &format!("/v1/admin/crm/orgs/{}/reactivate", a.account_id),
            Some(&crm),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["suspension"]["held_messages"], 0);
    assert_eq!(publisher.drain_once().await.unwrap(), waiting as usize);
    assert!(dispatcher.drain().await.unwrap() > 0);
    let c = crate::campaigns::campaign(&app, &a, &running).await;
    assert_eq!(c["dispatched_count"], 6, "{c}");
}
