//! `smsc-sim`: run the SMSC simulator. Configuration from a TOML file
//! (`configs/smsc-sim.toml`), overridable per key with `--set path=value`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use semalink_loadtest::sim::{SimConfig, Simulator, overrides};

/// SMPP 3.4 SMSC simulator with an HTTP control endpoint.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// TOML configuration file; defaults apply to every missing key.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// SMPP listen address (overrides the file).
    #[arg(long)]
    smpp_addr: Option<std::net::SocketAddr>,
    /// HTTP listen address (overrides the file).
    #[arg(long)]
    http_addr: Option<std::net::SocketAddr>,
    /// Override any key by dotted path, e.g. `--set behaviour.flow.tps_per_bind=100`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Print the effective configuration as TOML and exit.
    #[arg(long)]
    print_config: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let mut config = match &args.config {
        Some(path) => SimConfig::from_file(path)?,
        None => SimConfig::default(),
    };
    if let Some(a) = args.smpp_addr {
        config.smpp_addr = a;
    }
    if let Some(a) = args.http_addr {
        config.http_addr = a;
    }
    let config = overrides::apply(config, &args.sets)?;
    if args.print_config {
        println!("{}", toml::to_string(&config).context("rendering config")?);
        return Ok(());
    }
    let handle = Simulator::start(config).await?;
    println!(
        "smsc-sim: SMPP on {}, HTTP on http://{} (GET /stats, /metrics; POST /config, /reset, /mo)",
        handle.smpp_addr, handle.http_addr
    );
    tokio::signal::ctrl_c()
        .await
        .context("waiting for ctrl-c")?;
    handle.shutdown();
    Ok(())
}
