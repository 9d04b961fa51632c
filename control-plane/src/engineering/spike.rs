//! The failed-SMS spike notice: the `failure_spike` worker looks at the results rollups
//! every `[engineering] failure_spike_check_secs` and tells the engineering viewers (staff
//! notice, [`notify_staff`]) when, within the current window, at least
//! `failure_spike_min_finals` messages became final and the share that failed (failed,
//! expired or rejected) is at least `failure_spike_rate` — at most once per window.
//!
//! It never scans `messages`: the rollups' totals (two days of them, the days messages that
//! become final now were mostly created on) are read at the first look in a window as its
//! baseline (`failure_spike_windows`), and each later look compares with it. The window's row
//! is locked while deciding and marked when the notice goes out, so several processes send
//! one notice.

use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::admin::notices::{Audience, notify_staff};
use crate::admin::permissions::{Level, Module};
use crate::engineering::config::EngineeringConfig;
use crate::error::Result;
use crate::notifications::Notice;
use crate::state::AppState;
use crate::worker::{Worker, pause};

/// A spike that was notified.
#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    /// Start of the window.
    pub window_start: OffsetDateTime,
    /// Messages that became final in it so far.
    pub finals: i64,
    /// Of which failed, expired or rejected.
    pub failures: i64,
    /// How many staff members were told.
    pub told: u64,
}

/// The start of the window `now` falls in.
fn window_of(now: OffsetDateTime, secs: u64) -> OffsetDateTime {
    let secs = i64::try_from(secs.max(1)).unwrap_or(i64::MAX);
    let t = now.unix_timestamp();
    OffsetDateTime::from_unix_timestamp(t - t.rem_euclid(secs)).unwrap_or(now)
}

/// One look at `now`: the spike it notified, if any.
pub async fn check(
    pool: &PgPool,
    config: &EngineeringConfig,
    now: OffsetDateTime,
    base_url: &str,
) -> Result<Option<Spike>> {
    let start = window_of(now, config.failure_spike_window_secs);
    let mut tx = pool.begin().await?;
    // The days are fixed by the window's start, so every look in it sums the same rows.
    let (finals, failures): (i64, i64) = sqlx::query_as(
        "SELECT coalesce(sum(delivered + failed + expired + rejected), 0)::int8,
                coalesce(sum(failed + expired + rejected), 0)::int8
         FROM message_rollups WHERE day >= ($1::timestamptz AT TIME ZONE 'UTC')::date - 1",
    )
    .bind(start)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO failure_spike_windows (window_start, base_finals, base_failures)
         VALUES ($1, $2, $3) ON CONFLICT (window_start) DO NOTHING",
    )
    .bind(start)
    .bind(finals)
    .bind(failures)
    .execute(&mut *tx)
    .await?;
    let (base_finals, base_failures, notified): (i64, i64, bool) = sqlx::query_as(
        "SELECT base_finals, base_failures, notified_at IS NOT NULL
         FROM failure_spike_windows WHERE window_start = $1 FOR UPDATE",
    )
    .bind(start)
    .fetch_one(&mut *tx)
    .await?;
    let (in_window, failed) = (finals - base_finals, failures - base_failures);
    let crossed = in_window > 0
        && in_window >= config.failure_spike_min_finals
        && failed as f64 / in_window as f64 >= config.failure_spike_rate;
    if notified || !crossed {
        tx.commit().await?;
        return Ok(None);
    }
    sqlx::query(
        "UPDATE failure_spike_windows SET notified_at = now(), finals = $2, failures = $3
         WHERE window_start = $1",
    )
    .bind(start)
    .bind(in_window)
    .bind(failed)
    .execute(&mut *tx)
    .await?;
    let percent = (failed as f64 * 100.0 / in_window as f64).round();
    let body = format!(
        "{failed} of {in_window} messages that became final since {start} failed ({percent}%, \
         threshold {}%).",
        (config.failure_spike_rate * 100.0).round()
    );
    let notice = Notice {
        kind: "engineering.failure_spike",
        title: "Failed-SMS spike",
        body: &body,
        data: json!({
            "window_start": start.unix_timestamp(),
            "finals": in_window,
            "failures": failed,
            "threshold": config.failure_spike_rate,
        }),
    };
    let audience = Audience {
        module: Module::Engineering,
        level: Level::Read,
    };
    let told = notify_staff(&mut tx, audience, &notice, base_url).await?;
    tx.commit().await?;
    Ok(Some(Spike {
        window_start: start,
        finals: in_window,
        failures: failed,
        told,
    }))
}

/// The `failure_spike` worker.
pub fn worker(state: &AppState, stop: CancellationToken) -> Worker {
    let pool = state.pool.clone();
    let config = state.config.engineering.clone();
    let base_url = state.config.server.public_base_url.clone();
    Worker::new("failure_spike", async move {
        let period = std::time::Duration::from_secs(config.failure_spike_check_secs.max(1));
        loop {
            if let Err(error) = check(&pool, &config, OffsetDateTime::now_utc(), &base_url).await {
                tracing::warn!(%error, "failure spike check failed");
            }
            if !pause(period, &stop).await {
                return;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned() {
        // 1_800_000_000 is a multiple of 900.
        let t = OffsetDateTime::from_unix_timestamp(1_800_000_123).unwrap();
        assert_eq!(window_of(t, 900).unix_timestamp(), 1_800_000_000);
        assert_eq!(window_of(t, 1), t);
    }
}
