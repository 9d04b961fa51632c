//! Private instances of the shared services, so a scenario can restart them without touching
//! the broker and Redis other people's tests use: a RabbitMQ node of its own
//! (`RABBITMQ_NODENAME`, own AMQP and distribution ports, data, logs, config and enabled
//! plugins in the run's directory) and a `redis-server` on its own port without persistence.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use super::procs::{Proc, wait_port};
use crate::Error;

/// Where RabbitMQ's own scripts live (the Debian package); `RABBITMQ_SBIN` overrides.
const RABBITMQ_SBIN: &str = "/usr/lib/rabbitmq/bin";
/// A node needs this long to boot on a loaded machine.
const BOOT_LIMIT: Duration = Duration::from_secs(120);

/// A RabbitMQ node of the scenario's own.
#[derive(Debug)]
pub struct PrivateRabbit {
    dir: PathBuf,
    node: String,
    port: u16,
    dist_port: u16,
    proc: Option<Proc>,
}

impl PrivateRabbit {
    /// Prepares `dir` (config with one loopback listener on `port`, no plugins) and boots the
    /// node `rabbit-<tag>@localhost`; returns once AMQP connections are accepted.
    pub async fn start(dir: &Path, tag: &str, port: u16, dist_port: u16) -> Result<Self, Error> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let conf = dir.join("rabbitmq.conf");
        std::fs::write(&conf, format!("listeners.tcp.local = 127.0.0.1:{port}\n"))
            .map_err(|e| io(&conf, e))?;
        let plugins = dir.join("enabled_plugins");
        std::fs::write(&plugins, "[].\n").map_err(|e| io(&plugins, e))?;
        let mut rabbit = PrivateRabbit {
            dir: dir.to_owned(),
            node: format!("rabbit-{tag}@localhost"),
            port,
            dist_port,
            proc: None,
        };
        rabbit.boot().await?;
        Ok(rabbit)
    }

    /// `amqp://guest:guest@127.0.0.1:<port>/%2f`.
    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// The node name.
    pub fn node(&self) -> &str {
        &self.node
    }

    fn command(&self, script: &str) -> Command {
        let sbin = std::env::var("RABBITMQ_SBIN").unwrap_or_else(|_| RABBITMQ_SBIN.into());
        let mut cmd = Command::new(Path::new(&sbin).join(script));
        cmd.env("RABBITMQ_NODENAME", &self.node)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", self.dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", self.dir.join("log"))
            .env("RABBITMQ_CONFIG_FILE", self.dir.join("rabbitmq"))
            .env(
                "RABBITMQ_ENABLED_PLUGINS_FILE",
                self.dir.join("enabled_plugins"),
            )
            .env("RABBITMQ_PID_FILE", self.dir.join("pid"))
            // The Erlang cookie lives in $HOME: one of our own, shared by server and ctl.
            .env("HOME", &self.dir);
        cmd
    }

    async fn boot(&mut self) -> Result<(), Error> {
        let log = self.dir.join("server.log");
        self.proc = Some(Proc::spawn(
            &self.node,
            self.command("rabbitmq-server"),
            &log,
        )?);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        wait_port(addr, BOOT_LIMIT).await?;
        // The listener opens a little before the vhost is ready: wait for a real connection.
        let until = tokio::time::Instant::now() + BOOT_LIMIT;
        loop {
            match crate::loadgen::amqp::connect(&self.url()).await {
                Ok(conn) => {
                    let _ = conn.close(200, "ready".into()).await;
                    return Ok(());
                }
                Err(e) if tokio::time::Instant::now() >= until => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// `rabbitmqctl stop`: an orderly shutdown (durable queues and persistent messages are
    /// kept on disk), waiting for the node to exit.
    pub async fn stop(&mut self) -> Result<(), Error> {
        let Some(mut proc) = self.proc.take() else {
            return Ok(());
        };
        let mut ctl = self.command("rabbitmqctl");
        ctl.args(["-n", &self.node, "stop"]);
        let status = tokio::task::spawn_blocking(move || ctl.output())
            .await
            .map_err(|e| Error::Scenario(format!("rabbitmqctl: {e}")))?
            .map_err(|e| Error::Scenario(format!("rabbitmqctl: {e}")))?;
        if !status.status.success() {
            tracing::warn!(
                stderr = %String::from_utf8_lossy(&status.stderr),
                "rabbitmqctl stop failed; killing the node"
            );
            self.kill_beam();
        }
        proc.terminate(Duration::from_secs(30)).await;
        Ok(())
    }

    /// Stops the node and boots it again on the same data directory.
    pub async fn restart(&mut self) -> Result<(), Error> {
        self.stop().await?;
        self.boot().await
    }

    /// SIGKILL to the Erlang VM named in the pid file (the script that started it may not
    /// pass signals on).
    fn kill_beam(&self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.join("pid"))
            && let Ok(pid) = pid.trim().parse::<u32>()
        {
            super::procs::signal(pid, "KILL");
        }
    }
}

impl Drop for PrivateRabbit {
    fn drop(&mut self) {
        if self.proc.is_some() {
            self.kill_beam();
        }
    }
}

/// A `redis-server` of the scenario's own: loopback, no RDB or AOF, its directory in the run's.
#[derive(Debug)]
pub struct PrivateRedis {
    port: u16,
    _proc: Proc,
}

impl PrivateRedis {
    /// Starts it on `port` and waits until it accepts connections.
    pub async fn start(dir: &Path, port: u16) -> Result<Self, Error> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let mut cmd = Command::new("redis-server");
        cmd.args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir);
        let proc = Proc::spawn("redis-server", cmd, &dir.join("redis.log"))?;
        wait_port(SocketAddr::from(([127, 0, 0, 1], port)), BOOT_LIMIT).await?;
        Ok(PrivateRedis { port, _proc: proc })
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Scenario(format!("{}: {e}", path.display()))
}
