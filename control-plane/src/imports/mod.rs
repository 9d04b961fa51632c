//! CSV contact imports: upload (streamed, validated row by row into a staging table), a dry
//! run (valid / invalid with reasons / duplicates, set-based), a commit into a list in one
//! transaction, the rejected rows as CSV, progress, cancel and delete. See `docs/imports.md`.
//!
//! Layers, outside in: [`routes`] (HTTP) → [`upload`] (the body stream, COPY) →
//! [`pipeline`] (bytes → staged rows: [`decode`], [`reader`], [`mapping`], [`validate`],
//! [`copy`]) and [`store`] / [`commit`] (SQL).

pub mod commit;
pub mod copy;
pub mod decode;
pub mod mapping;
pub mod pipeline;
pub mod reader;
pub mod routes;
pub mod store;
pub mod types;
pub mod upload;
pub mod validate;

/// The customer routes of the module.
pub use routes::router as routes;

/// Largest file accepted, in bytes (64 MiB: several hundred thousand contact rows).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// Most data rows in one file.
pub const MAX_ROWS: u64 = 500_000;
