//! A lock-free token bucket: the generic cell rate algorithm (GCRA, ITU-T I.371) on one atomic
//! "theoretical arrival time" (TAT), with the emission interval in a second atomic so the rate
//! can change at run time (the adaptive mode) without swapping the limiter.
//!
//! A request at `now` is allowed when `max(TAT, now) + T - now <= burst × T`, and moves TAT to
//! `max(TAT, now) + T`: after an idle spell `burst` requests go at once, then one every `T`.
//! Times are nanoseconds since the limiter's creation; the `*_at` functions take `now` so the
//! algorithm is tested without a clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const NANOS_PER_SEC: f64 = 1e9;

/// One token bucket.
#[derive(Debug)]
pub struct Gcra {
    base: Instant,
    /// Theoretical arrival time, ns since `base`.
    tat: AtomicU64,
    /// Emission interval `T` = 1 s / rate, in ns.
    interval: AtomicU64,
    burst: u64,
}

impl Gcra {
    /// A bucket of `rate` per second (> 0) holding `burst` (≥ 1) tokens.
    pub fn new(rate: f64, burst: u32) -> Gcra {
        Gcra::with_base(rate, burst, Instant::now())
    }

    /// [`Self::new`] on a clock starting at `base`: limiters sharing a base can share one
    /// clock reading (see [`Self::try_acquire_at`]).
    pub fn with_base(rate: f64, burst: u32, base: Instant) -> Gcra {
        Gcra {
            base,
            tat: AtomicU64::new(0),
            interval: AtomicU64::new(interval_of(rate)),
            burst: u64::from(burst.max(1)),
        }
    }

    /// Nanoseconds since creation.
    pub fn now(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    /// The current rate per second.
    pub fn rate(&self) -> f64 {
        NANOS_PER_SEC / self.interval.load(Ordering::Relaxed) as f64
    }

    /// Changes the rate; requests already admitted keep their slots.
    pub fn set_rate(&self, rate: f64) {
        self.interval.store(interval_of(rate), Ordering::Relaxed);
    }

    /// Takes a token if one is there now; otherwise takes nothing and says how long until one
    /// is.
    pub fn try_acquire(&self) -> Result<(), Duration> {
        self.try_acquire_at(self.now())
            .map_err(Duration::from_nanos)
    }

    /// [`Self::try_acquire`] at `now` (ns); the error is the wait in ns.
    pub fn try_acquire_at(&self, now: u64) -> Result<(), u64> {
        let t = self.interval.load(Ordering::Relaxed);
        let limit = self.burst.saturating_mul(t);
        let mut tat = self.tat.load(Ordering::Acquire);
        loop {
            let next = tat.max(now).saturating_add(t);
            if next - now > limit {
                return Err(next - limit - now);
            }
            match self
                .tat
                .compare_exchange_weak(tat, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Ok(()),
                Err(actual) => tat = actual,
            }
        }
    }

    /// Reserves the next token, whenever it comes, and returns when (ns since creation) the
    /// caller may go: `<= now` means at once. Waiters are served in reservation order.
    pub fn reserve_at(&self, now: u64) -> u64 {
        let t = self.interval.load(Ordering::Relaxed);
        let limit = self.burst.saturating_mul(t);
        let previous = self
            .tat
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |tat| {
                Some(tat.max(now).saturating_add(t))
            })
            .unwrap_or_else(|tat| tat);
        let next = previous.max(now).saturating_add(t);
        next.saturating_sub(limit).max(now)
    }

    /// Waits for a token (reserving it first, so a steady stream of waiters gets exactly the
    /// rate) and returns how long it waited.
    pub async fn until_ready(&self) -> Duration {
        let now = self.now();
        let at = self.reserve_at(now);
        if at <= now {
            return Duration::ZERO;
        }
        let wait = Duration::from_nanos(at - now);
        tokio::time::sleep(wait).await;
        wait
    }
}

fn interval_of(rate: f64) -> u64 {
    let rate = if rate.is_finite() && rate > 0.0 {
        rate
    } else {
        1e-3
    };
    ((NANOS_PER_SEC / rate) as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn burst_then_one_per_interval() {
        let g = Gcra::new(100.0, 5); // T = 10 ms
        let now = 1_000 * MS;
        for _ in 0..5 {
            assert_eq!(g.try_acquire_at(now), Ok(()));
        }
        assert_eq!(g.try_acquire_at(now), Err(10 * MS));
        assert_eq!(g.try_acquire_at(now + 9 * MS), Err(MS));
        assert_eq!(g.try_acquire_at(now + 10 * MS), Ok(()));
        assert!(g.try_acquire_at(now + 10 * MS).is_err());
        // An idle second refills the bucket to its burst, not beyond.
        let later = now + 2_000 * MS;
        let allowed = (0..20).filter(|_| g.try_acquire_at(later).is_ok()).count();
        assert_eq!(allowed, 5);
    }

    #[test]
    fn admitted_count_matches_rate_over_a_window() {
        let g = Gcra::new(1_000.0, 10);
        let mut admitted = 0;
        // Offer 5,000/s for one simulated second, one attempt every 200 µs.
        for step in 0..5_000u64 {
            if g.try_acquire_at(step * 200_000).is_ok() {
                admitted += 1;
            }
        }
        assert!((1_000..=1_011).contains(&admitted), "{admitted}");
    }

    #[test]
    fn reservations_queue_in_order() {
        let g = Gcra::new(10.0, 2); // T = 100 ms
        let now = 0;
        assert_eq!(g.reserve_at(now), now);
        assert_eq!(g.reserve_at(now), now);
        assert_eq!(g.reserve_at(now), 100 * MS);
        assert_eq!(g.reserve_at(now), 200 * MS);
        // A reserved slot is taken: a try at the same time must wait past it.
        assert!(g.try_acquire_at(150 * MS).is_err());
    }

    #[test]
    fn rate_changes_apply_to_the_next_request() {
        let g = Gcra::new(100.0, 1);
        assert_eq!(g.try_acquire_at(0), Ok(()));
        g.set_rate(10.0);
        assert!((g.rate() - 10.0).abs() < 1e-9);
        // The next slot is one new interval (100 ms) after the previous TAT (10 ms).
        assert_eq!(g.try_acquire_at(0), Err(10 * MS + 100 * MS - 100 * MS));
        assert_eq!(g.try_acquire_at(10 * MS), Ok(()));
        assert_eq!(g.try_acquire_at(10 * MS), Err(100 * MS));
    }

    /// Four threads hammering one bucket never get more than burst + rate × elapsed: the
    /// CAS loop loses no update.
    #[test]
    fn concurrent_callers_never_exceed_the_rate() {
        let g = std::sync::Arc::new(Gcra::new(1_000.0, 10));
        let start = g.now();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let g = g.clone();
                std::thread::spawn(move || (0..50_000).filter(|_| g.try_acquire().is_ok()).count())
            })
            .collect();
        let admitted: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        let elapsed_s = (g.now() - start) as f64 / 1e9;
        let bound = 10.0 + 1_000.0 * elapsed_s + 1.0;
        assert!(admitted >= 10, "{admitted}");
        assert!(admitted as f64 <= bound, "{admitted} > {bound}");
    }

    #[tokio::test]
    async fn until_ready_waits_for_a_token() {
        // 2/s: the second token is 500 ms away, far more than scheduling noise.
        let g = Gcra::new(2.0, 1);
        assert_eq!(g.until_ready().await, Duration::ZERO);
        let waited = g.until_ready().await;
        assert!(waited > Duration::ZERO && waited <= Duration::from_millis(500));
    }
}
