//! The composition root: which parts run ([`Plan`]), their configurations with the overrides
//! the flags imply ([`Configs::load`]), starting them in dependency order over one bus
//! ([`System::start`]) and the one shutdown that drains them in order ([`System::shutdown`]).
//!
//! Embedded (the default): the simulator, then the engine bound to it, then the control plane,
//! the engine and the control plane sharing ONE in-process bus (`control_plane::bus::memory`:
//! the publisher's `sms.priority` / `sms.normal` are what the engine consumes, its
//! `sms.status` / `sms.inbound` what the status and inbound consumers apply), the engine with
//! its in-process correlation store. `--amqp` puts both on RabbitMQ instead (each its own
//! connection), `--redis` the engine's correlation on Redis, `--upstream` the engine on a real
//! SMSC (no simulator), `--only` runs one part.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use semalink_bus::Bus;
use semalink_control_plane::bus::AmqpConfig as ApiAmqp;
use semalink_control_plane::service::{ControlPlane, ControlPlaneHandle};
use semalink_engine::{Engine, EngineHandle, sink::Published};
use semalink_loadtest::sim::{SimConfig, SimHandle, Simulator};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long `up` waits for the engine's binds before it reports where everything is anyway.
const READY_WAIT: Duration = Duration::from_secs(30);

/// One part of the system (`--only`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// The SMPP engine.
    Engine,
    /// The control-plane API and its workers.
    Api,
    /// The SMSC simulator.
    Sim,
}

/// What to run and where, from the command line.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The engine's configuration file.
    pub engine_config: PathBuf,
    /// The control plane's configuration file.
    pub api_config: PathBuf,
    /// The simulator's configuration file.
    pub sim_config: PathBuf,
    /// RabbitMQ instead of the in-process bus.
    pub amqp: Option<String>,
    /// Redis as the engine's correlation store.
    pub redis: Option<String>,
    /// A real SMSC (`host:port`) instead of the simulator.
    pub upstream: Option<String>,
    /// Run only this part.
    pub only: Option<Role>,
    /// Seed the demo organisation.
    pub demo: bool,
    /// Where the demo credentials are kept (`.semalink/`).
    pub state_dir: PathBuf,
    /// Port overrides (0 lets the system pick one).
    pub ports: Ports,
}

/// Listen-port overrides; `None` keeps the configuration's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ports {
    /// The control plane's public API.
    pub api: Option<u16>,
    /// The control plane's `/metrics`.
    pub api_metrics: Option<u16>,
    /// The engine's HTTP ingress and `/metrics`.
    pub engine: Option<u16>,
    /// The simulator's SMPP listener.
    pub sim_smpp: Option<u16>,
    /// The simulator's HTTP endpoint.
    pub sim_http: Option<u16>,
}

impl Ports {
    /// Every port 0 (tests).
    pub fn any() -> Ports {
        Ports {
            api: Some(0),
            api_metrics: Some(0),
            engine: Some(0),
            sim_smpp: Some(0),
            sim_http: Some(0),
        }
    }
}

impl Plan {
    /// The repository's configuration files under `root` (`configs/`).
    pub fn with_configs(root: &Path) -> Plan {
        let configs = root.join("configs");
        Plan {
            engine_config: configs.join("engine.toml"),
            api_config: configs.join("control-plane.toml"),
            sim_config: configs.join("smsc-sim.toml"),
            demo: true,
            state_dir: PathBuf::from(".semalink"),
            ..Plan::default()
        }
    }

    fn runs(&self, role: Role) -> bool {
        match (self.only, role) {
            (Some(only), _) => only == role,
            // A real SMSC replaces the simulator.
            (None, Role::Sim) => self.upstream.is_none(),
            (None, _) => true,
        }
    }
}

/// The three configurations, with the plan's overrides applied (the engine's by its own
/// `SEMALINK_ENGINE__…` override mechanism, after the process environment's).
#[derive(Debug)]
pub struct Configs {
    /// Control plane.
    pub api: semalink_control_plane::Config,
    /// Engine (before the simulator's port is known: [`System::start`] points the engine's
    /// upstream at the simulator it started).
    pub engine_text: String,
    /// Engine overrides (`SEMALINK_ENGINE__…` pairs) the plan implies.
    pub engine_vars: Vec<(String, String)>,
    /// Simulator.
    pub sim: SimConfig,
}

/// The engine upstream the simulator (or `--upstream`) stands for: the one named `sim`, else
/// the first.
const SIM_UPSTREAM: &str = "sim";

impl Configs {
    /// Reads the plan's files and applies its flags.
    pub fn load(plan: &Plan) -> anyhow::Result<Configs> {
        let mut api = semalink_control_plane::Config::load(&plan.api_config)
            .with_context(|| format!("loading {}", plan.api_config.display()))?;
        // One URL is enough for a one-process system: DATABASE_URL (an owner login) runs the
        // migrations too unless DATABASE_OWNER_URL names another login.
        if std::env::var_os("DATABASE_URL").is_some()
            && std::env::var_os("DATABASE_OWNER_URL").is_none()
        {
            api.database.migration_url = None;
        }
        if let Some(url) = &plan.amqp {
            // Keeps `[amqp]`'s other keys (queue names, type) when the file or the
            // environment has the section.
            match &mut api.amqp {
                Some(amqp) => amqp.url = url.clone().into(),
                None => api.amqp = Some(ApiAmqp::new(url)),
            }
        }
        if let Some(port) = plan.ports.api {
            api.server.bind.set_port(port);
        }
        if let Some(port) = plan.ports.api_metrics {
            api.server.metrics_bind.set_port(port);
        }
        let engine_text = std::fs::read_to_string(&plan.engine_config)
            .with_context(|| format!("reading {}", plan.engine_config.display()))?;
        let mut engine_vars = Vec::new();
        let var = |key: &str| format!("SEMALINK_ENGINE__{key}");
        if let Some(url) = &plan.amqp {
            engine_vars.push((var("AMQP__URL"), url.clone()));
        }
        if let Some(url) = &plan.redis {
            engine_vars.push((var("REDIS__URL"), url.clone()));
        }
        if let Some(port) = plan.ports.engine {
            let listen = probe_engine(&engine_text, &engine_vars)?.http.listen;
            engine_vars.push((
                var("HTTP__LISTEN"),
                SocketAddr::new(listen.ip(), port).to_string(),
            ));
        }
        if let Some(upstream) = &plan.upstream {
            let (host, port) = upstream
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
                .with_context(|| format!("--upstream {upstream:?}: expected host:port"))?;
            let key = upstream_key(&engine_text, &engine_vars)?;
            engine_vars.push((var(&format!("UPSTREAMS__{key}__HOST")), host.to_owned()));
            engine_vars.push((var(&format!("UPSTREAMS__{key}__PORT")), port.to_string()));
        }
        let mut sim = SimConfig::from_file(&plan.sim_config)
            .with_context(|| format!("loading {}", plan.sim_config.display()))?;
        if let Some(port) = plan.ports.sim_smpp {
            sim.smpp_addr.set_port(port);
        }
        if let Some(port) = plan.ports.sim_http {
            sim.http_addr.set_port(port);
        }
        Ok(Configs {
            api,
            engine_text,
            engine_vars,
            sim,
        })
    }

    /// The engine's configuration: the file, the environment, the plan's overrides, then
    /// `extra` (the started simulator's port).
    fn engine(
        &self,
        extra: &[(String, String)],
    ) -> anyhow::Result<semalink_engine::config::Config> {
        let vars = std::env::vars()
            .chain(self.engine_vars.iter().cloned())
            .chain(extra.iter().cloned());
        semalink_engine::config::Config::from_toml(&self.engine_text, vars)
            .context("the engine configuration")
    }
}

/// The engine configuration as the file, the environment and the plan's overrides so far
/// give it (to read defaults from). The plan's overrides count: the environment may hold a
/// section's other keys (`SEMALINK_ENGINE__REDIS__KEY_PREFIX`) whose required key comes from
/// a flag (`--redis` sets the URL).
fn probe_engine(
    text: &str,
    plan_vars: &[(String, String)],
) -> anyhow::Result<semalink_engine::config::Config> {
    let vars = std::env::vars().chain(plan_vars.iter().cloned());
    semalink_engine::config::Config::from_toml(text, vars).context("the engine configuration")
}

/// How the override mechanism names the simulator's upstream.
fn upstream_key(text: &str, plan_vars: &[(String, String)]) -> anyhow::Result<String> {
    let config = probe_engine(text, plan_vars)?;
    Ok(match config.upstream_index(SIM_UPSTREAM) {
        Some(_) => SIM_UPSTREAM.to_uppercase(),
        None => "0".into(),
    })
}

/// A running system.
#[derive(Debug)]
pub struct System {
    sim: Option<SimHandle>,
    engine: Option<EngineHandle>,
    /// The embedded engine's own status events (only with `--only engine` and no broker).
    events: Option<JoinHandle<()>>,
    api: Option<ControlPlaneHandle>,
    /// The shared in-process bus (embedded mode).
    bus: Option<Bus>,
    /// The demo organisation, when seeded.
    pub demo: Option<crate::seed::Demo>,
}

impl System {
    /// Starts the parts `plan` asks for: simulator, engine (waiting up to 30 s for its binds),
    /// control plane (migrating as configured), then the demo seed.
    pub async fn start(plan: &Plan, configs: Configs) -> anyhow::Result<System> {
        let Configs { api, sim, .. } = &configs;
        let sim = if plan.runs(Role::Sim) {
            Some(
                Simulator::start(sim.clone())
                    .await
                    .context("starting the simulator")?,
            )
        } else {
            None
        };
        let hosted = plan.runs(Role::Engine) && plan.runs(Role::Api) && plan.amqp.is_none();
        let bus = hosted.then(semalink_control_plane::bus::memory);
        let mut events = None;
        let engine = if plan.runs(Role::Engine) {
            let mut extra = Vec::new();
            if let Some(sim) = &sim
                && plan.upstream.is_none()
            {
                let key = upstream_key(&configs.engine_text, &configs.engine_vars)?;
                let var = |k: &str| format!("SEMALINK_ENGINE__UPSTREAMS__{key}__{k}");
                extra.push((var("HOST"), sim.smpp_addr.ip().to_string()));
                extra.push((var("PORT"), sim.smpp_addr.port().to_string()));
            }
            let config = configs.engine(&extra)?;
            let mut engine = Engine::start_on(config, bus.clone())
                .await
                .context("starting the engine")?;
            if !engine.wait_ready(READY_WAIT).await {
                tracing::warn!("the engine is not ready yet (no bind up); carrying on");
            }
            events = engine.take_events().map(log_events);
            Some(engine)
        } else {
            None
        };
        let api = if plan.runs(Role::Api) {
            let listener = TcpListener::bind(api.server.bind)
                .await
                .with_context(|| format!("binding {}", api.server.bind))?;
            Some(
                ControlPlane::start_on(
                    api.clone(),
                    listener,
                    CancellationToken::new(),
                    bus.clone(),
                )
                .await
                .context("starting the control plane")?,
            )
        } else {
            None
        };
        let demo = match (&api, plan.demo) {
            (Some(api), true) => Some(
                crate::seed::seed(
                    api.state(),
                    &plan.state_dir,
                    &format!("http://{}", api.local_addr()),
                )
                .await
                .context("seeding the demo organisation")?,
            ),
            _ => None,
        };
        Ok(System {
            sim,
            engine,
            events,
            api,
            bus,
            demo,
        })
    }

    /// The control plane's public address.
    pub fn api_addr(&self) -> Option<SocketAddr> {
        self.api.as_ref().map(|a| a.local_addr())
    }

    /// The control plane's `/metrics` address.
    pub fn api_metrics_addr(&self) -> Option<SocketAddr> {
        self.api.as_ref().map(|a| a.metrics_addr())
    }

    /// The engine's HTTP address (ingress, `/metrics`, `/ready`).
    pub fn engine_addr(&self) -> Option<SocketAddr> {
        self.engine.as_ref().map(|e| e.local_addr())
    }

    /// The simulator, when it runs.
    pub fn sim(&self) -> Option<&SimHandle> {
        self.sim.as_ref()
    }

    /// The control plane, when it runs.
    pub fn api(&self) -> Option<&ControlPlaneHandle> {
        self.api.as_ref()
    }

    /// Where everything is, for the terminal.
    pub fn banner(&self) -> String {
        let mut out = String::from("semalink is up\n");
        if let Some(addr) = self.api_addr() {
            out.push_str(&format!(
                "  API          http://{addr}  (Swagger UI: http://{addr}/docs, OpenAPI: /openapi.json)\n"
            ));
        }
        if let Some(addr) = self.api_metrics_addr() {
            out.push_str(&format!("  API metrics  http://{addr}/metrics\n"));
        }
        if let Some(addr) = self.engine_addr() {
            out.push_str(&format!(
                "  engine       http://{addr}  (POST /v1/messages, /ready, /metrics with the ingress token)\n"
            ));
        }
        if let Some(sim) = &self.sim {
            out.push_str(&format!(
                "  simulator    SMPP {}, http://{}/stats\n",
                sim.smpp_addr, sim.http_addr
            ));
        }
        match &self.bus {
            Some(_) => {
                out.push_str("  bus          in-process (one bus for the engine and the API)\n")
            }
            None if self.engine.is_some() && self.api.is_some() => {
                out.push_str("  bus          RabbitMQ\n")
            }
            None => {}
        }
        if let Some(demo) = &self.demo {
            out.push_str(&demo.banner());
        }
        out
    }

    /// Drains in order: the control plane stops taking work (listeners, publisher); the engine
    /// stops consuming, settles what is in flight and flushes its status events, then stops;
    /// the control plane's consumers apply what the engine flushed (their in-process queues are
    /// closed, so they end once drained) and the control plane stops; the simulator last.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        if let Some(api) = &self.api {
            api.stop_intake();
        }
        if let Some(engine) = self.engine {
            engine.shutdown().await;
        }
        if let Some(Bus::Memory(memory)) = &self.bus {
            let queues = semalink_control_plane::bus::Queues::of(None);
            memory.close(&queues.status);
            memory.close(&queues.inbound);
        }
        if let Some(events) = self.events {
            events.abort();
        }
        if let Some(api) = self.api {
            api.shutdown().await.context("stopping the control plane")?;
        }
        if let Some(sim) = self.sim {
            sim.shutdown();
        }
        tracing::info!("semalink stopped");
        Ok(())
    }
}

/// `--only engine` without a broker: the engine's events have no consumer here; log them.
fn log_events(mut events: tokio::sync::mpsc::Receiver<Published>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(item) = events.recv().await {
            match item {
                Published::Status(e) => {
                    tracing::info!(message_id = %e.message_id, state = ?e.state, "status")
                }
                Published::Inbound(m) => {
                    tracing::info!(from = %m.from, to = %m.to, "inbound message")
                }
            }
        }
    })
}

/// Fails on a plan that cannot work.
pub fn check(plan: &Plan) -> anyhow::Result<()> {
    if plan.only == Some(Role::Sim) && plan.upstream.is_some() {
        bail!("--only sim runs the simulator: --upstream makes no sense with it");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan::with_configs(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
    }

    #[test]
    fn flags_switch_the_parts_to_the_real_thing() {
        let mut plan = plan();
        plan.amqp = Some("amqp://guest:guest@127.0.0.1:5672/%2f".into());
        plan.redis = Some("redis://127.0.0.1:6379".into());
        plan.upstream = Some("smsc.example.net:2776".into());
        plan.ports.api = Some(18080);
        plan.ports.engine = Some(18090);
        let configs = Configs::load(&plan).unwrap();
        assert!(configs.api.amqp.is_some(), "the API publishes to RabbitMQ");
        assert_eq!(configs.api.server.bind.port(), 18080);
        let engine = configs.engine(&[]).unwrap();
        assert!(engine.amqp.is_some() && engine.redis.is_some());
        assert_eq!(engine.http.listen.port(), 18090);
        let sim = &engine.upstreams[engine.upstream_index(SIM_UPSTREAM).unwrap()];
        assert_eq!((sim.host.as_str(), sim.port), ("smsc.example.net", 2776));
        assert!(!plan.runs(Role::Sim), "a real SMSC replaces the simulator");
        assert!(plan.runs(Role::Engine) && plan.runs(Role::Api));
    }

    #[test]
    fn the_default_plan_runs_everything_embedded_and_only_runs_one_part() {
        let mut plan = plan();
        let configs = Configs::load(&plan).unwrap();
        assert!(configs.api.amqp.is_none());
        let engine = configs.engine(&[]).unwrap();
        assert!(engine.amqp.is_none() && engine.redis.is_none());
        assert!(
            [Role::Sim, Role::Engine, Role::Api]
                .iter()
                .all(|&r| plan.runs(r))
        );
        plan.only = Some(Role::Engine);
        assert!(plan.runs(Role::Engine) && !plan.runs(Role::Api) && !plan.runs(Role::Sim));
        plan.upstream = Some("nonsense".into());
        assert!(Configs::load(&plan).is_err(), "--upstream needs host:port");
    }
}
