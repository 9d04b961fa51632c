//! The campaign endpoints of drafts: create, list, get, edit, delete, duplicate, preview (the
//! life cycle's actions are in [`crate::campaigns::lifecycle`]). Any member (or a key with `messages:send`) writes; keys with `reports:read` also
//! read. Another organisation's campaign is a 404; an action its status does not allow is a
//! 409 naming the status.

use axum::extract::State;
use axum::http::StatusCode;
use sqlx::{PgConnection, Postgres, Transaction};
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api_keys::types::Scope;
use crate::campaigns::preview::types::{Preview, PreviewRequest};
use crate::campaigns::store::{self, Draft};
use crate::campaigns::types::{
    Action, Campaign, CampaignFields, CampaignQuery, DraftFields, SendAt,
};
use crate::error::{Error, FieldError, Problem, Result};
use crate::http::{Json, Page, Paged, Path};
use crate::identity::principal::Principal;
use crate::identity::role::Role;
use crate::identity::scope::AccountScope;
use crate::messages::routes::reader;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_campaign, list_campaigns))
        .routes(routes!(get_campaign, edit_campaign, delete_campaign))
        .routes(routes!(duplicate_campaign))
        .routes(routes!(preview_campaign))
        .merge(crate::campaigns::lifecycle::router())
}

pub(super) fn writer(p: &Principal) -> Result<()> {
    p.require(Scope::MessagesSend, Role::Member)
}

pub(super) fn user_of(p: &Principal) -> Option<Uuid> {
    match p {
        Principal::User(u) => Some(u.user_id),
        Principal::Key(_) => None,
    }
}

/// The instant `at` stands for: as given, or a local time in `timezone`.
pub(super) async fn instant(
    conn: &mut PgConnection,
    at: SendAt,
    timezone: &str,
) -> Result<OffsetDateTime> {
    match at {
        SendAt::At(t) => Ok(t),
        SendAt::Local(local) => store::local_to_instant(conn, local, timezone).await,
    }
}

/// Checks a time zone against PostgreSQL's IANA database; a 422 on `field` when it is not one.
pub(super) async fn known_zone(conn: &mut PgConnection, field: &str, tz: &str) -> Result<()> {
    if store::known_timezone(&mut *conn, tz).await? {
        Ok(())
    } else {
        Err(Error::field(
            field,
            "is not an IANA time zone such as Africa/Nairobi",
        ))
    }
}

/// Applies checked `f` onto `base` (and its lists), resolving what needs the database: the
/// sender ID and the lists must be the organisation's, the filter must check, the time zone
/// must exist, a local send time becomes an instant.
async fn resolve(
    conn: &mut PgConnection,
    scope: AccountScope,
    mut d: Draft,
    lists: Vec<Uuid>,
    DraftFields { fields: f, send_at }: DraftFields,
) -> Result<(Draft, Vec<Uuid>)> {
    let mut errors = Vec::new();
    d.name = f.name.unwrap_or(d.name);
    if let Some(sender) = f.sender_id {
        if let Some(id) = sender
            && crate::sender_ids::store::get(&mut *conn, scope, id)
                .await?
                .is_none()
        {
            errors.push(FieldError::new(
                "sender_id",
                "is not a sender ID of this organisation",
            ));
        }
        d.sender_id = sender;
    }
    let lists = match f.list_ids {
        Some(ids) => {
            let owned = store::owned_lists(&mut *conn, scope, &ids).await?;
            for (i, id) in ids.iter().enumerate() {
                if !owned.contains(id) {
                    errors.push(FieldError::new(
                        format!("list_ids[{i}]"),
                        "is not a contact list of this organisation",
                    ));
                }
            }
            ids
        }
        None => lists,
    };
    if let Some(filter) = f.audience_filter {
        if let Some(v) = &filter {
            let country = crate::contacts::store::account_country(&mut *conn, scope).await?;
            let checked = crate::campaigns::dispatch::audience_filter(Some(v), &country);
            if let Err(Error::Validation(e)) = checked {
                errors.extend(e);
            }
        }
        d.audience_filter = filter;
    }
    d.message = f.message.unwrap_or(d.message);
    if let Some(tz) = f.timezone {
        if let Some(tz) = &tz {
            match known_zone(&mut *conn, "timezone", tz).await {
                Err(Error::Validation(e)) => errors.extend(e),
                other => other?,
            }
        }
        d.timezone = tz;
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    if let Some(at) = send_at {
        d.send_at = match at {
            Some(at) => {
                if matches!(at, SendAt::Local(_)) && d.timezone.is_none() {
                    d.timezone = Some(store::account_timezone(&mut *conn, scope).await?);
                }
                let zone = d.timezone.clone().unwrap_or_else(|| "UTC".into());
                Some(instant(conn, at, &zone).await?)
            }
            None => None,
        };
    }
    d.quiet_hours = f.quiet_hours.unwrap_or(d.quiet_hours);
    d.priority = f.priority.unwrap_or(d.priority);
    Ok((d, lists))
}

/// Create a draft campaign.
#[utoipa::path(post, path = "/v1/campaigns", tag = "campaigns",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), request_body = CampaignFields,
    responses(
        (status = 201, description = "The draft", body = Campaign),
        (status = 403, description = "Key lacks messages:send", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_campaign(
    State(state): State<AppState>,
    principal: Principal,
    Json(req): Json<CampaignFields>,
) -> Result<(StatusCode, Json<Campaign>)> {
    writer(&principal)?;
    let scope = principal.scope();
    let fields = req.parse(true)?;
    let mut tx = state.pool.begin().await?;
    let (draft, lists) = resolve(&mut tx, scope, Draft::default(), Vec::new(), fields).await?;
    let id = store::insert(&mut tx, scope, &draft, &lists, user_of(&principal)).await?;
    Ok((StatusCode::CREATED, done(tx, scope, id).await?))
}

/// The organisation's campaigns, newest first, optionally of one status.
#[utoipa::path(get, path = "/v1/campaigns", tag = "campaigns",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(Paged<CampaignQuery>),
    responses(
        (status = 200, description = "Campaigns", body = Page<Campaign>),
        (status = 403, description = "Key lacks messages:send and reports:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_campaigns(
    State(state): State<AppState>,
    principal: Principal,
    Paged { query: q, page }: Paged<CampaignQuery>,
) -> Result<Json<Page<Campaign>>> {
    reader(&principal)?;
    let rows = store::list(&state.pool, principal.scope(), q.status, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |c| c.id)))
}

/// One campaign with its counters.
#[utoipa::path(get, path = "/v1/campaigns/{campaign_id}", tag = "campaigns",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The campaign", body = Campaign),
        (status = 403, description = "Key lacks messages:send and reports:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_campaign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<Campaign>> {
    reader(&principal)?;
    let mut campaign = store::get(&state.pool, principal.scope(), id)
        .await?
        .ok_or(Error::NotFound)?;
    // The report's short-link figures are live: clicks go on after the last delivery.
    if let Some(serde_json::Value::Object(report)) = campaign.report.as_mut() {
        let clicks = crate::links::store::summary(&state.pool, principal.scope(), id).await?;
        report.insert(
            "clicks".into(),
            serde_json::to_value(clicks).map_err(Error::internal)?,
        );
    }
    Ok(Json(campaign))
}

/// Edit a draft, rejected or approved campaign; it returns to `draft` (submit it again).
#[utoipa::path(patch, path = "/v1/campaigns/{campaign_id}", tag = "campaigns",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id")), request_body = CampaignFields,
    responses(
        (status = 200, description = "The edited draft", body = Campaign),
        (status = 403, description = "Key lacks messages:send", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not editable in its status (named)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn edit_campaign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    Json(req): Json<CampaignFields>,
) -> Result<Json<Campaign>> {
    let (mut tx, scope, current) = begin(&state, &principal, id, Action::Edit).await?;
    let fields = req.parse(false)?;
    let lists_given = fields.fields.list_ids.is_some();
    let (draft, lists) = resolve(
        &mut tx,
        scope,
        Draft::of(&current),
        current.list_ids.clone(),
        fields,
    )
    .await?;
    store::update(&mut *tx, scope, id, &draft).await?;
    if lists_given {
        store::set_lists(&mut tx, scope, id, &lists).await?;
    }
    done(tx, scope, id).await
}

/// Delete a draft or rejected campaign.
#[utoipa::path(delete, path = "/v1/campaigns/{campaign_id}", tag = "campaigns",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Key lacks messages:send", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a draft (its status is named)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn delete_campaign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    let (mut tx, scope, _) = begin(&state, &principal, id, Action::Delete).await?;
    store::delete(&mut *tx, scope, id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new draft with this campaign's fields and lists.
#[utoipa::path(post, path = "/v1/campaigns/{campaign_id}/duplicate", tag = "campaigns",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id")),
    responses(
        (status = 201, description = "The copy, a draft", body = Campaign),
        (status = 403, description = "Key lacks messages:send", body = Problem, content_type = "application/problem+json"),
    ))]
async fn duplicate_campaign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<Campaign>)> {
    writer(&principal)?;
    let scope = principal.scope();
    let mut tx = state.pool.begin().await?;
    store::get(&mut *tx, scope, id)
        .await?
        .ok_or(Error::NotFound)?;
    let copy = store::duplicate(&mut tx, scope, id, user_of(&principal)).await?;
    Ok((StatusCode::CREATED, done(tx, scope, copy).await?))
}

/// Locks the campaign and checks `action`.
pub(super) async fn locked(
    conn: &mut PgConnection,
    scope: AccountScope,
    id: Uuid,
    action: Action,
) -> Result<Campaign> {
    let current = store::lock(&mut *conn, scope, id)
        .await?
        .ok_or(Error::NotFound)?;
    current.status.check(action)?;
    Ok(current)
}

/// Opens an action's transaction: a writer, the campaign locked, `action` allowed in its
/// status.
pub(super) async fn begin(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    action: Action,
) -> Result<(Transaction<'static, Postgres>, AccountScope, Campaign)> {
    writer(principal)?;
    let scope = principal.scope();
    let mut tx = state.pool.begin().await?;
    let current = locked(&mut tx, scope, id, action).await?;
    if matches!(action, Action::Send | Action::Schedule | Action::Resume) {
        crate::accounts::gate::ensure_can_send(&mut *tx, scope.id()).await?;
    }
    Ok((tx, scope, current))
}

/// Commits an action (or a change) and answers the campaign as it left it.
pub(super) async fn done(
    mut tx: Transaction<'static, Postgres>,
    scope: AccountScope,
    id: Uuid,
) -> Result<Json<Campaign>> {
    let campaign = store::get(&mut *tx, scope, id)
        .await?
        .ok_or_else(|| Error::internal("campaign vanished"))?;
    tx.commit().await?;
    Ok(Json(campaign))
}

/// Preview and estimate: the text rendered for a contact (the given one, else the first
/// recipient), its encoding and parts (with the transliterated alternative when a character
/// forces UCS-2), the recipients after exclusions and the cost by operator. The estimate is
/// kept as the campaign's `estimated_cost`.
#[utoipa::path(post, path = "/v1/campaigns/{campaign_id}/preview", tag = "campaigns",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id")), request_body = PreviewRequest,
    responses(
        (status = 200, description = "Preview and estimate", body = Preview),
        (status = 403, description = "Key lacks messages:send and reports:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn preview_campaign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    Json(req): Json<PreviewRequest>,
) -> Result<Json<Preview>> {
    reader(&principal)?;
    let scope = principal.scope();
    let (mut tx, guard) =
        crate::db::begin_bulk(&state.pool, state.config.database.bulk_statement_timeout_ms).await?;
    let campaign = store::get(&mut *tx, scope, id)
        .await?
        .ok_or(Error::NotFound)?;
    let now = OffsetDateTime::now_utc();
    let domain = &state.config.links.domain;
    let preview =
        crate::campaigns::preview::preview(&mut tx, scope, &campaign, req.contact_id, now, domain)
            .await?;
    store::set_estimate(&mut *tx, id, preview.total_cost).await?;
    tx.commit().await?;
    guard.disarm();
    Ok(Json(preview))
}
