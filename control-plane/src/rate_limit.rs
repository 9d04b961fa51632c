//! Token-bucket rate limits (governor): per client IP on the unauthenticated auth endpoints,
//! per account or API key everywhere else. Exceeding one is a 429 with Retry-After.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::config::RateLimitConfig;
use crate::error::Error;
use crate::worker::{Worker, pause};

/// The limiters of one service instance.
#[derive(Debug)]
pub struct RateLimits {
    auth_by_ip: DefaultKeyedRateLimiter<IpAddr>,
    api_by_principal: DefaultKeyedRateLimiter<Uuid>,
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl RateLimits {
    /// Builds the limiters from configuration.
    pub fn new(config: &RateLimitConfig) -> RateLimits {
        let auth = Quota::per_minute(nonzero(config.auth_per_minute))
            .allow_burst(nonzero(config.auth_burst));
        let api = Quota::per_second(nonzero(config.api_per_second))
            .allow_burst(nonzero(config.api_burst));
        RateLimits {
            auth_by_ip: RateLimiter::keyed(auth),
            api_by_principal: RateLimiter::keyed(api),
        }
    }

    /// Counts one auth request from `ip`.
    pub fn check_auth(&self, ip: IpAddr) -> Result<(), Error> {
        self.auth_by_ip
            .check_key(&ip)
            .map_err(|not_until| too_many(not_until.wait_time_from(DefaultClock::default().now())))
    }

    /// Counts one request by an account (user tokens) or an API key.
    pub fn check_principal(&self, principal: Uuid) -> Result<(), Error> {
        self.api_by_principal
            .check_key(&principal)
            .map_err(|not_until| too_many(not_until.wait_time_from(DefaultClock::default().now())))
    }

    /// Forgets keys whose buckets are full again, bounding memory; called periodically.
    pub fn retain_recent(&self) {
        self.auth_by_ip.retain_recent();
        self.api_by_principal.retain_recent();
    }
}

/// The pruning worker (`limiter_pruning`): [`RateLimits::retain_recent`] every minute until
/// `stop`.
pub fn worker(limits: Arc<RateLimits>, stop: CancellationToken) -> Worker {
    Worker::new("limiter_pruning", async move {
        while pause(Duration::from_secs(60), &stop).await {
            limits.retain_recent();
        }
    })
}

fn too_many(wait: Duration) -> Error {
    Error::RateLimited {
        retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_429_with_retry_after() {
        let limits = RateLimits::new(&RateLimitConfig {
            auth_per_minute: 1,
            auth_burst: 2,
            api_per_second: 1,
            api_burst: 1,
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(limits.check_auth(ip).is_ok());
        assert!(limits.check_auth(ip).is_ok());
        match limits.check_auth(ip) {
            Err(Error::RateLimited { retry_after_secs }) => assert!(retry_after_secs >= 1),
            other => panic!("expected 429, got {other:?}"),
        }
        // Another client is unaffected.
        assert!(limits.check_auth("192.0.2.2".parse().unwrap()).is_ok());
    }
}
