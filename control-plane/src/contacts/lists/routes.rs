//! Contact list endpoints: CRUD, members (list, add, remove). Counts in the answers are the
//! database-maintained ones.

use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::contacts::filter::ContactFilter;
use crate::contacts::lists::{self, Affected, ContactList, ListInput, MemberIds};
use crate::contacts::routes::{can_read, can_write, list_page};
use crate::contacts::types::Contact;
use crate::error::{Problem, Result};
use crate::http::reply::{found, gone};
use crate::http::{Json, Page, Paged, Path, with::With};
use crate::identity::principal::Principal;
use crate::identity::scope::AccountScope;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_lists, create_list))
        .routes(routes!(get_list, update_list, delete_list))
        .routes(routes!(list_members, add_members))
        .routes(routes!(remove_members))
        .routes(routes!(remove_member))
}

/// Query of the list index.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only lists whose name contains this (case-insensitive).
    pub q: Option<String>,
}

/// Query of the members endpoint.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// Search in names, phone and email.
    pub q: Option<String>,
    /// Only valid or only invalid numbers.
    pub status: Option<crate::contacts::phone::ContactStatus>,
}

async fn load(state: &AppState, scope: AccountScope, id: Uuid) -> Result<ContactList> {
    found(lists::get(&state.pool, scope, id).await?)
}

/// The organisation's lists, newest first.
#[utoipa::path(get, path = "/v1/contact-lists", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(Paged<ListQuery>),
    responses(
        (status = 200, description = "Lists", body = Page<ContactList>),
        (status = 403, description = "Key lacks contacts:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_lists(
    With(state, p): With<Principal>,
    Paged { query: q, page }: Paged<ListQuery>,
) -> Result<Json<Page<ContactList>>> {
    can_read(&p)?;
    let filter = ContactFilter {
        q: q.q,
        ..ContactFilter::default()
    }
    .check("", "KE")?;
    let rows = lists::list(&state.pool, p.scope(), filter.q_like.as_deref(), &page).await?;
    Ok(Json(Page::from_rows(rows, page, |l| l.id)))
}

/// Create a list.
#[utoipa::path(post, path = "/v1/contact-lists", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), request_body = ListInput,
    responses(
        (status = 201, description = "Created", body = ContactList),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A list has this name", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_list(
    With(state, p): With<Principal>,
    Json(req): Json<ListInput>,
) -> Result<(StatusCode, Json<ContactList>)> {
    can_write(&p)?;
    let (name, description) = req.check(true)?;
    let list = lists::insert(
        &state.pool,
        p.scope(),
        name.as_deref().unwrap_or_default(),
        description.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(list)))
}

/// One list with its counts.
#[utoipa::path(get, path = "/v1/contact-lists/{list_id}", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("list_id" = Uuid, Path, description = "List id")),
    responses(
        (status = 200, description = "The list", body = ContactList),
        (status = 403, description = "Key lacks contacts:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_list(
    With(state, p): With<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Json<ContactList>> {
    can_read(&p)?;
    Ok(Json(load(&state, p.scope(), id).await?))
}

/// Rename or re-describe a list.
#[utoipa::path(patch, path = "/v1/contact-lists/{list_id}", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), request_body = ListInput,
    params(("list_id" = Uuid, Path, description = "List id")),
    responses(
        (status = 200, description = "The list", body = ContactList),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another list has this name", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_list(
    With(state, p): With<Principal>,
    Path(id): Path<Uuid>,
    Json(req): Json<ListInput>,
) -> Result<Json<ContactList>> {
    can_write(&p)?;
    let (name, desc) = req.check(false)?;
    let list = lists::update(&state.pool, p.scope(), id, name.as_deref(), desc.as_deref());
    found(list.await?).map(Json)
}

/// Delete a list; its contacts stay.
#[utoipa::path(delete, path = "/v1/contact-lists/{list_id}", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("list_id" = Uuid, Path, description = "List id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_list(With(state, p): With<Principal>, Path(id): Path<Uuid>) -> Result<StatusCode> {
    can_write(&p)?;
    gone(lists::delete(&state.pool, p.scope(), id).await?)
}

/// The list's active members, newest first.
#[utoipa::path(get, path = "/v1/contact-lists/{list_id}/members", tag = "contacts", operation_id = "list_contact_list_members",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("list_id" = Uuid, Path, description = "List id"), Paged<MembersQuery>),
    responses(
        (status = 200, description = "Members", body = Page<Contact>),
        (status = 403, description = "Key lacks contacts:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_members(
    With(state, p): With<Principal>,
    Path(id): Path<Uuid>,
    Paged { query: q, page }: Paged<MembersQuery>,
) -> Result<Json<Page<Contact>>> {
    can_read(&p)?;
    load(&state, p.scope(), id).await?;
    let filter = ContactFilter {
        q: q.q,
        list_id: Some(id),
        status: q.status,
        ..ContactFilter::default()
    };
    Ok(Json(list_page(&state, &p, &filter, page, false).await?))
}

/// Add contacts to the list (trashed and unknown ids are skipped; members stay members).
#[utoipa::path(post, path = "/v1/contact-lists/{list_id}/members", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), request_body = MemberIds,
    params(("list_id" = Uuid, Path, description = "List id")),
    responses(
        (status = 200, description = "How many were added", body = Affected),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
    ))]
async fn add_members(
    With(state, p): With<Principal>,
    Path(id): Path<Uuid>,
    Json(req): Json<MemberIds>,
) -> Result<Json<Affected>> {
    can_write(&p)?;
    load(&state, p.scope(), id).await?;
    let ids = req.check()?;
    let affected = lists::add_members(&state.pool, p.scope(), &[id], ids).await?;
    Ok(Json(Affected { affected }))
}

/// Remove contacts from the list.
#[utoipa::path(post, path = "/v1/contact-lists/{list_id}/members/remove", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), request_body = MemberIds,
    params(("list_id" = Uuid, Path, description = "List id")),
    responses(
        (status = 200, description = "How many were removed", body = Affected),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
    ))]
async fn remove_members(
    With(state, p): With<Principal>,
    Path(id): Path<Uuid>,
    Json(req): Json<MemberIds>,
) -> Result<Json<Affected>> {
    can_write(&p)?;
    load(&state, p.scope(), id).await?;
    let ids = req.check()?;
    let affected = lists::remove_members(&state.pool, p.scope(), id, ids).await?;
    Ok(Json(Affected { affected }))
}

/// Remove one contact from the list.
#[utoipa::path(delete, path = "/v1/contact-lists/{list_id}/members/{contact_id}", tag = "contacts", operation_id = "remove_contact_list_member",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("list_id" = Uuid, Path, description = "List id"), ("contact_id" = Uuid, Path, description = "Contact id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
    ))]
async fn remove_member(
    With(state, p): With<Principal>,
    Path((list_id, contact_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode> {
    can_write(&p)?;
    gone(lists::remove_members(&state.pool, p.scope(), list_id, &[contact_id]).await? > 0)
}
