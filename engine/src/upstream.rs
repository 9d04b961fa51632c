//! [`Upstream`]: one upstream, whatever its door — an SMPP bind [`Pool`] or Celcom's HTTP API
//! ([`HttpUpstream`]) — with the calls the pipeline makes of either.

use std::time::Duration;

use tokio::time::Instant;

use crate::celcom::HttpUpstream;
use crate::smpp::{Pool, QueryRequest, Session, SubmitRequest, SubmitResult};

/// One upstream of the pipeline.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// SMPP binds.
    Smpp(Pool),
    /// Celcom's HTTP API.
    Http(HttpUpstream),
}

impl Upstream {
    /// The upstream name.
    pub fn name(&self) -> &str {
        match self {
            Upstream::Smpp(p) => p.name(),
            Upstream::Http(h) => h.name(),
        }
    }

    /// Submits one part.
    pub async fn submit(&self, request: &SubmitRequest) -> SubmitResult {
        match self {
            Upstream::Smpp(p) => p.submit(request).await,
            Upstream::Http(h) => h.submit(request).await,
        }
    }

    /// `query_sm` on SMPP; `getdlr/` read as its answer on the HTTP API.
    pub async fn query(&self, request: &QueryRequest) -> SubmitResult {
        match self {
            Upstream::Smpp(p) => p.query(request).await,
            Upstream::Http(h) => h.query(request).await,
        }
    }

    /// Whether parts without a receipt are asked for before they are expired: SMPP upstreams
    /// that say they answer `query_sm`, every HTTP API (`getdlr/`).
    pub fn answers_queries(&self, config: &crate::config::UpstreamConfig) -> bool {
        match self {
            Upstream::Smpp(_) => config.query_sm,
            Upstream::Http(_) => true,
        }
    }

    /// Whether it can take a submit now.
    pub fn is_up(&self) -> bool {
        match self {
            Upstream::Smpp(p) => p.is_up(),
            Upstream::Http(h) => h.is_up(),
        }
    }

    /// Waits until [`is_up`](Self::is_up) or `limit` passes.
    pub async fn wait_up(&self, limit: Duration) -> bool {
        match self {
            Upstream::Smpp(p) => p.wait_up(limit).await,
            Upstream::Http(h) => {
                let until = Instant::now() + limit;
                while !h.is_up() && Instant::now() < until {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                h.is_up()
            }
        }
    }

    /// Binds up (an HTTP upstream counts as one bind, up while it answers).
    pub fn bound_count(&self) -> usize {
        match self {
            Upstream::Smpp(p) => p.bound_count(),
            Upstream::Http(h) => usize::from(h.is_up()),
        }
    }

    /// Binds in all.
    pub fn bind_total(&self) -> usize {
        match self {
            Upstream::Smpp(p) => p.sessions().len(),
            Upstream::Http(_) => 1,
        }
    }

    /// The SMPP sessions (none for HTTP).
    pub fn sessions(&self) -> &[Session] {
        match self {
            Upstream::Smpp(p) => p.sessions(),
            Upstream::Http(_) => &[],
        }
    }

    /// Stops: SMPP unbinds within `drain`; HTTP stops pulling receipts.
    pub async fn shutdown(&self, drain: Duration) {
        match self {
            Upstream::Smpp(p) => p.shutdown(drain).await,
            Upstream::Http(h) => h.shutdown(),
        }
    }
}
