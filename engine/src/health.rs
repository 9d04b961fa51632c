//! The dependencies' share of readiness: flags the broker connection and the correlation
//! store set, read by `/ready` (with the binds) and by whoever takes new work. All start
//! healthy: a dependency that is not configured never turns its flag off.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::correlation::CorrelationStore;

/// How often [`watch_store`] probes the store.
pub const STORE_PROBE_PERIOD: Duration = Duration::from_millis(500);

/// Health flags of the engine's dependencies.
#[derive(Debug)]
pub struct Health {
    amqp: AtomicBool,
    store: AtomicBool,
    changed: watch::Sender<bool>,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            amqp: AtomicBool::new(true),
            store: AtomicBool::new(true),
            changed: watch::Sender::new(true),
        }
    }
}

impl Health {
    /// All healthy.
    pub fn new() -> Health {
        Health::default()
    }

    /// The broker connection is up (or not).
    pub fn set_amqp(&self, up: bool) {
        self.amqp.store(up, Ordering::Relaxed);
        self.publish();
    }

    /// The correlation store answers (or not).
    pub fn set_store(&self, up: bool) {
        self.store.store(up, Ordering::Relaxed);
        self.publish();
    }

    /// Whether the store answered at the last probe.
    pub fn store_ok(&self) -> bool {
        self.store.load(Ordering::Relaxed)
    }

    /// Every dependency is healthy.
    pub fn is_ready(&self) -> bool {
        self.amqp.load(Ordering::Relaxed) && self.store_ok()
    }

    /// A receiver that sees [`Self::is_ready`] whenever a flag changes.
    pub fn watch(&self) -> watch::Receiver<bool> {
        self.changed.subscribe()
    }

    fn publish(&self) {
        let ready = self.is_ready();
        self.changed
            .send_if_modified(|v| std::mem::replace(v, ready) != ready);
    }
}

/// Probes `store` every [`STORE_PROBE_PERIOD`] and keeps `health`'s store flag in step, until
/// `cancel`. A failed probe also makes the Redis connection manager reconnect, so the engine
/// resumes by itself when the store comes back.
pub async fn watch_store<S: CorrelationStore>(
    store: std::sync::Arc<S>,
    health: std::sync::Arc<Health>,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(STORE_PROBE_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let up = store.probe().await;
        if up != health.store_ok() {
            if up {
                tracing::info!("correlation store reachable again");
            } else {
                tracing::error!("correlation store unreachable: not ready, no new work");
            }
        }
        health.set_store(up);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_needs_every_flag_and_changes_are_watched() {
        let h = Health::new();
        let mut rx = h.watch();
        assert!(h.is_ready());
        h.set_store(false);
        assert!(!h.is_ready());
        assert!(rx.has_changed().unwrap());
        assert!(!*rx.borrow_and_update());
        h.set_amqp(false);
        h.set_store(true);
        assert!(!h.is_ready(), "the broker is still down");
        assert!(
            !rx.has_changed().unwrap(),
            "still not ready: no change seen"
        );
        h.set_amqp(true);
        assert!(h.is_ready());
        assert!(*rx.borrow_and_update());
    }
}
