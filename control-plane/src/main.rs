//! `semalink-api`: serve (default), `migrate`, `seed-staff --email E --name N`, `openapi`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use semalink_control_plane::admin::seed;
use semalink_control_plane::identity::password::Passwords;
use semalink_control_plane::service::ControlPlane;
use semalink_control_plane::{Config, db};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: semalink-api [--config PATH] [serve | migrate | openapi | seed-staff --email EMAIL --name NAME]
  The seed password comes from SEMALINK_SEED_PASSWORD, or a random one is printed once.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let config_path = take_flag(&mut args, "--config")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("configs/control-plane.toml"));
    let command = if args.is_empty() {
        "serve".to_owned()
    } else {
        args.remove(0)
    };
    if command == "openapi" {
        println!(
            "{}",
            semalink_control_plane::app::openapi().to_pretty_json()?
        );
        return Ok(());
    }
    let config =
        Config::load(&config_path).with_context(|| format!("loading {}", config_path.display()))?;
    match command.as_str() {
        "serve" => {
            let listener = TcpListener::bind(config.server.bind)
                .await
                .with_context(|| format!("binding {}", config.server.bind))?;
            let handle = ControlPlane::start(config, listener, CancellationToken::new()).await?;
            shutdown_signal().await;
            handle.shutdown().await?;
        }
        "migrate" => {
            db::migrate(&config.database).await?;
            tracing::info!("migrations applied");
        }
        "seed-staff" => {
            let email = take_flag(&mut args, "--email").context(USAGE)?;
            let name = take_flag(&mut args, "--name").context(USAGE)?;
            let (password, generated) = match std::env::var("SEMALINK_SEED_PASSWORD") {
                Ok(p) if !p.is_empty() => (p, false),
                _ => (
                    semalink_control_plane::admin::staff::temporary_password(),
                    true,
                ),
            };
            db::migrate(&config.database).await?;
            let pool = db::app_pool(db::connect_options(&config.database)?, &config.database);
            let passwords = Passwords::new(&config.auth)?;
            let id = seed::seed_first_owner(&pool, &passwords, &email, &name, &password).await?;
            println!(
                "created staff owner {id} <{email}>; the password must be changed at first login"
            );
            if generated {
                println!("temporary password (shown once): {password}");
            }
        }
        _ => bail!("unknown command {command:?}\n{USAGE}"),
    }
    Ok(())
}

fn take_flag(args: &mut Vec<String>, name: &str) -> Option<String> {
    let at = args.iter().position(|a| a == name)?;
    if at + 1 >= args.len() {
        return None;
    }
    let value = args.remove(at + 1);
    args.remove(at);
    Some(value)
}

/// SIGTERM or ctrl-c: the only place the service looks at signals.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
