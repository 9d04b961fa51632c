//! Campaigns (seed 000 Phase 2c): a named bulk send of one personalised text to an audience
//! (contact lists and/or the contacts filter), checked, scheduled and dispatched in batches.
//!
//! * [`routes`] — drafts (create, edit, list, duplicate, delete, preview); [`lifecycle`] —
//!   the actions (submit, send, schedule, pause, resume, cancel); [`preview`] — the rendered
//!   text, encoding, parts, recipients after exclusions and the cost by operator.
//! * [`content`] — the content check run on submit; [`template`] — the tokens.
//! * [`dispatch`] — the `campaign_dispatcher` worker (expansion, batches, reservations).
//! * [`budget`] — daily and monthly spend caps; [`halts`] — the staff kill switch.
//! * [`oversight`] — staff view, pause and cancel; [`review`] — the human content-check queue.
//! * [`store`] — the SQL of drafts and transitions; [`types`] — statuses, requests, answers.
//!
//! The life cycle and its rules are in `docs/campaigns.md`.

pub mod budget;
pub mod content;
pub mod dispatch;
pub mod halts;
pub mod lifecycle;
pub mod oversight;
pub mod preview;
pub mod review;
pub mod routes;
pub mod store;
pub mod template;
pub mod types;

use tokio_util::sync::CancellationToken;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;
use crate::worker::Worker;

/// The customer routes of the module: campaigns and the budget.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(routes::router())
        .merge(budget::routes::router())
}

/// The staff routes of the module: the kill switch and the oversight of every campaign.
pub fn staff_routes() -> OpenApiRouter<AppState> {
    halts::staff::router()
        .merge(oversight::router())
        .merge(review::router())
}

/// The module's background workers: the dispatcher.
pub fn workers(state: &AppState, stop: &CancellationToken) -> Vec<Worker> {
    vec![dispatch::worker(state, stop.clone())]
}
