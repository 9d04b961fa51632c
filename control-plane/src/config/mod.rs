//! Typed configuration: `configs/control-plane.toml` layered with environment overrides,
//! validated once at start ([`Config::load`] in [`env`]). Secrets are `SecretString`s so
//! they never reach a log line.

mod env;

use std::net::SocketAddr;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub use env::{ENV_PREFIX, old_form_variables};

/// The whole service configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// HTTP server.
    pub server: ServerConfig,
    /// PostgreSQL.
    pub database: DatabaseConfig,
    /// Customer authentication.
    pub auth: AuthConfig,
    /// Staff (admin app) authentication.
    pub admin: AdminConfig,
    /// Outgoing email.
    pub email: EmailConfig,
    /// Request rate limits.
    pub rate_limit: RateLimitConfig,
    /// Which background workers this process runs (all by default).
    #[serde(default)]
    pub workers: WorkersConfig,
    /// RabbitMQ; absent: the in-process bus (the one-process mode, where the engine shares
    /// it).
    #[serde(default)]
    pub amqp: Option<crate::bus::AmqpConfig>,
    /// How the message outbox is drained.
    #[serde(default)]
    pub publisher: crate::messages::publisher::PublisherConfig,
    /// How status events are applied and settled.
    #[serde(default)]
    pub results: crate::results::store::ResultsConfig,
    /// Extra opt-out / opt-in keywords of inbound replies.
    #[serde(default)]
    pub inbound: crate::inbound::keywords::InboundConfig,
    /// The campaign content check's rules.
    #[serde(default)]
    pub campaigns: crate::campaigns::content::ContentRules,
    /// How campaigns are dispatched.
    #[serde(default)]
    pub dispatcher: crate::campaigns::dispatch::DispatcherConfig,
    /// How webhooks are delivered and which addresses they may reach.
    #[serde(default)]
    pub webhooks: crate::webhooks::config::WebhooksConfig,
    /// The staff engineering module: the failed-SMS spike notice, the engines' addresses.
    #[serde(default)]
    pub engineering: crate::engineering::config::EngineeringConfig,
    /// Short links: their domain, the redirect cache, click recording.
    #[serde(default)]
    pub links: crate::links::config::LinksConfig,
}

/// Background workers switched on or off (a second instance may leave them to the first;
/// tests turn them off to drive them by hand).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkersConfig {
    /// Send queued emails.
    pub email_outbox: bool,
    /// Purge contacts trashed more than 90 days ago.
    pub trash_purge: bool,
    /// Forget idle rate-limiter buckets.
    pub limiter_pruning: bool,
    /// Publish accepted messages from the outbox to the engine's queues.
    pub message_publisher: bool,
    /// Forget `Idempotency-Key`s after 24 hours.
    pub idempotency_purge: bool,
    /// Delete expired login-throttle rows.
    pub login_throttle_sweep: bool,
    /// Apply the engine's status events (delivery, settlement, campaign counters).
    pub status_consumer: bool,
    /// Act on inbound replies (STOP / START) and store them.
    pub inbound_consumer: bool,
    /// Dispatch due campaigns.
    pub campaign_dispatcher: bool,
    /// Deliver webhooks from their outbox.
    pub webhook_sender: bool,
    /// Tell engineering staff about failed-SMS spikes.
    pub failure_spike: bool,
    /// Write short-link clicks in batches.
    pub link_click_writer: bool,
}

impl Default for WorkersConfig {
    fn default() -> WorkersConfig {
        WorkersConfig {
            email_outbox: true,
            trash_purge: true,
            limiter_pruning: true,
            message_publisher: true,
            idempotency_purge: true,
            login_throttle_sweep: true,
            status_consumer: true,
            inbound_consumer: true,
            campaign_dispatcher: true,
            webhook_sender: true,
            failure_spike: true,
            link_click_writer: true,
        }
    }
}

impl WorkersConfig {
    /// Whether the worker called `name` runs; an unknown name does not.
    pub fn enabled(&self, name: &str) -> bool {
        match name {
            "email_outbox" => self.email_outbox,
            "trash_purge" => self.trash_purge,
            "limiter_pruning" => self.limiter_pruning,
            "message_publisher" => self.message_publisher,
            "idempotency_purge" => self.idempotency_purge,
            "login_throttle_sweep" => self.login_throttle_sweep,
            "status_consumer" => self.status_consumer,
            "inbound_consumer" => self.inbound_consumer,
            "campaign_dispatcher" => self.campaign_dispatcher,
            "webhook_sender" => self.webhook_sender,
            "failure_spike" => self.failure_spike,
            "link_click_writer" => self.link_click_writer,
            _ => false,
        }
    }
}

/// Where the service runs. Only `development` accepts the secrets shipped in
/// `configs/control-plane.toml` and writes email links to the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// A developer's machine or a test run.
    Development,
    /// Anything else (the default when the key is absent).
    #[default]
    Production,
}

/// The JWT secrets shipped in `configs/control-plane.toml`: public, so refused outside
/// development (a token forged with them would be accepted).
pub const SHIPPED_DEV_SECRETS: [&str; 2] = [
    "dev-only-customer-secret-change-me-0123456789abcdef",
    "dev-only-staff-secret-change-me-fedcba9876543210",
];

/// HTTP server settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// `development` or `production` (default): see [`Environment`].
    #[serde(default)]
    pub environment: Environment,
    /// Listen address.
    pub bind: SocketAddr,
    /// Internal listener for `/metrics` (keep it on loopback or a private network).
    #[serde(default = "default_metrics_bind")]
    pub metrics_bind: SocketAddr,
    /// Whole-request deadline.
    pub request_timeout_secs: u64,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// Origins allowed by CORS; empty allows none.
    pub cors_allowed_origins: Vec<String>,
    /// Base URL of the web app, used in email links.
    pub public_base_url: String,
    /// Take the client IP from X-Forwarded-For (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

/// Database settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// The service's connection URL: the least-privilege login `semalink_api` (may hold a
    /// password, hence secret). `DATABASE_URL` overrides it.
    pub url: SecretString,
    /// The owner's URL, used only to run migrations (`semalink-api migrate`, or at start with
    /// `migrate_on_start`). `DATABASE_OWNER_URL` overrides it.
    #[serde(default)]
    pub migration_url: Option<SecretString>,
    /// Role to `SET ROLE` to after connecting; empty (the default deployment) keeps the login
    /// role. Only for a superuser login, as the tests' throwaway databases have.
    pub app_role: String,
    /// Pool size.
    pub max_connections: u32,
    /// Apply pending migrations when the server starts.
    pub migrate_on_start: bool,
    /// `statement_timeout` of ordinary API requests, in milliseconds.
    #[serde(default = "default_statement_timeout_ms")]
    pub statement_timeout_ms: u64,
    /// `statement_timeout` of imports and exports (one COPY lasts as long as the upload).
    #[serde(default = "default_bulk_statement_timeout_ms")]
    pub bulk_statement_timeout_ms: u64,
}

fn default_metrics_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9464))
}

fn default_session_max_lifetime_secs() -> i64 {
    30 * 24 * 3600
}

fn default_account_lockout_threshold() -> i32 {
    20
}

fn default_statement_timeout_ms() -> u64 {
    5_000
}

fn default_bulk_statement_timeout_ms() -> u64 {
    300_000
}

/// Customer auth settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// HMAC key for customer access tokens.
    pub jwt_secret: SecretString,
    /// Access token lifetime.
    pub access_token_ttl_secs: i64,
    /// Refresh token lifetime: each refresh extends the session by this much...
    pub refresh_token_ttl_secs: i64,
    /// ...but never past this long after sign-in (absolute session lifetime, default 30 days).
    #[serde(default = "default_session_max_lifetime_secs")]
    pub session_max_lifetime_secs: i64,
    /// Failed logins from one IP before that IP's attempts on the email are delayed.
    pub lockout_threshold: i32,
    /// Longest delay and account-wide lock-out duration (also the counting window).
    pub lockout_secs: i64,
    /// Failed logins of one email from any IPs that lock it everywhere (and tell the user).
    #[serde(default = "default_account_lockout_threshold")]
    pub account_lockout_threshold: i32,
    /// argon2id memory cost in KiB.
    pub argon2_memory_kib: u32,
    /// argon2id iterations.
    pub argon2_iterations: u32,
    /// argon2id lanes.
    pub argon2_parallelism: u32,
}

/// Staff auth settings: a separate secret and audience from customers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// HMAC key for staff access tokens.
    pub jwt_secret: SecretString,
    /// Access token lifetime.
    pub access_token_ttl_secs: i64,
    /// Refresh token lifetime: each refresh extends the session by this much...
    pub refresh_token_ttl_secs: i64,
    /// ...but never past this long after sign-in (absolute session lifetime, default 30 days).
    #[serde(default = "default_session_max_lifetime_secs")]
    pub session_max_lifetime_secs: i64,
    /// Failed logins from one IP before that IP's attempts on the email are delayed.
    pub lockout_threshold: i32,
    /// Longest delay and account-wide lock-out duration (also the counting window).
    pub lockout_secs: i64,
    /// Failed logins of one email from any IPs that lock it everywhere (and tell the user).
    #[serde(default = "default_account_lockout_threshold")]
    pub account_lockout_threshold: i32,
}

/// Email settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The From header.
    pub from: String,
    /// `smtp://` or `smtps://` URL with credentials; absent writes emails to the log.
    #[serde(default)]
    pub smtp_url: Option<SecretString>,
    /// How often the outbox worker looks for due emails.
    pub poll_interval_ms: u64,
}

/// Rate limit settings (token buckets).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained auth requests per minute per client IP.
    pub auth_per_minute: u32,
    /// Burst of auth requests per client IP.
    pub auth_burst: u32,
    /// Sustained requests per second per account or API key.
    pub api_per_second: u32,
    /// Burst per account or API key.
    pub api_burst: u32,
}

/// A configuration that could not be loaded or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or environment could not be parsed.
    #[error("cannot load configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Checks ranges and that the two token secrets are strong and distinct.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        let customer = self.auth.jwt_secret.expose_secret();
        let staff = self.admin.jwt_secret.expose_secret();
        if customer.len() < 32 || staff.len() < 32 {
            return bad("auth.jwt_secret and admin.jwt_secret need at least 32 characters");
        }
        if customer == staff {
            return bad("auth.jwt_secret and admin.jwt_secret must differ");
        }
        let shipped = |s: &str| SHIPPED_DEV_SECRETS.contains(&s) || s.starts_with("dev-only-");
        if self.server.environment != Environment::Development
            && (shipped(customer) || shipped(staff))
        {
            return bad(
                "auth.jwt_secret / admin.jwt_secret are the public development secrets: set \
                 SEMALINK_AUTH__JWT_SECRET and SEMALINK_ADMIN__JWT_SECRET (or \
                 server.environment = \"development\" on a developer's machine)",
            );
        }
        if self.auth.access_token_ttl_secs <= 0 || self.auth.refresh_token_ttl_secs <= 0 {
            return bad("auth token lifetimes must be positive");
        }
        if self.admin.access_token_ttl_secs <= 0 || self.admin.refresh_token_ttl_secs <= 0 {
            return bad("admin token lifetimes must be positive");
        }
        if self.auth.session_max_lifetime_secs < self.auth.refresh_token_ttl_secs
            || self.admin.session_max_lifetime_secs < self.admin.refresh_token_ttl_secs
        {
            return bad("session_max_lifetime_secs must be at least refresh_token_ttl_secs");
        }
        if self.auth.lockout_threshold < 1 || self.admin.lockout_threshold < 1 {
            return bad("lockout_threshold must be at least 1");
        }
        if self.auth.account_lockout_threshold < self.auth.lockout_threshold
            || self.admin.account_lockout_threshold < self.admin.lockout_threshold
        {
            return bad("account_lockout_threshold must be at least lockout_threshold");
        }
        if self.database.statement_timeout_ms == 0 || self.database.bulk_statement_timeout_ms == 0 {
            return bad("database statement timeouts must be positive (0 would disable them)");
        }
        if self.database.max_connections == 0 || self.server.body_limit_bytes == 0 {
            return bad("database.max_connections and server.body_limit_bytes must be positive");
        }
        let rl = &self.rate_limit;
        if rl.auth_per_minute == 0
            || rl.auth_burst == 0
            || rl.api_per_second == 0
            || rl.api_burst == 0
        {
            return bad("rate limits must be positive");
        }
        if let Some(why) = self.webhooks.invalid() {
            return bad(why);
        }
        if let Some(why) = self.links.invalid() {
            return bad(why);
        }
        if self.webhooks.allow_http && self.server.environment != Environment::Development {
            return bad("webhooks.allow_http is for development only: webhooks need https");
        }
        if !self
            .database
            .app_role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return bad("database.app_role must be a plain identifier");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use figment::Figment;
    use figment::providers::{Format, Toml};

    use super::*;

    fn shipped() -> Config {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/control-plane.toml");
        Figment::from(Toml::file_exact(path)).extract().unwrap()
    }

    #[test]
    fn shipped_config_is_valid() {
        shipped().validate().unwrap();
    }

    #[test]
    fn shipped_secrets_only_in_development() {
        let mut c = shipped();
        assert_eq!(c.server.environment, Environment::Development);
        assert!(SHIPPED_DEV_SECRETS.contains(&c.auth.jwt_secret.expose_secret()));
        assert!(SHIPPED_DEV_SECRETS.contains(&c.admin.jwt_secret.expose_secret()));
        c.server.environment = Environment::Production;
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("development secrets"), "{err}");
        c.auth.jwt_secret = SecretString::from("k".repeat(40));
        assert!(
            c.validate().is_err(),
            "the staff secret is still the shipped one"
        );
        c.admin.jwt_secret = SecretString::from("s".repeat(40));
        c.validate().unwrap();
        // Production webhooks are https only.
        c.webhooks.allow_http = true;
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("webhooks.allow_http"), "{err}");
    }

    #[test]
    fn absent_environment_means_production() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/control-plane.toml"),
        )
        .unwrap()
        .replace("environment = \"development\"", "");
        let c: Config = Figment::from(Toml::string(&text)).extract().unwrap();
        assert_eq!(c.server.environment, Environment::Production);
        assert!(c.validate().is_err());
    }

    #[test]
    fn short_secrets_are_refused_even_in_development() {
        let mut c = shipped();
        c.auth.jwt_secret = SecretString::from("short-but-not-32");
        assert!(c.validate().is_err());
    }

    #[test]
    fn identical_secrets_are_rejected() {
        let mut c = shipped();
        c.admin.jwt_secret = c.auth.jwt_secret.clone();
        assert!(c.validate().is_err());
    }

    #[test]
    fn debug_output_hides_secrets() {
        let text = format!("{:?}", shipped());
        assert!(!text.contains("dev-only-customer-secret"));
    }
}
