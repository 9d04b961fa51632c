//! Typed configuration: `configs/control-plane.toml` layered with environment overrides,
//! validated once at start. Secrets are `SecretString`s so they never reach a log line.

use std::net::SocketAddr;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

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
}

impl Default for WorkersConfig {
    fn default() -> WorkersConfig {
        WorkersConfig {
            email_outbox: true,
            trash_purge: true,
            limiter_pruning: true,
            message_publisher: true,
            idempotency_purge: true,
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
    /// Connection URL (may hold a password, hence secret).
    pub url: SecretString,
    /// Role to `SET ROLE` to after connecting; empty to keep the login role.
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
    /// Refresh token (session) lifetime.
    pub refresh_token_ttl_secs: i64,
    /// Failed logins before the user is locked out.
    pub lockout_threshold: i32,
    /// Lock-out duration.
    pub lockout_secs: i64,
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
    /// Refresh token lifetime.
    pub refresh_token_ttl_secs: i64,
    /// Failed logins before lock-out.
    pub lockout_threshold: i32,
    /// Lock-out duration.
    pub lockout_secs: i64,
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

/// Prefix of this service's environment variables: `SEMALINK_API__<SECTION>__<KEY>`, the
/// shape the engine's `SEMALINK_ENGINE__<SECTION>__<KEY>` has too.
pub const ENV_PREFIX: &str = "SEMALINK_API__";

/// The sections of [`Config`], for recognising variables of the old form.
const SECTIONS: [&str; 9] = [
    "server",
    "database",
    "auth",
    "admin",
    "email",
    "rate_limit",
    "workers",
    "amqp",
    "publisher",
];

/// Whether a variable (prefix `SEMALINK_` removed) is of the old form `<SECTION>__<KEY>`
/// for one of our sections.
fn is_old_form(rest: &str) -> bool {
    rest.split_once("__")
        .is_some_and(|(section, _)| SECTIONS.contains(&section.to_ascii_lowercase().as_str()))
}

/// For each variable of the old form `SEMALINK_<SECTION>__<KEY>` among `names`, the name it
/// has now. Old names are still read for one release, below the new ones, with a warning.
pub fn old_form_variables(names: impl IntoIterator<Item = String>) -> Vec<(String, String)> {
    names
        .into_iter()
        .filter_map(|name| {
            let rest = name.strip_prefix("SEMALINK_")?;
            is_old_form(rest).then(|| (name.clone(), format!("{ENV_PREFIX}{rest}")))
        })
        .collect()
}

impl Config {
    /// Loads `path`, then the old-form `SEMALINK_<SECTION>__<KEY>` variables (warning about
    /// each), then `SEMALINK_API__<SECTION>__<KEY>`, then `DATABASE_URL`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let names = std::env::vars_os().filter_map(|(k, _)| k.into_string().ok());
        for (old, new) in old_form_variables(names) {
            tracing::warn!(
                variable = %old,
                use_instead = %new,
                "old-form configuration variable: still read for this release, rename it"
            );
        }
        let config: Config = Figment::from(Toml::file_exact(path))
            .merge(
                Env::prefixed("SEMALINK_")
                    .filter(|k| is_old_form(k.as_str()))
                    .split("__"),
            )
            .merge(Env::prefixed(ENV_PREFIX).split("__"))
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database.url".into()),
            )
            .extract()
            .map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

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
        if self.auth.lockout_threshold < 1 || self.admin.lockout_threshold < 1 {
            return bad("lockout_threshold must be at least 1");
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
    use super::*;

    fn shipped() -> Config {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/control-plane.toml");
        Figment::from(Toml::file_exact(path)).extract().unwrap()
    }

    #[test]
    fn old_form_variables_of_our_sections_are_named_with_their_new_key() {
        let names = [
            "SEMALINK_SERVER__BIND",
            "SEMALINK_database__max_connections",
            "SEMALINK_SEED_PASSWORD",
            "SEMALINK_ENGINE__AMQP__URL",
            "SEMALINK_API__AUTH__JWT_SECRET",
            "DATABASE_URL",
        ];
        let old = old_form_variables(names.iter().map(|n| (*n).to_owned()));
        assert_eq!(
            old,
            vec![
                (
                    "SEMALINK_SERVER__BIND".to_owned(),
                    "SEMALINK_API__SERVER__BIND".to_owned()
                ),
                (
                    "SEMALINK_database__max_connections".to_owned(),
                    "SEMALINK_API__database__max_connections".to_owned()
                ),
            ]
        );
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
