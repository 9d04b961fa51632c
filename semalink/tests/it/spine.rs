//! The spine end to end: `semalink up` in-process (simulator, engine and control plane over
//! one in-process bus), the demo seeded, the demo owner logged in through the public API,
//! 500 messages sent to the demo list with `POST /v1/messages` (what `semalink demo` does),
//! every message final as the simulator decides, and the ledger settled: verified, nothing
//! reserved, balance = top-up − the delivered messages' cost. Then the seed runs again
//! (a restart) and adds nothing, and the ordered shutdown returns.

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
    start_with(db, |_| {}, |_| {}).await
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
async fn five_hundred_messages_to_the_demo_list_end_final_and_the_ledger_settles(db: PgPool) {
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
        csv: None,
        live: false,
    };
    let report = demo::run(&run).await.unwrap();
    assert_eq!(report.accepted, 500, "{}", report.render());
    assert_eq!(report.progress.done(), 500, "{}", report.render());
    assert!(report.progress.delivered > 0, "{}", report.render());
    let operators = report.by_operator.len();
    assert!(operators >= 5, "numbers across operators: {operators}");

    let account = demo_org.account_id;
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages WHERE account_id = $1
            AND status NOT IN ('delivered', 'failed', 'expired', 'rejected')",
    )
    .bind(account)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(open, 0, "every message is final");
    let delivered_cost: Decimal = sqlx::query_scalar(
        "SELECT coalesce(sum(cost), 0) FROM messages WHERE account_id = $1 AND status = 'delivered'",
    )
    .bind(account)
    .fetch_one(&db)
    .await
    .unwrap();
    // Settlement happens in the same transaction that makes a message final.
    assert!(credits::verify(&db, account).await.unwrap());
    let balance = credits::balance(&db, AccountScope::trusted(account))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(balance.reserved, Decimal::ZERO);
    assert_eq!(balance.balance, DEMO_TOPUP - delivered_cost);
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
    assert_eq!((topups, lists, senders, users), (1, 1, 1, 1));

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
