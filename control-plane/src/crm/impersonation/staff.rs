//! Start and exit an impersonation (`crm: admin`), both audited.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::admin::action::{self, StaffAction};
use crate::admin::guard::{CrmAdmin, Require};
use crate::admin::permissions::{Level, Module, level_of};
use crate::crm::changes;
use crate::crm::impersonation::{TTL_SECS, store};
use crate::error::{Error, Problem, Result};
use crate::http::{Json, Path, with::With};
use crate::identity::impersonation::{AUDIENCE, ImpersonationClaims, PREFIX};
use crate::identity::jwt::{ISSUER, now_secs};
use crate::state::AppState;

/// Routes of impersonation.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_impersonation))
        .routes(routes!(exit_impersonation))
}

/// Why a staff member views an organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartImpersonation {
    /// Why (required, kept in the audit log).
    pub reason: String,
}

/// A read-only token for one organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImpersonationToken {
    /// The impersonation (exit it with this id).
    pub impersonation_id: Uuid,
    /// The organisation viewed.
    pub account_id: Uuid,
    /// Bearer token for the customer API's reads (`Authorization: Bearer …`).
    pub access_token: String,
    /// Seconds it lives.
    pub expires_in: i64,
    /// When it ends.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// View an organisation as its owner, read-only (`crm: admin`): a 15-minute token for the
/// customer API. Every request with it is audited; every change is refused with 403.
#[utoipa::path(post, path = "/v1/admin/crm/orgs/{account_id}/impersonate", tag = "admin-crm", security(("staff_bearer" = [])),
    params(("account_id" = Uuid, Path, description = "Organisation id")), request_body = StartImpersonation,
    responses(
        (status = 201, description = "The read-only token", body = ImpersonationToken),
    ))]
async fn start_impersonation(
    With(state, Require(me, _)): With<Require<CrmAdmin>>,
    Path(account_id): Path<Uuid>,
    Json(body): Json<StartImpersonation>,
) -> Result<(StatusCode, Json<ImpersonationToken>)> {
    let reason = action::reason("reason", &body.reason)?;
    let act = StaffAction::new(&me, Module::Crm, Level::Admin)?;
    let mut tx = state.pool.begin().await?;
    let org = changes::lock_org(&mut tx, account_id)
        .await?
        .filter(|o| o.deleted_at.is_none())
        .ok_or(Error::NotFound)?;
    let (id, expires_at) =
        store::insert(&mut *tx, me.staff_id, account_id, reason, TTL_SECS).await?;
    let iat = now_secs();
    let claims = ImpersonationClaims {
        sub: id,
        stf: me.staff_id,
        acc: account_id,
        iat,
        exp: expires_at.unix_timestamp(),
        aud: AUDIENCE.into(),
        iss: ISSUER.into(),
    };
    let token = format!("{PREFIX}{}", state.customer_keys.sign(&claims)?);
    let metadata = json!({ "impersonation_id": id, "reason": reason, "name": org.name });
    act.audit(
        &mut *tx,
        "impersonation.start",
        "account",
        account_id,
        metadata,
    )
    .await?;
    tx.commit().await?;
    let answer = ImpersonationToken {
        impersonation_id: id,
        account_id,
        access_token: token,
        expires_in: (expires_at.unix_timestamp() - iat).max(0),
        expires_at,
    };
    Ok((StatusCode::CREATED, Json(answer)))
}

/// Exit an impersonation (`crm: admin`; someone else's needs `crm: owner`): its token is
/// refused from the next request on.
#[utoipa::path(post, path = "/v1/admin/crm/impersonations/{impersonation_id}/exit", tag = "admin-crm", security(("staff_bearer" = [])),
    params(("impersonation_id" = Uuid, Path, description = "Impersonation id")),
    responses(
        (status = 204, description = "Ended"),
        (status = 403, description = "Permission too low, or another staff member's", body = Problem, content_type = "application/problem+json"),
    ))]
async fn exit_impersonation(
    With(state, Require(me, _)): With<Require<CrmAdmin>>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    let act = StaffAction::new(&me, Module::Crm, Level::Admin)?;
    let mut tx = state.pool.begin().await?;
    let (staff_id, account_id, was_live) =
        store::revoke(&mut *tx, id).await?.ok_or(Error::NotFound)?;
    if staff_id != me.staff_id && level_of(&me.permissions, Module::Crm) < Level::Owner {
        return Err(Error::Forbidden(
            "only its staff member or a CRM owner may end an impersonation",
        ));
    }
    let metadata = json!({ "impersonation_id": id, "was_live": was_live, "of_staff": staff_id });
    act.audit(
        &mut *tx,
        "impersonation.exit",
        "account",
        account_id,
        metadata,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
