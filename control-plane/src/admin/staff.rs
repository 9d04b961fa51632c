//! Staff management (the `staff` module): list and login history (read); create, invite
//! ([`crate::admin::invites`]), set permissions and remove (owner).

use axum::http::StatusCode;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::admin::action::StaffAction;
use crate::admin::guard::{Require, StaffOwner, StaffRead};
use crate::admin::permissions::{Level, Module};
use crate::admin::store;
use crate::admin::types::{CreateStaff, CreatedStaff, SetPermissions, StaffMember};
use crate::crm::store::{LoginScope, logins};
use crate::crm::types::LoginEvent;
use crate::error::{Error, Problem, Result};
use crate::http::{Json, Page, Paged, Path, with::With};
use crate::identity::sessions;
use crate::state::AppState;
use crate::users::types::{check_name, parse_email};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_staff, create_staff))
        .routes(routes!(set_permissions))
        .routes(routes!(remove_staff))
        .routes(routes!(staff_logins))
        .merge(crate::admin::invites::router())
}

/// Staff members (`staff: read`).
#[utoipa::path(get, path = "/v1/admin/staff", tag = "admin-staff", security(("staff_bearer" = [])), params(Paged),
    responses(
        (status = 200, description = "Staff", body = Page<StaffMember>),
    ))]
async fn list_staff(
    With(state, _): With<Require<StaffRead>>,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<StaffMember>>> {
    let rows = store::list(&state.pool, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |s| s.id)))
}

/// Create a staff member with a temporary password (`staff: owner`).
#[utoipa::path(post, path = "/v1/admin/staff", tag = "admin-staff", security(("staff_bearer" = [])), request_body = CreateStaff,
    responses(
        (status = 201, description = "Created; hand over the temporary password", body = CreatedStaff),
        (status = 409, description = "Email taken", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_staff(
    With(state, Require(me, _)): With<Require<StaffOwner>>,
    Json(req): Json<CreateStaff>,
) -> Result<(StatusCode, Json<CreatedStaff>)> {
    let email = checked_email(&req)?;
    let temporary_password = temporary_password();
    let hash = state.passwords.hash(temporary_password.clone()).await?;
    let mut tx = state.pool.begin().await?;
    let id = store::insert(&mut *tx, &email, req.name.trim(), &hash).await?;
    store::set_permissions(&mut tx, id, &req.permissions).await?;
    let metadata = json!({ "email": email, "permissions": req.permissions });
    StaffAction::new(&me, Module::Staff, Level::Owner)?
        .audit(&mut *tx, "staff.create", "staff", id, metadata)
        .await?;
    let staff = store::get(&mut *tx, id)
        .await?
        .ok_or_else(|| Error::internal("staff vanished"))?;
    tx.commit().await?;
    let created = CreatedStaff {
        staff,
        temporary_password,
    };
    Ok((StatusCode::CREATED, Json(created)))
}

/// Replace a staff member's permissions (`staff: owner`). Takes effect at their next refresh.
#[utoipa::path(put, path = "/v1/admin/staff/{staff_id}/permissions", tag = "admin-staff", security(("staff_bearer" = [])),
    params(("staff_id" = Uuid, Path, description = "Staff id")), request_body = SetPermissions,
    responses(
        (status = 200, description = "Updated staff member", body = StaffMember),
        (status = 409, description = "Would remove your own staff ownership", body = Problem, content_type = "application/problem+json"),
    ))]
async fn set_permissions(
    With(state, Require(me, _)): With<Require<StaffOwner>>,
    Path(id): Path<Uuid>,
    Json(req): Json<SetPermissions>,
) -> Result<Json<StaffMember>> {
    if id == me.staff_id
        && crate::admin::permissions::level_of(&req.permissions, Module::Staff) != Level::Owner
    {
        return Err(Error::Conflict(
            "you cannot remove your own staff ownership",
        ));
    }
    let mut tx = state.pool.begin().await?;
    let before = store::get(&mut *tx, id).await?.ok_or(Error::NotFound)?;
    store::set_permissions(&mut tx, id, &req.permissions).await?;
    let metadata = json!({ "before": before.permissions, "after": req.permissions });
    StaffAction::new(&me, Module::Staff, Level::Owner)?
        .audit(&mut *tx, "staff.set_permissions", "staff", id, metadata)
        .await?;
    let staff = store::get(&mut *tx, id).await?.ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(Json(staff))
}

/// Remove a staff member (`staff: owner`): every token and impersonation of theirs is refused
/// from the next request on; the row stays for the audit log.
#[utoipa::path(delete, path = "/v1/admin/staff/{staff_id}", tag = "admin-staff", security(("staff_bearer" = [])),
    params(("staff_id" = Uuid, Path, description = "Staff id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "You cannot remove yourself", body = Problem, content_type = "application/problem+json"),
    ))]
async fn remove_staff(
    With(state, Require(me, _)): With<Require<StaffOwner>>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    if id == me.staff_id {
        return Err(Error::Conflict("you cannot remove yourself"));
    }
    let act = StaffAction::new(&me, Module::Staff, Level::Owner)?;
    let mut tx = state.pool.begin().await?;
    let before = store::get(&mut *tx, id).await?.ok_or(Error::NotFound)?;
    if !store::remove(&mut tx, id).await? {
        return Err(Error::NotFound);
    }
    sessions::revoke_all_for_staff(&mut *tx, id, "staff_removed").await?;
    let impersonations = crate::crm::impersonation::store::revoke_all_of(&mut *tx, id).await?;
    let metadata = json!({
        "email": before.email, "permissions": before.permissions,
        "impersonations_revoked": impersonations,
    });
    act.audit(&mut *tx, "staff.remove", "staff", id, metadata)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A staff member's login history, newest first (`staff: read`).
#[utoipa::path(get, path = "/v1/admin/staff/{staff_id}/logins", tag = "admin-staff", security(("staff_bearer" = [])),
    params(("staff_id" = Uuid, Path, description = "Staff id"), Paged),
    responses(
        (status = 200, description = "Login attempts", body = Page<LoginEvent>),
    ))]
async fn staff_logins(
    With(state, _): With<Require<StaffRead>>,
    Path(id): Path<Uuid>,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<LoginEvent>>> {
    let rows = logins(&state.pool, LoginScope::Staff, id, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |e| e.id)))
}

/// The email of a new staff member (created or invited), once the email and the name are
/// checked: 422 naming each bad field.
pub(crate) fn checked_email(req: &CreateStaff) -> Result<String> {
    let mut errors = Vec::new();
    let email = parse_email("email", &req.email, &mut errors);
    check_name("name", &req.name, &mut errors);
    errors
        .is_empty()
        .then_some(email)
        .ok_or(Error::Validation(errors))
}

/// A random temporary password that satisfies the strength rule.
pub fn temporary_password() -> String {
    let random = hex::encode(crate::crypto::random_bytes::<9>());
    format!("Tmp-{random}-Aa1")
}
