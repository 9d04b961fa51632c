//! The engine's dependencies on outside services, as flags: the RabbitMQ connection and the
//! correlation store. [`Health::is_ready`] is their conjunction (a dependency that is not
//! configured counts as healthy); the app adds "every route's upstream is bound" for `/ready`.
//! The RabbitMQ consumer takes no new deliveries while the engine is not ready.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

/// Shared health flags. Cheap to read (two atomic loads); changes are announced on a
/// [`watch`] channel so waiters need not poll.
#[derive(Debug)]
pub struct Health {
    amqp: AtomicBool,
    store: AtomicBool,
    changed: watch::Sender<()>,
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
            changed: watch::Sender::new(()),
        }
    }

    /// Records whether the RabbitMQ connection is up (consuming and able to publish).
    pub fn set_amqp(&self, up: bool) {
        if self.amqp.swap(up, Ordering::AcqRel) != up {
            self.changed.send_replace(());
        }
    }

    /// Records whether the correlation store answers.
    pub fn set_store(&self, up: bool) {
        if self.store.swap(up, Ordering::AcqRel) != up {
            self.changed.send_replace(());
        }
    }

    /// Whether the RabbitMQ connection is up (always true without RabbitMQ).
    pub fn amqp(&self) -> bool {
        self.amqp.load(Ordering::Acquire)
    }

    /// Whether the correlation store answers (always true for the in-process one).
    pub fn store(&self) -> bool {
        self.store.load(Ordering::Acquire)
    }

    /// Whether every configured dependency is healthy.
    pub fn is_ready(&self) -> bool {
        self.amqp() && self.store()
    }

    /// A receiver that sees every change of the flags (`changed().await`).
    pub fn subscribe(&self) -> watch::Receiver<()> {
        self.changed.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn flags_combine_and_changes_are_announced() {
        let h = Health::new();
        assert!(h.is_ready());
        let mut rx = h.subscribe();
        h.set_amqp(false);
        assert!(!h.is_ready() && h.store());
        rx.changed().await.unwrap();
        h.set_store(false);
        h.set_amqp(true);
        assert!(!h.is_ready());
        h.set_store(true);
        assert!(h.is_ready());
        rx.changed().await.unwrap();
        // Setting a flag to its current value announces nothing.
        h.set_store(true);
        assert!(!rx.has_changed().unwrap());
    }
}
