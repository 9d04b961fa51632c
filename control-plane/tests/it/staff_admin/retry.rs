//! Engineering: the manual retry of failed messages — a new attempt, same message id, the
//! cost reserved once more and settled once, published under the attempt's own id, late
//! events of the old attempt ignored; 409 for a message that is not failed, 403 for an
//! organisation that may not send, audited, and its permission matrix.

use axum::http::{Method, StatusCode};
use semalink_control_plane::bus::Queues;
use semalink_control_plane::credits::store as credits_store;
use semalink_control_plane::messages::publisher::{OutboxPublisher, PublisherConfig};
use semalink_control_plane::results::attempts::is_attempt_id;
use semalink_protocol::contracts::{DeliveryState, SubmitRequest};
use serde_json::json;
use sqlx::PgPool;

use super::*;
use crate::credits::{d, staff_token};
use crate::messages::publisher::receive;
use crate::messages::{SAFARICOM, SAFARICOM_2, money, ready, sent, timeline};
use crate::results::{apply, event, status};

const RETRY: &str = "/v1/admin/engineering/failed-messages/retry";

/// Ledger rows of `reference`.
async fn ledger_rows(app: &TestApp, reference: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM credit_transactions WHERE reference = $1")
        .bind(reference)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// (sent, failed, delivered) of the account's rollups.
async fn rollup(app: &TestApp, account: Uuid) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT sum(sent)::int8, sum(failed)::int8, sum(delivered)::int8 FROM message_rollups
         WHERE account_id = $1",
    )
    .bind(account)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn retry_permission_matrix(db: PgPool) {
    let app = spawn_app(db);
    let tokens = tokens_per_level(&app, Module::Engineering).await;
    let nobody = Uuid::now_v7();
    let routes = [route(
        Method::POST,
        RETRY,
        Some(json!({"message_ids": [nobody]})),
        Level::Admin,
    )];
    check_matrix(&app, &tokens, &routes).await;
    let admin = &tokens[2].1;
    let r = app
        .post(RETRY, Some(admin), json!({"message_ids": []}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = app
        .post(RETRY, Some(admin), json!({"message_ids": [nobody]}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_retry_is_charged_once_and_the_old_attempts_late_events_change_nothing(db: PgPool) {
    let app = spawn_app(db);
    let user = ready(&app, "retry@example.com", "100").await;
    let ids = sent(
        &app,
        &user.access,
        json!({"to": [SAFARICOM, SAFARICOM_2], "text": "Habari"}),
    )
    .await;
    let (failed, delivered) = (ids[0], ids[1]);
    // First published under the message ids.
    let queues = Queues::of(None);
    let mut normal = app
        .state
        .bus
        .subscribe::<SubmitRequest>(&queues.normal, 10)
        .unwrap();
    let publisher = OutboxPublisher::new(
        app.app_pool.clone(),
        &app.state.bus,
        &queues,
        PublisherConfig::default(),
    )
    .unwrap();
    assert_eq!(publisher.drain_once().await.unwrap(), 2);
    assert_eq!(receive(&mut normal, 2).await.len(), 2);
    apply(
        &app.app_pool,
        &[
            event(failed, DeliveryState::Sent, 10),
            event(failed, DeliveryState::Failed, 20),
            event(delivered, DeliveryState::Delivered, 30),
        ],
    )
    .await;
    assert_eq!(status(&app, failed).await, "failed");
    // The failure was refunded, the delivery charged.
    assert_eq!(money(&app, user.account_id).await, (d("99.2"), d("0")));
    assert_eq!(rollup(&app, user.account_id).await, (2, 1, 1));

    let staff = staff_token(&app, &[(Module::Engineering, Level::Admin)]).await;
    let me = staff_id(&app, &staff).await;
    let listed = app
        .get("/v1/admin/engineering/failed-messages", &staff)
        .await;
    assert_eq!(listed.json["data"][0]["id"], failed.to_string());

    // A delivered message is not retried (409 naming the status); nothing moves.
    let r = app
        .post(
            RETRY,
            Some(&staff),
            json!({"message_ids": [failed, delivered]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.json["detail"].as_str().unwrap().contains("delivered"));
    assert_eq!(status(&app, failed).await, "failed");
    assert_eq!(money(&app, user.account_id).await, (d("99.2"), d("0")));

    let r = app
        .post(
            RETRY,
            Some(&staff),
            json!({"message_ids": [failed], "note": "upstream outage over"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["data"][0]["message_id"], failed.to_string());
    assert_eq!(r.json["data"][0]["attempt"], 1);
    assert_eq!(r.json["data"][0]["status"], "submitted");
    assert_eq!(r.json["data"][0]["reserved"], "0.8000");
    // Reserved again, once; the old attempt left the counters.
    assert_eq!(money(&app, user.account_id).await, (d("98.4"), d("0.8")));
    let reference = format!("retry:{failed}:1");
    assert_eq!(ledger_rows(&app, &reference).await, 1);
    assert_eq!(rollup(&app, user.account_id).await, (1, 0, 1));
    assert_eq!(status(&app, failed).await, "submitted");
    let audit = audit_rows(&app, "message.retry").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, Some(me));
    assert_eq!(audit[0].1.as_deref(), Some("message"));
    assert_eq!(audit[0].2.as_deref(), Some(failed.to_string().as_str()));
    assert_eq!(audit[0].3["attempt"], 1);
    assert_eq!(audit[0].3["note"], "upstream outage over");
    assert_eq!(audit[0].3["reservation"], reference);

    // A second retry of the same attempt: it is no longer failed.
    let again = app
        .post(RETRY, Some(&staff), json!({"message_ids": [failed]}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert!(again.json["detail"].as_str().unwrap().contains("submitted"));
    assert_eq!(ledger_rows(&app, &reference).await, 1);

    // The publisher sends it again under the attempt's own id.
    assert_eq!(publisher.drain_once().await.unwrap(), 1);
    let requests = receive(&mut normal, 1).await;
    assert_eq!(requests.len(), 1);
    let attempt_id = requests[0].message_id;
    assert!(is_attempt_id(&attempt_id), "{attempt_id}");
    assert_eq!(requests[0].destination, SAFARICOM);
    assert_eq!(status(&app, failed).await, "queued");

    // Late events of the old attempt (under the message id) change nothing.
    let late = apply(
        &app.app_pool,
        &[
            event(failed, DeliveryState::Failed, 5_000),
            event(failed, DeliveryState::Delivered, 5_001),
        ],
    )
    .await;
    assert_eq!(
        (late.applied, late.stale, late.finals),
        (0, 2, 0),
        "{late:?}"
    );
    assert_eq!(status(&app, failed).await, "queued");
    assert_eq!(money(&app, user.account_id).await, (d("98.4"), d("0.8")));

    // The new attempt's events apply to the message and settle it once.
    let new = apply(
        &app.app_pool,
        &[
            event(attempt_id, DeliveryState::Sent, 6_000),
            event(attempt_id, DeliveryState::Delivered, 7_000),
        ],
    )
    .await;
    assert_eq!((new.applied, new.stale, new.finals), (2, 0, 1), "{new:?}");
    assert_eq!(status(&app, failed).await, "delivered");
    assert_eq!(money(&app, user.account_id).await, (d("98.4"), d("0")));
    assert!(
        credits_store::verify(&app.db, user.account_id)
            .await
            .unwrap()
    );
    assert_eq!(rollup(&app, user.account_id).await, (2, 0, 2));
    assert_eq!(
        timeline(&app, failed).await,
        [
            "submitted",
            "queued",
            "sent",
            "failed",
            "submitted",
            "queued",
            "sent",
            "delivered"
        ]
    );
    // A replay of the new attempt's events, and a late one of the old: nothing more.
    let replay = apply(
        &app.app_pool,
        &[
            event(attempt_id, DeliveryState::Delivered, 7_000),
            event(failed, DeliveryState::Failed, 8_000),
        ],
    )
    .await;
    assert_eq!(replay.applied, 0, "{replay:?}");
    assert_eq!(money(&app, user.account_id).await, (d("98.4"), d("0")));
    let done = app
        .post(RETRY, Some(&staff), json!({"message_ids": [failed]}))
        .await;
    assert_eq!(done.status, StatusCode::CONFLICT);
    assert!(done.json["detail"].as_str().unwrap().contains("delivered"));
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_suspended_organisation_or_sender_id_is_not_retried(db: PgPool) {
    let app = spawn_app(db);
    let user = ready(&app, "suspended@example.com", "100").await;
    let ids = sent(&app, &user.access, json!({"to": [SAFARICOM], "text": "Hi"})).await;
    apply(&app.app_pool, &[event(ids[0], DeliveryState::Failed, 10)]).await;
    sqlx::query("UPDATE accounts SET status = 'suspended' WHERE id = $1")
        .bind(user.account_id)
        .execute(&app.db)
        .await
        .unwrap();
    let staff = staff_token(&app, &[(Module::Engineering, Level::Owner)]).await;
    let r = app
        .post(RETRY, Some(&staff), json!({"message_ids": [ids[0]]}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.json["detail"].as_str().unwrap().contains("suspended"));
    assert_eq!(status(&app, ids[0]).await, "failed");
    assert_eq!(money(&app, user.account_id).await, (d("100"), d("0")));
    assert!(audit_rows(&app, "message.retry").await.is_empty());

    // Reactivated, but its sender ID suspended since: not sent again either.
    for sql in [
        "UPDATE accounts SET status = 'active' WHERE id = $1",
        "UPDATE sender_ids SET status = 'suspended', is_default = false WHERE account_id = $1",
    ] {
        sqlx::query(sql)
            .bind(user.account_id)
            .execute(&app.db)
            .await
            .unwrap();
    }
    let r = app
        .post(RETRY, Some(&staff), json!({"message_ids": [ids[0]]}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.json["detail"].as_str().unwrap().contains("sender ID"));
    assert_eq!(money(&app, user.account_id).await, (d("100"), d("0")));
}
