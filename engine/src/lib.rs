//! The SMPP gateway engine: SMPP sessions and bind pools, config, routing, throttling,
//! correlation, per-message tracking, status sinks, metrics, the HTTP ingress and the
//! RabbitMQ consumer and sink ([`amqp`]), wired together by [`app::Engine`] and the
//! [`dispatch`] pipeline.

pub mod amqp;
pub mod app;
pub mod celcom;
pub mod config;
pub mod correlation;
pub mod dispatch;
pub mod error;
pub mod health;
pub mod ingress;
pub mod metrics;
pub mod retry;
pub mod routing;
mod shard;
pub mod sink;
pub mod smpp;
pub mod throttle;
pub mod tracker;
pub mod unmatched;
pub mod upstream;

pub use app::{Engine, EngineHandle};
pub use error::{Error, Result};
