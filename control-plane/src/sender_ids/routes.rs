//! The organisation's sender IDs: register, list, get, withdraw while pending, and choose the
//! default. Any member (or a key with `sender_ids:read`) reads; owners and admins (or a key
//! with `sender_ids:write`) change.

use crate::identity::scope::AccountScope;
use axum::http::StatusCode;
use sqlx::{Postgres, Transaction};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::accounts::store as accounts;
use crate::admin::permissions::{Level, Module};
use crate::admin::store as staff;
use crate::api_keys::types::Scope;
use crate::email::outbox;
use crate::email::templates::Template;
use crate::error::{Error, FieldError, Problem, Result};
use crate::http::{Json, Page, Paged, Path, reply::found, with::With};
use crate::identity::principal::Principal;
use crate::identity::role::Role;
use crate::sender_ids::name::SenderName;
use crate::sender_ids::store::{self, Event, NewSenderId};
use crate::sender_ids::types::{RegisterSenderId, SenderId, SenderIdQuery, SenderIdStatus};
use crate::state::AppState;
use crate::types::{BoundedText, CountryCode};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sender_ids, register_sender_id))
        .routes(routes!(get_sender_id, withdraw_sender_id))
        .routes(routes!(set_default, clear_default))
}

fn reader(p: &Principal) -> Result<()> {
    p.require(Scope::SenderIdsRead, Role::Member)
}

fn writer(p: &Principal) -> Result<()> {
    p.require(Scope::SenderIdsWrite, Role::Admin)
}

/// Checks that `p` may change sender IDs and locks `id`, one of its organisation's, in a new
/// transaction.
async fn lock_own(
    state: &AppState,
    p: &Principal,
    id: Uuid,
) -> Result<(Transaction<'static, Postgres>, SenderId)> {
    writer(p)?;
    let mut tx = state.pool.begin().await?;
    let current = found(store::lock(&mut *tx, Some(p.scope()), id).await?)?;
    Ok((tx, current))
}

fn acting_user(p: &Principal) -> Option<Uuid> {
    match p {
        Principal::User(u) => Some(u.user_id),
        Principal::Key(_) => None,
    }
}

/// Register a sender ID for review (owner or admin). It starts `pending`.
#[utoipa::path(post, path = "/v1/sender-ids", tag = "sender-ids",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), request_body = RegisterSenderId,
    responses(
        (status = 201, description = "Registered, pending review", body = SenderId),
        (status = 403, description = "Role too low or key lacks sender_ids:write", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already registered for that country", body = Problem, content_type = "application/problem+json"),
    ))]
async fn register_sender_id(
    With(state, principal): With<Principal>,
    Json(req): Json<RegisterSenderId>,
) -> Result<(StatusCode, Json<SenderId>)> {
    writer(&principal)?;
    let mut errors = Vec::new();
    let country = CountryCode::check("country", &req.country, &mut errors).map_or_else(
        || req.country.trim().to_ascii_uppercase(),
        |c| c.to_string(),
    );
    let name = SenderName::parse(&req.name, &country)
        .map_err(|message| errors.push(FieldError::new("name", message)))
        .ok();
    let use_case = req.use_case.trim();
    if !(10..=1000).contains(&use_case.chars().count()) {
        errors.push(FieldError::new("use_case", "must be 10 to 1000 characters"));
    }
    let sample = req.sample_message.as_deref();
    let sample = sample.and_then(|s| BoundedText::<1000>::check("sample_message", s, &mut errors));
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(Error::Validation(errors));
    };
    let new = NewSenderId {
        account_id: principal.account_id(),
        name: &name,
        country: &country,
        traffic_type: req.traffic_type,
        use_case,
        sample_message: sample.as_ref().map(BoundedText::as_str),
        submitted_by: acting_user(&principal),
    };
    let mut tx = state.pool.begin().await?;
    let sender = store::insert(&mut tx, &new).await?;
    alert_reviewers(&mut tx, &sender, &state.config.server.public_base_url).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(sender)))
}

/// Emails every active staff member who may decide sender IDs (`sender_ids` at `admin` or
/// above) that one waits in the queue; queued in the registration's transaction.
async fn alert_reviewers(
    conn: &mut sqlx::PgConnection,
    sender: &SenderId,
    base_url: &str,
) -> Result<()> {
    let account_name =
        accounts::name_of(&mut *conn, AccountScope::trusted(sender.account_id)).await?;
    let reviewers = staff::emails_with(&mut *conn, Module::SenderIds, Level::Admin).await?;
    let template = Template::SenderIdSubmitted {
        account_name: &account_name,
        name: &sender.name,
        country: &sender.country,
    };
    for to in &reviewers {
        outbox::enqueue(&mut *conn, to, &template, base_url).await?;
    }
    Ok(())
}

/// The organisation's sender IDs, newest first, optionally of one status (any member).
#[utoipa::path(get, path = "/v1/sender-ids", tag = "sender-ids",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(Paged<SenderIdQuery>),
    responses(
        (status = 200, description = "Sender IDs", body = Page<SenderId>),
        (status = 400, description = "Bad query (unknown status or parameter)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Key lacks sender_ids:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_sender_ids(
    With(state, principal): With<Principal>,
    Paged { query: q, page }: Paged<SenderIdQuery>,
) -> Result<Json<Page<SenderId>>> {
    reader(&principal)?;
    let rows = store::list(&state.pool, principal.scope(), q.status, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |s| s.id)))
}

/// One sender ID (any member).
#[utoipa::path(get, path = "/v1/sender-ids/{sender_id_id}", tag = "sender-ids",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("sender_id_id" = Uuid, Path, description = "Sender ID id")),
    responses(
        (status = 200, description = "The sender ID", body = SenderId),
        (status = 403, description = "Key lacks sender_ids:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_sender_id(
    With(state, principal): With<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Json<SenderId>> {
    reader(&principal)?;
    found(store::get(&state.pool, principal.scope(), id).await?).map(Json)
}

/// Withdraw a pending sender ID (owner or admin). It stays listed as `withdrawn`.
#[utoipa::path(delete, path = "/v1/sender-ids/{sender_id_id}", tag = "sender-ids",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("sender_id_id" = Uuid, Path, description = "Sender ID id")),
    responses(
        (status = 200, description = "Withdrawn", body = SenderId),
        (status = 403, description = "Role too low or key lacks sender_ids:write", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not pending (the detail names its status)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn withdraw_sender_id(
    With(state, principal): With<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Json<SenderId>> {
    let (mut tx, current) = lock_own(&state, &principal, id).await?;
    if !current.status.can_become(SenderIdStatus::Withdrawn) {
        return Err(Error::Conflict(current.status.conflict_detail()));
    }
    let withdrawn = store::set_status(&mut *tx, id, SenderIdStatus::Withdrawn, None, None).await?;
    let event = Event {
        from: Some(current.status),
        to: SenderIdStatus::Withdrawn,
        staff_id: None,
        user_id: acting_user(&principal),
        note: None,
    };
    store::insert_event(&mut *tx, &withdrawn, &event).await?;
    tx.commit().await?;
    Ok(Json(withdrawn))
}

/// Make an approved sender ID the organisation's default (owner or admin); the previous
/// default stops being one.
#[utoipa::path(put, path = "/v1/sender-ids/{sender_id_id}/default", tag = "sender-ids",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("sender_id_id" = Uuid, Path, description = "Sender ID id")),
    responses(
        (status = 200, description = "Now the default", body = SenderId),
        (status = 403, description = "Role too low or key lacks sender_ids:write", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not approved (the detail names its status)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn set_default(
    With(state, principal): With<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Json<SenderId>> {
    let (mut tx, current) = lock_own(&state, &principal, id).await?;
    if current.status != SenderIdStatus::Approved {
        return Err(Error::Conflict(current.status.conflict_detail()));
    }
    let sender = store::make_default(&mut tx, principal.scope(), id).await?;
    tx.commit().await?;
    Ok(Json(sender))
}

/// Stop this sender ID being the default (owner or admin); the organisation then has no
/// default until one is set. Repeating it changes nothing.
#[utoipa::path(delete, path = "/v1/sender-ids/{sender_id_id}/default", tag = "sender-ids",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("sender_id_id" = Uuid, Path, description = "Sender ID id")),
    responses(
        (status = 200, description = "No longer the default", body = SenderId),
        (status = 403, description = "Role too low or key lacks sender_ids:write", body = Problem, content_type = "application/problem+json"),
    ))]
async fn clear_default(
    With(state, principal): With<Principal>,
    Path(id): Path<Uuid>,
) -> Result<Json<SenderId>> {
    let (mut tx, _) = lock_own(&state, &principal, id).await?;
    let sender = store::set_default_flag(&mut *tx, id, false).await?;
    tx.commit().await?;
    Ok(Json(sender))
}
