//! Click recording, off the redirect's path: the redirect hands each click to a bounded
//! channel with `try_send` (never waiting; a full channel drops the click and counts it) and
//! the `link_click_writer` worker writes what arrived in batches — one statement per batch
//! ([`super::store::record_clicks`]), which also judges clicks within a second of delivery
//! and keeps the per-campaign counters.

use std::sync::Mutex;
use std::time::Duration;

use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::config::LinksConfig;
use super::store;
use crate::metrics::Metrics;

/// Why a request is a machine's (the `bot` column), judged at the redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Bot {
    /// A HEAD request (previewers and scanners check links with them).
    Head,
    /// A known previewer or crawler user agent, or none.
    UserAgent,
}

/// One request for a code.
#[derive(Debug, Clone)]
pub struct Click {
    /// Id of the click row.
    pub id: Uuid,
    /// The code.
    pub code: String,
    /// When it came.
    pub at: OffsetDateTime,
    /// `GET` or `HEAD`.
    pub head: bool,
    /// At most 512 bytes of the user agent.
    pub user_agent: Option<String>,
    /// The redirect's judgement (the writer adds "too early").
    pub bot: Option<Bot>,
}

/// The channel's two ends: the redirect's sender, and the receiver the writer takes once.
#[derive(Debug)]
pub struct Clicks {
    tx: mpsc::Sender<Click>,
    rx: Mutex<Option<mpsc::Receiver<Click>>>,
}

impl Clicks {
    /// A channel holding at most `capacity` clicks.
    pub fn new(capacity: usize) -> Clicks {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        Clicks {
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }

    /// Hands `click` to the writer without waiting; false (and counted) when it was dropped.
    pub fn offer(&self, click: Click, metrics: &Metrics) -> bool {
        match self.tx.try_send(click) {
            Ok(()) => {
                metrics.link_clicks("queued", 1);
                true
            }
            Err(_) => {
                metrics.link_clicks("dropped", 1);
                false
            }
        }
    }

    /// The receiver, for the one writer of this process (None once taken).
    pub fn take_receiver(&self) -> Option<mpsc::Receiver<Click>> {
        self.rx.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Writes every click waiting now, when no writer took the receiver (tests, tools);
    /// how many were written.
    pub async fn flush(&self, pool: &PgPool, config: &LinksConfig) -> crate::error::Result<u64> {
        let mut batch = Vec::new();
        {
            let mut guard = self.rx.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(rx) = guard.as_mut() {
                while let Ok(c) = rx.try_recv() {
                    batch.push(c);
                }
            }
        }
        if batch.is_empty() {
            return Ok(0);
        }
        store::record_clicks(pool, &batch, config.preview_window_ms).await
    }
}

/// The `link_click_writer` loop: gathers up to `click_batch` clicks for `flush_ms`, writes
/// them, and again until `stop` (then writes what is left). A batch that cannot be written
/// is retried three times, then dropped and counted — clicks are statistics, not money.
pub async fn writer(
    pool: PgPool,
    mut rx: mpsc::Receiver<Click>,
    config: LinksConfig,
    metrics: std::sync::Arc<Metrics>,
    stop: CancellationToken,
) {
    let mut batch = Vec::with_capacity(config.click_batch);
    loop {
        let first = tokio::select! {
            c = rx.recv() => c,
            _ = stop.cancelled() => None,
        };
        let Some(first) = first else {
            // Stopping: what is still in the channel goes in one last batch.
            while let Ok(c) = rx.try_recv() {
                batch.push(c);
            }
            write(&pool, &mut batch, &config, &metrics).await;
            return;
        };
        batch.push(first);
        let deadline = tokio::time::Instant::now() + Duration::from_millis(config.flush_ms);
        while batch.len() < config.click_batch {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(c)) => batch.push(c),
                _ => break,
            }
        }
        write(&pool, &mut batch, &config, &metrics).await;
    }
}

async fn write(pool: &PgPool, batch: &mut Vec<Click>, config: &LinksConfig, metrics: &Metrics) {
    if batch.is_empty() {
        return;
    }
    for round in 0..4u64 {
        match store::record_clicks(pool, batch, config.preview_window_ms).await {
            Ok(n) => {
                metrics.link_clicks("written", n as usize);
                batch.clear();
                return;
            }
            Err(e) if round < 3 => {
                tracing::warn!(error = %e, round, "link clicks: write failed");
                tokio::time::sleep(Duration::from_millis(200 * (round + 1))).await;
            }
            Err(e) => tracing::warn!(error = %e, clicks = batch.len(), "link clicks lost"),
        }
    }
    metrics.link_clicks("lost", batch.len());
    batch.clear();
}
