//! Contact endpoints: CRUD, search and filters, the trash (restore, purge), opt-out/opt-in
//! and bulk actions. Users need the member role to read and write, admin to purge; API keys
//! need `contacts:read` / `contacts:write`.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api_keys::types::Scope;
use crate::contacts::bulk::{self, BulkRequest, BulkResult};
use crate::contacts::filter::ContactFilter;
use crate::contacts::lists::{self, Affected};
use crate::contacts::suppression;
use crate::contacts::types::{Contact, CreateContact, UpdateContact};
use crate::contacts::{purge, store};
use crate::error::{Error, Problem, Result};
use crate::http::pagination::PageRequest;
use crate::http::reply::{found, gone};
use crate::http::{Json, Page, Paged, Path, with::With};
use crate::identity::principal::Principal;
use crate::identity::role::Role;
use crate::identity::scope::AccountScope;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_contacts, create_contact))
        .routes(routes!(get_contact, update_contact, delete_contact))
        .routes(routes!(list_trash))
        .routes(routes!(empty_trash))
        .routes(routes!(purge_contact))
        .routes(routes!(restore_contact))
        .routes(routes!(opt_out))
        .routes(routes!(opt_in))
        .routes(routes!(bulk_action))
}

/// Readers: members and `contacts:read` keys.
pub(crate) fn can_read(p: &Principal) -> Result<()> {
    p.require(Scope::ContactsRead, Role::Member)
}

/// Writers: members and `contacts:write` keys.
pub(crate) fn can_write(p: &Principal) -> Result<()> {
    p.require(Scope::ContactsWrite, Role::Member)
}

async fn load(state: &AppState, scope: AccountScope, id: Uuid) -> Result<Contact> {
    found(store::get(&state.pool, scope, id).await?)
}

/// A page of the contacts `q` selects, active or in the trash, for readers.
pub(crate) async fn list_page(
    state: &AppState,
    p: &Principal,
    q: &ContactFilter,
    page: PageRequest,
    trash: bool,
) -> Result<Page<Contact>> {
    can_read(p)?;
    let country = store::account_country(&state.pool, p.scope()).await?;
    let filter = q.check("", &country)?;
    let rows = store::list(&state.pool, p.scope(), &filter, trash, &page).await?;
    Ok(Page::from_rows(rows, page, |c| c.id))
}

/// Contacts, newest first, with search and filters.
#[utoipa::path(get, path = "/v1/contacts", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(Paged<ContactFilter>),
    responses(
        (status = 200, description = "Contacts", body = Page<Contact>),
        (status = 403, description = "Key lacks contacts:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_contacts(
    With(state, p): With<Principal>,
    Paged { query: q, page }: Paged<ContactFilter>,
) -> Result<Json<Page<Contact>>> {
    Ok(Json(list_page(&state, &p, &q, page, false).await?))
}

/// Create a contact. National numbers use the organisation's country.
#[utoipa::path(post, path = "/v1/contacts", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), request_body = CreateContact,
    responses(
        (status = 201, description = "Created", body = Contact),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The number is already a contact", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_contact(
    With(state, p): With<Principal>,
    Json(req): Json<CreateContact>,
) -> Result<(StatusCode, Json<Contact>)> {
    can_write(&p)?;
    let country = store::account_country(&state.pool, p.scope()).await?;
    let fields = req.check(&country)?;
    let mut tx = state.pool.begin().await?;
    let list_ids = req.list_ids.unwrap_or_default();
    let missing = lists::missing_lists(&mut *tx, p.scope(), &list_ids).await?;
    if !missing.is_empty() {
        return Err(Error::field("list_ids", "no such list"));
    }
    let id = store::insert(&mut tx, p.scope(), &fields).await?;
    lists::add_members(&mut *tx, p.scope(), &list_ids, &[id]).await?;
    let contact = found(store::get(&mut *tx, p.scope(), id).await?)?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(contact)))
}

/// One contact (active or in the trash).
#[utoipa::path(get, path = "/v1/contacts/{contact_id}", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("contact_id" = Uuid, Path, description = "Contact id")),
    responses(
        (status = 200, description = "The contact", body = Contact),
        (status = 403, description = "Key lacks contacts:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_contact(
    With(state, p): With<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Json<Contact>> {
    can_read(&p)?;
    Ok(Json(load(&state, p.scope(), id).await?))
}

/// Change an active contact; a new phone number is re-validated.
#[utoipa::path(patch, path = "/v1/contacts/{contact_id}", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), request_body = UpdateContact,
    params(("contact_id" = Uuid, Path, description = "Contact id")),
    responses(
        (status = 200, description = "The contact", body = Contact),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another contact has the number", body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_contact(
    With(state, p): With<Principal>,
    Path(id): Path<Uuid>,
    Json(req): Json<UpdateContact>,
) -> Result<Json<Contact>> {
    can_write(&p)?;
    let country = store::account_country(&state.pool, p.scope()).await?;
    let fields = req.check(&country)?;
    found(store::update(&state.pool, p.scope(), id, &fields).await?)?;
    Ok(Json(load(&state, p.scope(), id).await?))
}

/// Move a contact to the trash (restorable for 90 days).
#[utoipa::path(delete, path = "/v1/contacts/{contact_id}", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("contact_id" = Uuid, Path, description = "Contact id")),
    responses(
        (status = 204, description = "In the trash"),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_contact(
    With(state, p): With<Principal>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    can_write(&p)?;
    let mut tx = state.pool.begin().await?;
    let trashed = gone(store::trash(&mut tx, p.scope(), &[id]).await? > 0)?;
    tx.commit().await?;
    Ok(trashed)
}

/// Contacts in the trash, most recently created first, with the same filters.
#[utoipa::path(get, path = "/v1/contacts/trash", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(Paged<ContactFilter>),
    responses(
        (status = 200, description = "Trashed contacts", body = Page<Contact>),
        (status = 403, description = "Key lacks contacts:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_trash(
    With(state, p): With<Principal>,
    Paged { query: q, page }: Paged<ContactFilter>,
) -> Result<Json<Page<Contact>>> {
    Ok(Json(list_page(&state, &p, &q, page, true).await?))
}

/// Empty the trash: purge every trashed contact now (admin; cannot be undone).
#[utoipa::path(post, path = "/v1/contacts/trash/empty", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    responses(
        (status = 200, description = "How many were purged", body = Affected),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
    ))]
async fn empty_trash(State(state): State<AppState>, p: Principal) -> Result<Json<Affected>> {
    p.require(Scope::ContactsWrite, Role::Admin)?;
    let affected = purge::purge_all(&state.pool, p.scope()).await?;
    Ok(Json(Affected { affected }))
}

/// Purge one trashed contact now (admin; cannot be undone).
#[utoipa::path(delete, path = "/v1/contacts/trash/{contact_id}", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("contact_id" = Uuid, Path, description = "Contact id")),
    responses(
        (status = 204, description = "Purged"),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
    ))]
async fn purge_contact(
    With(state, p): With<Principal>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    p.require(Scope::ContactsWrite, Role::Admin)?;
    gone(purge::purge_one(&state.pool, p.scope(), id).await?)
}

/// Restore a contact from the trash.
#[utoipa::path(post, path = "/v1/contacts/{contact_id}/restore", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("contact_id" = Uuid, Path, description = "Contact id")),
    responses(
        (status = 200, description = "The restored contact", body = Contact),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
    ))]
async fn restore_contact(
    With(state, p): With<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Json<Contact>> {
    can_write(&p)?;
    let mut tx = state.pool.begin().await?;
    if store::restore(&mut tx, p.scope(), &[id]).await? == 0 {
        return Err(Error::NotFound);
    }
    tx.commit().await?;
    Ok(Json(load(&state, p.scope(), id).await?))
}

/// Opt a contact out: it is excluded from every send until opted in again.
#[utoipa::path(post, path = "/v1/contacts/{contact_id}/opt-out", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("contact_id" = Uuid, Path, description = "Contact id")),
    responses(
        (status = 200, description = "The contact, opted out", body = Contact),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
    ))]
async fn opt_out(With(state, p): With<Principal>, Path(id): Path<Uuid>) -> Result<Json<Contact>> {
    can_write(&p)?;
    found(store::set_opted_out(&state.pool, p.scope(), id, true).await?)?;
    Ok(Json(load(&state, p.scope(), id).await?))
}

/// Opt a contact back in (new consent). Also lifts a STOP suppression of its number; manual
/// and imported suppressions stay until removed from the suppression list.
#[utoipa::path(post, path = "/v1/contacts/{contact_id}/opt-in", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("contact_id" = Uuid, Path, description = "Contact id")),
    responses(
        (status = 200, description = "The contact, opted in", body = Contact),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
    ))]
async fn opt_in(With(state, p): With<Principal>, Path(id): Path<Uuid>) -> Result<Json<Contact>> {
    can_write(&p)?;
    let mut tx = state.pool.begin().await?;
    let phone = found(store::set_opted_out(&mut *tx, p.scope(), id, false).await?)?;
    suppression::delete_stop(&mut *tx, p.scope(), &phone).await?;
    tx.commit().await?;
    Ok(Json(load(&state, p.scope(), id).await?))
}

/// A bulk action (tag, untag, add to / remove from a list, trash) on contacts chosen by ids
/// (≤ 1000) or by a filter (≤ 50,000 matches).
#[utoipa::path(post, path = "/v1/contacts/bulk", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), request_body = BulkRequest,
    responses(
        (status = 200, description = "What changed", body = BulkResult),
        (status = 403, description = "Role too low or key lacks contacts:write", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, unknown list, or too many matches", body = Problem, content_type = "application/problem+json"),
    ))]
async fn bulk_action(
    With(state, p): With<Principal>,
    Json(req): Json<BulkRequest>,
) -> Result<Json<BulkResult>> {
    can_write(&p)?;
    let country = store::account_country(&state.pool, p.scope()).await?;
    let checked = req.check(&country)?;
    let mut tx = state.pool.begin().await?;
    let result = bulk::run(&mut tx, p.scope(), &checked).await?;
    tx.commit().await?;
    Ok(Json(result))
}
