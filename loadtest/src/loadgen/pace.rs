//! [`Pacer`]: spaces the engine targets' sends to a fixed rate (`--rate`), or lets them go
//! flat out. Message `i` is due `i / rate` seconds after the start, so a slow moment is caught
//! up rather than lost.

use std::time::Duration;

use tokio::time::Instant;

/// Spaces sends to a fixed rate, or lets them go flat out.
#[derive(Debug, Clone, Copy)]
pub struct Pacer {
    start: Instant,
    rate: Option<f64>,
}

impl Pacer {
    /// Starts now; `rate` in messages per second, `None` for flat out.
    pub fn new(rate: Option<f64>) -> Pacer {
        Pacer {
            start: Instant::now(),
            rate: rate.filter(|r| *r > 0.0),
        }
    }

    /// When message `index` (0-based) may go.
    pub fn due(&self, index: u64) -> Instant {
        match self.rate {
            Some(rate) => self.start + Duration::from_secs_f64(index as f64 / rate),
            None => self.start,
        }
    }

    /// Waits until message `index` may go.
    pub async fn wait(&self, index: u64) {
        if self.rate.is_some() {
            tokio::time::sleep_until(self.due(index)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_spaces_messages_by_the_rate() {
        let p = Pacer::new(Some(100.0));
        assert_eq!(p.due(50) - p.due(0), Duration::from_millis(500));
        let flat = Pacer::new(None);
        assert_eq!(flat.due(1_000_000), flat.due(0));
    }
}
