//! Campaigns oversight (`/v1/admin/campaigns…`): every organisation's campaigns (`campaigns:
//! read`), and pause or cancel one (`campaigns: admin`) through the life cycle's own
//! transitions ([`lifecycle::pause`], [`lifecycle::cancel`]), audited in the same transaction.

use axum::extract::State;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::admin::action::StaffAction;
use crate::admin::guard::{Require, StaffSession};
use crate::admin::permissions::{Level, Module};
use crate::campaigns::halts::staff::{CampaignsAdmin, CampaignsRead, stop_reason};
use crate::campaigns::lifecycle;
use crate::campaigns::routes::{done, locked};
use crate::campaigns::store::{self, StaffCampaign};
use crate::campaigns::types::{Action, Campaign, CampaignStatus};
use crate::credits::types::Actor;
use crate::error::{Problem, Result};
use crate::http::{Json, Page, Paged, Path};
use crate::identity::scope::AccountScope;
use crate::state::AppState;

/// Routes of the oversight.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(all_campaigns))
        .routes(routes!(staff_pause))
        .routes(routes!(staff_cancel))
}

/// Filters of the all-campaigns list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OversightQuery {
    /// Only campaigns in this status.
    pub status: Option<CampaignStatus>,
    /// Only this organisation's.
    pub account_id: Option<Uuid>,
}

/// Why staff stop a campaign.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffStop {
    /// Why (required, at most 500 characters; a pause shows it as `pause_reason`).
    pub reason: String,
}

/// Campaigns of every organisation, newest first (`campaigns: read`).
#[utoipa::path(get, path = "/v1/admin/campaigns", tag = "admin-campaigns", security(("staff_bearer" = [])),
    params(Paged<OversightQuery>),
    responses(
        (status = 200, description = "Campaigns", body = Page<StaffCampaign>),
    ))]
async fn all_campaigns(
    State(state): State<AppState>,
    _: Require<CampaignsRead>,
    Paged { query, page }: Paged<OversightQuery>,
) -> Result<Json<Page<StaffCampaign>>> {
    let rows = store::list_all(&state.pool, query.status, query.account_id, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |c| c.campaign.id)))
}

/// Pause any organisation's campaign (`campaigns: admin`); the organisation may resume it.
#[utoipa::path(post, path = "/v1/admin/campaigns/{campaign_id}/pause", tag = "admin-campaigns", security(("staff_bearer" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id")), request_body = StaffStop,
    responses(
        (status = 200, description = "Paused", body = Campaign),
        (status = 409, description = "Not scheduled, queued or sending (its status is named)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn staff_pause(
    State(state): State<AppState>,
    Require(me, _): Require<CampaignsAdmin>,
    Path(id): Path<Uuid>,
    Json(body): Json<StaffStop>,
) -> Result<Json<Campaign>> {
    stop(&state, &me, id, &body, Action::Pause).await
}

/// Cancel any organisation's campaign (`campaigns: admin`): unsent messages never go and
/// are refunded.
#[utoipa::path(post, path = "/v1/admin/campaigns/{campaign_id}/cancel", tag = "admin-campaigns", security(("staff_bearer" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id")), request_body = StaffStop,
    responses(
        (status = 200, description = "Cancelled", body = Campaign),
        (status = 409, description = "Completed or cancelled already (its status is named)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn staff_cancel(
    State(state): State<AppState>,
    Require(me, _): Require<CampaignsAdmin>,
    Path(id): Path<Uuid>,
    Json(body): Json<StaffStop>,
) -> Result<Json<Campaign>> {
    stop(&state, &me, id, &body, Action::Cancel).await
}

/// A staff stop ([`Action::Pause`] or [`Action::Cancel`]) of any organisation's campaign:
/// checked, transitioned through the life cycle's own transition and audited in one
/// transaction.
async fn stop(
    state: &AppState,
    me: &StaffSession,
    id: Uuid,
    body: &StaffStop,
    action: Action,
) -> Result<Json<Campaign>> {
    let reason = stop_reason(&body.reason)?;
    let act = StaffAction::new(me, Module::Campaigns, Level::Admin)?;
    let mut tx = state.pool.begin().await?;
    let account = store::owner_of(&mut *tx, id).await?;
    let scope = AccountScope::trusted(account);
    let current = locked(&mut tx, scope, id, action).await?;
    let mut metadata = json!({ "reason": reason, "account_id": account });
    let audited = if action == Action::Pause {
        lifecycle::pause(&mut tx, id, &format!("paused by Sema Link: {reason}")).await?;
        "campaign.pause"
    } else {
        let base = &state.config.server.public_base_url;
        let staff = Actor::Staff(me.staff_id);
        metadata["report"] = lifecycle::cancel(&mut tx, scope, &current, staff, base).await?;
        "campaign.cancel"
    };
    act.audit(&mut *tx, audited, "campaign", id, metadata)
        .await?;
    done(tx, scope, id).await
}
