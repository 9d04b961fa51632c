//! The customer path through RabbitMQ and Redis with the engine as a separate OS process:
//! the simulator in this process, `semalink up --only engine` (the built binary) consuming
//! the test's own queues and correlating on Redis under the test's own key prefix, the
//! control plane in this process (`System` with `--only api --amqp`) on the same queues.
//! The queues are deleted afterwards, also when the test failed; the Redis keys expire
//! (mapping TTL 10 minutes).

use std::future::Future;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use lapin::options::QueueDeleteOptions;
use semalink_control_plane::bus::AmqpConfig;
use semalink_loadtest::Simulator;
use semalink_loadtest::scenario::engines::write_config;
use semalink_loadtest::scenario::procs::{Proc, free_port, http_get};
use sqlx::PgPool;

use super::{assert_settled, customer_campaign, repo_root, sim_config, tag};
use crate::spine::start_with;

fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The engine's broker-side retry delays (its default `[amqp] retry_delays_ms`), for the
/// retry queues to delete.
const RETRY_DELAYS_MS: [u64; 4] = [1_000, 5_000, 30_000, 120_000];

/// Queue names no other test uses.
fn queues(tag: &str) -> AmqpConfig {
    AmqpConfig {
        priority_queue: format!("test.e2e.{tag}.priority"),
        normal_queue: format!("test.e2e.{tag}.normal"),
        status_queue: format!("test.e2e.{tag}.status"),
        inbound_queue: format!("test.e2e.{tag}.inbound"),
        ..AmqpConfig::new(&amqp_url())
    }
}

/// Runs `test`, then deletes the queues of `names` (and the engine's retry queues).
async fn in_queues<Fut>(names: &AmqpConfig, test: Fut)
where
    Fut: Future<Output = ()> + Send + 'static,
{
    let result = tokio::spawn(test).await;
    let conn = semalink_loadtest::loadgen::amqp::connect(&amqp_url())
        .await
        .unwrap();
    let channel = conn.create_channel().await.unwrap();
    let mut all = vec![
        names.priority_queue.clone(),
        names.normal_queue.clone(),
        names.status_queue.clone(),
        names.inbound_queue.clone(),
    ];
    for q in [&names.priority_queue, &names.normal_queue] {
        for ms in RETRY_DELAYS_MS {
            all.push(semalink_bus::topology::retry_queue(
                q,
                Duration::from_millis(ms),
            ));
        }
    }
    for q in all {
        let _ = channel
            .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    let _ = conn.close(200, "test done".into()).await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// `semalink up --only engine` on RabbitMQ (`names`' queues) and Redis (`prefix`), its
/// upstream the simulator at `sim_port`; returns once `/ready` answers.
async fn engine_process(
    names: &AmqpConfig,
    prefix: &str,
    sim_port: u16,
    dir: &std::path::Path,
) -> Proc {
    std::fs::create_dir_all(dir).unwrap();
    let config = dir.join("engine.toml");
    write_config(&config, sim_port, 2, 50, 15).unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port().unwrap()));
    let var = |k: &str| format!("SEMALINK_ENGINE__{k}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_semalink"));
    cmd.current_dir(repo_root())
        .args(["up", "--only", "engine", "--no-demo"])
        .arg("--engine-config")
        .arg(&config)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .args(["--engine-port", &addr.port().to_string()])
        .args(["--amqp", &amqp_url(), "--redis", &redis_url()])
        .env(var("AMQP__PRIORITY_QUEUE"), &names.priority_queue)
        .env(var("AMQP__NORMAL_QUEUE"), &names.normal_queue)
        .env(var("AMQP__STATUS_QUEUE"), &names.status_queue)
        .env(var("AMQP__INBOUND_QUEUE"), &names.inbound_queue)
        .env(var("REDIS__KEY_PREFIX"), prefix)
        .env(var("REDIS__MAPPING_TTL_SECS"), "600")
        .env("RUST_LOG", "warn");
    let mut proc = Proc::spawn("engine", cmd, &dir.join("engine.log")).unwrap();
    for _ in 0..600 {
        if let Some((200, _)) = http_get(addr, "/ready").await {
            return proc;
        }
        assert!(
            !proc.exited(),
            "the engine process exited: {}",
            std::fs::read_to_string(proc.log()).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the engine process was not ready within 120 s");
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn signup_to_settled_campaign_through_rabbitmq_and_an_engine_process(db: PgPool) {
    let tag = tag();
    let names = queues(&tag);
    let test_names = names.clone();
    in_queues(&names, async move {
        let names = test_names;
        let dir = std::env::temp_dir().join(format!("semalink-e2e-{tag}"));
        let sim = Simulator::start(sim_config()).await.unwrap();
        let mut engine = engine_process(
            &names,
            &format!("test-e2e-{tag}:"),
            sim.smpp_addr.port(),
            &dir,
        )
        .await;
        let api_names = names.clone();
        let (system, plan) = start_with(
            &db,
            |plan| {
                plan.demo = false;
                plan.only = Some(semalink::system::Role::Api);
                plan.amqp = Some(amqp_url());
            },
            |configs| {
                configs.api.amqp = Some(api_names);
                // The verification token is read from the email outbox (see embedded.rs).
                configs.api.workers.email_outbox = false;
            },
        )
        .await;
        let base = format!("http://{}", system.api_addr().unwrap());

        let outcome = customer_campaign(&base, &db, &tag).await;

        assert_settled(&outcome);
        assert!(
            sim.stats().submits >= outcome.contacts,
            "every message went upstream through the engine process"
        );
        system.shutdown().await.unwrap();
        engine.terminate(Duration::from_secs(10)).await;
        sim.shutdown();
        let _ = std::fs::remove_dir_all(&plan.state_dir);
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}
