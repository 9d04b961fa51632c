//! One bind as an actor: [`Session`] is the cloneable handle; a task owns the connection and
//! cycles connect → bind → serve → reconnect with jittered back-off until shut down. Window
//! slots are semaphore permits taken by the submitter, so a full window makes `submit` wait
//! (back-pressure) rather than queue without bound.

use std::{future::Future, sync::Arc, time::Duration};

use bytes::BytesMut;
use tokio::{
    sync::{Semaphore, mpsc, oneshot, watch},
    time::{Instant, sleep, timeout},
};

use super::{
    backoff::Backoff,
    config::SessionConfig,
    conn::Exit,
    counters::{Counters, CountersSnapshot},
    error::{AmbiguousReason, BindError, ConfigError, NotSentReason, SubmitError},
    event::{BindState, SessionEvent, SessionId},
    handshake::connect_and_bind,
    inbound::Ack,
    pdu::SubmitRequest,
    window::{Slot, SubmitResult},
};

/// A submit on its way to the session task.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) pdu: BytesMut,
    pub(crate) reply: oneshot::Sender<SubmitResult>,
    pub(crate) slot: Slot,
}

/// The task side of a session.
pub(crate) struct Actor {
    pub(crate) id: SessionId,
    pub(crate) config: Arc<SessionConfig>,
    pub(crate) rx: mpsc::Receiver<Request>,
    pub(crate) acks_tx: mpsc::UnboundedSender<Ack>,
    pub(crate) acks_rx: mpsc::UnboundedReceiver<Ack>,
    pub(crate) events: Option<mpsc::Sender<SessionEvent>>,
    pub(crate) state: watch::Sender<BindState>,
    pub(crate) counters: Arc<Counters>,
    /// Set to the drain deadline when shutdown is requested.
    pub(crate) shutdown: watch::Receiver<Option<Instant>>,
    /// Bumped per bound connection, so answers for an old connection are not written.
    pub(crate) generation: u64,
}

fn reject(request: Request, reason: NotSentReason, counters: &Counters) {
    Counters::inc(&counters.not_sent);
    let _ = request.reply.send(Err(SubmitError::NotSent(reason)));
}

impl Actor {
    /// Shutdown requested, or every handle dropped.
    pub(crate) fn stopping(&self) -> bool {
        self.shutdown.borrow().is_some()
            || self.shutdown.has_changed().is_err()
            || self.rx.is_closed()
    }

    pub(crate) fn set_state(&self, state: BindState) {
        if let Some(events) = &self.events {
            // State changes are also readable through the watch; never block on them.
            let _ = events.try_send(SessionEvent::State {
                session: self.id.clone(),
                state: state.clone(),
            });
        }
        self.state.send_replace(state);
    }

    /// Runs `fut` while the bind is down, refusing submits; `None` when shutdown came first.
    async fn while_down<F: Future>(&mut self, fut: F) -> Option<F::Output> {
        tokio::pin!(fut);
        loop {
            if self.stopping() {
                return None;
            }
            tokio::select! {
                out = &mut fut => return Some(out),
                request = self.rx.recv() => match request {
                    Some(r) => reject(r, NotSentReason::BindDown, &self.counters),
                    None => return None,
                },
                _ = self.shutdown.changed() => {}
                // Answers for a connection that is gone are dropped: the SMSC redelivers.
                Some(_) = self.acks_rx.recv() => {}
            }
        }
    }

    async fn run(mut self) {
        let config = Arc::clone(&self.config);
        let mut backoff = Backoff::new(config.reconnect_min, config.reconnect_max);
        loop {
            self.set_state(BindState::Connecting);
            let attempt = timeout(config.bind_timeout, connect_and_bind(&config));
            let Some(result) = self.while_down(attempt).await else {
                break;
            };
            match result.unwrap_or(Err(BindError::Timeout)) {
                Ok(bound) => {
                    backoff.reset();
                    self.generation += 1;
                    Counters::inc(&self.counters.binds);
                    self.counters
                        .bound
                        .store(1, std::sync::atomic::Ordering::Relaxed);
                    tracing::info!(session = %self.id, "bound");
                    self.set_state(BindState::Bound);
                    let exit = self.run_bound(bound).await;
                    self.counters
                        .bound
                        .store(0, std::sync::atomic::Ordering::Relaxed);
                    let reason = match exit {
                        Exit::Stopped => break,
                        Exit::Lost(reason) => reason,
                        Exit::Unbound => "unbound by the SMSC".to_owned(),
                    };
                    if self.stopping() {
                        break;
                    }
                    Counters::inc(&self.counters.reconnects);
                    tracing::warn!(session = %self.id, %reason, "connection lost; reconnecting");
                    self.set_state(BindState::Disconnected(reason));
                }
                Err(error) => {
                    Counters::inc(&self.counters.bind_failures);
                    tracing::warn!(session = %self.id, %error, credentials = error.is_credentials(), "bind failed; retrying");
                    self.set_state(BindState::Failed(error));
                }
            }
            let delay = backoff.next_delay();
            if self.while_down(sleep(delay)).await.is_none() {
                break;
            }
        }
        self.rx.close();
        while let Ok(request) = self.rx.try_recv() {
            reject(request, NotSentReason::ShuttingDown, &self.counters);
        }
        tracing::info!(session = %self.id, "stopped");
        self.set_state(BindState::Stopped);
    }
}

struct Inner {
    id: SessionId,
    config: Arc<SessionConfig>,
    tx: mpsc::Sender<Request>,
    permits: Arc<Semaphore>,
    state: watch::Receiver<BindState>,
    counters: Arc<Counters>,
    shutdown: watch::Sender<Option<Instant>>,
}

/// Handle to one bind. Clone freely; the task stops (unbinding first) on
/// [`shutdown`](Self::shutdown) or when the last handle is dropped.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.inner.id)
            .field("state", &*self.inner.state.borrow())
            .finish()
    }
}

impl Session {
    /// Starts a session with its own event stream (capacity 1024). Must run inside a tokio
    /// runtime.
    pub fn start(
        id: SessionId,
        config: SessionConfig,
    ) -> Result<(Session, mpsc::Receiver<SessionEvent>), ConfigError> {
        let (tx, rx) = mpsc::channel(1024);
        Ok((Session::start_with_events(id, config, Some(tx))?, rx))
    }

    /// Starts a session that reports to `events` (shared by a pool), or nowhere when `None`
    /// (then every `deliver_sm` is answered `ESME_RX_T_APPN`).
    pub fn start_with_events(
        id: SessionId,
        config: SessionConfig,
        events: Option<mpsc::Sender<SessionEvent>>,
    ) -> Result<Session, ConfigError> {
        config.validate()?;
        let config = Arc::new(config);
        let (tx, rx) = mpsc::channel(config.window);
        let (acks_tx, acks_rx) = mpsc::unbounded_channel();
        let (state_tx, state_rx) = watch::channel(BindState::Connecting);
        let (shutdown_tx, shutdown_rx) = watch::channel(None);
        let counters = Arc::new(Counters::default());
        let actor = Actor {
            id: id.clone(),
            config: Arc::clone(&config),
            rx,
            acks_tx,
            acks_rx,
            events,
            state: state_tx,
            counters: Arc::clone(&counters),
            shutdown: shutdown_rx,
            generation: 0,
        };
        tokio::spawn(actor.run());
        Ok(Session {
            inner: Arc::new(Inner {
                id,
                permits: Arc::new(Semaphore::new(config.window)),
                config,
                tx,
                state: state_rx,
                counters,
                shutdown: shutdown_tx,
            }),
        })
    }

    /// This session's id.
    pub fn id(&self) -> &SessionId {
        &self.inner.id
    }

    /// Its configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.inner.config
    }

    /// The current state.
    pub fn state(&self) -> BindState {
        self.inner.state.borrow().clone()
    }

    /// A receiver that sees every state change from now on (`changed()` waits for the next
    /// one; `borrow()` is the current state).
    pub fn watch_state(&self) -> watch::Receiver<BindState> {
        let mut rx = self.inner.state.clone();
        rx.mark_unchanged();
        rx
    }

    /// True when bound.
    pub fn is_bound(&self) -> bool {
        self.inner.state.borrow().is_bound()
    }

    /// Window slots in use (queued or awaiting a response).
    pub fn outstanding(&self) -> usize {
        let inner = &self.inner;
        inner
            .config
            .window
            .saturating_sub(inner.permits.available_permits())
    }

    /// Counter values now.
    pub fn counters(&self) -> CountersSnapshot {
        self.inner.counters.snapshot()
    }

    /// Sends `submit_sm` and waits for its response. Waits for a window slot first when the
    /// window is full. Fails fast with [`NotSentReason::BindDown`] when not bound.
    pub async fn submit(&self, request: &SubmitRequest) -> SubmitResult {
        self.submit_encoded(request.encode()?).await
    }

    /// Like [`submit`](Self::submit) with a PDU from [`SubmitRequest::encode`] (lets a pool
    /// retry on another bind without encoding again).
    pub async fn submit_encoded(&self, pdu: BytesMut) -> SubmitResult {
        let inner = &self.inner;
        let not_sent = |reason| {
            Counters::inc(&inner.counters.not_sent);
            Err(SubmitError::NotSent(reason))
        };
        if !inner.config.bind_type.can_submit() {
            return not_sent(NotSentReason::NoBind);
        }
        if inner.shutdown.borrow().is_some() {
            return not_sent(NotSentReason::ShuttingDown);
        }
        if !self.is_bound() {
            return not_sent(NotSentReason::BindDown);
        }
        let Ok(permit) = Arc::clone(&inner.permits).acquire_owned().await else {
            return not_sent(NotSentReason::ShuttingDown);
        };
        let (reply, answer) = oneshot::channel();
        let request = Request {
            pdu,
            reply,
            slot: Slot::new(permit, Arc::clone(&inner.counters)),
        };
        if inner.tx.send(request).await.is_err() {
            return not_sent(NotSentReason::ShuttingDown);
        }
        answer
            .await
            .unwrap_or(Err(SubmitError::Ambiguous(AmbiguousReason::SessionGone)))
    }

    /// Stops taking submits, lets the window drain for at most `drain`, unbinds and closes.
    /// Returns once the task has stopped.
    pub async fn shutdown(&self, drain: Duration) {
        let inner = &self.inner;
        inner.permits.close();
        inner.shutdown.send_replace(Some(Instant::now() + drain));
        let mut state = inner.state.clone();
        let _ = state.wait_for(|s| *s == BindState::Stopped).await;
    }
}
