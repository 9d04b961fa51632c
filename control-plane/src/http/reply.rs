//! The answers every handler shares: checked input, or a 422 listing every offending field
//! ([`checked`]); once its store call returns, the row it looked up, or a 404 ([`found`]);
//! 204 for a row that was there to delete, revoke or purge, or a 404 ([`gone`]).

use axum::http::StatusCode;

use crate::error::{Error, FieldError, Result};

/// `value` when validating it found no `errors`, else a 422 naming each field.
pub fn checked<T>(value: T, errors: Vec<FieldError>) -> Result<T> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(Error::Validation(errors))
    }
}

/// The row a handler looked up, or a 404 when there is none (another organisation's row is
/// none: store reads are scoped).
pub fn found<T>(row: Option<T>) -> Result<T> {
    row.ok_or(Error::NotFound)
}

/// 204 when the statement hit the row (`done`), else a 404.
pub fn gone(done: bool) -> Result<StatusCode> {
    done.then_some(StatusCode::NO_CONTENT)
        .ok_or(Error::NotFound)
}
