//! The engine's integration tests: one binary, one module per subsystem.

mod bind;
mod pipeline;
mod shared;
