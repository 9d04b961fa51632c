//! The control plane's REST service (`semalink-api`).
//!
//! Features, each a folder with `routes.rs` (thin handlers), `store.rs` (SQL taking an
//! executor), `types.rs`, `staff.rs` (its `/v1/admin/...` routes) and sub-resources as
//! sub-folders (docs/adr/cp-0002-feature-modules.md): [`auth`] (signup, login, sessions, MFA,
//! email links), [`users`], [`accounts`] (organisations and their team), [`api_keys`],
//! [`notifications`], [`sender_ids`], [`contacts`] (lists, suppression, bulk actions, the one
//! contact filter), [`imports`], [`exports`], [`pricing`], [`messages`] (the messages API and the
//! outbox publisher), [`campaigns`] (drafts, content check, dispatcher, budgets, kill switch),
//! [`inbound`] (replies, STOP/START), [`analytics`] (reports from the rollups), [`results`]
//! (the status consumer: delivery, settlement, rollups, campaign completion, live progress),
//! [`credits`] (the ledger) and
//! [`admin`] (staff, permissions, [`admin::action::StaffAction`], the audit log) and
//! [`webhooks`] (signed, retried event delivery to customers' endpoints, and the adapters'
//! per-message callbacks) and [`links`] (short links in campaign texts, the redirect, clicks).
//!
//! [`identity`] is the leaf every feature takes its caller from: extractors, roles, JWT,
//! passwords, sessions, single-use tokens and [`identity::scope::AccountScope`], the tenant
//! wall customer queries take. `auth` holds the flows (signup, login, email links, MFA).
//!
//! Shared pieces: [`app`] merges every feature's routes and workers in one place;
//! [`service`] runs it ([`service::ControlPlane::start`]); [`worker`] is the background-loop
//! contract; [`http`] the extractors (`Query`, `Path`, `Json`, `Paged`, `With` — the state and
//! the caller in one parameter), the handlers' shared answers (`reply::{found, gone, checked}`),
//! client IP and layers; [`scoped`] the account-scoped get-by-id, change-one-row and cursor-page
//! statements every store would otherwise repeat;
//! [`types`] the value types (`CountryCode`, `BoundedText`); [`error`] the one error type and
//! its problem documents; [`openapi`] the document's fixed parts and shared responses;
//! [`bus`] (RabbitMQ or in-process, as configured); [`wire`] the wire names of status enums; [`config`], [`db`], [`email`], [`rate_limit`], [`metrics`], [`ops`], [`crypto`], [`state`].

pub mod accounts;
pub mod admin;
pub mod agents;
pub mod analytics;
pub mod api_keys;
pub mod app;
pub mod auth;
pub mod bus;
pub mod campaigns;
pub mod config;
pub mod contacts;
pub mod credits;
pub mod crm;
pub mod crypto;
pub mod db;
pub mod email;
pub mod engineering;
pub mod error;
pub mod exports;
pub mod http;
pub mod identity;
pub mod imports;
pub mod inbound;
pub mod links;
pub mod messages;
pub mod metrics;
pub mod notifications;
pub mod openapi;
pub mod ops;
pub mod pricing;
pub mod rate_limit;
pub mod results;
pub mod scoped;
pub mod sender_ids;
pub mod service;
pub mod state;
pub mod types;
pub mod users;
pub mod webhooks;
pub mod wire;
pub mod worker;

pub use app::app;
pub use config::Config;
pub use error::Error;
pub use state::AppState;
