//! [`Pool`]: the binds of one upstream. A submit goes to the bound session with the fewest
//! outstanding requests; one that could not be written there (never reached the SMSC) is
//! tried on the next session, so a dropped bind costs no messages and no duplicates.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering::Relaxed},
    },
    time::Duration,
};

use tokio::{sync::mpsc, task::JoinSet, time::Instant};

use super::{
    config::SessionConfig,
    counters::CountersSnapshot,
    error::{ConfigError, NotSentReason, SubmitError},
    event::{BindState, SessionEvent, SessionId},
    pdu::{QueryRequest, SubmitRequest},
    session::Session,
    window::SubmitResult,
};

/// Capacity of a pool's merged event stream.
pub const EVENT_CAPACITY: usize = 4096;

/// The sessions of one upstream. Clone freely.
#[derive(Debug, Clone)]
pub struct Pool {
    name: Arc<str>,
    sessions: Arc<[Session]>,
    /// Where the least-busy scan starts, rotated so ties do not all land on session 0.
    next: Arc<AtomicUsize>,
}

impl Pool {
    /// Starts one session per config, reporting into one merged event stream (receipts, MO
    /// messages, state changes). Must run inside a tokio runtime.
    pub fn start(
        name: &str,
        configs: Vec<SessionConfig>,
    ) -> Result<(Pool, mpsc::Receiver<SessionEvent>), ConfigError> {
        if configs.is_empty() {
            return Err(ConfigError::Invalid("a pool needs at least one session"));
        }
        for config in &configs {
            config.validate()?;
        }
        let name: Arc<str> = Arc::from(name);
        let (tx, rx) = mpsc::channel(EVENT_CAPACITY);
        let sessions = configs
            .into_iter()
            .enumerate()
            .map(|(index, config)| {
                let id = SessionId {
                    upstream: Arc::clone(&name),
                    index,
                };
                Session::start_with_events(id, config, Some(tx.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((
            Pool {
                name,
                sessions: sessions.into(),
                next: Arc::new(AtomicUsize::new(0)),
            },
            rx,
        ))
    }

    /// `binds` identical sessions of `config`.
    pub fn uniform(
        name: &str,
        config: SessionConfig,
        binds: usize,
    ) -> Result<(Pool, mpsc::Receiver<SessionEvent>), ConfigError> {
        Pool::start(name, vec![config; binds])
    }

    /// The upstream name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The sessions, in index order.
    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }

    /// Sessions bound now (any bind type).
    pub fn bound_count(&self) -> usize {
        self.sessions.iter().filter(|s| s.is_bound()).count()
    }

    /// True when at least one bound session may submit (for `/ready`).
    pub fn is_up(&self) -> bool {
        self.sessions
            .iter()
            .any(|s| s.is_bound() && s.config().bind_type.can_submit())
    }

    /// Waits until [`is_up`](Self::is_up) or `limit` passes; returns whether it is up.
    pub async fn wait_up(&self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        loop {
            // Watch first, then check: a change in between still wakes us.
            let mut changes = JoinSet::new();
            for session in self.sessions.iter() {
                let mut state = session.watch_state();
                changes.spawn(async move { state.changed().await.is_ok() });
            }
            if self.is_up() {
                return true;
            }
            if self
                .sessions
                .iter()
                .all(|s| s.state() == BindState::Stopped)
            {
                return false;
            }
            tokio::select! {
                _ = changes.join_next() => {}
                _ = tokio::time::sleep_until(until) => return self.is_up(),
            }
        }
    }

    /// Submits on the least busy bound session, failing over to the others while the error
    /// says the request was not sent. Ambiguous errors are returned as they are: only the
    /// caller can decide whether a possible duplicate is acceptable.
    pub async fn submit(&self, request: &SubmitRequest) -> SubmitResult {
        self.send(request.encode()?).await
    }

    /// Sends `query_sm` like a submit (least busy bind, fail-over while not sent); the
    /// answer's body is in [`SubmitOutcome::query`](super::SubmitOutcome::query). It takes a
    /// window slot like a submit but no route token: reconciliation has its own rate.
    pub async fn query(&self, request: &QueryRequest) -> SubmitResult {
        self.send(request.encode()?).await
    }

    async fn send(&self, pdu: bytes::BytesMut) -> SubmitResult {
        let mut tried = vec![false; self.sessions.len()];
        let mut last = SubmitError::NotSent(NotSentReason::NoBind);
        loop {
            let n = self.sessions.len();
            let start = self.next.fetch_add(1, Relaxed);
            let pick = (0..n)
                .map(|k| (start + k) % n)
                .filter(|&i| {
                    let s = &self.sessions[i];
                    !tried[i] && s.is_bound() && s.config().bind_type.can_submit()
                })
                .min_by_key(|&i| self.sessions[i].outstanding());
            let Some(i) = pick else {
                return Err(last);
            };
            let session = &self.sessions[i];
            tried[i] = true;
            match session.submit_encoded(pdu.clone()).await {
                Err(e @ SubmitError::NotSent(_)) => {
                    tracing::debug!(session = %session.id(), error = %e, "failing over");
                    last = e;
                }
                other => return other,
            }
        }
    }

    /// Counters summed over the sessions (`bound` is then the number of bound sessions).
    pub fn counters(&self) -> CountersSnapshot {
        let mut total = CountersSnapshot::default();
        for s in self.sessions.iter() {
            total.add(&s.counters());
        }
        total
    }

    /// Shuts every session down concurrently (see [`Session::shutdown`]).
    pub async fn shutdown(&self, drain: Duration) {
        let mut tasks = JoinSet::new();
        for s in self.sessions.iter() {
            let s = s.clone();
            tasks.spawn(async move { s.shutdown(drain).await });
        }
        while tasks.join_next().await.is_some() {}
    }
}
