//! `semalink-engine [--config configs/engine.toml]`: runs the gateway until SIGTERM/SIGINT,
//! then shuts down gracefully. With `[amqp]` (or `SEMALINK_ENGINE__AMQP__URL`) status events
//! and MO messages go to RabbitMQ; without it they go to the in-process sink, which this
//! binary logs at debug level and counts.

use std::path::PathBuf;
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering::Relaxed},
};

use anyhow::Context;
use clap::Parser;
use semalink_engine::{Engine, config::Config, sink::Published};
use tracing_subscriber::EnvFilter;

/// The Sema Link SMPP engine.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The config file (environment variables SEMALINK_ENGINE__… override its keys).
    #[arg(long, default_value = "configs/engine.toml")]
    config: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let config =
        Config::load(&args.config).with_context(|| format!("loading {}", args.config.display()))?;
    let mut engine = Engine::start(config).await.context("starting the engine")?;
    tracing::info!(addr = %engine.local_addr(), "listening");
    let counts = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let consumer = engine.take_events().map(|mut events| {
        let counts = Arc::clone(&counts);
        tokio::spawn(async move {
            while let Some(item) = events.recv().await {
                match item {
                    Published::Status(e) => {
                        counts[0].fetch_add(1, Relaxed);
                        tracing::debug!(message_id = %e.message_id, state = ?e.state, "status");
                    }
                    Published::Inbound(m) => {
                        counts[1].fetch_add(1, Relaxed);
                        tracing::debug!(from = %m.from, to = %m.to, "inbound message");
                    }
                }
            }
        })
    });
    shutdown_signal().await?;
    tracing::info!("shutting down");
    engine.shutdown().await;
    let Some(consumer) = consumer else {
        tracing::info!("stopped");
        return Ok(());
    };
    consumer.abort();
    tracing::info!(
        status_events = counts[0].load(Relaxed),
        inbound_messages = counts[1].load(Relaxed),
        "stopped"
    );
    Ok(())
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
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
