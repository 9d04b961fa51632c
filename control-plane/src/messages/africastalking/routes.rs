//! `POST /version1/messaging`: the form checked, the send made by
//! [`crate::messages::send::send_now_with`], the outcome told as Africa's Talking tells it (a
//! refused whole request — bad sender ID, not enough credit — is answered per recipient with
//! their codes, nothing sent).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api_keys::types::Scope;
use crate::error::Error;
use crate::http::Json;
use crate::identity::principal::ApiKeyAuth;
use crate::messages::africastalking::types::{
    MessageData, Messaging, MessagingAnswer, Recipient, failed, recipient, refusal,
};
use crate::messages::routes::plain;
use crate::messages::send::{self, Origin};
use crate::messages::store;
use crate::messages::types::{RecipientError, SendMessages};
use crate::state::AppState;
use crate::webhooks::callbacks::{Callback, Style};

/// Routes of the adapter.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(messaging))
}

fn answer(recipients: Vec<Recipient>, sent: usize, total: String) -> Response {
    let message = format!("Sent to {sent}/{} Total Cost: {total}", recipients.len());
    let body = MessagingAnswer {
        data: MessageData {
            message,
            recipients,
        },
    };
    (StatusCode::CREATED, Json(body)).into_response()
}

/// Every recipient refused with one code (the request as a whole could not be sent).
fn all_refused(to: &[String], code: u16, name: &str) -> Response {
    let recipients = to.iter().map(|n| failed(n.clone(), code, name)).collect();
    answer(recipients, 0, "0".into())
}

/// Africa's Talking's SMS send: form fields `username`, `to` (comma-separated), `message`,
/// `from`, `enqueue`, `bulkSMSMode`; header `apiKey`. Answers 201 with `SMSMessageData`
/// (per-recipient `statusCode`, `number`, `status`, `cost`, `messageId`); 401 for a bad key,
/// 400 naming a missing field.
#[utoipa::path(post, path = "/version1/messaging", tag = "compat",
    request_body(content = Messaging, content_type = "application/x-www-form-urlencoded"),
    params(("apiKey" = String, Header, description = "An API key with messages:send")),
    responses(
        (status = 201, description = "Per-recipient results", body = MessagingAnswer),
        (status = 400, description = "A missing or bad field, named", body = String, content_type = "text/plain"),
        (status = 401, description = "The supplied authentication is invalid", body = String, content_type = "text/plain"),
    ))]
async fn messaging(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let unauthorised = || {
        plain(
            StatusCode::UNAUTHORIZED,
            "The supplied authentication is invalid",
        )
    };
    let Some(secret) = headers.get("apikey").and_then(|v| v.to_str().ok()) else {
        return unauthorised();
    };
    let key = match ApiKeyAuth::from_secret(&state, secret).await {
        Ok(key) if key.require(Scope::MessagesSend).is_ok() => key,
        Ok(_) | Err(Error::Unauthorized(_)) => return unauthorised(),
        Err(other) => return other.into_response(),
    };
    let form: Messaging = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(e) => return plain(StatusCode::BAD_REQUEST, format!("Invalid request: {e}")),
    };
    let missing = |field: &str| {
        plain(
            StatusCode::BAD_REQUEST,
            format!("Request is missing required form field '{field}'"),
        )
    };
    if form.username.as_deref().is_none_or(|u| u.trim().is_empty()) {
        return missing("username");
    }
    let Some(to) = form.to.as_deref().filter(|t| !t.trim().is_empty()) else {
        return missing("to");
    };
    let Some(text) = form.message.as_deref().filter(|m| !m.trim().is_empty()) else {
        return missing("message");
    };
    if form.keyword.is_some() || form.link_id.is_some() {
        return plain(
            StatusCode::BAD_REQUEST,
            "Premium SMS (keyword, linkId) is not offered",
        );
    }
    let hours = match form
        .retry_duration_in_hours
        .as_deref()
        .map(str::parse::<i64>)
    {
        None => None,
        Some(Ok(h)) if (1..=72).contains(&h) => Some(h),
        Some(_) => {
            return plain(
                StatusCode::BAD_REQUEST,
                "retryDurationInHours must be 1 to 72",
            );
        }
    };
    let numbers: Vec<String> = to
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    let request = SendMessages {
        to: numbers.clone(),
        text: text.to_owned(),
        from: form.from.clone(),
        validity: hours.map(|h| h * 3600),
        ..SendMessages::default()
    };
    let plan = match request.parse(OffsetDateTime::now_utc()) {
        Ok(plan) => plan,
        Err(Error::Validation(fields)) => {
            let field = fields.first().map_or("to", |f| f.field.as_str());
            let named = if field == "text" { "message" } else { field };
            return plain(
                StatusCode::BAD_REQUEST,
                format!("Invalid form field '{named}'"),
            );
        }
        Err(other) => return other.into_response(),
    };
    let given = Callback::given(
        &state,
        Style::AfricasTalking,
        form.callback_url.as_deref(),
        None,
        None,
    );
    let Ok(callback) = given.await else {
        return plain(StatusCode::BAD_REQUEST, "Invalid form field 'callbackUrl'");
    };
    let origin = Origin::of_key(&key);
    match send::send_now_with(&state, origin, &plan, callback.as_ref()).await {
        Ok(result) => {
            let currency = match store::currency(&state.pool, origin.scope).await {
                Ok(c) => c,
                Err(e) => return e.into_response(),
            };
            let lines = result
                .recipients
                .iter()
                .map(|r| recipient(r, &currency))
                .collect();
            answer(
                lines,
                result.accepted,
                format!("{currency} {}", result.total_cost),
            )
        }
        Err(Error::Validation(fields)) if fields.iter().any(|f| f.field == "from") => {
            all_refused(&numbers, 402, "InvalidSenderId")
        }
        Err(Error::Validation(fields)) => {
            // No recipient could be sent to: each one's reason is in its field error.
            let lines = numbers
                .iter()
                .zip(fields.iter())
                .map(|(n, f)| {
                    // The field error reads `<recipient error>: <detail>`.
                    let error = f.message.split(':').next().and_then(RecipientError::parse);
                    let (code, name) = refusal(error.unwrap_or(RecipientError::InvalidNumber));
                    failed(n.clone(), code, name)
                })
                .collect();
            answer(lines, 0, "0".into())
        }
        Err(Error::CreditShortfall { .. } | Error::InsufficientCredit(_)) => {
            all_refused(&numbers, 405, "InsufficientBalance")
        }
        // The send gate (a suspended organisation or agent): Africa's Talking's risk hold.
        Err(Error::Forbidden(_)) => all_refused(&numbers, 401, "RiskHold"),
        Err(other) => other.into_response(),
    }
}
