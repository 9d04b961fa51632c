//! A JSON body extractor whose failures are 400 problems naming the offending field
//! (via `serde_path_to_error`), never 500s or plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// JSON request body / response wrapper.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match content_type(req.headers()) {
            // A missing body (and so a missing type) is a malformed request...
            None => {
                return Err(Error::MalformedRequest {
                    detail: "expected a JSON body (Content-Type: application/json)".into(),
                    field: None,
                });
            }
            // ...a body of another type is one we do not speak.
            Some(essence) if !is_json(&essence) => return Err(Error::UnsupportedMediaType),
            Some(_) => {}
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge
            } else {
                Error::MalformedRequest {
                    detail: "could not read the body".into(),
                    field: None,
                }
            }
        })?;
        parse(&bytes).map(Json)
    }
}

/// Deserializes `bytes`, reporting the path of the first bad field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    // PostgreSQL text cannot hold NUL, and no field of ours has a use for it: refuse it here
    // rather than let it surface as a database error.
    if bytes.windows(6).any(|w| w == br"\u0000") {
        return Err(Error::MalformedRequest {
            detail: "strings must not contain NUL characters".into(),
            field: None,
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let field = (path != "." && !path.is_empty()).then_some(path);
        Error::MalformedRequest {
            detail: clean_message(&inner),
            field,
        }
    })?;
    de.end().map_err(|e| Error::MalformedRequest {
        detail: clean_message(&e),
        field: None,
    })?;
    Ok(value)
}

/// serde_json messages end with " at line 1 column 7", which means nothing to an API client
/// that did not lay the JSON out; keep the message itself.
fn clean_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// The media type essence (`type/subtype`, lower case) of the request, if it has one.
fn content_type(headers: &axum::http::HeaderMap) -> Option<String> {
    let ct = headers
        .get(header::CONTENT_TYPE)?
        .to_str()
        .unwrap_or("invalid");
    Some(
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

fn is_json(essence: &str) -> bool {
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn field_of(input: &str) -> Option<String> {
        match parse::<Body>(input.as_bytes()) {
            Err(Error::MalformedRequest { field, .. }) => field,
            other => panic!("expected malformed request, got {other:?}"),
        }
    }

    #[test]
    fn wrong_type_names_the_nested_field() {
        assert_eq!(
            field_of(r#"{"name":"a","inner":{"count":"x"}}"#).as_deref(),
            Some("inner.count")
        );
    }

    #[test]
    fn unknown_field_is_rejected() {
        let err = parse::<Body>(br#"{"name":"a","inner":{"count":1},"extra":1}"#).unwrap_err();
        assert!(err.to_string().contains("extra"), "{err}");
    }

    #[test]
    fn nul_characters_are_rejected() {
        let err = parse::<Body>(br#"{"name":"a\u0000","inner":{"count":1}}"#).unwrap_err();
        assert!(err.to_string().contains("NUL"), "{err}");
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        assert!(parse::<Body>(br#"{"name":"a","inner":{"count":1}} x"#).is_err());
    }
}
