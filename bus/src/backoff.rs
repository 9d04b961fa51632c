//! Jittered doubling back-off for reconnects: the first wait is about `min`, each failure
//! doubles it up to `max`, and each wait is drawn from its upper half so that many clients
//! that lost the broker at once do not come back in lockstep.

use std::time::Duration;

/// A reconnect back-off.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// Starts at `min`, never beyond `max` (raised to `min` if below it).
    pub fn new(min: Duration, max: Duration) -> Backoff {
        Backoff {
            min,
            max: max.max(min),
            next: min,
        }
    }

    /// The wait before the next attempt (between half and all of the current delay), and
    /// doubles the delay.
    pub fn next_wait(&mut self) -> Duration {
        let d = self.next;
        self.next = (d * 2).min(self.max);
        d / 2 + (d / 2).mul_f64(fastrand::f64())
    }

    /// The wait after `failures` consecutive failures without keeping state (a retry schedule
    /// stored elsewhere, e.g. a delivery's attempt count): what the `failures`-th
    /// [`Backoff::next_wait`] would draw.
    pub fn wait_after(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(40);
        let d = self
            .min
            .checked_mul(1u32 << doublings.min(31))
            .unwrap_or(self.max)
            .min(self.max);
        d / 2 + (d / 2).mul_f64(fastrand::f64())
    }

    /// After a success: the next failure starts at `min` again.
    pub fn reset(&mut self) {
        self.next = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_within_the_jitter_up_to_the_cap_and_reset() {
        let ms = Duration::from_millis;
        let mut b = Backoff::new(ms(100), ms(400));
        for cap in [100, 200, 400, 400] {
            let w = b.next_wait();
            assert!(w >= ms(cap / 2) && w <= ms(cap), "{w:?} for {cap}");
        }
        b.reset();
        assert!(b.next_wait() <= ms(100));
        for (failures, cap) in [(1, 100), (2, 200), (3, 400), (60, 400)] {
            let w = b.wait_after(failures);
            assert!(w >= ms(cap / 2) && w <= ms(cap), "{w:?} after {failures}");
        }
    }
}
