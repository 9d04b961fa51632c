//! Load generator. `blast` mode drives bare pipelined SMPP binds against an SMSC (normally the
//! simulator) to measure the ceiling; the engine's HTTP ingress and RabbitMQ targets slot in
//! as further [`Target`] variants when those exist.

pub mod amqp;
pub mod chart;
pub mod http;
pub mod mix;
pub mod pace;
pub mod progress;
pub mod report;
pub mod smpp;
pub mod tracker;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use rusmpp::CommandStatus;
use tokio::time::Instant;

use crate::{Error, sim::idfmt::IdFormat};
pub use report::Report;
pub use smpp::SmppTarget;

/// What a run sends to. Only SMPP exists today; the engine's HTTP ingress and its RabbitMQ
/// queue are the next variants.
#[derive(Debug, Clone)]
pub enum Target {
    /// Pipelined SMPP binds straight to an SMSC.
    Smpp(SmppTarget),
}

/// How much to send and how.
#[derive(Debug, Clone)]
pub struct BlastOptions {
    /// Stop after this many messages …
    pub messages: Option<u64>,
    /// … or after this long (whichever comes first; one of them must be set).
    pub duration: Option<Duration>,
    /// Concurrent binds.
    pub binds: usize,
    /// Unanswered `submit_sm` allowed per bind.
    pub window: usize,
    /// `source_addr`.
    pub source: String,
    /// Destinations, used in turn.
    pub destinations: Vec<String>,
    /// Message text (a 10-digit counter is appended).
    pub text: String,
    /// Ask for receipts and wait for them.
    pub receipts: bool,
    /// Id format in responses (to correlate receipts).
    pub resp_id: IdFormat,
    /// Id format in receipts.
    pub receipt_id: IdFormat,
    /// How long to wait for outstanding responses after sending stops.
    pub drain: Duration,
    /// How long to wait for outstanding final receipts after the responses.
    pub receipt_wait: Duration,
}

impl Default for BlastOptions {
    fn default() -> Self {
        Self {
            messages: Some(100_000),
            duration: None,
            binds: 1,
            window: 1000,
            source: "SEMALINK".into(),
            destinations: vec!["254712000001".into()],
            text: "Load test".into(),
            receipts: true,
            resp_id: IdFormat::DECIMAL,
            receipt_id: IdFormat::DECIMAL,
            drain: Duration::from_secs(10),
            receipt_wait: Duration::from_secs(10),
        }
    }
}

/// Counters of one per-second bucket.
#[derive(Debug, Default)]
pub struct Bucket {
    /// `submit_sm` written.
    pub sent: AtomicU64,
    /// `submit_sm_resp` read.
    pub responses: AtomicU64,
    /// Receipts read.
    pub receipts: AtomicU64,
}

/// Longest run the per-second series covers.
const MAX_SECONDS: usize = 4 * 3600;

/// State shared by every connection of a run.
#[derive(Debug)]
pub struct Run {
    /// The options.
    pub opts: BlastOptions,
    started: Instant,
    budget: AtomicU64,
    /// Set when sending must stop.
    pub stop: AtomicBool,
    /// `submit_sm` written.
    pub sent: AtomicU64,
    /// `submit_sm_resp` read.
    pub responses: AtomicU64,
    /// When the last response or receipt was read (µs since start).
    pub last_activity_us: AtomicU64,
    /// When the last response was read (µs since start).
    pub last_response_us: AtomicU64,
    statuses: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
    buckets: Vec<Bucket>,
    /// Receipt correlation.
    pub tracker: tracker::Tracker,
    /// Random start of the per-message counter in the text, so that repeated runs against
    /// the same simulator don't look like duplicate submissions.
    pub counter_base: u64,
}

impl Run {
    fn new(opts: BlastOptions) -> Self {
        Self {
            budget: AtomicU64::new(opts.messages.unwrap_or(u64::MAX)),
            opts,
            started: Instant::now(),
            stop: AtomicBool::new(false),
            sent: AtomicU64::new(0),
            responses: AtomicU64::new(0),
            last_activity_us: AtomicU64::new(0),
            last_response_us: AtomicU64::new(0),
            statuses: Default::default(),
            buckets: (0..MAX_SECONDS).map(|_| Bucket::default()).collect(),
            tracker: tracker::Tracker::default(),
            counter_base: fastrand::u64(..10_000_000_000),
        }
    }

    /// Microseconds since the run started.
    pub fn now_us(&self) -> u64 {
        self.started.elapsed().as_micros() as u64
    }

    /// The bucket of the second containing `at_us`.
    pub fn bucket(&self, at_us: u64) -> &Bucket {
        &self.buckets[((at_us / 1_000_000) as usize).min(MAX_SECONDS - 1)]
    }

    /// Takes up to `n` messages from the budget; returns how many were granted.
    pub fn claim(&self, n: u64) -> u64 {
        if self.stop.load(Relaxed) {
            return 0;
        }
        let prev = self
            .budget
            .fetch_update(Relaxed, Relaxed, |b| Some(b.saturating_sub(n)))
            .unwrap_or(0);
        prev.min(n)
    }

    /// Counts a response status.
    pub fn count_status(&self, status: CommandStatus) {
        let mut m = self.statuses.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry(format!("{status:?}")).or_default() += 1;
    }

    /// Waits until every accepted message has a final receipt, or `receipt_wait` passes.
    pub async fn wait_receipts(&self) {
        if !self.opts.receipts {
            return;
        }
        let deadline = Instant::now() + self.opts.receipt_wait;
        while Instant::now() < deadline {
            if self.tracker.terminal_accepted() >= self.tracker.accepted.load(Relaxed) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Runs a blast against `target` and returns the report. `progress` receives a line per
/// second.
pub async fn blast(
    target: &Target,
    opts: BlastOptions,
    progress: progress::Progress,
) -> Result<Report, Error> {
    if opts.messages.is_none() && opts.duration.is_none() {
        return Err(Error::Config("give a message count or a duration".into()));
    }
    let Target::Smpp(smpp_target) = target;
    let templates = Arc::new(smpp::templates(&opts)?);
    let mut streams = Vec::new();
    for _ in 0..opts.binds.max(1) {
        streams.push(smpp::connect(smpp_target).await?);
    }
    let run = Arc::new(Run::new(opts));
    let ticker = tokio::spawn(progress.run(Arc::clone(&run)));
    if let Some(d) = run.opts.duration {
        let r = Arc::clone(&run);
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            r.stop.store(true, Relaxed);
        });
    }
    let conns: Vec<_> = streams
        .into_iter()
        .map(|s| tokio::spawn(smpp::run_conn(s, Arc::clone(&run), Arc::clone(&templates))))
        .collect();
    let mut resp_latency = tracker::histogram();
    for c in conns {
        if let Ok(Ok(r)) = c.await {
            let _ = resp_latency.add(&r.resp_latency);
        }
    }
    ticker.abort();
    let statuses = run
        .statuses
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    Ok(report::build(&run, statuses, &resp_latency))
}
