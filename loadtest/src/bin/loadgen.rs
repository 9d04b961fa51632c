//! `loadgen`: drive an SMSC (normally `smsc-sim`) and report throughput, latency and losses.
//! Exits non-zero when an accepted message never reached a final state or a submit was never
//! answered.

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand};
use semalink_bus::{QueueType, topology};
use semalink_loadtest::{
    loadgen::{
        self, BlastOptions, SmppTarget, Target, chart,
        mix::{MixOptions, MixSpec},
        progress::Progress,
    },
    sim::idfmt::IdFormat,
};

#[derive(Debug, Parser)]
#[command(version, about = "Load generator for the Sema Link SMS gateway")]
struct Args {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Bare pipelined SMPP binds with pre-encoded submit_sm: the ceiling of SMSC + loopback.
    Blast(Blast),
    /// The engine's HTTP ingress, end to end: POST batches, wait until the engine reports
    /// every message final (its /metrics counters).
    Http(Http),
    /// The engine's RabbitMQ submit queues: publish SubmitRequests with publisher confirms,
    /// then wait for final StatusEvents on the status queue.
    Amqp(Amqp),
    /// A whole deployment (private RabbitMQ node and Redis, the simulator, engine processes)
    /// fed through RabbitMQ while engines are SIGKILLed, the upstream drops its connections
    /// and the broker restarts; reports lost, duplicated upstream, unmatched receipts.
    Fault(Fault),
}

#[derive(Debug, clap::Args)]
struct Fault {
    /// Messages to publish.
    #[arg(long, short = 'n', default_value_t = 100_000)]
    messages: u64,
    /// Engine processes.
    #[arg(long, default_value_t = 2)]
    engines: usize,
    /// Binds per engine process.
    #[arg(long, default_value_t = 2)]
    binds: u32,
    /// Window per bind.
    #[arg(long, default_value_t = 100)]
    window: u32,
    /// No faults: the RabbitMQ + Redis throughput run.
    #[arg(long)]
    no_faults: bool,
    /// The semalink-engine binary (default: next to this one).
    #[arg(long)]
    engine_bin: Option<PathBuf>,
    /// Run directory: engine config and logs, broker data and logs (default: a new one in
    /// the temp dir).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Milliseconds between an engine's SIGKILL and its restart.
    #[arg(long, default_value_t = 2000)]
    restart_after_ms: u64,
    /// Seconds to wait for every final state after publishing.
    #[arg(long, default_value_t = 600)]
    final_wait_secs: u64,
    /// The engines' correlation.parked_ttl_secs (unmatched receipts are reported after it).
    #[arg(long, default_value_t = 15)]
    parked_ttl_secs: u64,
    /// RUST_LOG of the engine processes.
    #[arg(long, default_value = "warn")]
    engine_log: String,
    /// Submit requests per published envelope (1 = bare messages).
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Write the JSON report here too.
    #[arg(long)]
    report: Option<PathBuf>,
    #[command(flatten)]
    mix: MixArgs,
}

async fn fault(f: Fault) -> anyhow::Result<()> {
    use semalink_loadtest::scenario::fault::{self, FaultOptions};
    use tracing_subscriber::EnvFilter;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("semalink_loadtest=info")),
        )
        .init();
    let engine_bin = match f.engine_bin {
        Some(p) => p,
        None => std::env::current_exe()?
            .parent()
            .context("no directory of the loadgen binary")?
            .join("semalink-engine"),
    };
    anyhow::ensure!(
        engine_bin.is_file(),
        "{} not found: build it (cargo build --release -p semalink-engine) or pass --engine-bin",
        engine_bin.display()
    );
    anyhow::ensure!(f.engines >= 1, "--engines must be at least 1");
    let work_dir = f.work_dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("semalink-fault-{}", std::process::id()))
    });
    eprintln!("run directory {}", work_dir.display());
    let opts = FaultOptions {
        messages: f.messages,
        engines: f.engines,
        binds: f.binds,
        window: f.window,
        engine_bin,
        work_dir,
        plan: if f.no_faults {
            Vec::new()
        } else {
            FaultOptions::default_plan(f.engines)
        },
        mix: f.mix.options()?,
        rate: f.mix.rate,
        restart_after: Duration::from_millis(f.restart_after_ms),
        final_wait: Duration::from_secs(f.final_wait_secs),
        parked_ttl_secs: f.parked_ttl_secs,
        engine_log: f.engine_log,
        batch: f.batch,
    };
    let report = fault::run(opts).await?;
    let json = serde_json::to_string_pretty(&report)?;
    println!("{json}");
    if let Some(path) = &f.report {
        std::fs::write(path, &json).with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!(
        "final msgs/s {:.0}  lost {}  duplicated upstream {} (allowed {})  unmatched receipts {} ({} ids, unexplained {})  {}",
        report.messages_per_sec,
        report.status.lost,
        report.upstream.duplicates,
        report.duplicates_allowed,
        report.receipts_unmatched,
        report.receipts_unmatched_ids,
        report.receipts_unmatched_unexplained,
        if report.passed { "PASSED" } else { "FAILED" }
    );
    if !report.passed {
        std::process::exit(2);
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
struct Amqp {
    /// Broker URL.
    #[arg(long, default_value = "amqp://guest:guest@127.0.0.1:5672/%2f")]
    url: String,
    /// Messages to publish.
    #[arg(long, short = 'n', default_value_t = 100_000)]
    messages: u64,
    /// Queue of the normal lane.
    #[arg(long, default_value = topology::NORMAL_QUEUE)]
    normal_queue: String,
    /// Queue of the high-priority lane.
    #[arg(long, default_value = topology::PRIORITY_QUEUE)]
    priority_queue: String,
    /// Queue to read StatusEvents from.
    #[arg(long, default_value = topology::STATUS_QUEUE)]
    status_queue: String,
    /// Publish only; don't wait for final states.
    #[arg(long)]
    no_wait: bool,
    /// Unconfirmed submit requests in flight.
    #[arg(long, default_value_t = 1000)]
    window: usize,
    /// Submit requests per published envelope (1 = bare messages, as older publishers sent).
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// The submit queues' type, as the engine declares them (`classic` or `quorum`).
    #[arg(long, default_value = "classic", value_parser = parse_queue_type)]
    queue_type: QueueType,
    #[command(flatten)]
    mix: MixArgs,
    /// Seconds to wait for final states after the last confirm.
    #[arg(long, default_value_t = 60)]
    final_wait_secs: u64,
}

fn parse_queue_type(s: &str) -> Result<QueueType, String> {
    match s {
        "classic" => Ok(QueueType::Classic),
        "quorum" => Ok(QueueType::Quorum),
        _ => Err(format!("{s:?}: expected classic or quorum")),
    }
}

async fn amqp(a: Amqp) -> anyhow::Result<()> {
    let opts = loadgen::amqp::AmqpOptions {
        url: a.url,
        messages: a.messages,
        normal_queue: a.normal_queue,
        priority_queue: a.priority_queue,
        status_queue: (!a.no_wait).then_some(a.status_queue),
        mix: a.mix.options()?,
        rate: a.mix.rate,
        window: a.window,
        final_wait: Duration::from_secs(a.final_wait_secs),
        batch: a.batch,
        queue_type: a.queue_type,
    };
    let report = loadgen::amqp::run(&opts).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!(
        "confirmed/s {:.0}  refused {}  expected SMS parts {}",
        report.confirmed_per_sec, report.refused, report.mix.segments
    );
    if let Some(s) = &report.status {
        eprintln!(
            "finals {}  lost {}  duplicates {}  publish→final p50/p99 {:.1}/{:.1} ms",
            s.finals, s.lost, s.duplicates, s.latency_ms.p50, s.latency_ms.p99
        );
    }
    if report.lost_anything() {
        std::process::exit(2);
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
struct Http {
    /// The engine's HTTP address.
    #[arg(long, default_value = "127.0.0.1:8090")]
    engine: std::net::SocketAddr,
    /// Messages to send.
    #[arg(long, short = 'n', default_value_t = 100_000)]
    messages: u64,
    /// Messages per POST.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    #[command(flatten)]
    mix: MixArgs,
    /// Seconds to wait for final states after the last POST.
    #[arg(long, default_value_t = 60)]
    final_wait_secs: u64,
}

/// The message mix of the engine targets (`http`, `amqp`).
#[derive(Debug, clap::Args)]
struct MixArgs {
    /// Sender id.
    #[arg(long, default_value = "SEMALINK")]
    source: String,
    /// Shares of short GSM-7, long (2–4 part) GSM-7 and UCS-2 texts.
    #[arg(long, default_value = "short=70,long=20,ucs2=10")]
    mix: MixSpec,
    /// Seed of the generated messages (same seed, same messages and message ids, which the
    /// engine then treats as duplicates); random when absent, and printed.
    #[arg(long)]
    seed: Option<u64>,
    /// Share (0.0–1.0) of messages in the high-priority lane.
    #[arg(long, default_value_t = 0.1)]
    priority_share: f64,
    /// Messages per second (flat out when absent).
    #[arg(long)]
    rate: Option<f64>,
}

impl MixArgs {
    fn options(&self) -> anyhow::Result<MixOptions> {
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.priority_share),
            "--priority-share must be between 0 and 1"
        );
        let seed = self.seed.unwrap_or_else(|| fastrand::u64(..));
        eprintln!("mix seed {seed}");
        Ok(MixOptions {
            spec: self.mix,
            seed,
            priority_share: self.priority_share,
            sender: self.source.clone(),
            ..MixOptions::default()
        })
    }
}

async fn http(h: Http) -> anyhow::Result<()> {
    let opts = loadgen::http::HttpOptions {
        addr: h.engine,
        messages: h.messages,
        batch: h.batch,
        connections: h.connections,
        mix: h.mix.options()?,
        rate: h.mix.rate,
        final_wait: Duration::from_secs(h.final_wait_secs),
    };
    let report = loadgen::http::run(&opts).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!(
        "accepted/s {:.0}  end-to-end msgs/s {:.0}  lost {}  expected SMS parts {}",
        report.accepted_per_sec, report.end_to_end_per_sec, report.lost, report.mix.segments
    );
    if report.lost > 0 || report.refused > 0 {
        std::process::exit(2);
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
struct Blast {
    /// SMSC address.
    #[arg(long, default_value = "127.0.0.1:2775")]
    smpp: std::net::SocketAddr,
    #[arg(long, default_value = "semalink")]
    system_id: String,
    #[arg(long, default_value = "secret")]
    password: String,
    /// Messages to send (ignored when --duration is given without it).
    #[arg(long, short = 'n')]
    messages: Option<u64>,
    /// Send for this many seconds.
    #[arg(long, short = 'd')]
    duration: Option<u64>,
    /// Concurrent binds.
    #[arg(long, default_value_t = 2)]
    binds: usize,
    /// Unanswered submit_sm allowed per bind.
    #[arg(long, default_value_t = 2000)]
    window: usize,
    #[arg(long, default_value = "SEMALINK")]
    source: String,
    /// Destinations (comma-separated), used in turn.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "254712000001,254733000002,254110000003"
    )]
    dest: Vec<String>,
    #[arg(long, default_value = "Load test")]
    text: String,
    /// Don't request receipts (measures submit/resp only).
    #[arg(long)]
    no_receipts: bool,
    /// Id format of submit_sm_resp (decimal, hex_upper, hex_lower, uuid).
    #[arg(long, default_value = "decimal")]
    resp_id_format: IdFormat,
    /// Id format of receipts.
    #[arg(long, default_value = "decimal")]
    receipt_id_format: IdFormat,
    /// Seconds to wait for outstanding responses after sending stops.
    #[arg(long, default_value_t = 10)]
    drain_secs: u64,
    /// Seconds to wait for outstanding receipts after that.
    #[arg(long, default_value_t = 15)]
    receipt_wait_secs: u64,
    /// Write the JSON report here (it is always printed on stdout too).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Write a PNG chart (throughput over time + latency distribution) here.
    #[arg(long)]
    chart: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let b = match Args::parse().mode {
        Mode::Blast(b) => b,
        Mode::Http(h) => return http(h).await,
        Mode::Amqp(a) => return amqp(a).await,
        Mode::Fault(f) => return fault(f).await,
    };
    let messages = match (b.messages, b.duration) {
        (None, None) => Some(100_000),
        (m, _) => m,
    };
    let opts = BlastOptions {
        messages,
        duration: b.duration.map(Duration::from_secs),
        binds: b.binds,
        window: b.window,
        source: b.source,
        destinations: b.dest,
        text: b.text,
        receipts: !b.no_receipts,
        resp_id: b.resp_id_format,
        receipt_id: b.receipt_id_format,
        drain: Duration::from_secs(b.drain_secs),
        receipt_wait: Duration::from_secs(b.receipt_wait_secs),
    };
    let target = Target::Smpp(SmppTarget {
        addr: b.smpp,
        system_id: b.system_id,
        password: b.password,
    });
    let report = loadgen::blast(&target, opts, Progress::Stderr).await?;
    eprintln!();
    let json = serde_json::to_string_pretty(&report)?;
    println!("{json}");
    if let Some(path) = &b.report {
        std::fs::write(path, &json).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &b.chart {
        chart::write_png(&report, path).with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!(
        "submit_sm/s {:.0}  PDUs/s {:.0}  resp p50/p99 {:.2}/{:.2} ms  lost {}  no response {}",
        report.submits_per_sec,
        report.pdus_per_sec,
        report.latency_ms.submit_resp.p50,
        report.latency_ms.submit_resp.p99,
        report.lost,
        report.no_response
    );
    if report.lost_anything() {
        std::process::exit(2);
    }
    Ok(())
}
