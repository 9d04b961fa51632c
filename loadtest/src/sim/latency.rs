//! A delay that is either fixed or drawn from a distribution (response latency, receipt delay).

use std::{str::FromStr, time::Duration};

use serde::{Deserialize, Serialize};

/// `fixed:MS`, `uniform:MIN-MAX` or `exp:MEAN` (milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Latency {
    /// Always the same.
    Fixed(u64),
    /// Uniform between the two bounds (inclusive).
    Uniform(u64, u64),
    /// Exponential with this mean: a long tail like a congested SMSC.
    Exponential(u64),
}

impl Default for Latency {
    fn default() -> Self {
        Latency::Fixed(0)
    }
}

impl Latency {
    /// Whether every sample is zero (lets the hot path skip the delay queue).
    pub fn is_zero(&self) -> bool {
        matches!(
            self,
            Latency::Fixed(0) | Latency::Uniform(0, 0) | Latency::Exponential(0)
        )
    }

    /// Draws one delay.
    pub fn sample(&self, rng: &mut fastrand::Rng) -> Duration {
        let ms = match *self {
            Latency::Fixed(ms) => ms as f64,
            Latency::Uniform(lo, hi) => lo as f64 + rng.f64() * (hi.saturating_sub(lo)) as f64,
            Latency::Exponential(mean) => -(mean as f64) * (1.0 - rng.f64()).ln(),
        };
        Duration::from_secs_f64(ms.min(3_600_000.0) / 1000.0)
    }
}

impl FromStr for Latency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("bad latency {s:?} (fixed:MS, uniform:MIN-MAX, exp:MEAN)");
        let (kind, arg) = s.split_once(':').ok_or_else(bad)?;
        let num = |x: &str| x.trim().parse::<u64>().map_err(|_| bad());
        match kind {
            "fixed" => Ok(Latency::Fixed(num(arg)?)),
            "exp" => Ok(Latency::Exponential(num(arg)?)),
            "uniform" => {
                let (lo, hi) = arg.split_once('-').ok_or_else(bad)?;
                let (lo, hi) = (num(lo)?, num(hi)?);
                if lo > hi {
                    return Err(bad());
                }
                Ok(Latency::Uniform(lo, hi))
            }
            _ => Err(bad()),
        }
    }
}

impl TryFrom<String> for Latency {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Latency> for String {
    fn from(l: Latency) -> String {
        match l {
            Latency::Fixed(ms) => format!("fixed:{ms}"),
            Latency::Uniform(lo, hi) => format!("uniform:{lo}-{hi}"),
            Latency::Exponential(m) => format!("exp:{m}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_samples_within_bounds() {
        let mut rng = fastrand::Rng::with_seed(7);
        assert_eq!(
            "fixed:5".parse::<Latency>().unwrap().sample(&mut rng),
            Duration::from_millis(5)
        );
        let u: Latency = "uniform:10-20".parse().unwrap();
        for _ in 0..100 {
            let d = u.sample(&mut rng);
            assert!(d >= Duration::from_millis(10) && d <= Duration::from_millis(20));
        }
        assert!("exp:3".parse::<Latency>().is_ok());
        assert!("uniform:9-1".parse::<Latency>().is_err());
        assert!("fixed:0".parse::<Latency>().unwrap().is_zero());
        assert_eq!(String::from(u), "uniform:10-20");
    }
}
