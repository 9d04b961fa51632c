//! `Path` and `Query` extractors whose rejections are problem documents (400 naming the
//! parameter) instead of axum's plain-text bodies. They are the one place where path and query
//! text enters the service, so they also refuse NUL characters, which PostgreSQL text cannot
//! hold and no parameter of ours has a use for (the JSON extractor does the same for bodies).

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// Path parameters; a bad one is a 400 problem (an unparsable id cannot name a resource).
#[derive(Debug)]
pub struct Path<T>(pub T);

/// Query string; unknown or mistyped parameters are 400 problems naming the parameter.
#[derive(Debug)]
pub struct Query<T>(pub T);

/// The 400 for a parameter holding a NUL character.
fn nul_in(field: &str) -> Error {
    Error::MalformedRequest {
        detail: format!("parameter `{field}` must not contain NUL characters"),
        field: Some(field.to_owned()),
    }
}

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        // Raw (percent-decoded) parameters first: the NUL check must see every parameter, and
        // their names let a single-value rejection name its field.
        let names: Vec<String> = match RawPathParams::from_request_parts(parts, state).await {
            Ok(raw) => {
                if let Some((key, _)) = raw.iter().find(|(_, v)| v.contains('\0')) {
                    return Err(nul_in(key));
                }
                raw.iter().map(|(k, _)| k.to_owned()).collect()
            }
            Err(_) => Vec::new(),
        };
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(path_error(rejection, &names)),
        }
    }
}

/// A path rejection as a problem, naming the parameter when axum knows it (or when the route
/// has only one).
fn path_error(rejection: PathRejection, names: &[String]) -> Error {
    use axum::extract::path::ErrorKind;
    let detail = rejection.body_text();
    let field = match &rejection {
        PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
            ErrorKind::ParseErrorAtKey { key, .. }
            | ErrorKind::InvalidUtf8InPathParam { key }
            | ErrorKind::DeserializeError { key, .. } => Some(key.clone()),
            ErrorKind::ParseErrorAtIndex { index, .. } => names.get(*index).cloned(),
            _ if names.len() == 1 => Some(names[0].clone()),
            _ => None,
        },
        _ => None,
    };
    Error::MalformedRequest { detail, field }
}

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Error> {
        parse_query(parts.uri.query().unwrap_or_default()).map(Query)
    }
}

/// Decodes a query string into `T`, refusing NULs and naming the parameter that fails.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, Error> {
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key.contains('\0') || value.contains('\0') {
            return Err(nul_in(&key.replace('\0', "")));
        }
    }
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        // serde names unknown / missing fields in the message but not in the path.
        let field = if path != "." && !path.is_empty() {
            Some(path)
        } else {
            backticked(&message)
        };
        Error::MalformedRequest {
            detail: format!("invalid query string: {message}"),
            field,
        }
    })
}

/// The first `` `name` `` in a serde message (`unknown field `x`, expected ...`).
fn backticked(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Q {
        q: Option<String>,
        limit: Option<u32>,
    }

    fn field_of(query: &str) -> Option<String> {
        match parse_query::<Q>(query) {
            Err(Error::MalformedRequest { field, .. }) => field,
            other => panic!("expected malformed request, got {other:?}"),
        }
    }

    #[test]
    fn nul_in_a_value_names_the_parameter() {
        assert_eq!(field_of("q=a%00b").as_deref(), Some("q"));
        assert_eq!(field_of("limit=1&q=%00").as_deref(), Some("q"));
    }

    #[test]
    fn nul_in_an_unknown_key_is_refused_too() {
        assert_eq!(field_of("x%00y=1").as_deref(), Some("xy"));
    }

    #[test]
    fn mistyped_and_unknown_parameters_are_named() {
        assert_eq!(field_of("limit=abc").as_deref(), Some("limit"));
        assert_eq!(field_of("colour=red").as_deref(), Some("colour"));
    }

    #[test]
    fn good_query_parses() {
        let q: Q = parse_query("q=ada&limit=5").unwrap();
        assert_eq!(q.q.as_deref(), Some("ada"));
        assert_eq!(q.limit, Some(5));
    }
}
