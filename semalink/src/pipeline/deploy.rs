//! The deployment a pipeline run drives, as separate processes in a run directory:
//!
//! * **RabbitMQ** (`Mode::Amqp`): a private RabbitMQ node and a private `redis-server` (the
//!   fault run's, `semalink_loadtest::scenario::services`: the shared broker and Redis are
//!   never touched), the simulator in this process, `engines` `semalink-engine` processes on
//!   the fault run's engine config (2 binds × window 100, token buckets out of the way,
//!   correlation on Redis), and the control plane as its own process
//!   (`semalink up --only api --amqp …`: dispatcher, publisher, status consumer) — each one
//!   can be SIGKILLed and restarted.
//! * **In-process** (`Mode::Embedded`): one `semalink up` process — simulator, engine and
//!   control plane over the in-process bus and the in-process correlation store, the same
//!   engine settings.
//!
//! Both on a fresh database `pipeline_<tag>` of the PostgreSQL server the admin URL names
//! (the service logs in as `semalink_api`, migrations as the admin login).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};
use semalink_loadtest::scenario::engines::{EngineProc, EngineSetup, write_config};
use semalink_loadtest::scenario::procs::{Proc, free_port, http_get};
use semalink_loadtest::scenario::services::{PrivateRabbit, PrivateRedis};
use semalink_loadtest::{SimConfig, SimHandle, Simulator};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool};
use tokio::time::Instant;

/// Which bus the run goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// RabbitMQ + Redis, the engines and the control plane as separate processes.
    Amqp,
    /// `semalink up`: one process, the in-process bus.
    Embedded,
}

/// What the deployment is made of.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The bus.
    pub mode: Mode,
    /// Engine processes (RabbitMQ mode).
    pub engines: usize,
    /// Binds per engine.
    pub binds: u32,
    /// Window per bind.
    pub window: u32,
    /// The `semalink` binary (the control plane, or everything in-process).
    pub semalink_bin: PathBuf,
    /// The `semalink-engine` binary.
    pub engine_bin: PathBuf,
    /// The repository (its `configs/`; the child processes run there).
    pub repo: PathBuf,
    /// The run directory.
    pub work_dir: PathBuf,
    /// An admin login of the PostgreSQL server (`postgres://postgres@127.0.0.1:5432/postgres`).
    pub admin_url: String,
    /// A short random tag naming the database, the broker node and the Redis prefix.
    pub tag: String,
    /// `RUST_LOG` of the child processes.
    pub log_filter: String,
}

/// The running deployment.
#[derive(Debug)]
pub struct Deployment {
    setup: Setup,
    /// The database as its owner sees it (checks, staff seed, progress).
    pub db: PgPool,
    app_url: String,
    owner_url: String,
    /// The public API's base URL.
    pub api_base: String,
    api_port: u16,
    metrics_port: u16,
    control_plane: Option<Proc>,
    /// Control-plane incarnations started.
    pub control_plane_starts: u32,
    rabbit: Option<PrivateRabbit>,
    _redis: Option<PrivateRedis>,
    amqp_url: Option<String>,
    sim: Option<SimHandle>,
    engines: Vec<EngineProc>,
    engine_setup: Option<EngineSetup>,
}

/// How long a process may take to come up on a loaded machine.
const START_LIMIT: Duration = Duration::from_secs(180);

impl Deployment {
    /// Creates the database and starts everything; returns once the API answers `/ready`.
    pub async fn start(setup: Setup) -> anyhow::Result<Deployment> {
        std::fs::create_dir_all(&setup.work_dir)
            .with_context(|| format!("creating {}", setup.work_dir.display()))?;
        let (db, app_url, owner_url) = database(&setup.admin_url, &setup.tag).await?;
        let engine_config = setup.work_dir.join("engine.toml");
        let mut d = Deployment {
            db,
            app_url,
            owner_url,
            api_base: String::new(),
            api_port: free_port()?,
            metrics_port: free_port()?,
            control_plane: None,
            control_plane_starts: 0,
            rabbit: None,
            _redis: None,
            amqp_url: None,
            sim: None,
            engines: Vec::new(),
            engine_setup: None,
            setup,
        };
        d.api_base = format!("http://127.0.0.1:{}", d.api_port);
        match d.setup.mode {
            Mode::Amqp => {
                let dir = &d.setup.work_dir;
                let tag = &d.setup.tag;
                let rabbit =
                    PrivateRabbit::start(&dir.join("rabbit"), tag, free_port()?, free_port()?)
                        .await?;
                let redis = PrivateRedis::start(&dir.join("redis"), free_port()?).await?;
                let mut sim = SimConfig::from_file(&d.setup.repo.join("configs/smsc-sim.toml"))?;
                sim.smpp_addr = SocketAddr::from(([127, 0, 0, 1], 0));
                sim.http_addr = SocketAddr::from(([127, 0, 0, 1], 0));
                for account in &mut sim.accounts {
                    account.max_binds = account
                        .max_binds
                        .max(d.setup.binds * d.setup.engines as u32);
                }
                let sim = Simulator::start(sim).await?;
                write_config(
                    &engine_config,
                    sim.smpp_addr.port(),
                    d.setup.binds,
                    d.setup.window,
                    15,
                )?;
                let engine_setup = EngineSetup {
                    bin: d.setup.engine_bin.clone(),
                    config: engine_config,
                    amqp_url: rabbit.url(),
                    redis_url: redis.url(),
                    key_prefix: format!("pipeline-{tag}:"),
                    log_filter: d.setup.log_filter.clone(),
                    dir: dir.clone(),
                };
                d.amqp_url = Some(rabbit.url());
                d.rabbit = Some(rabbit);
                d._redis = Some(redis);
                d.sim = Some(sim);
                for i in 0..d.setup.engines {
                    let mut engine = EngineProc::new(i)?;
                    engine.start(&engine_setup)?;
                    d.engines.push(engine);
                }
                for engine in &mut d.engines {
                    engine.wait_ready(START_LIMIT).await?;
                }
                d.engine_setup = Some(engine_setup);
            }
            Mode::Embedded => {
                // The simulator's port is set by `semalink up` (it points the engine's `sim`
                // upstream at the simulator it starts).
                write_config(&engine_config, 2775, d.setup.binds, d.setup.window, 15)?;
            }
        }
        d.start_control_plane().await?;
        Ok(d)
    }

    /// The control plane's process (the whole system in `Mode::Embedded`).
    fn control_plane_command(&self) -> anyhow::Result<Command> {
        let mut cmd = Command::new(&self.setup.semalink_bin);
        let port = |p: u16| p.to_string();
        cmd.current_dir(&self.setup.repo)
            .arg("up")
            .arg("--no-demo")
            .args(["--api-port", &port(self.api_port)])
            .args(["--metrics-port", &port(self.metrics_port)])
            .arg("--state-dir")
            .arg(self.setup.work_dir.join("state"))
            .arg("--engine-config")
            .arg(self.setup.work_dir.join("engine.toml"))
            .env("DATABASE_URL", &self.app_url)
            .env("DATABASE_OWNER_URL", &self.owner_url)
            .env("RUST_LOG", &self.setup.log_filter);
        match (&self.setup.mode, &self.amqp_url) {
            (Mode::Amqp, Some(url)) => {
                cmd.args(["--only", "api", "--amqp", url]);
            }
            (Mode::Embedded, _) => {
                cmd.args(["--engine-port", &port(free_port()?)])
                    .args(["--sim-port", &port(free_port()?)])
                    .args(["--sim-http-port", &port(free_port()?)]);
            }
            (Mode::Amqp, None) => bail!("no broker"),
        }
        Ok(cmd)
    }

    /// Starts (or restarts) the control plane and waits for `/ready`.
    pub async fn start_control_plane(&mut self) -> anyhow::Result<()> {
        let log = self.setup.work_dir.join("control-plane.log");
        let proc = Proc::spawn("control-plane", self.control_plane_command()?, &log)?;
        self.control_plane = Some(proc);
        self.control_plane_starts += 1;
        let addr = SocketAddr::from(([127, 0, 0, 1], self.api_port));
        let until = Instant::now() + START_LIMIT;
        loop {
            if let Some((200, _)) = http_get(addr, "/ready").await {
                return Ok(());
            }
            if self.control_plane.as_mut().is_none_or(|p| p.exited()) {
                bail!("the control plane exited; see {}", log.display());
            }
            if Instant::now() >= until {
                bail!("the control plane was not ready within {START_LIMIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// SIGKILL to the control plane (the whole system in `Mode::Embedded`).
    pub fn kill_control_plane(&mut self) {
        if let Some(mut p) = self.control_plane.take() {
            p.kill();
        }
    }

    /// SIGKILL to engine `i`.
    pub fn kill_engine(&mut self, i: usize) {
        if let Some(e) = self.engines.get_mut(i) {
            e.kill();
        }
    }

    /// Starts engine `i` again and waits until it is ready.
    pub async fn restart_engine(&mut self, i: usize) -> anyhow::Result<()> {
        let setup = self.engine_setup.clone().context("no engines")?;
        let engine = self.engines.get_mut(i).context("no such engine")?;
        engine.start(&setup)?;
        engine.wait_ready(START_LIMIT).await?;
        Ok(())
    }

    /// `rabbitmqctl stop` and a fresh boot of the private node on its data.
    pub async fn restart_broker(&mut self) -> anyhow::Result<()> {
        self.rabbit
            .as_mut()
            .context("no private broker")?
            .restart()
            .await?;
        Ok(())
    }

    /// The in-process simulator (RabbitMQ mode).
    pub fn sim(&self) -> Option<&SimHandle> {
        self.sim.as_ref()
    }

    /// Engines' unmatched receipts and receipts of duplicates over every incarnation
    /// (scraped now).
    pub async fn engine_counters(&mut self) -> (u64, u64) {
        for e in &mut self.engines {
            e.scrape().await;
        }
        let unmatched = self.engines.iter().map(|e| e.unmatched_receipts()).sum();
        let duplicates = self.engines.iter().map(|e| e.duplicate_receipts()).sum();
        (unmatched, duplicates)
    }

    /// Orderly stop of everything (SIGTERM, then the broker).
    pub async fn stop(mut self) {
        if let Some(mut p) = self.control_plane.take() {
            p.terminate(Duration::from_secs(30)).await;
        }
        for e in &mut self.engines {
            e.stop(Duration::from_secs(10)).await;
        }
        if let Some(sim) = self.sim.take() {
            sim.shutdown();
        }
        if let Some(mut rabbit) = self.rabbit.take() {
            let _ = rabbit.stop().await;
        }
        self.db.close().await;
    }

    /// The run directory.
    pub fn work_dir(&self) -> &Path {
        &self.setup.work_dir
    }
}

/// Creates `pipeline_<tag>`; the owner's pool on it and the service's and owner's URLs.
async fn database(admin_url: &str, tag: &str) -> anyhow::Result<(PgPool, String, String)> {
    let admin: PgConnectOptions = admin_url
        .parse()
        .with_context(|| format!("parsing {admin_url}"))?;
    let name = format!("pipeline_{tag}");
    let mut conn = admin.connect().await.context("connecting as the admin")?;
    // The tag is hex digits of our own making.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .with_context(|| format!("creating database {name}"))?;
    conn.close().await?;
    let owner = admin.clone().database(&name);
    let app = owner.clone().username("semalink_api");
    let db = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_with(owner.clone())
        .await?;
    Ok((
        db,
        app.to_url_lossy().to_string(),
        owner.to_url_lossy().to_string(),
    ))
}
