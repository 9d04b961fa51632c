//! The engine's dependencies on outside services, as flags: the RabbitMQ connection and the
//! correlation store. [`Health::is_ready`] is their conjunction (a dependency that is not
//! configured counts as healthy); the app adds "every route's upstream is bound" for `/ready`.
//! The RabbitMQ consumer takes no new deliveries while the engine is not ready, and
//! [`watch_store`] keeps the store's flag in step with a periodic probe.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::correlation::CorrelationStore;

/// How often [`watch_store`] probes the store.
pub const STORE_PROBE_PERIOD: Duration = Duration::from_millis(500);

/// Shared health flags. Cheap to read (two atomic loads); changes of readiness are announced
/// on a [`watch`] channel so waiters need not poll.
#[derive(Debug)]
pub struct Health {
    amqp: AtomicBool,
    store: AtomicBool,
    changed: watch::Sender<bool>,
}

impl Default for Health {
    fn default() -> Self {
        Health::new()
    }
}

impl Health {
    /// Everything healthy (what an engine without RabbitMQ or Redis is).
    pub fn new() -> Health {
        Health {
            amqp: AtomicBool::new(true),
            store: AtomicBool::new(true),
            changed: watch::Sender::new(true),
        }
    }

    /// Records whether the RabbitMQ connection is up (consuming and able to publish).
    pub fn set_amqp(&self, up: bool) {
        self.amqp.store(up, Ordering::Release);
        self.publish();
    }

    /// Records whether the correlation store answers.
    pub fn set_store(&self, up: bool) {
        self.store.store(up, Ordering::Release);
        self.publish();
    }

    /// Whether the RabbitMQ connection is up (always true without RabbitMQ).
    pub fn amqp(&self) -> bool {
        self.amqp.load(Ordering::Acquire)
    }

    /// Whether the correlation store answered at the last probe (always true for the
    /// in-process one).
    pub fn store_ok(&self) -> bool {
        self.store.load(Ordering::Acquire)
    }

    /// Whether every configured dependency is healthy.
    pub fn is_ready(&self) -> bool {
        self.amqp() && self.store_ok()
    }

    /// A receiver that sees [`Self::is_ready`] whenever it changes.
    pub fn watch(&self) -> watch::Receiver<bool> {
        self.changed.subscribe()
    }

    /// Same as [`Self::watch`] (`changed().await` wakes on every change of readiness).
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.watch()
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
        // Setting a flag to its current value announces nothing.
        h.set_store(true);
        assert!(!rx.has_changed().unwrap());
    }
}
