//! End to end, the customer's whole path through the public HTTP API (what
//! `semalink pipeline` drives, on a few hundred recipients): the first staff member seeded,
//! staff login (the first password changed), signup and email verification (the token read
//! from the email outbox), a sender ID registered and approved by staff, platform rates, a
//! staff top-up, a CSV contact import into a new list, a campaign created, submitted and sent;
//! then the dispatcher, the bus, the engine, `smsc-sim` (9 in 10 receipts `DELIVRD`, the rest
//! `UNDELIV`), the receipts and the status consumer until the campaign is `completed`, and the
//! end checked: the campaign's counters and cost as its owner reads them, the balance through
//! `GET /v1/credits`, and in the database every message final with one final step, settled
//! exactly once, `balance = sum(ledger)`, nothing reserved.
//!
//! * [`embedded`] — one `semalink up` system in this process: the in-process bus.
//! * [`amqp`] — RabbitMQ (unique queue names) and Redis (a unique key prefix) with the
//!   engine as a separate OS process (`semalink up --only engine`).

mod amqp;
mod embedded;

use std::time::Duration;

use rust_decimal::Decimal;
use semalink::pipeline::{self, checks::Checks, driver};
use semalink_loadtest::sim::SimConfig;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::spine::repo_root;

/// Recipients of each run.
const RECIPIENTS: usize = 300;

/// The simulator of these tests: the repository's, on port 0, one receipt in ten `UNDELIV`
/// (so refunds are settled as well as charges).
fn sim_config() -> SimConfig {
    let mut sim = SimConfig::from_file(&repo_root().join("configs/smsc-sim.toml")).unwrap();
    sim.smpp_addr.set_port(0);
    sim.http_addr.set_port(0);
    sim.behaviour.receipts.mix.delivrd = 0.9;
    sim.behaviour.receipts.mix.undeliv = 0.1;
    sim
}

/// What a run ended with.
struct Outcome {
    /// The campaign as its owner reads it (`GET /v1/campaigns/{id}`).
    campaign: Value,
    /// `GET /v1/credits`.
    credits: Value,
    /// The database's view.
    checks: Checks,
    /// Contacts imported.
    contacts: u64,
}

/// The customer path on the API at `base` (`db`: the owner's login of its database), then
/// follows the campaign through the public API until it is `completed`.
async fn customer_campaign(base: &str, db: &PgPool, tag: &str) -> Outcome {
    pipeline::seed_staff(db, &repo_root()).await.unwrap();
    let staff = driver::staff(base).await.unwrap();
    let mut org = driver::organisation(base, db, &staff, tag, RECIPIENTS)
        .await
        .unwrap();
    assert_eq!(org.contacts, RECIPIENTS as u64, "every row imported");
    let id = driver::send_campaign(&org, pipeline::TEXT).await.unwrap();
    // A generous deadline: no timing assertion, only "eventually completed".
    let mut campaign = Value::Null;
    for _ in 0..1_200 {
        if let Some(c) = driver::campaign(&mut org, &id).await
            && c["status"] == "completed"
        {
            campaign = c;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        campaign["status"], "completed",
        "the campaign completes (last seen: {campaign})"
    );
    let credits = org.api.get("/v1/credits").await.unwrap();
    let checks = Checks::read(db, org.account_id, id.parse::<Uuid>().unwrap(), org.topup)
        .await
        .unwrap();
    Outcome {
        campaign,
        credits,
        checks,
        contacts: org.contacts,
    }
}

fn decimal(v: &Value) -> Decimal {
    v.as_str()
        .map(|s| s.parse().unwrap())
        .or_else(|| v.as_f64().map(|f| Decimal::try_from(f).unwrap()))
        .unwrap_or_else(|| panic!("not an amount: {v}"))
}

fn count(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// The end every run must reach.
fn assert_settled(o: &Outcome) {
    let n = o.contacts as i64;
    let failures = o.checks.failures(n);
    assert!(failures.is_empty(), "{failures:?}\n{:#?}", o.checks);
    let by = |s: &str| o.checks.by_status.get(s).copied().unwrap_or(0);
    let c = &o.campaign;
    assert_eq!(count(&c["total_recipients"]), n);
    assert_eq!(count(&c["dispatched_count"]), n);
    assert_eq!(count(&c["delivered_count"]), by("delivered"));
    assert_eq!(count(&c["failed_count"]), by("failed"));
    assert_eq!(count(&c["expired_count"]), by("expired"));
    assert_eq!(count(&c["rejected_count"]), by("rejected"));
    assert!(
        by("delivered") > 0 && by("failed") > 0,
        "{:?}",
        o.checks.by_status
    );
    assert_eq!(decimal(&c["spent_cost"]), o.checks.delivered_cost);
    // Reserved at dispatch (every message's cost), the failed part refunded since.
    assert!(
        decimal(&c["reserved_cost"]) > decimal(&c["spent_cost"]),
        "{c}"
    );
    assert!(c["report"].is_object(), "a final report: {c}");
    assert_eq!(decimal(&o.credits["reserved"]), Decimal::ZERO);
    assert_eq!(
        decimal(&o.credits["balance"]),
        o.checks.topup - o.checks.delivered_cost,
        "the top-up less what was delivered"
    );
}

/// A short unique tag (database-free names: email, list, queues, Redis prefix).
fn tag() -> String {
    Uuid::now_v7().simple().to_string()[20..].to_owned()
}
