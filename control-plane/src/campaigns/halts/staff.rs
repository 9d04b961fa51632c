//! The kill switch's staff routes (`campaigns` permission): halt and lift sending for one
//! organisation or the whole platform (`admin`, audited in the same transaction), and the
//! halts in force (`read`).

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::admin::action::{self, StaffAction};
use crate::admin::guard::{Permission, Require, StaffSession, permission};
use crate::admin::permissions::{Level, Module};
use crate::campaigns::halts::store;
use crate::campaigns::halts::types::{Halt, Halts, StartHalt};
use crate::error::{Error, Problem, Result};
use crate::http::{Json, Path};
use crate::sender_ids::store::account_exists;
use crate::state::AppState;

permission! {
    CampaignsRead = Campaigns: Read;
    CampaignsAdmin = Campaigns: Admin;
}

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_halts))
        .routes(routes!(halt_platform, lift_platform))
        .routes(routes!(halt_account, lift_account))
}

/// Halts in force, newest first (`campaigns: read`).
#[utoipa::path(get, path = "/v1/admin/sending-halts", tag = "admin-campaigns", security(("staff_bearer" = [])),
    responses(
        (status = 200, description = "Halts in force", body = Halts),
    ))]
async fn list_halts(
    State(state): State<AppState>,
    _: Require<CampaignsRead>,
) -> Result<Json<Halts>> {
    Ok(Json(Halts {
        data: store::active(&state.pool).await?,
    }))
}

/// Why staff stop sending or a campaign: the staff [`action::reason`] rule (required), and at
/// most 500 characters (a halt keeps it; a paused campaign shows it as `pause_reason`).
pub(crate) fn stop_reason(text: &str) -> Result<&str> {
    let reason = action::reason("reason", text)?;
    if reason.chars().count() > 500 {
        return Err(Error::field("reason", "must be at most 500 characters"));
    }
    Ok(reason)
}

/// Starts (`body` given) or lifts the halt of `account_id` (None: the platform): checked,
/// changed and audited in one transaction.
async fn change(
    state: &AppState,
    staff: &StaffSession,
    account_id: Option<Uuid>,
    body: Option<&StartHalt>,
) -> Result<Json<Halt>> {
    let reason = body.map(|b| stop_reason(&b.reason)).transpose()?;
    let act = StaffAction::new(staff, Module::Campaigns, Level::Admin)?;
    let mut tx = state.pool.begin().await?;
    let (action, halt) = match reason {
        Some(reason) => {
            if let Some(id) = account_id
                && !account_exists(&mut *tx, id).await?
            {
                return Err(Error::NotFound);
            }
            let halt = store::start(&mut *tx, account_id, reason, staff.staff_id).await?;
            ("sending.halt", halt)
        }
        None => {
            let halt = store::lift(&mut *tx, account_id, staff.staff_id).await?;
            ("sending.lift", halt.ok_or(Error::NotFound)?)
        }
    };
    let metadata = match reason {
        Some(reason) => json!({"halt_id": halt.id, "reason": reason}),
        None => json!({"halt_id": halt.id}),
    };
    let (kind, target) = target(account_id);
    act.audit(&mut *tx, action, kind, target, metadata).await?;
    tx.commit().await?;
    Ok(Json(halt))
}

fn target(account_id: Option<Uuid>) -> (&'static str, String) {
    match account_id {
        Some(id) => ("account", id.to_string()),
        None => ("platform", "all".to_owned()),
    }
}

/// Stop all sending on the platform (`campaigns: admin`): no campaign batch is dispatched
/// and no message published until it is lifted.
#[utoipa::path(post, path = "/v1/admin/sending-halt", tag = "admin-campaigns", security(("staff_bearer" = [])),
    request_body = StartHalt,
    responses(
        (status = 201, description = "Halted", body = Halt),
        (status = 409, description = "Already halted", body = Problem, content_type = "application/problem+json"),
    ))]
async fn halt_platform(
    State(state): State<AppState>,
    Require(me, _): Require<CampaignsAdmin>,
    Json(body): Json<StartHalt>,
) -> Result<(StatusCode, Json<Halt>)> {
    Ok((
        StatusCode::CREATED,
        change(&state, &me, None, Some(&body)).await?,
    ))
}

/// Lift the platform-wide halt (`campaigns: admin`); sending resumes where it stopped.
#[utoipa::path(delete, path = "/v1/admin/sending-halt", tag = "admin-campaigns", security(("staff_bearer" = [])),
    responses(
        (status = 200, description = "Lifted", body = Halt),
        (status = 404, description = "No platform halt in force", body = Problem, content_type = "application/problem+json"),
    ))]
async fn lift_platform(
    State(state): State<AppState>,
    Require(me, _): Require<CampaignsAdmin>,
) -> Result<Json<Halt>> {
    change(&state, &me, None, None).await
}

/// Stop all sending of one organisation (`campaigns: admin`).
#[utoipa::path(post, path = "/v1/admin/accounts/{account_id}/sending-halt", tag = "admin-campaigns", security(("staff_bearer" = [])),
    params(("account_id" = Uuid, Path, description = "Organisation id")), request_body = StartHalt,
    responses(
        (status = 201, description = "Halted", body = Halt),
        (status = 409, description = "Already halted", body = Problem, content_type = "application/problem+json"),
    ))]
async fn halt_account(
    State(state): State<AppState>,
    Require(me, _): Require<CampaignsAdmin>,
    Path(account_id): Path<Uuid>,
    Json(body): Json<StartHalt>,
) -> Result<(StatusCode, Json<Halt>)> {
    let halt = change(&state, &me, Some(account_id), Some(&body)).await?;
    Ok((StatusCode::CREATED, halt))
}

/// Lift an organisation's halt (`campaigns: admin`).
#[utoipa::path(delete, path = "/v1/admin/accounts/{account_id}/sending-halt", tag = "admin-campaigns", security(("staff_bearer" = [])),
    params(("account_id" = Uuid, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "Lifted", body = Halt),
    ))]
async fn lift_account(
    State(state): State<AppState>,
    Require(me, _): Require<CampaignsAdmin>,
    Path(account_id): Path<Uuid>,
) -> Result<Json<Halt>> {
    change(&state, &me, Some(account_id), None).await
}
