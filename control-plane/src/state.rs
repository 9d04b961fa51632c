//! The one shared application state, cloned into every handler.

use std::sync::Arc;

use semalink_bus::Bus;
use sqlx::PgPool;
use tokio::sync::Notify;

use crate::config::Config;
use crate::error::Error;
use crate::identity::jwt::TokenKeys;
use crate::identity::password::Passwords;
use crate::identity::touch::LastUsed;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimits;

/// Everything a handler may need. Cheap to clone (all `Arc`s and a pool handle).
#[derive(Clone, Debug)]
pub struct AppState {
    /// Pool working as the restricted service role.
    pub pool: PgPool,
    /// Validated configuration.
    pub config: Arc<Config>,
    /// Customer token keys.
    pub customer_keys: Arc<TokenKeys>,
    /// Staff token keys (separate secret).
    pub staff_keys: Arc<TokenKeys>,
    /// Password hasher.
    pub passwords: Passwords,
    /// Rate limiters.
    pub limits: Arc<RateLimits>,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    /// Throttle for API-key `last_used_at` writes.
    pub last_used: Arc<LastUsed>,
    /// The bus submit requests leave on (in-process until [`AppState::with_bus`]).
    pub bus: Bus,
    /// Wakes the outbox publisher when a request wrote messages.
    pub outbox_wake: Arc<Notify>,
    /// The short-link redirect cache and click channel.
    pub links: Arc<crate::links::Links>,
}

impl AppState {
    /// Builds the state around an existing pool.
    pub fn new(config: Config, pool: PgPool) -> Result<AppState, Error> {
        Ok(AppState {
            pool,
            customer_keys: Arc::new(TokenKeys::new(&config.auth.jwt_secret)),
            staff_keys: Arc::new(TokenKeys::new(&config.admin.jwt_secret)),
            passwords: Passwords::new(&config.auth)?,
            limits: Arc::new(RateLimits::new(&config.rate_limit)),
            metrics: Arc::new(Metrics::new()),
            last_used: Arc::new(LastUsed::default()),
            bus: crate::bus::memory(),
            outbox_wake: Arc::new(Notify::new()),
            links: Arc::new(crate::links::Links::new(&config.links)),
            config: Arc::new(config),
        })
    }

    /// The same state on `bus` (RabbitMQ, or an in-process bus shared with an engine).
    pub fn with_bus(mut self, bus: Bus) -> AppState {
        self.bus = bus;
        self
    }
}

impl crate::identity::IdentityState for AppState {
    fn customer_keys(&self) -> &TokenKeys {
        &self.customer_keys
    }

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn limits(&self) -> &RateLimits {
        &self.limits
    }

    fn last_used(&self) -> &LastUsed {
        &self.last_used
    }
}
