//! The staff side (`sender_ids` permission): the approval queue (`read`), one sender ID or a
//! whole organisation with status history (`read`), and the decisions (`admin`): approve,
//! reject, suspend, reinstate, bulk approve.

use crate::identity::scope::AccountScope;
use std::collections::{BTreeSet, HashMap};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::admin::action;
use crate::admin::guard::{Require, SenderIdsAdmin, SenderIdsRead};
use crate::error::{Error, Problem, Result};
use crate::http::{Json, Page, Paged, Path, reply::found, with::With};
use crate::sender_ids::review::{self, Action, Decided};
use crate::sender_ids::store;
use crate::sender_ids::types::{
    BulkApprove, BulkApproved, BulkOutcome, BulkResult, DecisionNote, DecisionReason,
    SenderIdHistory, StaffSenderId,
};
use crate::state::AppState;

/// Most ids in one bulk approval.
pub const MAX_BULK: usize = 100;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(queue))
        .routes(routes!(staff_get_sender_id))
        .routes(routes!(account_history))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(suspend))
        .routes(routes!(reinstate))
        .routes(routes!(bulk_approve))
}

/// Pending sender IDs of every organisation, oldest first (`sender_ids: read`). The cursor
/// moves forward in submission order.
#[utoipa::path(get, path = "/v1/admin/sender-ids/queue", tag = "admin-sender-ids", security(("staff_bearer" = [])), params(Paged),
    responses(
        (status = 200, description = "The approval queue, oldest first", body = Page<StaffSenderId>),
    ))]
async fn queue(
    With(state, _): With<Require<SenderIdsRead>>,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<StaffSenderId>>> {
    let rows = store::queue(&state.pool, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |s| s.sender_id.id)))
}

/// One sender ID of any organisation with its status history (`sender_ids: read`).
#[utoipa::path(get, path = "/v1/admin/sender-ids/{sender_id_id}", tag = "admin-sender-ids", security(("staff_bearer" = [])),
    params(("sender_id_id" = Uuid, Path, description = "Sender ID id")),
    responses(
        (status = 200, description = "The sender ID and its history", body = SenderIdHistory),
    ))]
async fn staff_get_sender_id(
    With(state, _): With<Require<SenderIdsRead>>,
    Path(id): Path<Uuid>,
) -> Result<Json<SenderIdHistory>> {
    let sender_id = found(store::staff_get(&state.pool, id).await?)?;
    let events = store::events_of(&state.pool, &[id]).await?;
    Ok(Json(SenderIdHistory { sender_id, events }))
}

/// Every sender ID of one organisation, newest first, each with its status history
/// (`sender_ids: read`).
#[utoipa::path(get, path = "/v1/admin/accounts/{account_id}/sender-ids", tag = "admin-sender-ids", security(("staff_bearer" = [])),
    params(("account_id" = Uuid, Path, description = "Organisation id"), Paged),
    responses(
        (status = 200, description = "Sender IDs with their history", body = Page<SenderIdHistory>),
    ))]
async fn account_history(
    With(state, _): With<Require<SenderIdsRead>>,
    Path(account_id): Path<Uuid>,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<SenderIdHistory>>> {
    if !store::account_exists(&state.pool, account_id).await? {
        return Err(Error::NotFound);
    }
    let rows = store::of_account(&state.pool, AccountScope::trusted(account_id), &page).await?;
    let ids: Vec<Uuid> = rows.iter().map(|s| s.sender_id.id).collect();
    let mut events: HashMap<Uuid, Vec<_>> = HashMap::new();
    for event in store::events_of(&state.pool, &ids).await? {
        events.entry(event.sender_id_id).or_default().push(event);
    }
    let rows = rows
        .into_iter()
        .map(|s| SenderIdHistory {
            events: events.remove(&s.sender_id.id).unwrap_or_default(),
            sender_id: s,
        })
        .collect();
    Ok(Json(Page::from_rows(rows, page, |h| {
        h.sender_id.sender_id.id
    })))
}

/// Runs one decision in its own transaction and answers with the staff view.
async fn decide_one(
    state: &AppState,
    staff: &crate::admin::guard::StaffSession,
    id: Uuid,
    action: Action,
    note: Option<&str>,
) -> Result<Json<StaffSenderId>> {
    let mut tx = state.pool.begin().await?;
    let base_url = &state.config.server.public_base_url;
    match review::decide(&mut tx, staff, id, action, note, base_url).await? {
        Decided::Changed(_) => {}
        Decided::Refused(status) => return Err(Error::Conflict(status.conflict_detail())),
        Decided::Missing => return Err(Error::NotFound),
    }
    let sender = store::staff_get(&mut *tx, id)
        .await?
        .ok_or_else(|| Error::internal("sender ID vanished"))?;
    tx.commit().await?;
    Ok(Json(sender))
}

/// Approve a pending sender ID, with an optional note (`sender_ids: admin`). Notifies the
/// organisation.
#[utoipa::path(post, path = "/v1/admin/sender-ids/{sender_id_id}/approve", tag = "admin-sender-ids", security(("staff_bearer" = [])),
    params(("sender_id_id" = Uuid, Path, description = "Sender ID id")), request_body = DecisionNote,
    responses(
        (status = 200, description = "Approved", body = StaffSenderId),
        (status = 409, description = "Not pending (the detail names its status)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn approve(
    With(state, Require(me, _)): With<Require<SenderIdsAdmin>>,
    Path(id): Path<Uuid>,
    Json(req): Json<DecisionNote>,
) -> Result<Json<StaffSenderId>> {
    let note = action::note("note", req.note.as_deref())?;
    decide_one(&state, &me, id, Action::Approve, note).await
}

/// Reject a pending sender ID with a reason (`sender_ids: admin`). Notifies the organisation.
#[utoipa::path(post, path = "/v1/admin/sender-ids/{sender_id_id}/reject", tag = "admin-sender-ids", security(("staff_bearer" = [])),
    params(("sender_id_id" = Uuid, Path, description = "Sender ID id")), request_body = DecisionReason,
    responses(
        (status = 200, description = "Rejected", body = StaffSenderId),
        (status = 409, description = "Not pending (the detail names its status)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn reject(
    With(state, Require(me, _)): With<Require<SenderIdsAdmin>>,
    Path(id): Path<Uuid>,
    Json(req): Json<DecisionReason>,
) -> Result<Json<StaffSenderId>> {
    let reason = action::reason("reason", &req.reason)?;
    decide_one(&state, &me, id, Action::Reject, Some(reason)).await
}

/// Suspend an approved sender ID with a reason (`sender_ids: admin`). It stops being the
/// default if it was. Notifies the organisation.
#[utoipa::path(post, path = "/v1/admin/sender-ids/{sender_id_id}/suspend", tag = "admin-sender-ids", security(("staff_bearer" = [])),
    params(("sender_id_id" = Uuid, Path, description = "Sender ID id")), request_body = DecisionReason,
    responses(
        (status = 200, description = "Suspended", body = StaffSenderId),
        (status = 409, description = "Not approved (the detail names its status)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn suspend(
    With(state, Require(me, _)): With<Require<SenderIdsAdmin>>,
    Path(id): Path<Uuid>,
    Json(req): Json<DecisionReason>,
) -> Result<Json<StaffSenderId>> {
    let reason = action::reason("reason", &req.reason)?;
    decide_one(&state, &me, id, Action::Suspend, Some(reason)).await
}

/// Reinstate a suspended sender ID, with an optional note (`sender_ids: admin`). Notifies the
/// organisation.
#[utoipa::path(post, path = "/v1/admin/sender-ids/{sender_id_id}/reinstate", tag = "admin-sender-ids", security(("staff_bearer" = [])),
    params(("sender_id_id" = Uuid, Path, description = "Sender ID id")), request_body = DecisionNote,
    responses(
        (status = 200, description = "Approved again", body = StaffSenderId),
        (status = 409, description = "Not suspended (the detail names its status)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn reinstate(
    With(state, Require(me, _)): With<Require<SenderIdsAdmin>>,
    Path(id): Path<Uuid>,
    Json(req): Json<DecisionNote>,
) -> Result<Json<StaffSenderId>> {
    let note = action::note("note", req.note.as_deref())?;
    decide_one(&state, &me, id, Action::Reinstate, note).await
}

/// Approve several sender IDs in one transaction (`sender_ids: admin`). Ids that are no
/// longer pending (withdrawn or decided meanwhile) or unknown do not fail the request: each id
/// gets its own outcome, and every approval is audited and notified as a single one would be.
#[utoipa::path(post, path = "/v1/admin/sender-ids/bulk-approve", tag = "admin-sender-ids", security(("staff_bearer" = [])),
    request_body = BulkApprove,
    responses(
        (status = 200, description = "Per-id results, in request order", body = BulkApproved),
    ))]
async fn bulk_approve(
    With(state, Require(me, _)): With<Require<SenderIdsAdmin>>,
    Json(req): Json<BulkApprove>,
) -> Result<Json<BulkApproved>> {
    let mut ids = req.sender_id_ids.clone();
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(Error::field("sender_id_ids", "must hold 1 to 100 ids"));
    }
    let note = action::note("note", req.note.as_deref())?;
    // Lock in id order so that concurrent bulk approvals cannot deadlock.
    let order: BTreeSet<Uuid> = ids.iter().copied().collect();
    let base_url = &state.config.server.public_base_url;
    let mut outcomes = HashMap::new();
    let mut tx = state.pool.begin().await?;
    for id in order {
        let (outcome, status) =
            match review::decide(&mut tx, &me, id, Action::Approve, note, base_url).await? {
                Decided::Changed(status) => (BulkOutcome::Approved, Some(status)),
                Decided::Refused(status) => (BulkOutcome::NotPending, Some(status)),
                Decided::Missing => (BulkOutcome::NotFound, None),
            };
        let result = BulkResult {
            sender_id_id: id,
            outcome,
            status,
        };
        outcomes.insert(id, result);
    }
    tx.commit().await?;
    let results: Vec<BulkResult> = ids.iter().filter_map(|id| outcomes.remove(id)).collect();
    Ok(Json(BulkApproved {
        approved: results
            .iter()
            .filter(|r| r.outcome == BulkOutcome::Approved)
            .count(),
        results,
    }))
}
