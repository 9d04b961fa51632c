//! Adaptive rate (AIMD: additive increase, multiplicative decrease) for a route whose upstream
//! answers `ESME_RTHROTTLED` / `ESME_RMSGQFUL` (SMPP 3.4 §5.1.3) when sent too fast.
//!
//! * A throttle reply multiplies the rate by [`DECREASE`], not below the floor. The replies
//!   of a whole window arrive together for one overload, so only one decrease per
//!   [`COOLDOWN_NS`] counts; otherwise one burst would drive the rate to the floor.
//! * Each run of successes as long as one second of traffic at the current rate (at least
//!   [`MIN_PROBE`] submits) adds [`STEP`] of the configured maximum, up to the maximum: the
//!   engine probes back towards the upstream's real capacity and settles just under it.
//!
//! State is three atomics; callers race freely (a lost update only delays a step).

use std::sync::atomic::{AtomicU64, Ordering};

/// Factor applied on a throttle reply.
pub const DECREASE: f64 = 0.7;
/// Share of the maximum rate added per probe step.
pub const STEP: f64 = 0.05;
/// Least time between two decreases (ns).
pub const COOLDOWN_NS: u64 = 500_000_000;
/// Least successes per probe step.
pub const MIN_PROBE: u64 = 20;

/// The adaptive state of one route.
#[derive(Debug)]
pub struct Aimd {
    max: f64,
    floor: f64,
    /// The current rate, as `f64` bits.
    rate: AtomicU64,
    successes: AtomicU64,
    /// When the last decrease happened (ns on the limiter's clock), `u64::MAX` for never.
    last_decrease: AtomicU64,
}

impl Aimd {
    /// Starts at `max`; never goes below `floor`.
    pub fn new(max: f64, floor: f64) -> Aimd {
        Aimd {
            max,
            floor: floor.min(max),
            rate: AtomicU64::new(max.to_bits()),
            successes: AtomicU64::new(0),
            last_decrease: AtomicU64::new(u64::MAX),
        }
    }

    /// The current rate.
    pub fn rate(&self) -> f64 {
        f64::from_bits(self.rate.load(Ordering::Relaxed))
    }

    /// A throttle reply at `now`: the new rate if this reply lowered it.
    pub fn on_throttled(&self, now: u64) -> Option<f64> {
        let last = self.last_decrease.load(Ordering::Acquire);
        if last != u64::MAX && now.saturating_sub(last) < COOLDOWN_NS {
            return None;
        }
        self.last_decrease
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
            .ok()?;
        self.successes.store(0, Ordering::Relaxed);
        let new = (self.rate() * DECREASE).max(self.floor);
        self.rate.store(new.to_bits(), Ordering::Relaxed);
        Some(new)
    }

    /// A successful submit: the new rate if this one completed a probe step.
    pub fn on_success(&self) -> Option<f64> {
        let rate = self.rate();
        if rate >= self.max {
            return None;
        }
        let needed = (rate as u64).max(MIN_PROBE);
        let n = self.successes.fetch_add(1, Ordering::Relaxed) + 1;
        if n < needed {
            return None;
        }
        self.successes
            .compare_exchange(n, 0, Ordering::Relaxed, Ordering::Relaxed)
            .ok()?;
        let new = (rate + self.max * STEP).min(self.max);
        self.rate.store(new.to_bits(), Ordering::Relaxed);
        Some(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decreases_once_per_cooldown_and_stops_at_the_floor() {
        let a = Aimd::new(100.0, 20.0);
        assert_eq!(a.on_throttled(0), Some(70.0));
        // The rest of the window's throttle replies do not compound.
        assert_eq!(a.on_throttled(1_000), None);
        assert_eq!(a.rate(), 70.0);
        let r = a.on_throttled(COOLDOWN_NS).unwrap();
        assert!((r - 49.0).abs() < 1e-9);
        let mut now = COOLDOWN_NS;
        for _ in 0..10 {
            now += COOLDOWN_NS;
            a.on_throttled(now);
        }
        assert_eq!(a.rate(), 20.0);
    }

    #[test]
    fn probes_back_up_to_the_maximum() {
        let a = Aimd::new(100.0, 10.0);
        a.on_throttled(0);
        assert_eq!(a.rate(), 70.0);
        // 70 successes (one second at 70/s) add 5/s.
        let steps: Vec<f64> = (0..70).filter_map(|_| a.on_success()).collect();
        assert_eq!(steps, vec![75.0]);
        for _ in 0..10_000 {
            a.on_success();
        }
        assert_eq!(a.rate(), 100.0, "capped at the configured rate");
        assert_eq!(a.on_success(), None);
    }

    #[test]
    fn a_throttle_resets_the_probe() {
        let a = Aimd::new(100.0, 10.0);
        a.on_throttled(0);
        for _ in 0..69 {
            assert_eq!(a.on_success(), None);
        }
        a.on_throttled(COOLDOWN_NS);
        assert_eq!(a.on_success(), None, "the run of successes starts again");
    }
}
