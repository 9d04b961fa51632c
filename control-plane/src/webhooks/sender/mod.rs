//! The `webhook_sender` worker: claims due deliveries under a lease ([`store::claim`]),
//! signs each (Standard Webhooks, every live secret) and POSTs it with at most
//! `[webhooks] concurrency` in flight in this process and each endpoint's `max_in_flight`
//! across all processes, then records the outcomes in batches ([`store::record`]).
//! A 2xx delivers; a 410 fails the delivery and disables the endpoint; anything else (an
//! error status, a timeout, a refused connection, the SSRF guard) is retried with the
//! jittered doubling back-off until 24 hours after the event. A crash loses nothing: a
//! delivery is pending until its outcome is recorded, and a dead sender's lease runs out.

pub mod store;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::client::Client;
use super::config::WebhooksConfig;
use super::signing;
use super::ssrf::Guard;
use crate::error::{Error, Result};
use crate::worker::pause;
use store::{Claimed, Fate, Outcome};

/// The sender. Clone freely.
#[derive(Debug, Clone)]
pub struct Sender {
    pool: PgPool,
    client: Client,
    config: Arc<WebhooksConfig>,
    base_url: Arc<str>,
}

impl Sender {
    /// A sender on `pool` with `config` (its allow-list must parse: `Config::validate`).
    pub fn new(pool: PgPool, config: &WebhooksConfig, base_url: &str) -> Result<Sender> {
        let guard = Guard::new(config)
            .map_err(|n| Error::internal(format!("webhooks.allowed_networks: {n}")))?;
        Ok(Sender {
            pool,
            client: Client::new(config, guard),
            config: Arc::new(config.clone()),
            base_url: base_url.into(),
        })
    }

    /// Sends until `stop`, then finishes the attempts in flight and records them.
    pub async fn run(self, stop: CancellationToken) {
        let permits = Arc::new(Semaphore::new(self.config.concurrency));
        let freed = Arc::new(Notify::new());
        let (done, outcomes) = mpsc::channel::<Outcome>(self.config.concurrency * 2);
        // Recording clears leases, which is what frees an endpoint's in-flight room.
        let recorded = Arc::new(Notify::new());
        let recorder = tokio::spawn(self.clone().record_loop(outcomes, recorded.clone()));
        let tasks = TaskTracker::new();
        let poll = Duration::from_millis(self.config.poll_interval_ms);
        // Claim in chunks: while deliveries are in flight, wait until a quarter of the pool
        // (or a batch) is free, or a few milliseconds passed, rather than one query per slot.
        let chunk = (self.config.concurrency / 4).clamp(1, self.config.batch);
        while !stop.is_cancelled() {
            let free = permits.available_permits().min(self.config.batch);
            let busy = permits.available_permits() < self.config.concurrency;
            if free == 0 || (free < chunk && busy) {
                tokio::select! {
                    _ = freed.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(5)), if free > 0 => {}
                    _ = stop.cancelled() => break,
                }
                continue;
            }
            let claimed = match store::claim(&self.pool, free as i64, self.lease()).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook sender: claim failed");
                    if !pause(poll, &stop).await {
                        break;
                    }
                    continue;
                }
            };
            if claimed.is_empty() {
                // Nothing due, or every due endpoint at its limit: wait for the poll, or for
                // a recorded batch while attempts are in flight (it may free an endpoint).
                let busy = permits.available_permits() < self.config.concurrency;
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = recorded.notified(), if busy => {}
                    _ = stop.cancelled() => break,
                }
                continue;
            }
            for delivery in claimed {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let (this, done, freed) = (self.clone(), done.clone(), freed.clone());
                tasks.spawn(async move {
                    let outcome = this.attempt(delivery).await;
                    let _ = done.send(outcome).await;
                    drop(permit);
                    freed.notify_one();
                });
            }
        }
        tasks.close();
        tasks.wait().await;
        drop(done);
        let _ = recorder.await;
    }

    /// One pass (tests, tools): claims what is due now, attempts it all at once and records
    /// the outcomes; how many were attempted.
    pub async fn run_once(&self) -> Result<usize> {
        let claimed = store::claim(&self.pool, self.config.batch as i64, self.lease()).await?;
        let n = claimed.len();
        let outcomes =
            futures::future::join_all(claimed.into_iter().map(|d| self.attempt(d))).await;
        store::record(&self.pool, &outcomes, self.disable_before(), &self.base_url).await?;
        Ok(n)
    }

    fn lease(&self) -> f64 {
        self.config.lease_secs as f64
    }

    fn disable_before(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() - Duration::from_secs(self.config.disable_after_secs)
    }

    /// Signs and sends one delivery; what became of it.
    async fn attempt(&self, d: Claimed) -> Outcome {
        let attempted_at = OffsetDateTime::now_utc();
        let ts = attempted_at.unix_timestamp();
        let id = d.id.to_string();
        let mut secrets = vec![d.secret.as_str()];
        secrets.extend(d.previous_secret.as_deref());
        let signature = signing::header(&secrets, &id, ts, d.body.as_bytes());
        let headers = [
            ("webhook-id", id),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", signature),
        ];
        let answer = self
            .client
            .send(
                &d.method,
                &d.url,
                &d.content_type,
                &headers,
                Bytes::from(d.body),
            )
            .await;
        let fate = match answer.status {
            Some(s) if (200..300).contains(&s) => Fate::Delivered,
            Some(410) => Fate::Gone,
            _ => {
                let failures = u32::try_from(d.attempts + 1).unwrap_or(u32::MAX);
                let next = OffsetDateTime::now_utc() + self.config.retry_delay(failures);
                let window = Duration::from_secs(self.config.retry_window_secs);
                if next > d.window_started_at + window {
                    Fate::GaveUp
                } else {
                    Fate::Retry(next)
                }
            }
        };
        Outcome {
            delivery_id: d.id,
            account_id: d.account_id,
            endpoint_id: d.endpoint_id,
            attempted_at,
            status: answer.status,
            latency_ms: i32::try_from(answer.latency.as_millis()).unwrap_or(i32::MAX),
            error: answer.error,
            excerpt: answer.excerpt,
            fate,
        }
    }

    /// Records outcomes in batches of what has arrived (up to `batch`). A batch that cannot
    /// be written is retried a few times, then left: its leases run out and those deliveries
    /// are attempted again (at least once, never lost).
    async fn record_loop(self, mut outcomes: mpsc::Receiver<Outcome>, recorded: Arc<Notify>) {
        let mut batch = Vec::with_capacity(self.config.batch);
        while let Some(first) = outcomes.recv().await {
            batch.push(first);
            // Gather what arrives within a few milliseconds: one transaction for many.
            let deadline = tokio::time::Instant::now() + Duration::from_millis(10);
            while batch.len() < self.config.batch {
                match tokio::time::timeout_at(deadline, outcomes.recv()).await {
                    Ok(Some(o)) => batch.push(o),
                    _ => break,
                }
            }
            for round in 0..5u64 {
                match store::record(&self.pool, &batch, self.disable_before(), &self.base_url).await
                {
                    Ok(disabled) => {
                        recorded.notify_one();
                        if !disabled.is_empty() {
                            tracing::warn!(endpoints = ?disabled, "webhook endpoints disabled");
                        }
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, round, "webhook sender: recording failed");
                        tokio::time::sleep(Duration::from_millis(200 * (round + 1))).await;
                    }
                }
            }
            batch.clear();
        }
    }
}
