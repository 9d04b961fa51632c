//! Integration tests of the control plane against a real PostgreSQL: each test gets a fresh
//! database (`#[sqlx::test]`, DATABASE_URL) with the migrations applied.

mod agents;
mod analytics;
mod api_keys;
mod auth_flows;
mod campaigns;
mod contacts;
mod credits;
mod exports;
mod helpers;
mod http_basics;
mod imports;
mod inbound;
mod ledger_concurrency;
mod links;
mod messages;
mod mfa;
mod notifications;
mod pricing;
mod results;
mod security;
mod sender_ids;
mod sender_ids_staff;
mod service;
mod staff;
mod staff_admin;
mod staff_audit;
mod teams;
mod tenant_walls;
mod webhooks;
