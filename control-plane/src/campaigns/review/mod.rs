//! The human content-check queue (`/v1/admin/campaigns/reviews…`): campaigns that passed
//! the automatic check but matched a review rule ([`crate::campaigns::content::review_reasons`])
//! wait in `pending_content_check` until staff decide. Listed with `campaigns: read`;
//! approved or rejected with `campaigns: admin` through the life cycle's own transition
//! ([`lifecycle::review`]), audited in the same transaction, and the organisation's owners
//! and admins notified.

pub mod store;

use axum::extract::State;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::admin::action::{self, StaffAction};
use crate::admin::guard::{Require, StaffSession};
use crate::admin::permissions::{Level, Module};
use crate::campaigns::halts::staff::{CampaignsAdmin, CampaignsRead};
use crate::campaigns::lifecycle::{self, Verdict};
use crate::campaigns::routes::{done, locked};
use crate::campaigns::store as campaigns_store;
use crate::campaigns::types::{Action, Campaign};
use crate::error::{Error, Problem, Result};
use crate::http::{Json, Page, Paged, Path};
use crate::identity::scope::AccountScope;
use crate::notifications::{self, Notice};
use crate::state::AppState;
use store::ReviewItem;

/// Routes of the queue.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(review_queue))
        .routes(routes!(review_approve))
        .routes(routes!(review_reject))
}

/// An approval's optional note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewApprove {
    /// Kept in the audit row (optional, at most 1000 characters).
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// Why a campaign is rejected.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewReject {
    /// Shown to the customer as the rejection reason (required, at most 1000 characters).
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// Campaigns waiting for a human content check, newest first (`campaigns: read`).
#[utoipa::path(get, path = "/v1/admin/campaigns/reviews", tag = "admin-campaigns", security(("staff_bearer" = [])),
    params(Paged),
    responses(
        (status = 200, description = "The queue", body = Page<ReviewItem>),
    ))]
async fn review_queue(
    State(state): State<AppState>,
    _: Require<CampaignsRead>,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<ReviewItem>>> {
    let rows = store::queue(&state.pool, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |r| {
        r.campaign.campaign.id
    })))
}

/// Approve a campaign waiting for review (`campaigns: admin`): it may be sent or scheduled.
#[utoipa::path(post, path = "/v1/admin/campaigns/{campaign_id}/review/approve", tag = "admin-campaigns", security(("staff_bearer" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id")), request_body = ReviewApprove,
    responses(
        (status = 200, description = "Approved", body = Campaign),
        (status = 409, description = "Not waiting for a review (its status is named)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn review_approve(
    State(state): State<AppState>,
    Require(me, _): Require<CampaignsAdmin>,
    Path(id): Path<Uuid>,
    Json(body): Json<ReviewApprove>,
) -> Result<Json<Campaign>> {
    let note = action::note("note", body.note.as_deref())?;
    decide(&state, &me, id, Verdict::Approve, note).await
}

/// Reject a campaign waiting for review (`campaigns: admin`): the customer sees the reason,
/// may edit and submit again.
#[utoipa::path(post, path = "/v1/admin/campaigns/{campaign_id}/review/reject", tag = "admin-campaigns", security(("staff_bearer" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id")), request_body = ReviewReject,
    responses(
        (status = 200, description = "Rejected", body = Campaign),
        (status = 409, description = "Not waiting for a review (its status is named)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn review_reject(
    State(state): State<AppState>,
    Require(me, _): Require<CampaignsAdmin>,
    Path(id): Path<Uuid>,
    Json(body): Json<ReviewReject>,
) -> Result<Json<Campaign>> {
    let reason = action::reason("reason", &body.reason)?;
    let shown = format!("rejected by Sema Link's content review: {reason}");
    decide(&state, &me, id, Verdict::Reject(&shown), None).await
}

/// One decision: checked, transitioned, audited and notified in one transaction.
async fn decide(
    state: &AppState,
    me: &StaffSession,
    id: Uuid,
    verdict: Verdict<'_>,
    note: Option<&str>,
) -> Result<Json<Campaign>> {
    let act = StaffAction::new(me, Module::Campaigns, Level::Admin)?;
    let mut tx = state.pool.begin().await?;
    let account = campaigns_store::owner_of(&mut *tx, id).await?;
    let scope = AccountScope::trusted(account);
    let current = locked(&mut tx, scope, id, Action::Review).await?;
    if !store::awaiting(&mut *tx, id).await? {
        return Err(Error::Conflict(
            "not allowed: the campaign is not waiting for a human review",
        ));
    }
    lifecycle::review(&mut tx, id, me.staff_id, verdict).await?;
    let (action, kind, title, body, reason) = match verdict {
        Verdict::Approve => (
            "campaign.review.approve",
            "campaign.approved",
            "Campaign approved",
            format!(
                "{} passed the content review and may be sent.",
                current.name
            ),
            None,
        ),
        Verdict::Reject(reason) => (
            "campaign.review.reject",
            "campaign.rejected",
            "Campaign rejected",
            format!("{}: {reason}", current.name),
            Some(reason),
        ),
    };
    let metadata = json!({ "account_id": account, "reason": reason, "note": note });
    act.audit(&mut *tx, action, "campaign", id, metadata)
        .await?;
    let notice = Notice {
        kind,
        title,
        body: &body,
        data: json!({ "campaign_id": id }),
    };
    notifications::notify(
        &mut tx,
        account,
        &notice,
        &state.config.server.public_base_url,
    )
    .await?;
    done(tx, scope, id).await
}
