//! `GET /cgi-bin/sendsms`: Kannel's parameters checked, the send made by
//! [`crate::messages::send::send_now_with`], and every outcome told in Kannel's words. A
//! `dlr-url` is called for each report its `dlr-mask` asks for, through the webhook outbox
//! ([`crate::webhooks::callbacks`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use time::{Duration, OffsetDateTime};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api_keys::types::Scope;
use crate::error::Error;
use crate::http::Query;
use crate::identity::principal::ApiKeyAuth;
use crate::messages::kannel::types::{SendSms, answer};
use crate::messages::routes::plain;
use crate::messages::send::{self, Origin};
use crate::messages::types::SendMessages;
use crate::state::AppState;
use crate::webhooks::callbacks::{Callback, Style};

/// Routes of the adapter.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sendsms))
}

fn wrong_args() -> Response {
    plain(StatusCode::BAD_REQUEST, answer::WRONG_ARGS)
}

/// A whole number in `range`, or None when absent; Err when present and not one.
fn number(value: Option<&str>, range: std::ops::RangeInclusive<i64>) -> Result<Option<i64>, ()> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| range.contains(n))
            .map(Some)
            .ok_or(()),
    }
}

/// Kannel's sendsms: send `text` to the receivers in `to`. Answers in Kannel's plain text:
/// `0: Accepted for delivery` (202), `3: Queued for later delivery` (202, `deferred`), or
/// Kannel's refusals (400/403); 402 `Insufficient credit, rejected` when the organisation
/// cannot pay (Kannel has no such answer).
#[utoipa::path(get, path = "/cgi-bin/sendsms", tag = "compat", params(SendSms),
    responses(
        (status = 202, description = "`0: Accepted for delivery` or `3: Queued for later delivery`", body = String, content_type = "text/plain"),
        (status = 400, description = "Kannel's refusal of the arguments", body = String, content_type = "text/plain"),
        (status = 402, description = "`Insufficient credit, rejected`", body = String, content_type = "text/plain"),
        (status = 403, description = "`Authorization failed for sendsms`, or every number denied", body = String, content_type = "text/plain"),
    ))]
async fn sendsms(State(state): State<AppState>, query: Result<Query<SendSms>, Error>) -> Response {
    let Ok(Query(q)) = query else {
        return wrong_args();
    };
    let (Some(_), Some(password)) = (
        q.username.as_deref().filter(|u| !u.trim().is_empty()),
        q.password.as_deref(),
    ) else {
        return plain(StatusCode::FORBIDDEN, answer::AUTH_FAILED);
    };
    let key = match ApiKeyAuth::from_secret(&state, password).await {
        Ok(key) if key.require(Scope::MessagesSend).is_ok() => key,
        Ok(_) | Err(Error::Unauthorized(_)) => {
            return plain(StatusCode::FORBIDDEN, answer::AUTH_FAILED);
        }
        Err(other) => return other.into_response(),
    };
    let (Some(to), Some(body)) = (q.to.as_deref(), q.text.as_deref()) else {
        return wrong_args();
    };
    let receivers: Vec<String> = to
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    if receivers.is_empty() {
        return plain(StatusCode::BAD_REQUEST, answer::EMPTY_RECEIVER);
    }
    let (Ok(mask), Ok(coding), Ok(validity), Ok(deferred)) = (
        number(q.dlr_mask.as_deref(), 0..=31),
        number(q.coding.as_deref(), 0..=2),
        number(q.validity.as_deref(), 1..=4320),
        number(q.deferred.as_deref(), 0..=86_400),
    ) else {
        return wrong_args();
    };
    if coding == Some(1) {
        return wrong_args();
    }
    let now = OffsetDateTime::now_utc();
    let send_at = deferred
        .filter(|m| *m > 0)
        .map(|m| now + Duration::minutes(m));
    let request = SendMessages {
        to: receivers,
        text: body.to_owned(),
        from: q.from.clone(),
        send_at,
        validity: validity.map(|m| m * 60),
        ..SendMessages::default()
    };
    let plan = match request.parse(now) {
        Ok(plan) => plan,
        Err(_) => return wrong_args(),
    };
    let mask = mask.and_then(|m| i16::try_from(m).ok());
    let given = Callback::given(
        &state,
        Style::Kannel,
        q.dlr_url.as_deref(),
        mask,
        q.username.as_deref(),
    );
    let Ok(callback) = given.await else {
        return plain(StatusCode::BAD_REQUEST, answer::BAD_DLR_URL);
    };
    match send::send_now_with(&state, Origin::of_key(&key), &plan, callback.as_ref()).await {
        Ok(_) if send_at.is_some() => plain(StatusCode::ACCEPTED, answer::QUEUED),
        Ok(_) => plain(StatusCode::ACCEPTED, answer::ACCEPTED),
        Err(Error::Validation(fields)) if fields.iter().any(|f| f.field == "from") => {
            match q.from {
                None => plain(StatusCode::BAD_REQUEST, answer::NO_SENDER),
                Some(_) => plain(StatusCode::FORBIDDEN, answer::AUTH_FAILED),
            }
        }
        Err(Error::Validation(_)) => plain(StatusCode::FORBIDDEN, answer::DENIED),
        Err(Error::CreditShortfall { .. } | Error::InsufficientCredit(_)) => plain(
            StatusCode::PAYMENT_REQUIRED,
            "Insufficient credit, rejected",
        ),
        // The send gate (a suspended organisation or agent): its reason, in plain text.
        Err(Error::Forbidden(why)) => plain(StatusCode::FORBIDDEN, why),
        Err(other) => other.into_response(),
    }
}
