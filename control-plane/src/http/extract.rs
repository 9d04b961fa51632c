//! `Path` and `Query` extractors whose rejections are problem documents (400 naming the
//! parameter) instead of axum's plain-text bodies.

use axum::extract::FromRequestParts;
use axum::extract::rejection::{PathRejection, QueryRejection};

use crate::error::Error;

/// Path parameters; a bad one is a 400 problem (an unparsable id cannot name a resource).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Error))]
pub struct Path<T>(pub T);

/// Query string; unknown or mistyped parameters are 400 problems.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct Query<T>(pub T);

impl From<PathRejection> for Error {
    fn from(rejection: PathRejection) -> Error {
        Error::MalformedRequest {
            detail: rejection.body_text(),
            field: None,
        }
    }
}

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Error {
        Error::MalformedRequest {
            detail: rejection.body_text(),
            field: None,
        }
    }
}
