//! The engine's integration tests: one binary, one module per subsystem.

mod amqp;
mod bind;
mod multi;
mod pipeline;
mod shared;
