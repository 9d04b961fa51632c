//! Cursor pagination, once for every list endpoint: [`Paged<Q>`] extracts the endpoint's own
//! query `Q` plus `limit` and `cursor` (checked into a [`PageRequest`]), and
//! [`Page::from_rows`] builds the answer. Ids are UUIDv7 (time-ordered), so the cursor is
//! simply the last id seen, base64url-encoded to keep it opaque; lists are newest first. A
//! bad `limit` is a 422 naming it, a cursor that is not one of ours a 400 naming `cursor`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use data_encoding::BASE64URL_NOPAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::Error;
use crate::http::extract::parse_query;

/// Default and largest page sizes.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest page size a client may ask for.
pub const MAX_LIMIT: i64 = 100;

/// Query parameters of every list endpoint.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// A validated page request: rows with id below `before` (if any), at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// Exclusive upper bound on ids.
    pub before: Option<Uuid>,
    /// Page size.
    pub limit: i64,
}

impl PageRequest {
    /// Rows to fetch: one more than the page, to know whether another page exists.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }

    /// The upper bound to use in SQL (`id < $n`); the maximum UUID when starting.
    pub fn before_or_max(&self) -> Uuid {
        self.before.unwrap_or(Uuid::max())
    }
}

impl PageQuery {
    /// Validates limit and cursor.
    pub fn parse(&self) -> Result<PageRequest, Error> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::field("limit", "must be between 1 and 100"));
        }
        let before = match &self.cursor {
            None => None,
            Some(c) => Some(decode_cursor(c).ok_or_else(|| Error::MalformedRequest {
                detail: "is not a cursor this API gave out".into(),
                field: Some("cursor".into()),
            })?),
        };
        Ok(PageRequest { before, limit })
    }
}

/// A list endpoint's query without parameters of its own.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoFilter {}

/// The query of a list endpoint: its own parameters `Q` and the checked page, both decoded by
/// [`crate::http::Query`]'s own `parse_query` (unknown parameters and NULs refused, the field
/// named).
#[derive(Debug)]
pub struct Paged<Q = NoFilter> {
    /// The endpoint's own parameters.
    pub query: Q,
    /// `limit` and `cursor`, checked.
    pub page: PageRequest,
}

/// Splits a raw query string into the endpoint's part and the `limit`/`cursor` part.
fn split_query(raw: &str) -> (String, String) {
    let (mut own, mut page) = (Vec::new(), Vec::new());
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        // The key as the deserialiser will see it (percent-decoded).
        let key = form_urlencoded::parse(pair.as_bytes())
            .next()
            .map(|(k, _)| k);
        if key.is_some_and(|k| k == "limit" || k == "cursor") {
            page.push(pair);
        } else {
            own.push(pair);
        }
    }
    (own.join("&"), page.join("&"))
}

impl<Q, S> FromRequestParts<S> for Paged<Q>
where
    Q: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let (own, page) = split_query(parts.uri.query().unwrap_or(""));
        let query = parse_query::<Q>(&own)?;
        let page = parse_query::<PageQuery>(&page)?.parse()?;
        Ok(Paged { query, page })
    }
}

impl<Q: IntoParams> IntoParams for Paged<Q> {
    fn into_params(parameter_in: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = Q::into_params(&parameter_in);
        params.extend(PageQuery::into_params(parameter_in));
        params
    }
}

fn decode_cursor(cursor: &str) -> Option<Uuid> {
    let bytes = BASE64URL_NOPAD.decode(cursor.as_bytes()).ok()?;
    Uuid::from_slice(&bytes).ok()
}

fn encode_cursor(id: Uuid) -> String {
    BASE64URL_NOPAD.encode(id.as_bytes())
}

/// The list envelope every list endpoint answers with.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items, newest first.
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows, using `id` to make the cursor.
    pub fn from_rows(mut rows: Vec<T>, request: PageRequest, id: impl Fn(&T) -> Uuid) -> Page<T> {
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode_cursor(id(last)))
        } else {
            None
        };
        Page {
            data: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)), Some(id));
    }

    #[test]
    fn page_cuts_extra_row_and_points_at_last_kept() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let req = PageRequest {
            before: None,
            limit: 2,
        };
        let page = Page::from_rows(ids.clone(), req, |u| *u);
        assert_eq!(page.data.len(), 2);
        assert_eq!(page.next_cursor, Some(encode_cursor(ids[1])));
        let last = Page::from_rows(ids[..2].to_vec(), req, |u| *u);
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn limit_and_cursor_are_split_from_the_endpoints_parameters() {
        let (own, page) = split_query("q=a&limit=2&tag=x&cursor=AbC&&%6Cimit=3");
        assert_eq!(own, "q=a&tag=x");
        assert_eq!(page, "limit=2&cursor=AbC&%6Cimit=3");
        let (own, page) = split_query("q=a&limit=2&tag=x&cursor=AbC");
        assert_eq!(own, "q=a&tag=x");
        assert_eq!(page, "limit=2&cursor=AbC");
    }

    #[test]
    fn bad_limit_and_cursor_are_field_errors() {
        assert!(
            PageQuery {
                limit: Some(0),
                cursor: None
            }
            .parse()
            .is_err()
        );
        assert!(
            PageQuery {
                limit: None,
                cursor: Some("!!".into())
            }
            .parse()
            .is_err()
        );
    }
}
