//! The fault run: a whole distributed deployment on one machine — a private RabbitMQ node, a
//! private Redis, the simulator (in this process) and `engines` engine processes sharing
//! them — fed `messages` messages through RabbitMQ (`loadgen amqp` publishing: persistent,
//! publisher confirms), while [`Fault`]s hit it: an engine SIGKILLed and restarted, the
//! simulator dropping every connection, the broker restarted. The run ends when every
//! confirmed message has a final status event on `sms.status` (or `final_wait` passes), then
//! waits `parked_ttl_secs` so that receipts which never matched are reported by the engines.
//!
//! What it reports ([`FaultReport`]): lost (confirmed, never final — must be 0), duplicated
//! at the upstream (the simulator counts `submit_sm`s whose content it has seen before),
//! compared with the windows that were in flight when the faults hit, receipts unmatched (the
//! engines' counter summed over every process incarnation; each must belong to a duplicated
//! submit, see [`FaultReport::receipts_unmatched_unexplained`]), and messages per second.
//! Without faults it is the throughput run of docs/performance.md.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde::Serialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{
    engines::{EngineProc, EngineSetup, write_config},
    procs::free_port,
    services::{PrivateRabbit, PrivateRedis},
    status,
};
use crate::{
    Error, SimConfig, Simulator,
    loadgen::{
        amqp::{self, AmqpOptions, StatusReport, Waiter, lock},
        mix::{MixOptions, MixTotals},
    },
    sim::config::Account,
};

/// Something done to the deployment during the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "engine")]
pub enum Fault {
    /// SIGKILL engine `n`, restart it after [`FaultOptions::restart_after`].
    KillEngine(usize),
    /// The simulator drops every SMPP connection at once.
    DropUpstream,
    /// `rabbitmqctl stop` and a fresh boot of the private node (only once publishing is over:
    /// the publisher itself does not reconnect).
    RestartBroker,
}

/// The run's settings.
#[derive(Debug, Clone)]
pub struct FaultOptions {
    /// Messages to publish.
    pub messages: u64,
    /// Engine processes.
    pub engines: usize,
    /// Binds per engine process.
    pub binds: u32,
    /// Window per bind.
    pub window: u32,
    /// The `semalink-engine` binary.
    pub engine_bin: PathBuf,
    /// Run directory (configs, logs, broker data).
    pub work_dir: PathBuf,
    /// `(fraction of the expected SMS parts submitted, fault)`, in order.
    pub plan: Vec<(f64, Fault)>,
    /// The message mix.
    pub mix: MixOptions,
    /// Publish rate (flat out when `None`).
    pub rate: Option<f64>,
    /// Pause between an engine's SIGKILL and its restart.
    pub restart_after: Duration,
    /// How long to wait for every final state once publishing is done.
    pub final_wait: Duration,
    /// The engines' `correlation.parked_ttl_secs`: an unmatched receipt is reported after it.
    pub parked_ttl_secs: u64,
    /// Submit requests per published envelope.
    pub batch: usize,
    /// `RUST_LOG` of the engines.
    pub engine_log: String,
}

impl FaultOptions {
    /// The plan: kill an engine, drop the upstream connections, kill (another)
    /// engine, restart the broker, at 15 / 30 / 45 / 60 % of the expected SMS parts.
    pub fn default_plan(engines: usize) -> Vec<(f64, Fault)> {
        let second = if engines > 1 { 1 } else { 0 };
        vec![
            (0.15, Fault::KillEngine(0)),
            (0.30, Fault::DropUpstream),
            (0.45, Fault::KillEngine(second)),
            (0.60, Fault::RestartBroker),
        ]
    }
}

/// One fault as it happened.
#[derive(Debug, Clone, Serialize)]
pub struct FaultEvent {
    /// What.
    #[serde(flatten)]
    pub fault: Fault,
    /// Seconds since the first publish.
    pub at_secs: f64,
    /// Simulator `submit_sm` count at that moment.
    pub upstream_submits: u64,
    /// Duplicated submits the simulator counted from this fault until the next one (or the
    /// end): the retries and redeliveries it caused, give or take what overlaps.
    pub duplicates_after: u64,
    /// The simulator's duplicate count at that moment.
    #[serde(skip)]
    upstream_duplicates: u64,
    /// `submit_sm`s in the affected engines' windows (their window-occupancy gauges, which
    /// are refreshed every second, read just before).
    pub in_flight_sampled: u64,
    /// What the fault can make the engines submit twice: the affected engines' windows
    /// (binds × window) for a kill or a dropped upstream; their prefetch (the engine's default,
    /// twice the windows) for a broker restart, which redelivers every unacknowledged message.
    pub in_flight_cap: u64,
}

/// What the simulator saw.
#[derive(Debug, Clone, Serialize)]
pub struct UpstreamCounts {
    /// `submit_sm` received.
    pub submits: u64,
    /// Of which answered `ESME_ROK`.
    pub accepted: u64,
    /// `submit_sm` whose (source, destination, short_message) it had seen before.
    pub duplicates: u64,
    /// Receipts sent (first copies).
    pub receipts_sent: u64,
    /// `deliver_sm` sent again for want of a `deliver_sm_resp` (connection lost first).
    pub deliver_sm_redelivered: u64,
    /// Connections it dropped.
    pub disconnects_forced: u64,
    /// Binds refused (`max_binds` = engines × binds per engine).
    pub binds_rejected: u64,
    /// The account's `max_binds`.
    pub max_binds: u32,
}

/// The outcome.
#[derive(Debug, Clone, Serialize)]
pub struct FaultReport {
    /// Messages published.
    pub messages: u64,
    /// Confirmed by the broker.
    pub confirmed: u64,
    /// Refused by the broker.
    pub refused: u64,
    /// What was published (SMS parts expected in `segments`).
    pub mix: MixTotals,
    /// Engine processes, binds each, window per bind.
    pub engines: usize,
    /// Binds per engine.
    pub binds: u32,
    /// Window per bind.
    pub window: u32,
    /// The faults, as they happened.
    pub faults: Vec<FaultEvent>,
    /// Final states seen on `sms.status` (`lost` = confirmed with no final state).
    pub status: StatusReport,
    /// The simulator's counters.
    pub upstream: UpstreamCounts,
    /// Duplicates the faults could explain: the sum of their `in_flight_cap`.
    pub duplicates_allowed: u64,
    /// Receipts no engine could match, over every engine process incarnation (the engines'
    /// counter: a receipt the SMSC delivered again, because the engine that parked it died or
    /// lost the connection before answering, is counted each time).
    pub receipts_unmatched: u64,
    /// Distinct SMSC ids among them (from the engines' "receipt never matched" log lines).
    pub receipts_unmatched_ids: u64,
    /// Unmatched receipt ids beyond the duplicated submits. A submit accepted upstream whose
    /// `submit_sm_resp` died with a killed engine has no mapping, so its receipt cannot match;
    /// its message is redelivered and submitted again (a duplicate), and that copy's receipt
    /// decides it. Only unmatched receipts beyond those copies would be receipts lost to
    /// correlation.
    pub receipts_unmatched_unexplained: u64,
    /// Times the status consumer had to reconnect.
    pub status_reconnects: u64,
    /// Seconds from the first publish until every confirmed message was final.
    pub secs: f64,
    /// Final messages per second over `secs`.
    pub messages_per_sec: f64,
    /// Whether lost = 0, nothing refused, duplicates ≤ allowed and every unmatched receipt is
    /// explained by a duplicated submit.
    pub passed: bool,
}

/// A deployment being driven.
struct Run {
    opts: FaultOptions,
    setup: EngineSetup,
    engines: Vec<EngineProc>,
    rabbit: PrivateRabbit,
    sim: crate::SimHandle,
    started: Instant,
    events: Vec<FaultEvent>,
}

/// Runs the scenario (see the module docs).
pub async fn run(opts: FaultOptions) -> Result<FaultReport, Error> {
    let dir = opts.work_dir.clone();
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::Scenario(format!("{}: {e}", dir.display())))?;
    let tag = format!("fault-{:08x}", fastrand::u32(..));
    let rabbit =
        PrivateRabbit::start(&dir.join("rabbitmq"), &tag, free_port()?, free_port()?).await?;
    let redis = PrivateRedis::start(&dir.join("redis"), free_port()?).await?;
    let max_binds = opts.engines as u32 * opts.binds;
    let sim = Simulator::start(SimConfig {
        smpp_addr: "127.0.0.1:0".parse().expect("address"),
        http_addr: "127.0.0.1:0".parse().expect("address"),
        accounts: vec![Account {
            system_id: "semalink".into(),
            password: "secret".into(),
            max_binds,
        }],
        ..SimConfig::default()
    })
    .await?;
    tracing::info!(smpp = %sim.smpp_addr, http = %sim.http_addr, node = rabbit.node(), "services up");
    let config = dir.join("engine.toml");
    write_config(
        &config,
        sim.smpp_addr.port(),
        opts.binds,
        opts.window,
        opts.parked_ttl_secs,
    )?;
    let setup = EngineSetup {
        bin: opts.engine_bin.clone(),
        config,
        amqp_url: rabbit.url(),
        redis_url: redis.url(),
        key_prefix: format!("sl:{tag}:"),
        log_filter: opts.engine_log.clone(),
        dir: dir.clone(),
    };
    let mut engines = Vec::new();
    for i in 0..opts.engines {
        let mut e = EngineProc::new(i)?;
        e.start(&setup)?;
        engines.push(e);
    }
    for e in &mut engines {
        e.wait_ready(Duration::from_secs(120)).await?;
    }
    let mut run = Run {
        opts,
        setup,
        engines,
        rabbit,
        sim,
        started: Instant::now(),
        events: Vec::new(),
    };
    let result = run.drive().await;
    for e in &mut run.engines {
        e.stop(Duration::from_secs(10)).await;
    }
    let _ = run.rabbit.stop().await;
    run.sim.shutdown();
    drop(redis);
    result
}

impl Run {
    async fn drive(&mut self) -> Result<FaultReport, Error> {
        let expected = (0..self.opts.messages).fold(MixTotals::default(), |mut t, i| {
            t.add(&self.opts.mix.generate(i));
            t
        });
        let waiter = Arc::new(Mutex::new(Waiter::default()));
        let stop = CancellationToken::new();
        let consumer = tokio::spawn(status::consume(
            self.rabbit.url(),
            semalink_bus::topology::STATUS_QUEUE.into(),
            Arc::clone(&waiter),
            stop.clone(),
        ));
        let mut publisher = {
            let mut aopts = AmqpOptions::new(self.rabbit.url(), self.opts.messages);
            aopts.mix = self.opts.mix.clone();
            aopts.rate = self.opts.rate;
            aopts.batch = self.opts.batch;
            let waiter = Arc::clone(&waiter);
            tokio::spawn(async move { amqp::publish(&aopts, &waiter).await })
        };
        self.started = Instant::now();
        let mut published = None;
        let mut plan = self.opts.plan.clone().into_iter().peekable();
        let mut all_final_at = None;
        let mut last_scrape = Instant::now();
        let mut final_deadline = None;
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if published.is_none() && publisher.is_finished() {
                let p = (&mut publisher)
                    .await
                    .map_err(|e| Error::Scenario(format!("publisher: {e}")))??;
                tracing::info!(confirmed = p.confirmed, secs = p.secs, "published");
                published = Some(p);
                final_deadline = Some(Instant::now() + self.opts.final_wait);
            }
            if last_scrape.elapsed() >= Duration::from_secs(1) {
                last_scrape = Instant::now();
                for e in &mut self.engines {
                    e.scrape().await;
                }
            }
            let submits = self.sim.stats().submits;
            if let Some(&(fraction, fault)) = plan.peek() {
                let due = submits as f64 >= fraction * expected.segments as f64;
                let broker_waits = fault == Fault::RestartBroker && published.is_none();
                if due && !broker_waits {
                    plan.next();
                    self.inject(fault, submits).await?;
                }
            } else if published.is_some() && lock(&waiter).all_final() {
                all_final_at = Some(self.started.elapsed());
                break;
            }
            if final_deadline.is_some_and(|d| Instant::now() >= d) {
                tracing::warn!("final wait over with messages not final");
                break;
            }
        }
        let secs = all_final_at
            .unwrap_or_else(|| self.started.elapsed())
            .as_secs_f64();
        // Receipts that never match are reported once they have been parked this long.
        tokio::time::sleep(Duration::from_secs(self.opts.parked_ttl_secs + 3)).await;
        for e in &mut self.engines {
            e.scrape().await;
        }
        stop.cancel();
        let status_reconnects = consumer.await.unwrap_or(0);
        let published =
            published.ok_or_else(|| Error::Scenario("publishing never finished".into()))?;
        Ok(self.report(&waiter, published, secs, status_reconnects))
    }

    /// Applies one fault and records the windows it could hit.
    async fn inject(&mut self, fault: Fault, upstream_submits: u64) -> Result<(), Error> {
        let window = u64::from(self.opts.binds * self.opts.window);
        let affected: Vec<usize> = match fault {
            Fault::KillEngine(i) => vec![i % self.engines.len()],
            Fault::DropUpstream | Fault::RestartBroker => (0..self.engines.len()).collect(),
        };
        // A kill or a dropped upstream can repeat what was on the wire: the windows. A broker
        // restart redelivers every unacknowledged message while its engine may still be
        // submitting it: the engine's prefetch (default twice its windows).
        let cap = match fault {
            Fault::RestartBroker => 2 * window,
            _ => window,
        };
        let mut sampled = 0.0;
        for &i in &affected {
            if let Some(s) = self.engines[i].scrape().await {
                sampled += s.window_occupancy;
            }
        }
        self.events.push(FaultEvent {
            fault,
            at_secs: self.started.elapsed().as_secs_f64(),
            upstream_submits,
            duplicates_after: 0,
            upstream_duplicates: self.sim.stats().duplicates_received,
            in_flight_sampled: sampled as u64,
            in_flight_cap: cap * affected.len() as u64,
        });
        tracing::info!(?fault, upstream_submits, "fault");
        match fault {
            Fault::KillEngine(_) => {
                let e = &mut self.engines[affected[0]];
                e.kill();
                tokio::time::sleep(self.opts.restart_after).await;
                e.start(&self.setup)?;
                e.wait_ready(Duration::from_secs(120)).await?;
            }
            Fault::DropUpstream => self.sim.disconnect_all(),
            Fault::RestartBroker => self.rabbit.restart().await?,
        }
        Ok(())
    }

    fn report(
        &self,
        waiter: &Mutex<Waiter>,
        published: amqp::Published,
        secs: f64,
        status_reconnects: u64,
    ) -> FaultReport {
        let status = lock(waiter).report();
        let s = self.sim.stats();
        let upstream = UpstreamCounts {
            submits: s.submits,
            accepted: s.responses.get("ESME_ROK").copied().unwrap_or(0),
            duplicates: s.duplicates_received,
            receipts_sent: s.receipts_sent,
            deliver_sm_redelivered: s.deliver_sm_redelivered,
            disconnects_forced: s.disconnects_forced,
            binds_rejected: s.binds_rejected,
            max_binds: self.opts.engines as u32 * self.opts.binds,
        };
        let duplicates_allowed = self.events.iter().map(|e| e.in_flight_cap).sum();
        let mut faults = self.events.clone();
        let mut until = s.duplicates_received;
        for e in faults.iter_mut().rev() {
            e.duplicates_after = until.saturating_sub(e.upstream_duplicates);
            until = e.upstream_duplicates;
        }
        let receipts_unmatched: u64 = self
            .engines
            .iter()
            .map(EngineProc::unmatched_receipts)
            .sum();
        let receipts_unmatched_ids = super::logs::unmatched_ids(&self.opts.work_dir);
        let receipts_unmatched_unexplained =
            receipts_unmatched_ids.saturating_sub(upstream.duplicates);
        let passed = status.lost == 0
            && receipts_unmatched_unexplained == 0
            && upstream.duplicates <= duplicates_allowed
            && published.refused == 0;
        FaultReport {
            messages: self.opts.messages,
            confirmed: published.confirmed,
            refused: published.refused,
            mix: published.mix,
            engines: self.opts.engines,
            binds: self.opts.binds,
            window: self.opts.window,
            faults,
            messages_per_sec: status.finals as f64 / secs.max(1e-9),
            status,
            upstream,
            duplicates_allowed,
            receipts_unmatched,
            receipts_unmatched_ids,
            receipts_unmatched_unexplained,
            status_reconnects,
            secs,
            passed,
        }
    }
}
