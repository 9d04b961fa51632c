//! The outbox publisher: a POST ends as a `SubmitRequest` on the engine's queue (priority lane
//! for `high`) and the message `queued`, on the in-process bus and on RabbitMQ (unique queue
//! names per test); with the broker away nothing is marked and a later pass publishes every
//! message exactly once from the control plane's side.

use std::time::Duration;

use axum::extract::connect_info::MockConnectInfo;
use semalink_bus::{Bus, Subscription};
use semalink_control_plane::bus::{self, AmqpConfig, Queues};
use semalink_control_plane::messages::publisher::{OutboxPublisher, PublisherConfig};
use semalink_control_plane::service::ControlPlane;
use semalink_protocol::contracts::{Body, Priority, SubmitRequest};
use serde_json::json;
use sqlx::ConnectOptions;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::*;

fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// Queue names no other test uses.
fn unique_amqp(url: &str) -> AmqpConfig {
    let tag = Uuid::now_v7().simple().to_string();
    AmqpConfig {
        priority_queue: format!("test.cp.{tag}.priority"),
        normal_queue: format!("test.cp.{tag}.normal"),
        ..AmqpConfig::new(url)
    }
}

/// The app on `bus`.
fn app_on(db: PgPool, bus: Bus) -> TestApp {
    let mut app = spawn_app(db);
    app.state = app.state.clone().with_bus(bus);
    app.router = semalink_control_plane::app(app.state.clone()).layer(MockConnectInfo(
        std::net::SocketAddr::from(([127, 0, 0, 1], 40000)),
    ));
    app
}

fn config(confirm_timeout_ms: u64) -> PublisherConfig {
    PublisherConfig {
        confirm_timeout_ms,
        ..PublisherConfig::default()
    }
}

/// Receives submit requests from `sub` until `n` arrived (acking each envelope).
pub async fn receive(sub: &mut Subscription<SubmitRequest>, n: usize) -> Vec<SubmitRequest> {
    let mut got = Vec::new();
    while got.len() < n {
        let mut delivery = tokio::time::timeout(Duration::from_secs(10), sub.recv())
            .await
            .expect("a submit request within 10 s")
            .expect("subscription open");
        for item in delivery.take_items() {
            got.push(item.expect("a valid submit request"));
        }
        delivery.ack().await;
    }
    got
}

async fn status(app: &TestApp, id: Uuid) -> String {
    sqlx::query_scalar("SELECT status::text FROM messages WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn in_process_a_post_ends_on_its_lane_and_queued(db: PgPool) {
    let app = spawn_app(db);
    let owner = ready(&app, "owner@example.com", "10").await;
    let queues = Queues::of(None);
    let mut normal = app
        .state
        .bus
        .subscribe::<SubmitRequest>(&queues.normal, 10)
        .unwrap();
    let mut priority = app
        .state
        .bus
        .subscribe::<SubmitRequest>(&queues.priority, 10)
        .unwrap();
    let otp = sent(
        &app,
        &owner.access,
        json!({"to": [SAFARICOM], "text": "code 1234", "priority": "high", "client_reference": "otp", "validity": 300}),
    )
    .await;
    let bulk = sent(
        &app,
        &owner.access,
        json!({"to": [SAFARICOM_2], "text": "sale"}),
    )
    .await;
    // A scheduled message stays in the outbox until its time.
    let tomorrow = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let tomorrow = tomorrow
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let later = sent(
        &app,
        &owner.access,
        json!({"to": [SAFARICOM_2], "text": "later", "send_at": tomorrow}),
    )
    .await;
    let publisher =
        OutboxPublisher::new(app.app_pool.clone(), &app.state.bus, &queues, config(5_000)).unwrap();
    assert_eq!(publisher.drain_once().await.unwrap(), 2);

    let high = receive(&mut priority, 1).await;
    assert_eq!(high[0].message_id, otp[0]);
    assert_eq!(high[0].priority, Priority::High);
    assert_eq!(high[0].destination, SAFARICOM);
    assert_eq!(high[0].sender, "AcmeCorp");
    assert_eq!(high[0].body, Body::Text("code 1234".into()));
    assert_eq!(high[0].client_reference.as_deref(), Some("otp"));
    assert_eq!(high[0].account_id, owner.account_id);
    assert!(high[0].expires_at.is_some());
    let low = receive(&mut normal, 1).await;
    assert_eq!(low[0].message_id, bulk[0]);
    assert_eq!(low[0].priority, Priority::Normal);

    for id in [otp[0], bulk[0]] {
        assert_eq!(status(&app, id).await, "queued");
        assert_eq!(timeline(&app, id).await, ["submitted", "queued"]);
    }
    assert_eq!(status(&app, later[0]).await, "submitted");
    assert_eq!(outbox(&app, owner.account_id).await, 1);
    // The in-process "confirm" keeps nothing across a stop: the published rows stay, leased.
    assert_eq!(leased(&app, owner.account_id).await, 2);
    assert_eq!(publisher.drain_once().await.unwrap(), 0);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn over_rabbitmq_a_post_ends_on_the_queue_and_queued(db: PgPool) {
    let amqp = unique_amqp(&amqp_url());
    let stop = CancellationToken::new();
    let app = app_on(db, bus::connect(Some(&amqp), stop.clone()));
    let owner = ready(&app, "owner@example.com", "10").await;
    let queues = Queues::of(Some(&amqp));
    let ids = sent(
        &app,
        &owner.access,
        json!({"to": [SAFARICOM, SAFARICOM_2], "text": "hello"}),
    )
    .await;
    let publisher = OutboxPublisher::new(
        app.app_pool.clone(),
        &app.state.bus,
        &queues,
        config(10_000),
    )
    .unwrap();
    assert_eq!(publisher.drain_once().await.unwrap(), 2);
    for id in &ids {
        assert_eq!(status(&app, *id).await, "queued");
    }
    // RabbitMQ's confirm is durable: the rows are gone, no lease.
    assert_eq!(outbox(&app, owner.account_id).await, 0);
    assert_eq!(leased(&app, owner.account_id).await, 0);
    let mut sub = app
        .state
        .bus
        .subscribe::<SubmitRequest>(&queues.normal, 10)
        .unwrap();
    let mut got: Vec<Uuid> = receive(&mut sub, 2)
        .await
        .iter()
        .map(|r| r.message_id)
        .collect();
    got.sort();
    assert_eq!(got, ids);
    drop(sub);
    stop.cancel();
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn with_the_broker_away_nothing_is_marked_and_a_later_pass_publishes_once(db: PgPool) {
    let amqp = unique_amqp(&amqp_url());
    let queues = Queues::of(Some(&amqp));
    // A broker that does not answer: nothing listens on port 1.
    let away = AmqpConfig {
        reconnect_max_ms: 200,
        ..unique_amqp("amqp://guest:guest@127.0.0.1:1/%2f")
    };
    let away_stop = CancellationToken::new();
    let dead = bus::connect(Some(&away), away_stop.clone());
    let app = app_on(db, dead.clone());
    let owner = ready(&app, "owner@example.com", "10").await;
    let ids = sent(
        &app,
        &owner.access,
        json!({"to": [SAFARICOM], "text": "hello"}),
    )
    .await;
    let stuck = OutboxPublisher::new(app.app_pool.clone(), &dead, &queues, config(300)).unwrap();
    assert_eq!(stuck.drain_once().await.unwrap(), 1);
    assert_eq!(status(&app, ids[0]).await, "submitted");
    assert_eq!(outbox(&app, owner.account_id).await, 1);
    let attempts: i32 =
        sqlx::query_scalar("SELECT attempts FROM message_outbox WHERE message_id = $1")
            .bind(ids[0])
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(attempts, 1);
    away_stop.cancel();

    // The broker is back (a publisher on a live connection): published from the outbox.
    let stop = CancellationToken::new();
    let live = bus::connect(Some(&amqp), stop.clone());
    let publisher =
        OutboxPublisher::new(app.app_pool.clone(), &live, &queues, config(10_000)).unwrap();
    assert_eq!(publisher.drain_once().await.unwrap(), 1);
    assert_eq!(status(&app, ids[0]).await, "queued");
    assert_eq!(timeline(&app, ids[0]).await, ["submitted", "queued"]);
    assert_eq!(publisher.drain_once().await.unwrap(), 0);
    let mut sub = live.subscribe::<SubmitRequest>(&queues.normal, 10).unwrap();
    let got = receive(&mut sub, 1).await;
    assert_eq!(got[0].message_id, ids[0]);
    // Nothing else arrives: queued exactly once from the control plane's side.
    let extra = tokio::time::timeout(Duration::from_millis(500), sub.recv()).await;
    assert!(extra.is_err(), "a second copy arrived");
    drop(sub);
    stop.cancel();
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn the_services_own_worker_publishes_over_rabbitmq(db: PgPool) {
    let amqp = unique_amqp(&amqp_url());
    let queues = Queues::of(Some(&amqp));
    let mut config = test_config();
    let login = (*db.connect_options()).clone().username("semalink_api");
    config.database.url = login.to_url_lossy().to_string().into();
    config.amqp = Some(amqp);
    // The email worker would send (and redact the link of) the verification email the test
    // reads its token from; this test is about the publisher.
    config.workers.email_outbox = false;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = ControlPlane::start(config, listener, CancellationToken::new())
        .await
        .unwrap();
    let state = handle.state().clone();
    assert!(
        matches!(state.bus, Bus::Amqp(_)),
        "[amqp] configured: RabbitMQ"
    );
    let app = TestApp {
        router: semalink_control_plane::app(state.clone()).layer(MockConnectInfo(
            std::net::SocketAddr::from(([127, 0, 0, 1], 40000)),
        )),
        db: db.clone(),
        app_pool: state.pool.clone(),
        state: state.clone(),
    };
    let owner = ready(&app, "owner@example.com", "10").await;
    let ids = sent(
        &app,
        &owner.access,
        json!({"to": [SAFARICOM], "text": "code 4321", "priority": "high"}),
    )
    .await;
    let mut sub = state
        .bus
        .subscribe::<SubmitRequest>(&queues.priority, 10)
        .unwrap();
    let got = receive(&mut sub, 1).await;
    assert_eq!(got[0].message_id, ids[0]);
    let mut queued = false;
    for _ in 0..100 {
        if status(&app, ids[0]).await == "queued" {
            queued = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(queued, "the worker marked the message queued");
    drop(sub);
    handle.shutdown().await.unwrap();
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_pass_larger_than_a_marking_slice_queues_each_message_once(db: PgPool) {
    use semalink_control_plane::messages::store::MARK_CHUNK;
    let app = spawn_app(db);
    let owner = ready(&app, "owner@example.com", "3000").await;
    let n = 2 * MARK_CHUNK + 500;
    let to: Vec<String> = (0..n)
        .map(|i| format!("+2547{:08}", 20_000_000 + i))
        .collect();
    let mut ids = Vec::new();
    for part in to.chunks(500) {
        ids.extend(sent(&app, &owner.access, json!({"to": part, "text": "sale"})).await);
    }
    assert_eq!(ids.len(), n);
    let queues = Queues::of(None);
    let mut normal = app
        .state
        .bus
        .subscribe::<SubmitRequest>(&queues.normal, 1000)
        .unwrap();
    let publisher = OutboxPublisher::new(
        app.app_pool.clone(),
        &app.state.bus,
        &queues,
        PublisherConfig {
            batch: n as i64,
            ..config(30_000)
        },
    )
    .unwrap();
    let (taken, got) = tokio::join!(publisher.drain_once(), receive(&mut normal, n));
    assert_eq!(taken.unwrap(), n);
    assert_eq!(got.len(), n);
    // One pass, three marking slices: every message queued with exactly one `queued` event.
    let (queued, events): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM messages WHERE account_id = $1 AND status = 'queued'),
                (SELECT count(*) FROM message_events WHERE account_id = $1 AND status = 'queued')",
    )
    .bind(owner.account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((queued, events), (n as i64, n as i64));
    assert_eq!(outbox(&app, owner.account_id).await, 0);
    assert_eq!(publisher.drain_once().await.unwrap(), 0);
}
