//! Throttling: a token bucket per route and an optional cap per upstream, both lock-free
//! [`Gcra`] cells in arrays built at start, so the hot path is two atomic updates. Routes
//! with `adaptive = true` follow their upstream's throttle replies with [`Aimd`], and the
//! bucket's rate is updated in place.

mod aimd;
mod gcra;

use std::time::{Duration, Instant};

pub use aimd::Aimd;
pub use gcra::Gcra;

use crate::config::Config;
use crate::routing::{RouteId, Router};

/// One route's bucket and adaptive state.
#[derive(Debug)]
struct RouteLimiter {
    bucket: Gcra,
    aimd: Option<Aimd>,
    upstream: usize,
}

/// Every route's and upstream's limiter.
#[derive(Debug)]
pub struct Throttle {
    /// The clock origin every limiter shares, so one reading serves both buckets.
    base: Instant,
    routes: Box<[RouteLimiter]>,
    upstreams: Box<[Option<Gcra>]>,
}

impl Throttle {
    /// Builds the limiters for `router`'s routes and `config`'s upstream caps.
    pub fn new(config: &Config, router: &Router) -> Throttle {
        let base = Instant::now();
        let routes = router
            .routes()
            .iter()
            .map(|r| RouteLimiter {
                bucket: Gcra::with_base(r.target.rate, r.target.burst, base),
                aimd: r
                    .target
                    .adaptive
                    .then(|| Aimd::new(r.target.rate, r.target.floor())),
                upstream: r.upstream,
            })
            .collect();
        let upstreams = config
            .upstreams
            .iter()
            // The cap admits a tenth of a second's worth at once: smooth, yet not so tight
            // that two routes starting together wait on each other.
            .map(|u| {
                u.tps_cap
                    .map(|cap| Gcra::with_base(cap, (cap / 10.0).ceil().max(1.0) as u32, base))
            })
            .collect();
        Throttle {
            base,
            routes,
            upstreams,
        }
    }

    /// Takes a token of `route` and of its upstream's cap if both are there now; otherwise
    /// (almost always) takes nothing and says how long to wait. A race with another caller
    /// can cost a route token when the upstream cap then refuses; the cap still holds.
    pub fn try_acquire(&self, route: RouteId) -> Result<(), Duration> {
        let r = &self.routes[route.index()];
        let now = self.base.elapsed().as_nanos() as u64;
        if let Some(cap) = &self.upstreams[r.upstream] {
            cap.try_acquire_at(now).map_err(Duration::from_nanos)?;
        }
        r.bucket.try_acquire_at(now).map_err(Duration::from_nanos)
    }

    /// Waits until `route` (and its upstream's cap) admit one submit; returns the time spent
    /// waiting (zero on the fast path, which does not touch the timer).
    pub async fn until_ready(&self, route: RouteId) -> Duration {
        let r = &self.routes[route.index()];
        let mut waited = r.bucket.until_ready().await;
        if let Some(cap) = &self.upstreams[r.upstream] {
            waited += cap.until_ready().await;
        }
        waited
    }

    /// The upstream answered `ESME_RTHROTTLED` or `ESME_RMSGQFUL` for a submit on `route`:
    /// lowers an adaptive route's rate. Returns the new rate if it changed.
    pub fn on_throttled(&self, route: RouteId) -> Option<f64> {
        let r = &self.routes[route.index()];
        let aimd = r.aimd.as_ref()?;
        let new = aimd.on_throttled(r.bucket.now())?;
        r.bucket.set_rate(new);
        Some(new)
    }

    /// A submit on `route` succeeded: an adaptive route probes back up. Returns the new rate
    /// if it changed.
    pub fn on_success(&self, route: RouteId) -> Option<f64> {
        let r = &self.routes[route.index()];
        let new = r.aimd.as_ref()?.on_success()?;
        r.bucket.set_rate(new);
        Some(new)
    }

    /// The route's current rate (submits/s), for metrics.
    pub fn rate(&self, route: RouteId) -> f64 {
        let r = &self.routes[route.index()];
        match &r.aimd {
            Some(aimd) => aimd.rate(),
            None => r.bucket.rate(),
        }
    }

    /// Whether the route adapts its rate.
    pub fn is_adaptive(&self, route: RouteId) -> bool {
        self.routes[route.index()].aimd.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(cap: &str) -> (Throttle, Router) {
        let text = format!(
            r#"
            [http]
            listen = "127.0.0.1:0"
            [[upstreams]]
            name = "a"
            host = "h"
            port = 1
            system_id = "x"
            password = "p"
            {cap}
            [[routes]]
            mno = "ke-safaricom"
            upstream = "a"
            rate = 100.0
            burst = 3
            adaptive = true
            min_rate = 10.0
            [default_route]
            upstream = "a"
            rate = 1000.0
            burst = 2
            "#
        );
        let config = Config::from_toml(&text, Vec::new()).unwrap();
        let router = Router::new(&config).unwrap();
        (Throttle::new(&config, &router), router)
    }

    #[test]
    fn routes_have_their_own_buckets() {
        let (t, router) = throttle("");
        let saf = router.route("+254712345678").route;
        let other = router.default_route();
        let admitted = (0..10).filter(|_| t.try_acquire(saf).is_ok()).count();
        assert_eq!(admitted, 3, "burst of the operator route");
        assert!(
            t.try_acquire(other).is_ok(),
            "another route is not affected"
        );
        assert!(t.try_acquire(saf).unwrap_err() <= Duration::from_millis(10));
    }

    #[test]
    fn the_upstream_cap_applies_across_routes() {
        let (t, router) = throttle("tps_cap = 1.0");
        let saf = router.route("+254712345678").route;
        assert!(t.try_acquire(saf).is_ok());
        assert!(
            t.try_acquire(router.default_route()).is_err(),
            "cap of 1/s, burst 1"
        );
    }

    #[test]
    fn adaptive_routes_follow_throttle_replies() {
        let (t, router) = throttle("");
        let saf = router.route("+254712345678").route;
        assert!(t.is_adaptive(saf) && !t.is_adaptive(router.default_route()));
        assert_eq!(t.on_throttled(saf), Some(70.0));
        assert!((t.rate(saf) - 70.0).abs() < 1e-3);
        assert_eq!(t.on_throttled(router.default_route()), None);
        assert_eq!(t.rate(router.default_route()), 1000.0);
        let mut last = None;
        for _ in 0..100 {
            last = t.on_success(saf).or(last);
        }
        assert_eq!(last, Some(75.0));
        assert!((t.rate(saf) - 75.0).abs() < 1e-3);
    }

    #[tokio::test]
    async fn until_ready_admits_without_waiting_within_the_burst() {
        let (t, router) = throttle("");
        let saf = router.route("+254712345678").route;
        for _ in 0..3 {
            assert_eq!(t.until_ready(saf).await, Duration::ZERO);
        }
        assert!(t.until_ready(saf).await > Duration::ZERO);
    }
}
