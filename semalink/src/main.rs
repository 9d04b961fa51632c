//! `semalink up`: the whole product in one process; `semalink demo`: a run against it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use semalink::demo::{self, DemoRun};
use semalink::pipeline::{self, Mode};
use semalink::seed::Demo;
use semalink::system::{Configs, Plan, Ports, Role, System, check};
use tracing_subscriber::EnvFilter;

/// Sema Link in one process.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulator + engine + control plane over one in-process bus, PostgreSQL from
    /// DATABASE_URL (migrated on start), the demo organisation seeded on first start.
    Up(Up),
    /// Sends a message to every contact of the demo list through the public API, follows it
    /// until every message is final and prints the report.
    Demo(DemoArgs),
    /// A timed campaign end to end on a fresh database (RabbitMQ + separate engine processes,
    /// or the in-process bus), optionally hurt by faults; the end state checked.
    Pipeline(PipelineArgs),
}

#[derive(Debug, clap::Args)]
struct PipelineArgs {
    /// The bus.
    #[arg(long, value_enum, default_value = "amqp")]
    mode: Mode,
    /// Recipients (contacts imported, messages sent).
    #[arg(short = 'n', long, default_value_t = 100_000)]
    recipients: usize,
    /// Engine processes (RabbitMQ mode).
    #[arg(long, default_value_t = 2)]
    engines: usize,
    /// Binds per engine.
    #[arg(long, default_value_t = 2)]
    binds: u32,
    /// Window per bind.
    #[arg(long, default_value_t = 100)]
    window: u32,
    /// SIGKILL the control plane twice and an engine, restart the broker (RabbitMQ mode).
    #[arg(long)]
    faults: bool,
    /// The `semalink-engine` binary.
    #[arg(long, default_value = "target/release/semalink-engine")]
    engine_bin: PathBuf,
    /// An admin login of the PostgreSQL server, a fresh database is created on it (default:
    /// DATABASE_URL).
    #[arg(long)]
    database_url: Option<String>,
    /// Run directory (logs, broker data); default a new one under the temporary directory.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// The JSON report.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Give up this long after "send".
    #[arg(long, default_value_t = 1800)]
    deadline_secs: u64,
    /// `RUST_LOG` of the child processes.
    #[arg(long, default_value = "warn")]
    child_log: String,
}

#[derive(Debug, clap::Args)]
struct Up {
    /// Engine configuration.
    #[arg(long, default_value = "configs/engine.toml")]
    engine_config: PathBuf,
    /// Control-plane configuration.
    #[arg(long, default_value = "configs/control-plane.toml")]
    api_config: PathBuf,
    /// Simulator configuration.
    #[arg(long, default_value = "configs/smsc-sim.toml")]
    sim_config: PathBuf,
    /// RabbitMQ instead of the in-process bus (engine and API each connect).
    #[arg(long, value_name = "URL")]
    amqp: Option<String>,
    /// Redis as the engine's correlation store instead of the in-process one.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// A real SMSC instead of the simulator (the engine's `sim` upstream points there).
    #[arg(long, value_name = "HOST:PORT")]
    upstream: Option<String>,
    /// Run one part only.
    #[arg(long, value_enum)]
    only: Option<Role>,
    /// Do not seed the demo organisation.
    #[arg(long)]
    no_demo: bool,
    /// Where the demo credentials are kept.
    #[arg(long, default_value = ".semalink")]
    state_dir: PathBuf,
    /// Public API port (configs: 8080).
    #[arg(long)]
    api_port: Option<u16>,
    /// API metrics port (configs: 9464).
    #[arg(long)]
    metrics_port: Option<u16>,
    /// Engine HTTP port (configs: 8090).
    #[arg(long)]
    engine_port: Option<u16>,
    /// Simulator SMPP port (configs: 2775).
    #[arg(long)]
    sim_port: Option<u16>,
    /// Simulator HTTP port (configs: 8775).
    #[arg(long)]
    sim_http_port: Option<u16>,
}

#[derive(Debug, clap::Args)]
struct DemoArgs {
    /// Where `semalink up` wrote the demo credentials.
    #[arg(long, default_value = ".semalink")]
    state_dir: PathBuf,
    /// The API (default: the one `semalink up` recorded).
    #[arg(long)]
    api: Option<String>,
    /// Send to at most this many contacts.
    #[arg(long)]
    limit: Option<usize>,
    /// The text.
    #[arg(
        long,
        default_value = "Habari! Sema Link demo: your order is on its way."
    )]
    text: String,
    /// The PNG chart of the run (messages/s and cumulative delivered).
    #[arg(long, default_value = "target/demo/run.png")]
    chart: PathBuf,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 900)]
    deadline_secs: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            EnvFilter::new("warn,semalink::system=info,semalink::seed=info,semalink::pipeline=info")
        }))
        .init();
    match Cli::parse().command {
        Command::Up(args) => up(args).await,
        Command::Demo(args) => run_demo(args).await,
        Command::Pipeline(args) => run_pipeline(args).await,
    }
}

async fn up(args: Up) -> anyhow::Result<()> {
    let plan = Plan {
        engine_config: args.engine_config,
        api_config: args.api_config,
        sim_config: args.sim_config,
        amqp: args.amqp,
        redis: args.redis,
        upstream: args.upstream,
        only: args.only,
        demo: !args.no_demo,
        state_dir: args.state_dir,
        ports: Ports {
            api: args.api_port,
            api_metrics: args.metrics_port,
            engine: args.engine_port,
            sim_smpp: args.sim_port,
            sim_http: args.sim_http_port,
        },
    };
    check(&plan)?;
    let configs = Configs::load(&plan)?;
    let system = System::start(&plan, configs).await?;
    println!("{}", system.banner());
    println!("Ctrl-C (or SIGTERM) stops everything, draining in order.");
    shutdown_signal().await?;
    println!(
        "stopping: API intake, then the engine (in-flight settled, status flushed), then the simulator"
    );
    system.shutdown().await
}

async fn run_demo(args: DemoArgs) -> anyhow::Result<()> {
    let saved = Demo::read(&args.state_dir)?;
    let run = DemoRun {
        api: args.api.unwrap_or(saved.api),
        email: saved.email,
        password: saved.password,
        list_id: saved.list_id,
        limit: args.limit,
        text: args.text,
        deadline: Duration::from_secs(args.deadline_secs),
        chart: Some(args.chart),
        live: true,
    };
    let report = demo::run(&run).await?;
    print!("{}", report.render());
    Ok(())
}

async fn run_pipeline(args: PipelineArgs) -> anyhow::Result<()> {
    if args.faults && args.mode == Mode::Embedded {
        anyhow::bail!(
            "--faults needs --mode amqp (separate processes to kill, a broker to restart)"
        );
    }
    let tag = format!("{:08x}", fastrand::u32(..));
    let work_dir = args
        .work_dir
        .unwrap_or_else(|| std::env::temp_dir().join(format!("semalink-pipeline-{tag}")));
    let options = pipeline::Options {
        setup: pipeline::Setup {
            mode: args.mode,
            engines: args.engines,
            binds: args.binds,
            window: args.window,
            semalink_bin: std::env::current_exe()?,
            engine_bin: std::fs::canonicalize(&args.engine_bin)
                .with_context(|| format!("{}", args.engine_bin.display()))?,
            repo: std::env::current_dir()?,
            work_dir,
            admin_url: match args.database_url {
                Some(url) => url,
                None => std::env::var("DATABASE_URL").context("--database-url or DATABASE_URL")?,
            },
            tag,
            log_filter: args.child_log,
        },
        recipients: args.recipients,
        faults: args.faults,
        restart_after: Duration::from_secs(2),
        deadline: Duration::from_secs(args.deadline_secs),
    };
    let report = pipeline::run(options).await?;
    let json = serde_json::to_string_pretty(&report)?;
    match &args.report {
        Some(path) => {
            std::fs::write(path, &json).with_context(|| format!("writing {}", path.display()))?
        }
        None => println!("{json}"),
    }
    println!("{}", report.summary());
    if !report.failures.is_empty() {
        std::process::exit(2);
    }
    Ok(())
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
        tokio::select! {
            _ = term.recv() => {}
            r = tokio::signal::ctrl_c() => r.context("waiting for SIGINT")?,
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    Ok(())
}
