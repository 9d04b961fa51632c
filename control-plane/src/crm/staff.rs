//! The CRM's organisation routes (`/v1/admin/crm/orgs…`): list and detail (`crm: read`),
//! suspend and reactivate (`crm: admin`), delete with the typed name (`crm: owner`). Each
//! change, its notifications and its audit row commit in one transaction.

use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::accounts::store as accounts;
use crate::accounts::team::store as team;
use crate::admin::action::{self, StaffAction};
use crate::admin::guard::{CrmAdmin, CrmOwner, CrmRead, Require};
use crate::admin::permissions::{Level, Module};
use crate::crm::types::{
    DeleteOrg, Deleted, OrgDetail, OrgQuery, OrgSummary, StaffNote, SuspendOrg,
};
use crate::crm::{changes, store, suspension};
use crate::error::{Error, Problem, Result};
use crate::http::with::{With, newest};
use crate::http::{Json, Page, Paged, Path, reply::found};
use crate::identity::scope::AccountScope;
use crate::state::AppState;

/// Routes of the organisations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orgs))
        .routes(routes!(org_detail, delete_org))
        .routes(routes!(suspend_org))
        .routes(routes!(reactivate_org))
}

/// Every organisation, newest first: search by name, filter by status, type, country
/// (`crm: read`).
#[utoipa::path(get, path = "/v1/admin/crm/orgs", tag = "admin-crm", security(("staff_bearer" = [])),
    params(Paged<OrgQuery>),
    responses(
        (status = 200, description = "Organisations", body = Page<OrgSummary>),
    ))]
async fn list_orgs(
    With(state, _): With<Require<CrmRead>>,
    Paged { query, page }: Paged<OrgQuery>,
) -> Result<Json<Page<OrgSummary>>> {
    let rows = store::orgs(&state.pool, &query, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |o| o.id)))
}

/// The organisation with its members, balance, sender IDs, recent campaigns and API keys.
async fn detail(state: &AppState, id: Uuid) -> Result<OrgDetail> {
    let scope = AccountScope::trusted(id);
    let pool = &state.pool;
    let account = accounts::get(pool, scope).await?.ok_or(Error::NotFound)?;
    Ok(OrgDetail {
        account,
        suspension: store::suspension(pool, id).await?,
        members: team::members(pool, scope, &newest(100)).await?,
        balance: crate::credits::store::balance(pool, scope).await?,
        sender_ids: crate::sender_ids::store::of_account(pool, scope, &newest(100)).await?,
        recent_campaigns: crate::campaigns::store::list(pool, scope, None, &newest(10)).await?,
        api_keys: crate::api_keys::store::list(pool, scope, &newest(100)).await?,
    })
}

/// One organisation (`crm: read`).
#[utoipa::path(get, path = "/v1/admin/crm/orgs/{account_id}", tag = "admin-crm", security(("staff_bearer" = [])),
    params(("account_id" = Uuid, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The organisation", body = OrgDetail),
    ))]
async fn org_detail(
    With(state, _): With<Require<CrmRead>>,
    Path(id): Path<Uuid>,
) -> Result<Json<OrgDetail>> {
    Ok(Json(detail(&state, id).await?))
}

/// Suspend an organisation (`crm: admin`), atomically: status `suspended`, credits frozen,
/// its unpublished messages held and flagged, sends refused (API, campaigns, adapters), and
/// a notification to its owners and to the CRM's staff owners.
#[utoipa::path(post, path = "/v1/admin/crm/orgs/{account_id}/suspend", tag = "admin-crm", security(("staff_bearer" = [])),
    params(("account_id" = Uuid, Path, description = "Organisation id")), request_body = SuspendOrg,
    responses(
        (status = 200, description = "Suspended", body = OrgDetail),
        (status = 409, description = "Already suspended, or deleted", body = Problem, content_type = "application/problem+json"),
    ))]
async fn suspend_org(
    With(state, Require(me, _)): With<Require<CrmAdmin>>,
    Path(id): Path<Uuid>,
    Json(body): Json<SuspendOrg>,
) -> Result<Json<OrgDetail>> {
    let reason = action::reason("reason", &body.reason)?;
    let act = StaffAction::new(&me, Module::Crm, Level::Admin)?;
    suspension::suspend(&state, &act, id, reason, "org.suspend").await?;
    Ok(Json(detail(&state, id).await?))
}

/// Reactivate a suspended organisation (`crm: admin`): active again, credits thawed, held
/// messages released, its owners told.
#[utoipa::path(post, path = "/v1/admin/crm/orgs/{account_id}/reactivate", tag = "admin-crm", security(("staff_bearer" = [])),
    params(("account_id" = Uuid, Path, description = "Organisation id")), request_body = StaffNote,
    responses(
        (status = 200, description = "Active again", body = OrgDetail),
        (status = 409, description = "Not suspended, or deleted", body = Problem, content_type = "application/problem+json"),
    ))]
async fn reactivate_org(
    With(state, Require(me, _)): With<Require<CrmAdmin>>,
    Path(id): Path<Uuid>,
    Json(body): Json<StaffNote>,
) -> Result<Json<OrgDetail>> {
    let note = action::note("note", body.note.as_deref())?;
    let act = StaffAction::new(&me, Module::Crm, Level::Admin)?;
    suspension::reactivate(&state, &act, id, note, "org.reactivate").await?;
    Ok(Json(detail(&state, id).await?))
}

/// Delete an organisation for good (`crm: owner`), confirmed by typing its exact name: its
/// members, keys, contacts, lists, imports, sender IDs, campaigns, messages and notifications
/// are removed, sessions acting for it revoked, and its row anonymised and kept suspended —
/// the credit ledger and the audit log stay. Refused while credits are reserved for messages
/// in flight (suspend first and let them settle).
#[utoipa::path(delete, path = "/v1/admin/crm/orgs/{account_id}", tag = "admin-crm", security(("staff_bearer" = [])),
    params(("account_id" = Uuid, Path, description = "Organisation id")), request_body = DeleteOrg,
    responses(
        (status = 200, description = "Deleted; rows removed per table", body = Deleted),
        (status = 409, description = "Deleted already, or messages in flight", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The typed name does not match, or no reason", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_org(
    With(state, Require(me, _)): With<Require<CrmOwner>>,
    Path(id): Path<Uuid>,
    Json(body): Json<DeleteOrg>,
) -> Result<Json<Deleted>> {
    let reason = action::reason("reason", &body.reason)?;
    let act = StaffAction::new(&me, Module::Crm, Level::Owner)?;
    let mut tx = state.pool.begin().await?;
    let org = found(changes::lock_org(&mut tx, id).await?)?;
    if org.deleted_at.is_some() {
        return Err(Error::Conflict("the organisation is deleted already"));
    }
    if body.confirm_name != org.name {
        return Err(Error::field(
            "confirm_name",
            "must be the organisation's exact name",
        ));
    }
    if !org.reserved.is_zero() {
        return Err(Error::Conflict(
            "credits are reserved for messages in flight: suspend the organisation and wait until they settle",
        ));
    }
    let removed = changes::delete(&mut tx, id).await?;
    let metadata = json!({ "name": org.name, "reason": reason, "removed": removed });
    act.audit(&mut *tx, "org.delete", "account", id, metadata)
        .await?;
    tx.commit().await?;
    Ok(Json(Deleted {
        account_id: id,
        removed,
    }))
}
