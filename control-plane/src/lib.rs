//! The control plane's REST service (`semalink-api`): customer auth, organisations and teams,
//! API keys, staff auth with per-module permissions and the audit log. Later modules
//! (contacts, sender IDs, pricing, credits, campaigns) add their resources beside these.

pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod app;
pub mod auth;
pub mod config;
pub mod contacts;
pub mod credits;
pub mod crypto;
pub mod db;
pub mod email;
pub mod error;
pub mod exports;
pub mod http;
pub mod imports;
pub mod metrics;
pub mod notifications;
pub mod openapi;
pub mod ops;
pub mod pricing;
pub mod rate_limit;
pub mod sender_ids;
pub mod service;
pub mod state;
pub mod types;
pub mod users;
pub mod worker;

pub use app::app;
pub use config::Config;
pub use error::Error;
pub use state::AppState;
