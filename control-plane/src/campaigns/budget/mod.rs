//! Budgets (seed 001 WO-H): optional daily and monthly spend caps per organisation
//! ([`routes`]), enforced by the campaign dispatcher before each batch
//! ([`types::Standing::refusal`]): a campaign whose next batch would cross a cap pauses with
//! the reason and a notification.

pub mod routes;
pub mod store;
pub mod types;
