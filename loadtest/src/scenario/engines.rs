//! Engine processes of a scenario: one config file for all of them (the upstream is the
//! scenario's simulator, token buckets out of the way), the distributed parts switched on by
//! the agreed environment variables (`SEMALINK_ENGINE__AMQP__URL`,
//! `SEMALINK_ENGINE__REDIS__URL`, `SEMALINK_ENGINE__REDIS__KEY_PREFIX`), each process on its
//! own HTTP port. Every incarnation's `/metrics` is scraped while it lives, so the counters of
//! a process that was SIGKILLed are not lost with it.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use tokio::time::Instant;

use super::procs::{Proc, free_port, http_get, metric_sum};
use crate::Error;

/// Counters of one engine process, from its last successful scrape.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scrape {
    /// `semalink_engine_unmatched_receipts_total`.
    pub unmatched_receipts: f64,
    /// `semalink_engine_duplicate_submit_receipts_total`: receipts matched to an unanswered
    /// submit's intent (the receipts of duplicates).
    pub duplicate_receipts: f64,
    /// Sum of `semalink_engine_window_occupancy` over its binds.
    pub window_occupancy: f64,
    /// `semalink_engine_submits_total`.
    pub submits: f64,
}

/// What the engines are given.
#[derive(Debug, Clone)]
pub struct EngineSetup {
    /// The `semalink-engine` binary.
    pub bin: PathBuf,
    /// The config file written by [`write_config`].
    pub config: PathBuf,
    /// Broker URL.
    pub amqp_url: String,
    /// Redis URL.
    pub redis_url: String,
    /// Redis key prefix of the run.
    pub key_prefix: String,
    /// `RUST_LOG` of the engines.
    pub log_filter: String,
    /// Where the logs go.
    pub dir: PathBuf,
}

/// The ingress token of the scenario's engines (`http.token`; `/metrics` needs it).
pub const TOKEN: &str = "fault-run-ingress-token-0123";

/// Writes the engines' config: one upstream (the simulator at `sim_port`) with `binds` binds
/// of `window`, rates raised out of the way, short reconnect back-off, `parked_ttl_secs`.
pub fn write_config(
    path: &Path,
    sim_port: u16,
    binds: u32,
    window: u32,
    parked_ttl_secs: u64,
) -> Result<(), Error> {
    let text = format!(
        r#"# Written by the fault-run scenario (loadtest/src/scenario/engines.rs).
[http]
listen = "127.0.0.1:0"                  # SEMALINK_ENGINE__HTTP__LISTEN per process
token = "{TOKEN}"

[[upstreams]]
name = "sim"
host = "127.0.0.1"
port = {sim_port}
system_id = "semalink"
password = "secret"
binds = {binds}                         # per process: the simulator allows processes x binds
window = {window}
response_timeout_ms = 5000
reconnect_min_ms = 100
reconnect_max_ms = 2000

[default_route]
upstream = "sim"
rate = 1000000.0
burst = 10000

[retry]
max_attempts = 5
backoff_min_ms = 100
backoff_max_ms = 2000

[correlation]
ttl_secs = 259200
parked_ttl_secs = {parked_ttl_secs}

[shutdown]
deadline_ms = 5000
"#
    );
    std::fs::write(path, text).map_err(|e| Error::Scenario(format!("{}: {e}", path.display())))
}

/// One engine slot: the process of its current incarnation and the last scrape of each
/// incarnation so far.
#[derive(Debug)]
pub struct EngineProc {
    /// Slot number.
    pub index: usize,
    addr: SocketAddr,
    proc: Option<Proc>,
    /// Last scrape per incarnation (the last entry is the current one).
    pub incarnations: Vec<Scrape>,
}

impl EngineProc {
    /// A slot with a free HTTP port; not started.
    pub fn new(index: usize) -> Result<Self, Error> {
        Ok(EngineProc {
            index,
            addr: SocketAddr::from(([127, 0, 0, 1], free_port()?)),
            proc: None,
            incarnations: Vec::new(),
        })
    }

    /// The HTTP address (ingress, `/ready`, `/metrics`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts a new incarnation.
    pub fn start(&mut self, setup: &EngineSetup) -> Result<(), Error> {
        let mut cmd = Command::new(&setup.bin);
        cmd.arg("--config")
            .arg(&setup.config)
            .env("SEMALINK_ENGINE__HTTP__LISTEN", self.addr.to_string())
            .env("SEMALINK_ENGINE__AMQP__URL", &setup.amqp_url)
            .env("SEMALINK_ENGINE__REDIS__URL", &setup.redis_url)
            .env("SEMALINK_ENGINE__REDIS__KEY_PREFIX", &setup.key_prefix)
            .env("RUST_LOG", &setup.log_filter);
        let log = setup.dir.join(format!("engine-{}.log", self.index));
        self.proc = Some(Proc::spawn(&format!("engine-{}", self.index), cmd, &log)?);
        self.incarnations.push(Scrape::default());
        Ok(())
    }

    /// Waits until `/ready` answers 200.
    pub async fn wait_ready(&mut self, limit: Duration) -> Result<(), Error> {
        let until = Instant::now() + limit;
        loop {
            if let Some((200, _)) = http_get(self.addr, "/ready").await {
                return Ok(());
            }
            if self.proc.as_mut().is_none_or(|p| p.exited()) {
                return Err(Error::Scenario(format!(
                    "engine-{} exited; see its log in the run directory",
                    self.index
                )));
            }
            if Instant::now() >= until {
                return Err(Error::Scenario(format!(
                    "engine-{} not ready within {limit:?}",
                    self.index
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Reads `/metrics` into the current incarnation's scrape; returns it (`None` when the
    /// process does not answer).
    pub async fn scrape(&mut self) -> Option<Scrape> {
        self.proc.as_ref()?;
        let (200, text) = http_get(self.addr, "/metrics").await? else {
            return None;
        };
        let s = Scrape {
            unmatched_receipts: metric_sum(&text, "semalink_engine_unmatched_receipts_total"),
            duplicate_receipts: metric_sum(
                &text,
                "semalink_engine_duplicate_submit_receipts_total",
            ),
            window_occupancy: metric_sum(&text, "semalink_engine_window_occupancy"),
            submits: metric_sum(&text, "semalink_engine_submits_total"),
        };
        if let Some(last) = self.incarnations.last_mut() {
            *last = s;
        }
        Some(s)
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill();
        }
    }

    /// SIGTERM and a graceful shutdown (SIGKILL after `grace`).
    pub async fn stop(&mut self, grace: Duration) {
        if let Some(mut p) = self.proc.take() {
            p.terminate(grace).await;
        }
    }

    /// Unmatched receipts over every incarnation.
    pub fn unmatched_receipts(&self) -> u64 {
        self.incarnations
            .iter()
            .map(|s| s.unmatched_receipts as u64)
            .sum()
    }

    /// Receipts of duplicate submits over every incarnation.
    pub fn duplicate_receipts(&self) -> u64 {
        self.incarnations
            .iter()
            .map(|s| s.duplicate_receipts as u64)
            .sum()
    }
}
