//! Engineering routes (`/v1/admin/engineering/…`, `engineering: read`): queue depth and
//! consumers, failed messages, applied migrations, API health, recent server errors; the
//! manual retry of failed messages (`engineering: admin`, audited).

use semalink_bus::Bus;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::action::{self, StaffAction};
use crate::admin::guard::{EngineeringAdmin, EngineeringRead, Require};
use crate::admin::permissions::{Level, Module};
use crate::engineering::types::{
    FailedMessage, FailedQuery, Health, Migrations, QueueDepth, Queues, RecentErrors, RetryAnswer,
    RetryRequest, UnmatchedReceipts,
};
use crate::engineering::{engines, retry, store};
use crate::error::{Error, Problem, Result};
use crate::http::{Json, Page, Paged, with::With};
use crate::state::AppState;

/// Routes of the module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(queues))
        .routes(routes!(failed_messages))
        .routes(routes!(retry_failed))
        .routes(routes!(unmatched_receipts))
        .routes(routes!(migrations))
        .routes(routes!(health))
        .routes(routes!(recent_errors))
}

/// Depth and consumers of every queue (AMQP passive declare, or the in-process counters).
#[utoipa::path(get, path = "/v1/admin/engineering/queues", tag = "admin-engineering", security(("staff_bearer" = [])),
    responses(
        (status = 200, description = "Queues", body = Queues),
    ))]
async fn queues(With(state, _): With<Require<EngineeringRead>>) -> Result<Json<Queues>> {
    let names = crate::bus::Queues::of(state.config.amqp.as_ref());
    let mut data = Vec::new();
    for queue in [names.priority, names.normal, names.status, names.inbound] {
        let stats = state.bus.queue_stats(&queue).await.ok().flatten();
        data.push(QueueDepth {
            queue,
            messages: stats.map(|s| s.messages),
            consumers: stats.map(|s| s.consumers),
        });
    }
    let bus = match state.bus {
        Bus::Amqp(_) => "amqp",
        Bus::Memory(_) => "memory",
    };
    let ready = *state.bus.readiness().borrow();
    Ok(Json(Queues { bus, ready, data }))
}

/// Failed messages, newest first, with the upstream's reason and code.
#[utoipa::path(get, path = "/v1/admin/engineering/failed-messages", tag = "admin-engineering", security(("staff_bearer" = [])),
    params(Paged<FailedQuery>),
    responses(
        (status = 200, description = "Failed messages", body = Page<FailedMessage>),
    ))]
async fn failed_messages(
    With(state, _): With<Require<EngineeringRead>>,
    Paged { query, page }: Paged<FailedQuery>,
) -> Result<Json<Page<FailedMessage>>> {
    let rows = store::failed(&state.pool, query.account_id, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |m| m.id)))
}

/// Send failed messages again (`engineering: admin`): for each a new attempt under the same
/// message id, its cost reserved once more, back through the outbox; all or none, audited.
#[utoipa::path(post, path = "/v1/admin/engineering/failed-messages/retry", tag = "admin-engineering", security(("staff_bearer" = [])),
    request_body = RetryRequest,
    responses(
        (status = 200, description = "Retried", body = RetryAnswer),
        (status = 402, description = "Not enough credit to reserve the cost again", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Permission too low, password change pending, or the organisation may not send", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such message", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A message is not failed (its status is named) or past its validity", body = Problem, content_type = "application/problem+json"),
    ))]
async fn retry_failed(
    With(state, Require(me, _)): With<Require<EngineeringAdmin>>,
    Json(body): Json<RetryRequest>,
) -> Result<Json<RetryAnswer>> {
    if body.message_ids.is_empty() || body.message_ids.len() > retry::MAX_RETRY {
        return Err(Error::field("message_ids", "must list 1 to 100 messages"));
    }
    let note = action::note("note", body.note.as_deref())?;
    let act = StaffAction::new(&me, Module::Engineering, Level::Admin)?;
    let mut tx = state.pool.begin().await?;
    let results = &state.config.results;
    let base = &state.config.server.public_base_url;
    let data = retry::retry(&mut tx, &act, &body.message_ids, note, results, base).await?;
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok(Json(RetryAnswer { data }))
}

/// Receipts the engines could not match: the count of each configured engine (since its
/// start) and the most recent, newest first (asked of each engine's own endpoint).
#[utoipa::path(get, path = "/v1/admin/engineering/unmatched-receipts", tag = "admin-engineering", security(("staff_bearer" = [])),
    responses(
        (status = 200, description = "Unmatched receipts", body = UnmatchedReceipts),
    ))]
async fn unmatched_receipts(
    With(state, _): With<Require<EngineeringRead>>,
) -> Result<Json<UnmatchedReceipts>> {
    Ok(Json(engines::unmatched(&state.config.engineering).await))
}

/// Applied migrations, oldest first.
#[utoipa::path(get, path = "/v1/admin/engineering/migrations", tag = "admin-engineering", security(("staff_bearer" = [])),
    responses(
        (status = 200, description = "Migrations", body = Migrations),
    ))]
async fn migrations(With(state, _): With<Require<EngineeringRead>>) -> Result<Json<Migrations>> {
    let data = store::migrations(&state.pool).await?;
    Ok(Json(Migrations { data }))
}

/// Request rate, error rate and latency percentiles from the service's own metrics, the
/// receipts it could not match, and the outbox backlog.
#[utoipa::path(get, path = "/v1/admin/engineering/health", operation_id = "engineering_health", tag = "admin-engineering", security(("staff_bearer" = [])),
    responses(
        (status = 200, description = "Health", body = Health),
    ))]
async fn health(With(state, _): With<Require<EngineeringRead>>) -> Result<Json<Health>> {
    let (outbox_waiting, outbox_held) = store::outbox(&state.pool).await?;
    Ok(Json(Health {
        api: state.metrics.health(),
        outbox_waiting,
        outbox_held,
    }))
}

/// The last 100 server errors (5xx) with their request ids, kept in memory by this process.
#[utoipa::path(get, path = "/v1/admin/engineering/errors", tag = "admin-engineering", security(("staff_bearer" = [])),
    responses(
        (status = 200, description = "Recent server errors", body = RecentErrors),
    ))]
async fn recent_errors(
    With(state, _): With<Require<EngineeringRead>>,
) -> Result<Json<RecentErrors>> {
    let data = state.metrics.recent_server_errors();
    Ok(Json(RecentErrors { data }))
}
