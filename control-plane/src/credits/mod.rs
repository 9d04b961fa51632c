//! Credits: each account's balance, the append-only ledger (`credit_transactions`) and the
//! operations that move credit.
//!
//! * [`ledger`] — `reserve`, `finalise`, `refund`, `topup`, `adjust`: one transaction each,
//!   serialised per account by a row lock, idempotent by (type, reference). The campaign
//!   dispatcher reserves, the status consumer finalises or refunds.
//! * [`topup`] — the payment-provider interface; [`topup::ManualTopup`] is the first provider.
//! * [`alert`] — one low-credit notification per downward crossing of the threshold.
//! * [`store`] — balance, history, settings and the ledger invariant check.
//! * [`routes`] (customer) and [`admin`] (staff, `billing` permission) — the endpoints.

pub mod alert;
pub mod ledger;
pub mod money;
pub mod routes;
pub mod staff;
pub mod store;
pub mod topup;
pub mod types;

/// The customer routes of the module.
pub use routes::router as routes;

/// The staff routes of the module (`/v1/admin/...`).
pub use staff::router as staff_routes;
