//! The messages API: send (`POST /v1/messages`, API key with `messages:send` or any member),
//! one message, the list with its filters, and a message's timeline (keys with
//! `messages:send` or `reports:read`). Another organisation's message is a 404.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api_keys::types::Scope;
use crate::error::{Error, Problem, Result};
use crate::http::{Json, Page, Paged, Path};
use crate::identity::principal::Principal;
use crate::identity::role::Role;
use crate::messages::idempotency::{self, Claim};
use crate::messages::send::{self, Origin};
use crate::messages::store;
use crate::messages::types::{Message, MessageEvents, MessageQuery, SendMessages, SendResult};
use crate::pricing::quote::Destination;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_messages, list_messages))
        .routes(routes!(get_message))
        .routes(routes!(message_events))
}

/// Who sent: the key or the user.
fn origin(p: &Principal) -> Origin {
    match p {
        Principal::User(u) => Origin {
            scope: p.scope(),
            api_key_id: None,
            user_id: Some(u.user_id),
        },
        Principal::Key(k) => Origin::of_key(k),
    }
}

/// Reading messages: any member, or a key that sends or reads reports.
pub(crate) fn reader(p: &Principal) -> Result<()> {
    match p {
        Principal::Key(k) if k.scopes.contains(&Scope::ReportsRead) => Ok(()),
        _ => p.require(Scope::MessagesSend, Role::Member),
    }
}

/// A plain-text answer with `status` (the compatibility adapters speak their clients' text).
pub(crate) fn plain(status: StatusCode, body: impl IntoResponse) -> Response {
    let content_type = [("content-type", "text/plain; charset=utf-8")];
    (status, content_type, body).into_response()
}

/// A JSON answer with `status`.
fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

/// Send one text to 1 to 10,000 recipients. Each recipient is answered on its own (a message
/// id and cost, or an error: `invalid_number`, `opted_out`, `suppressed`, `duplicate`,
/// `no_rate`); the request succeeds for the valid ones and the whole cost is reserved once.
/// With `Idempotency-Key` the same request answers the same (and sends nothing again) for 24
/// hours.
#[utoipa::path(post, path = "/v1/messages", tag = "messages",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), request_body = SendMessages,
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters; replays answer the first response")),
    responses(
        (status = 201, description = "Accepted for the valid recipients", body = SendResult),
        (status = 402, description = "Not enough credit for the request; `shortfall` says how much is missing", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Key lacks messages:send", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Idempotency-Key was used with another request", body = Problem, content_type = "application/problem+json"),
    ))]
async fn send_messages(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Json(req): Json<SendMessages>,
) -> Result<Response> {
    principal.require(Scope::MessagesSend, Role::Member)?;
    let key = idempotency::key_of(&headers)?;
    let now = OffsetDateTime::now_utc();
    let origin = origin(&principal);
    let hash = match &key {
        Some(_) => Some(idempotency::request_hash("POST /v1/messages", &req)?),
        None => None,
    };
    let plan = req.parse(now)?;
    let mut tx = state.pool.begin().await?;
    if let (Some(key), Some(hash)) = (&key, &hash)
        && let Claim::Replay { status, body } =
            idempotency::claim(&mut tx, origin.scope, key, hash).await?
    {
        let status = StatusCode::from_u16(status).map_err(Error::internal)?;
        return Ok(answer(status, body));
    }
    let base_url = &state.config.server.public_base_url;
    let result = send::send(&mut tx, origin, &plan, now, base_url).await?;
    let body = serde_json::to_value(&result).map_err(Error::internal)?;
    if let Some(key) = &key {
        store::record_key(&mut *tx, origin.scope, key, 201, &body).await?;
    }
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok(answer(StatusCode::CREATED, body))
}

/// The organisation's messages, newest first, filtered by status, campaign, recipient,
/// client reference and creation time (`from` inclusive, `until` exclusive).
#[utoipa::path(get, path = "/v1/messages", tag = "messages",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(Paged<MessageQuery>),
    responses(
        (status = 200, description = "Messages", body = Page<Message>),
        (status = 403, description = "Key lacks messages:send and reports:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_messages(
    State(state): State<AppState>,
    principal: Principal,
    Paged { query: q, page }: Paged<MessageQuery>,
) -> Result<Json<Page<Message>>> {
    reader(&principal)?;
    let scope = principal.scope();
    let to = match q.to.as_deref() {
        Some(input) => {
            let country = crate::contacts::store::account_country(&state.pool, scope).await?;
            Some(
                Destination::parse("to", input, &country)?
                    .msisdn
                    .as_str()
                    .to_owned(),
            )
        }
        None => None,
    };
    if let (Some(from), Some(until)) = (q.from, q.until)
        && until <= from
    {
        return Err(Error::field("until", "must be after from"));
    }
    let rows = store::list(&state.pool, scope, &q, to.as_deref(), &page).await?;
    Ok(Json(Page::from_rows(rows, page, |m| m.id)))
}

/// One message.
#[utoipa::path(get, path = "/v1/messages/{message_id}", tag = "messages",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("message_id" = Uuid, Path, description = "Message id")),
    responses(
        (status = 200, description = "The message", body = Message),
        (status = 403, description = "Key lacks messages:send and reports:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_message(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<Message>> {
    reader(&principal)?;
    store::get(&state.pool, principal.scope(), id)
        .await?
        .map(Json)
        .ok_or(Error::NotFound)
}

/// A message's timeline, oldest first: submitted → queued → sent → delivered / failed, with
/// times, parts and upstream ids.
#[utoipa::path(get, path = "/v1/messages/{message_id}/events", tag = "messages",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("message_id" = Uuid, Path, description = "Message id")),
    responses(
        (status = 200, description = "The timeline", body = MessageEvents),
        (status = 403, description = "Key lacks messages:send and reports:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn message_events(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<MessageEvents>> {
    reader(&principal)?;
    let scope = principal.scope();
    let data = store::events(&state.pool, scope, id).await?;
    if data.is_empty() {
        // Every message has its `submitted` event, so none means no such message here.
        return Err(Error::NotFound);
    }
    Ok(Json(MessageEvents {
        message_id: id,
        data,
    }))
}
