//! The SMSC simulator: an SMPP 3.4 server that behaves like an upstream aggregator (see
//! [`config::Behaviour`] for every switch), with an HTTP endpoint for counters, run-time
//! configuration and MO injection.
//!
//! Library-first: [`Simulator::start`] returns a [`SimHandle`] with the bound addresses, so
//! tests (and the engine's integration tests) run it in-process on port 0.

mod celcom;
pub mod config;
mod delay;
mod dispatch;
mod handler;
mod http;
pub mod idfmt;
pub mod latency;
pub mod messages;
mod metrics;
pub mod overrides;
mod query;
pub mod receipt;
mod registry;
mod session;
pub mod stats;
mod submit;

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
};

use tokio::{net::TcpListener, sync::watch, time::Instant};
use tokio_util::sync::CancellationToken;

pub use config::{Behaviour, SimConfig};
pub use stats::StatsSnapshot;

use crate::Error;

/// State every session shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) smsc_system_id: String,
    pub(crate) accounts: Vec<config::Account>,
    pub(crate) behaviour: watch::Receiver<Arc<Behaviour>>,
    pub(crate) stats: Arc<stats::Stats>,
    pub(crate) registry: Arc<registry::Registry>,
    pub(crate) jobs: tokio::sync::mpsc::UnboundedSender<dispatch::Job>,
    /// Accepted messages, for `query_sm` / `cancel_sm` / `replace_sm`.
    pub(crate) messages: Arc<messages::Messages>,
    pub(crate) next_message_id: AtomicU64,
    pub(crate) next_session: AtomicU64,
    /// Overall throttle window, packed as `second << 32 | count`.
    total_window: AtomicU64,
    started: Instant,
    pub(crate) cancel: CancellationToken,
    /// Bumped by [`SimHandle::disconnect_all`]: every session drops its connection.
    pub(crate) kick: watch::Sender<u64>,
}

impl Shared {
    /// Whole seconds since the simulator started (the throttle and peak-rate windows).
    pub(crate) fn second(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Counts one submit in the overall window of `second` and returns the count so far.
    pub(crate) fn total_window_hit(&self, second: u64) -> u64 {
        let second = second & 0xFFFF_FFFF;
        let prev = self
            .total_window
            .fetch_update(Relaxed, Relaxed, |w| {
                Some(if w >> 32 == second {
                    w + 1
                } else {
                    (second << 32) | 1
                })
            })
            .unwrap_or(0);
        if prev >> 32 == second {
            (prev & 0xFFFF_FFFF) + 1
        } else {
            1
        }
    }
}

/// Starts simulators.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Binds the SMPP and HTTP listeners and starts serving. Must run inside a tokio runtime.
    pub async fn start(config: SimConfig) -> Result<SimHandle, Error> {
        config.behaviour.validate()?;
        let smpp = TcpListener::bind(config.smpp_addr)
            .await
            .map_err(|e| Error::Bind(config.smpp_addr, e))?;
        let http = TcpListener::bind(config.http_addr)
            .await
            .map_err(|e| Error::Bind(config.http_addr, e))?;
        let smpp_addr = smpp
            .local_addr()
            .map_err(|e| Error::Bind(config.smpp_addr, e))?;
        let http_addr = http
            .local_addr()
            .map_err(|e| Error::Bind(config.http_addr, e))?;
        let stats = Arc::new(stats::Stats::default());
        let registry = Arc::new(registry::Registry::new(Arc::clone(&stats)));
        let (beh_tx, beh_rx) = watch::channel(Arc::new(config.behaviour.clone()));
        let (jobs_tx, jobs_rx) = tokio::sync::mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let messages = Arc::new(messages::Messages::default());
        let shared = Arc::new(Shared {
            messages: Arc::clone(&messages),
            smsc_system_id: config.smsc_system_id.clone(),
            accounts: config.accounts.clone(),
            behaviour: beh_rx,
            stats: Arc::clone(&stats),
            registry: Arc::clone(&registry),
            jobs: jobs_tx,
            // Ids start high enough that decimal and hex renderings differ visibly.
            next_message_id: AtomicU64::new(1_000_000 + fastrand::u64(0..1_000_000)),
            next_session: AtomicU64::new(1),
            total_window: AtomicU64::new(0),
            started: Instant::now(),
            cancel: cancel.clone(),
            kick: watch::channel(0).0,
        });
        tokio::spawn(dispatch::run(jobs_rx, registry, messages, cancel.clone()));
        tokio::spawn(accept_loop(smpp, Arc::clone(&shared)));
        let handle = SimHandle {
            smpp_addr,
            http_addr,
            shared,
            behaviour: Arc::new(beh_tx),
        };
        tokio::spawn(http::serve(http, handle.clone()));
        tracing::info!(%smpp_addr, %http_addr, "smsc-sim listening");
        Ok(handle)
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        tokio::select! {
            _ = shared.cancel.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => { tokio::spawn(session::run(stream, Arc::clone(&shared))); }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// A running simulator. Clone freely; [`shutdown`](Self::shutdown) stops every task.
#[derive(Debug, Clone)]
pub struct SimHandle {
    /// Where SMPP clients connect.
    pub smpp_addr: SocketAddr,
    /// Where the HTTP control endpoint listens.
    pub http_addr: SocketAddr,
    shared: Arc<Shared>,
    behaviour: Arc<watch::Sender<Arc<Behaviour>>>,
}

impl SimHandle {
    /// Current counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.shared.stats.snapshot()
    }

    /// Current behaviour.
    pub fn behaviour(&self) -> Behaviour {
        (**self.behaviour.borrow()).clone()
    }

    /// Replaces the behaviour; sessions pick it up on their next read.
    pub fn set_behaviour(&self, behaviour: Behaviour) -> Result<(), Error> {
        behaviour.validate()?;
        self.behaviour.send_replace(Arc::new(behaviour));
        Ok(())
    }

    /// Zeroes the counters.
    pub fn reset_stats(&self) {
        self.shared.stats.reset();
    }

    /// Delivers a mobile-originated message to a receiver bind of `system_id` (any bind when
    /// `None`). Returns false when no receiver is bound (an MO is not parked).
    pub fn inject_mo(&self, system_id: Option<&str>, from: &str, to: &str, text: &[u8]) -> bool {
        let pdu = receipt::encode_mo(from, to, text);
        let registry = &self.shared.registry;
        match system_id {
            Some(id) => registry.route_now(id, pdu, registry::Kind::Mo),
            None => registry.route(None, pdu, registry::Kind::Mo),
        }
    }

    /// Drops every open connection now (as a network failure or an SMSC restart would), the
    /// way `flow.unbind_before_disconnect` says; clients may bind again at once.
    pub fn disconnect_all(&self) {
        self.shared.kick.send_modify(|n| *n += 1);
    }

    /// Stops accepting, closes every connection and the HTTP endpoint.
    pub fn shutdown(&self) {
        self.shared.cancel.cancel();
    }
}
