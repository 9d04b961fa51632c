//! Contact exports as CSV and XLSX, streamed from the database to the client while they are
//! read, and safe against spreadsheet formula injection ([`cells`]). The CSV writer is also
//! used for an import's rejected rows.

pub mod cells;
pub mod contacts;
pub mod csv;
pub mod routes;
pub mod stream;
pub mod xlsx;

/// The customer routes of the module.
pub use routes::router as routes;
