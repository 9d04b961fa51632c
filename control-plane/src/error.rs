//! The one error type of the service and its single mapping to `application/problem+json`
//! (RFC 9457). Every kind has a stable `type` URI; 5xx bodies say nothing internal and the
//! cause is logged exactly once, here.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Base of every problem `type` URI.
pub const PROBLEM_BASE: &str = "https://docs.semalink.africa/problems/";

/// One offending input field.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field in the request (`email`, `address.city`, `scopes[1]`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document, as every error response carries it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the error kind.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short human summary of the kind.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Human explanation of this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Offending fields, for input errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Credits missing for the request, on a 402 that can say (a decimal string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortfall: Option<String>,
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body or query could not be read (syntax, unknown field, wrong type).
    #[error("malformed request: {detail}")]
    MalformedRequest {
        /// What was wrong.
        detail: String,
        /// The field, when one can be named.
        field: Option<String>,
    },
    /// The input parsed but breaks a rule.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// No or bad credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// Email/password (or code) did not match.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failed logins; try again later.
    #[error("locked out")]
    Locked {
        /// Seconds until the lock ends.
        retry_after_secs: u64,
    },
    /// Authenticated but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The user's email is not verified yet.
    #[error("email not verified")]
    EmailUnverified,
    /// The staff member must change their password first.
    #[error("password change required")]
    PasswordChangeRequired,
    /// No such resource (or it belongs to another account).
    #[error("not found")]
    NotFound,
    /// Not enough credit (prepaid balance or postpaid credit limit) for the operation.
    #[error("insufficient credit: {0}")]
    InsufficientCredit(&'static str),
    /// Not enough credit for a request whose cost is known: how much it needs and how much
    /// can be reserved (the problem names the shortfall).
    #[error("insufficient credit: needs {needed}, available {available}")]
    CreditShortfall {
        /// The request's cost.
        needed: rust_decimal::Decimal,
        /// What the account can still reserve.
        available: rust_decimal::Decimal,
    },
    /// The request conflicts with existing state.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A single-use token is unknown, expired or spent.
    #[error("invalid or expired token")]
    InvalidToken,
    /// Too many requests.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// The body is larger than allowed.
    #[error("payload too large")]
    PayloadTooLarge,
    /// The media type is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The method is not allowed on this path.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request took too long.
    #[error("timeout")]
    Timeout,
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Anything else that is our fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A validation error on one field.
    pub fn field(field: &str, message: &str) -> Error {
        Error::Validation(vec![FieldError::new(field, message)])
    }

    /// An internal error from any displayable cause.
    pub fn internal(cause: impl std::fmt::Display) -> Error {
        Error::Internal(cause.to_string())
    }

    /// Status, stable slug and title of this kind.
    fn kind(&self) -> (StatusCode, &'static str, &'static str) {
        use StatusCode as S;
        match self {
            Error::MalformedRequest { .. } => {
                (S::BAD_REQUEST, "malformed-request", "Malformed request")
            }
            Error::Validation(_) => (S::UNPROCESSABLE_ENTITY, "validation", "Validation failed"),
            Error::Unauthorized(_) => (S::UNAUTHORIZED, "unauthorized", "Authentication required"),
            Error::InvalidCredentials => (
                S::UNAUTHORIZED,
                "invalid-credentials",
                "Invalid credentials",
            ),
            Error::Locked { .. } => (S::LOCKED, "locked-out", "Too many failed logins"),
            Error::Forbidden(_) => (S::FORBIDDEN, "forbidden", "Not allowed"),
            Error::EmailUnverified => (S::FORBIDDEN, "email-unverified", "Email not verified"),
            Error::PasswordChangeRequired => (
                S::FORBIDDEN,
                "password-change-required",
                "Password change required",
            ),
            Error::NotFound => (S::NOT_FOUND, "not-found", "Not found"),
            Error::InsufficientCredit(_) | Error::CreditShortfall { .. } => (
                S::PAYMENT_REQUIRED,
                "insufficient-credit",
                "Insufficient credit",
            ),
            Error::Conflict(_) => (S::CONFLICT, "conflict", "Conflict"),
            Error::InvalidToken => (S::BAD_REQUEST, "invalid-token", "Invalid or expired token"),
            Error::RateLimited { .. } => {
                (S::TOO_MANY_REQUESTS, "rate-limited", "Too many requests")
            }
            Error::PayloadTooLarge => (
                S::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
            ),
            Error::UnsupportedMediaType => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            Error::MethodNotAllowed => (
                S::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            Error::Timeout => (S::SERVICE_UNAVAILABLE, "timeout", "Request timed out"),
            Error::Database(_) | Error::Internal(_) => (
                S::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
            ),
        }
    }

    /// The human detail for this occurrence (never internal causes).
    fn detail(&self) -> Option<String> {
        match self {
            Error::MalformedRequest { detail, .. } => Some(detail.clone()),
            Error::Unauthorized(why)
            | Error::Forbidden(why)
            | Error::Conflict(why)
            | Error::InsufficientCredit(why) => Some((*why).to_owned()),
            Error::Locked { retry_after_secs } | Error::RateLimited { retry_after_secs } => {
                Some(format!("Try again in {retry_after_secs} seconds."))
            }
            Error::Validation(_) => Some("One or more fields are invalid.".into()),
            Error::CreditShortfall { needed, available } => Some(format!(
                "This request costs {needed} credits and {available} can be reserved: top up \
                 at least {}.",
                shortfall(*needed, *available)
            )),
            _ => None,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, slug, title) = self.kind();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let errors = match &self {
            Error::Validation(fields) => fields.clone(),
            Error::MalformedRequest {
                field: Some(f),
                detail,
            } => vec![FieldError::new(f, detail)],
            _ => Vec::new(),
        };
        let problem = Problem {
            kind: format!("{PROBLEM_BASE}{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            errors,
            shortfall: match &self {
                Error::CreditShortfall { needed, available } => {
                    Some(shortfall(*needed, *available).to_string())
                }
                _ => None,
            },
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Error::Locked { retry_after_secs } | Error::RateLimited { retry_after_secs } = self {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs.max(1)),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// What is missing to reserve `needed` when `available` can be.
fn shortfall(
    needed: rust_decimal::Decimal,
    available: rust_decimal::Decimal,
) -> rust_decimal::Decimal {
    (needed - available).max(rust_decimal::Decimal::ZERO)
}

/// Maps unique-constraint violations to a 409 with the given reason; other errors pass through.
pub fn conflict_on_unique(err: sqlx::Error, why: &'static str) -> Error {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => Error::Conflict(why),
        _ => Error::Database(err),
    }
}

/// Result alias used by handlers and stores.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_errors_reveal_nothing() {
        use http_body_util::BodyExt;
        let response = Error::internal("secret table xyz exploded").into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let ct = response.headers().get(header::CONTENT_TYPE).unwrap();
        assert_eq!(ct, "application/problem+json");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.contains("/problems/internal") && !text.contains("secret table"),
            "{text}"
        );
    }

    #[test]
    fn rate_limit_sets_retry_after() {
        let response = Error::RateLimited {
            retry_after_secs: 7,
        }
        .into_response();
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "7");
    }
}
