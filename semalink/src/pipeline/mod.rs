//! `semalink pipeline`: the whole product end to end, timed — a campaign to `recipients`
//! contacts through the public API (staff login, signup + email verification, sender ID
//! approved by staff, rates, a top-up, the CSV import, campaign create → submit → send), the
//! dispatcher and publisher, the bus (RabbitMQ to separate engine processes with Redis
//! correlation, or the in-process bus of one `semalink up`), the simulator, its receipts,
//! the status consumer and settlement, until the campaign is `completed`; then the end state
//! is checked ([`checks::Checks`]). With `faults` (RabbitMQ mode) the deployment is hurt on
//! the way ([`Fault`]): the control plane SIGKILLed while it dispatches and publishes, an
//! engine SIGKILLed, the control plane SIGKILLed again while the status consumer applies,
//! the broker restarted. `loadtest/scenarios/pipeline.sh` and `pipeline-fault-run.sh` run it.

pub mod checks;
pub mod deploy;
pub mod driver;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;
use sqlx::PgPool;
use tokio::time::Instant;
use uuid::Uuid;

pub use deploy::{Deployment, Mode, Setup};

/// The campaign's text (one GSM-7 part with the first name filled in).
pub const TEXT: &str =
    "Habari {first_name}, your Sema Link order has shipped. Track it in the app.";

/// What is done to the deployment during a fault run, in this order, each when the campaign
/// has reached its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// SIGKILL the control plane while it dispatches and publishes (at 20 % dispatched).
    KillControlPlaneDispatching,
    /// SIGKILL engine 0 (at 25 % final).
    KillEngine,
    /// SIGKILL the control plane while its status consumer applies (at 45 % final).
    KillControlPlaneApplying,
    /// Restart the broker (at 65 % final).
    RestartBroker,
}

impl Fault {
    const PLAN: [Fault; 4] = [
        Fault::KillControlPlaneDispatching,
        Fault::KillEngine,
        Fault::KillControlPlaneApplying,
        Fault::RestartBroker,
    ];

    fn due(self, p: &Progress) -> bool {
        let total = p.total.max(1) as f64;
        match self {
            Fault::KillControlPlaneDispatching => p.dispatched as f64 >= 0.2 * total,
            Fault::KillEngine => p.finals as f64 >= 0.25 * total,
            Fault::KillControlPlaneApplying => p.finals as f64 >= 0.45 * total,
            Fault::RestartBroker => p.finals as f64 >= 0.65 * total,
        }
    }
}

/// One fault as it happened.
#[derive(Debug, Clone, Serialize)]
pub struct FaultEvent {
    /// What.
    pub fault: Fault,
    /// Seconds after "send".
    pub at_secs: f64,
    /// The campaign at that moment.
    pub progress: Progress,
    /// Seconds until the hurt part was back.
    pub outage_secs: f64,
}

/// The campaign's counters as the database has them.
#[derive(Debug, Clone, Copy, Default, Serialize, sqlx::FromRow)]
pub struct Progress {
    /// Recipients.
    pub total: i64,
    /// Messages written.
    pub dispatched: i64,
    /// Messages waiting in the outbox.
    pub outbox: i64,
    /// Final messages.
    pub finals: i64,
    /// Completed.
    pub completed: bool,
}

impl Progress {
    async fn read(db: &PgPool, campaign: Uuid) -> anyhow::Result<Progress> {
        Ok(sqlx::query_as(
            "SELECT total_recipients::int8 AS total, dispatched_count::int8 AS dispatched,
                    (SELECT count(*) FROM message_outbox WHERE leased_at IS NULL) AS outbox,
                    (delivered_count + failed_count + expired_count + rejected_count)::int8
                        AS finals,
                    status = 'completed' AS completed
             FROM campaigns WHERE id = $1",
        )
        .bind(campaign)
        .fetch_one(db)
        .await?)
    }
}

/// A run's settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// The deployment.
    pub setup: Setup,
    /// Contacts imported and sent to.
    pub recipients: usize,
    /// Hurt the deployment on the way (RabbitMQ mode).
    pub faults: bool,
    /// Pause between a SIGKILL and the restart.
    pub restart_after: Duration,
    /// Give up after this long from "send".
    pub deadline: Duration,
}

/// What a run measured and found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The bus.
    pub mode: Mode,
    /// Engine processes (RabbitMQ mode).
    pub engines: usize,
    /// Recipients asked for.
    pub recipients: usize,
    /// Contacts the import linked to the list.
    pub contacts: u64,
    /// Seconds for signup … sender ID … top-up.
    pub setup_secs: f64,
    /// Seconds of the CSV import (upload + commit).
    pub import_secs: f64,
    /// Seconds from "send" until every message was written.
    pub dispatched_secs: Option<f64>,
    /// Seconds from "send" until the first final message.
    pub first_final_secs: Option<f64>,
    /// Seconds from "send" until the campaign was `completed`.
    pub completed_secs: f64,
    /// Messages / `completed_secs`.
    pub messages_per_sec: f64,
    /// The faults, as they happened.
    pub faults: Vec<FaultEvent>,
    /// Control-plane processes started (1 without faults).
    pub control_plane_starts: u32,
    /// `submit_sm`s the simulator received and how many repeated one it had seen (RabbitMQ
    /// mode: the simulator is in this process).
    pub upstream_submits: Option<u64>,
    /// Of which repeats.
    pub upstream_duplicates: Option<u64>,
    /// The engines' unmatched receipts and receipts of duplicates (RabbitMQ mode).
    pub engine_receipts_unmatched: Option<u64>,
    /// Receipts matched to a duplicate's intent.
    pub engine_receipts_of_duplicates: Option<u64>,
    /// The end state.
    pub checks: checks::Checks,
    /// What is wrong (empty: passed).
    pub failures: Vec<String>,
    /// The run directory (logs).
    pub work_dir: PathBuf,
}

impl Report {
    /// One summary line.
    pub fn summary(&self) -> String {
        format!(
            "{:?} {} recipients: completed in {:.1} s ({:.0} messages/s end to end; dispatched \
             {:.1} s, import {:.1} s), {} faults, statuses {:?}, ledger verified {}, {}",
            self.mode,
            self.checks.messages,
            self.completed_secs,
            self.messages_per_sec,
            self.dispatched_secs.unwrap_or(f64::NAN),
            self.import_secs,
            self.faults.len(),
            self.checks.by_status,
            self.checks.ledger_verified,
            if self.failures.is_empty() {
                "PASSED".to_owned()
            } else {
                format!("FAILED: {}", self.failures.join("; "))
            }
        )
    }
}

/// Runs it: starts the deployment, drives the campaign, checks the end, stops everything.
pub async fn run(options: Options) -> anyhow::Result<Report> {
    let mut d = Deployment::start(options.setup.clone()).await?;
    let result = drive(&options, &mut d).await;
    d.stop().await;
    result
}

async fn drive(options: &Options, d: &mut Deployment) -> anyhow::Result<Report> {
    let tag = &options.setup.tag;
    seed_staff(&d.db, &options.setup.repo).await?;
    let started = Instant::now();
    let staff = driver::staff(&d.api_base).await?;
    let mut org = driver::organisation(&d.api_base, &d.db, &staff, tag, options.recipients)
        .await
        .context("preparing the organisation")?;
    let setup_done = started.elapsed();
    tracing::info!(
        contacts = org.contacts,
        secs = setup_done.as_secs_f64(),
        "organisation ready"
    );
    let import_secs = org.import_secs;
    let id = driver::send_campaign(&org, TEXT).await?;
    let sent = Instant::now();
    let campaign: Uuid = id.parse()?;
    tracing::info!(campaign = %id, "campaign sent");

    let mut plan: Vec<Fault> = if options.faults {
        Fault::PLAN.to_vec()
    } else {
        Vec::new()
    };
    plan.reverse();
    let mut faults = Vec::new();
    let mut dispatched_secs = None;
    let mut first_final_secs = None;
    let mut last_log = Instant::now();
    let completed_secs = loop {
        let p = match Progress::read(&d.db, campaign).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "reading progress");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let at = sent.elapsed().as_secs_f64();
        if dispatched_secs.is_none() && p.total > 0 && p.dispatched >= p.total {
            dispatched_secs = Some(at);
        }
        if first_final_secs.is_none() && p.finals > 0 {
            first_final_secs = Some(at);
        }
        if p.completed {
            break at;
        }
        if last_log.elapsed() >= Duration::from_secs(5) {
            tracing::info!(at, ?p, "progress");
            last_log = Instant::now();
        }
        if let Some(&fault) = plan.last()
            && fault.due(&p)
        {
            plan.pop();
            let began = Instant::now();
            tracing::warn!(?fault, at, ?p, "fault");
            inject(d, fault, options.restart_after).await?;
            faults.push(FaultEvent {
                fault,
                at_secs: at,
                progress: p,
                outage_secs: began.elapsed().as_secs_f64(),
            });
        }
        if sent.elapsed() > options.deadline {
            anyhow::bail!(
                "the campaign was not completed within {:?}: {p:?}",
                options.deadline
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // The campaign through the public API, as its owner sees it.
    let seen = driver::campaign(&mut org, &id).await.unwrap_or_default();
    tracing::info!(status = %seen["status"], delivered = %seen["delivered_count"],
        failed = %seen["failed_count"], spent = %seen["spent_cost"], "completed (public API)");
    // Late status events (duplicates after a restart) must change nothing: give them a moment.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let checks = checks::Checks::read(&d.db, org.account_id, campaign, org.topup).await?;
    let failures = checks.failures(org.contacts as i64);
    let (unmatched, duplicates) = match options.setup.mode {
        Mode::Amqp => {
            let (u, dup) = d.engine_counters().await;
            (Some(u), Some(dup))
        }
        Mode::Embedded => (None, None),
    };
    let stats = d.sim().map(|s| s.stats());
    Ok(Report {
        mode: options.setup.mode,
        engines: match options.setup.mode {
            Mode::Amqp => options.setup.engines,
            Mode::Embedded => 1,
        },
        recipients: options.recipients,
        contacts: org.contacts,
        setup_secs: setup_done.as_secs_f64() - import_secs,
        import_secs,
        dispatched_secs,
        first_final_secs,
        completed_secs,
        messages_per_sec: checks.messages as f64 / completed_secs,
        faults,
        control_plane_starts: d.control_plane_starts,
        upstream_submits: stats.as_ref().map(|s| s.submits),
        upstream_duplicates: stats.as_ref().map(|s| s.duplicates_received),
        engine_receipts_unmatched: unmatched,
        engine_receipts_of_duplicates: duplicates,
        checks,
        failures,
        work_dir: d.work_dir().to_owned(),
    })
}

async fn inject(d: &mut Deployment, fault: Fault, pause: Duration) -> anyhow::Result<()> {
    match fault {
        Fault::KillControlPlaneDispatching | Fault::KillControlPlaneApplying => {
            d.kill_control_plane();
            tokio::time::sleep(pause).await;
            d.start_control_plane().await
        }
        Fault::KillEngine => {
            d.kill_engine(0);
            tokio::time::sleep(pause).await;
            d.restart_engine(0).await
        }
        Fault::RestartBroker => d.restart_broker().await,
    }
}

/// The first staff member, as `semalink-api seed-staff` makes it (must change the password
/// at first login); `repo` holds `configs/control-plane.toml` (its password hashing).
pub async fn seed_staff(db: &PgPool, repo: &std::path::Path) -> anyhow::Result<()> {
    use semalink_control_plane::admin::seed::seed_first_owner;
    use semalink_control_plane::identity::password::Passwords;
    let config = semalink_control_plane::Config::load(&repo.join("configs/control-plane.toml"))?;
    let passwords = Passwords::new(&config.auth)?;
    seed_first_owner(
        db,
        &passwords,
        driver::STAFF_EMAIL,
        "Pipeline Ops",
        driver::STAFF_FIRST_PASSWORD,
    )
    .await?;
    Ok(())
}
