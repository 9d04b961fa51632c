//! The spine end to end: `semalink up` in-process (simulator, engine and control plane over
//! one in-process bus), the demo seeded, and `semalink demo`'s campaign path through the
//! public API — a campaign to a 500-contact sample of the demo list, followed over its SSE
//! progress stream to completion, the report and the PNG chart — with every message final as
//! the simulator decides and the ledger settled: verified, nothing reserved, balance =
//! top-up − the delivered messages' cost, no message settled twice. Then the seed runs again
//! (a restart) and adds nothing, and the ordered shutdown returns. The shutdown drills send
//! through `POST /v1/messages`: a stop mid-send applies every status the engine flushed, and
//! a restart on the same database finishes what the stop left queued.

use std::path::PathBuf;
use std::time::Duration;

use rust_decimal::Decimal;
use semalink::demo::{self, DemoRun};
use semalink::seed::{self, DEMO_CONTACTS, DEMO_TOPUP};
use semalink::system::{Configs, Plan, Ports, System};
use semalink_control_plane::credits::store as credits;
use semalink_control_plane::identity::scope::AccountScope;
use sqlx::{ConnectOptions, PgPool};

pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The service's least-privilege login on the test database.
fn service_login(db: &PgPool) -> secrecy::SecretString {
    let login = (*db.connect_options()).clone().username("semalink_api");
    login.to_url_lossy().to_string().into()
}

async fn start(db: &PgPool) -> (System, Plan) {
    let state_dir = std::env::temp_dir().join(format!("semalink-it-{}", uuid::Uuid::now_v7()));
    start_in(db, state_dir).await
}

/// The system on `db` with its demo credentials in `state_dir` (a restart passes the same).
pub async fn start_in(db: &PgPool, state_dir: PathBuf) -> (System, Plan) {
    start_with(db, |plan| plan.state_dir = state_dir, |_| {}).await
}

/// The repository's plan on port 0 with a state directory of its own, changed by `plan_edit`,
/// its configurations with the service login of `db`, changed by `configs_edit`, started.
pub(crate) async fn start_with(
    db: &PgPool,
    plan_edit: impl FnOnce(&mut Plan),
    configs_edit: impl FnOnce(&mut Configs),
) -> (System, Plan) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mut plan = Plan::with_configs(&repo_root());
    plan.ports = Ports::any();
    plan.state_dir = std::env::temp_dir().join(format!("semalink-it-{}", uuid::Uuid::now_v7()));
    plan_edit(&mut plan);
    let mut configs = Configs::load(&plan).unwrap();
    configs.api.database.url = service_login(db);
    configs.api.database.migrate_on_start = false;
    configs.api.database.max_connections = 5;
    configs_edit(&mut configs);
    let system = System::start(&plan, configs).await.unwrap();
    (system, plan)
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn the_demo_campaign_to_five_hundred_contacts_completes_and_the_ledger_settles(db: PgPool) {
    let (system, plan) = start(&db).await;
    let demo_org = system
        .demo
        .clone()
        .expect("the demo organisation is seeded");
    let addr = system.api_addr().unwrap();
    assert_ne!(addr.port(), 0);
    let sim = system.sim().expect("the simulator runs").clone();
    assert_ne!(sim.smpp_addr.port(), 0);

    let contacts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM contact_list_memberships WHERE list_id = $1")
            .bind(demo_org.list_id)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(contacts, DEMO_CONTACTS as i64);

    let run = DemoRun {
        api: format!("http://{addr}"),
        email: demo_org.email.clone(),
        password: demo_org.password.clone(),
        list_id: demo_org.list_id,
        limit: Some(500),
        text: "Habari! Your order is on its way.".into(),
        // A generous overall deadline: no timing assertion, only "eventually final".
        deadline: Duration::from_secs(300),
        chart: Some(plan.state_dir.join("run.png")),
        live: false,
    };
    let report = demo::run(&run).await.unwrap();
    assert_eq!(report.accepted, 500, "{}", report.render());
    assert_eq!(report.progress.done(), 500, "{}", report.render());
    let campaign: (String, i32, Option<i64>) = sqlx::query_as(
        "SELECT c.status::text, c.total_recipients,
                (SELECT count(*) FROM messages m WHERE m.campaign_id = c.id)
         FROM campaigns c WHERE c.id = $1::uuid",
    )
    .bind(&report.campaign_id)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(campaign, ("completed".into(), 500, Some(500)));
    assert!(report.samples.len() >= 2, "the run was followed over SSE");
    assert!(report.deliver_p50_ms.is_some() && report.deliver_p99_ms.is_some());
    let png = std::fs::read(plan.state_dir.join("run.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG chart of the run");
    assert!(report.progress.delivered > 0, "{}", report.render());
    let operators = report.by_operator.len();
    assert!(operators >= 5, "numbers across operators: {operators}");

    let account = demo_org.account_id;
    assert_eq!(
        open_messages(&db, account).await,
        0,
        "every message is final"
    );
    // Settlement happens in the same transaction that makes a message final.
    assert_settled(&db, account).await;
    let delivered_cost: Decimal = sqlx::query_scalar(
        "SELECT coalesce(sum(cost), 0) FROM messages WHERE account_id = $1 AND status = 'delivered'",
    )
    .bind(account)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(report.charged, delivered_cost);
    assert!(sim.stats().submits >= 500);

    // A restart seeds nothing twice.
    let again = seed::seed(system.api().unwrap().state(), &plan.state_dir, &run.api)
        .await
        .unwrap();
    assert_eq!(again.account_id, account);
    assert_eq!(again.list_id, demo_org.list_id);
    assert_eq!(
        again.password, demo_org.password,
        "kept from the credentials file"
    );
    let (topups, lists, senders, users): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM credit_transactions WHERE account_id = $1 AND type = 'topup'),
                (SELECT count(*) FROM contact_lists WHERE account_id = $1),
                (SELECT count(*) FROM sender_ids WHERE account_id = $1),
                (SELECT count(*) FROM users WHERE email = $2)",
    )
    .bind(account)
    .bind(seed::DEMO_EMAIL)
    .fetch_one(&db)
    .await
    .unwrap();
    // Two lists: the demo list and the demo run's 500-contact sample of it.
    assert_eq!((topups, lists, senders, users), (1, 2, 1, 1));

    system.shutdown().await.unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "nothing listens any more"
    );
    let _ = std::fs::remove_dir_all(&plan.state_dir);
}

/// SIGTERM in the middle of a send: whatever the simulator accepted has its `sent` (or a
/// later) status applied before the control plane stops — the engine's flushed events reach
/// the status consumer, whose in-process queue is closed only after the engine stopped.
#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn shutdown_mid_send_applies_every_status_the_engine_flushed(db: PgPool) {
    let (system, plan) = start(&db).await;
    let demo_org = system.demo.clone().unwrap();
    let sim = system.sim().unwrap().clone();
    let mut api = semalink::client::Api::new(&format!("http://{}", system.api_addr().unwrap()));
    api.login(&demo_org.email, &demo_org.password)
        .await
        .unwrap();
    let to = demo::recipients(&api, demo_org.list_id, Some(2_000))
        .await
        .unwrap();
    let (accepted, _) = demo::send(&api, &to[..2_000], "Shutdown drill", "drill")
        .await
        .unwrap();
    assert_eq!(accepted, 2_000);
    // Stop once the engine is sending (the route rates keep most of the 2,000 in flight).
    for _ in 0..600 {
        if sim.stats().submits > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sim.stats().submits > 0, "the engine started sending");

    system.shutdown().await.unwrap();

    let accepted_by_sim = sim.stats().responses.get("ESME_ROK").copied().unwrap_or(0);
    let reported: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages WHERE account_id = $1
            AND status IN ('sent', 'delivered', 'failed', 'expired', 'rejected')",
    )
    .bind(demo_org.account_id)
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(
        reported as u64 >= accepted_by_sim,
        "{accepted_by_sim} submits accepted by the simulator, only {reported} messages past queued"
    );
    assert!(credits::verify(&db, demo_org.account_id).await.unwrap());
    let _ = std::fs::remove_dir_all(&plan.state_dir);
}

/// Messages of `account` not final yet.
async fn open_messages(db: &PgPool, account: uuid::Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM messages WHERE account_id = $1
            AND status NOT IN ('delivered', 'failed', 'expired', 'rejected', 'cancelled')",
    )
    .bind(account)
    .fetch_one(db)
    .await
    .unwrap()
}

/// The ledger of `account` is settled: verified, nothing reserved, the balance the top-up
/// less the delivered messages' cost, and no message in two settlements.
pub async fn assert_settled(db: &PgPool, account: uuid::Uuid) {
    assert!(
        credits::verify(db, account).await.unwrap(),
        "ledger verifies"
    );
    let balance = credits::balance(db, AccountScope::trusted(account))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(balance.reserved, Decimal::ZERO, "nothing reserved");
    let delivered_cost: Decimal = sqlx::query_scalar(
        "SELECT coalesce(sum(cost), 0) FROM messages WHERE account_id = $1 AND status = 'delivered'",
    )
    .bind(account)
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(balance.balance, DEMO_TOPUP - delivered_cost);
    let twice: i64 = sqlx::query_scalar(
        "SELECT count(*) - count(DISTINCT m.id) FROM credit_transactions t,
                jsonb_array_elements_text(t.metadata -> 'messages') AS m (id)
         WHERE t.account_id = $1 AND t.reference LIKE 'settle:%'",
    )
    .bind(account)
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(twice, 0, "a message settled twice");
}

/// A stop in the middle of a send leaves requests in the in-process queue (lost with the
/// process, `queued` in the database, their outbox rows leased); a start on the same database
/// publishes them again, and every message ends final with the ledger settled.
#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_restart_after_a_stop_mid_send_finishes_every_message(db: PgPool) {
    let (system, plan) = start(&db).await;
    let demo_org = system.demo.clone().unwrap();
    let account = demo_org.account_id;
    let sim = system.sim().unwrap().clone();
    let mut api = semalink::client::Api::new(&format!("http://{}", system.api_addr().unwrap()));
    api.login(&demo_org.email, &demo_org.password)
        .await
        .unwrap();
    let to = demo::recipients(&api, demo_org.list_id, Some(5_000))
        .await
        .unwrap();
    let (accepted, _) = demo::send(&api, &to[..5_000], "Restart drill", "drill")
        .await
        .unwrap();
    assert_eq!(accepted, 5_000);
    // Stop once everything is on the bus and the engine is sending: it holds at most its
    // prefetch (twice its windows, 512) in flight and the routes' rates (at most 500/s) keep
    // the rest waiting in the in-process queue.
    for _ in 0..1_200 {
        let submitted: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM messages WHERE account_id = $1 AND status = 'submitted'",
        )
        .bind(account)
        .fetch_one(&db)
        .await
        .unwrap();
        if submitted == 0 && sim.stats().submits > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sim.stats().submits > 0, "the engine started sending");
    system.shutdown().await.unwrap();

    let (queued, leased): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM messages WHERE account_id = $1 AND status = 'queued'),
                (SELECT count(*) FROM message_outbox WHERE leased_at IS NOT NULL)",
    )
    .bind(account)
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(queued > 0, "the stop left requests in the in-process queue");
    assert!(
        leased >= queued,
        "each one kept under a lease: {leased} of {queued}"
    );
    let before = open_messages(&db, account).await;
    assert!(credits::verify(&db, account).await.unwrap());

    let (system, _) = start_in(&db, plan.state_dir.clone()).await;
    let mut open = before;
    for _ in 0..3_000 {
        open = open_messages(&db, account).await;
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        open, 0,
        "{open} of the {before} open at the stop are still not final"
    );
    // A lease the status consumer skipped (its publisher still held the row) outlives its
    // message's `queued`; the next start drops it. None is left of an open message.
    let open_leases: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM message_outbox o JOIN messages m ON m.id = o.message_id
         WHERE m.status IN ('submitted', 'queued', 'sent')",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(open_leases, 0);
    let queued_events: i64 = sqlx::query_scalar(
        "SELECT count(*) - count(DISTINCT message_id) FROM message_events
         WHERE account_id = $1 AND status = 'queued'",
    )
    .bind(account)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        queued_events, 0,
        "published again without a second `queued` step"
    );
    assert_settled(&db, account).await;
    system.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&plan.state_dir);
}
