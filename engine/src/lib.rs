//! The SMPP gateway engine. Built by the engine issues; only the crate exists so far.

pub mod smpp;
