//! Public and customer pricing endpoints: the public table (platform rates in force, no auth),
//! the organisation's own effective rates, and the quote (number + text → price).

use axum::extract::State;
use semalink_protocol::mno::MnoId;
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api_keys::types::Scope;
use crate::error::{Error, Problem, Result};
use crate::http::{Json, Query, with::With};
use crate::identity::principal::Principal;
use crate::identity::role::Role;
use crate::pricing::quote::{self, Content};
use crate::pricing::types::{CountryQuery, EffectiveRate, Quote, QuoteBody};
use crate::state::AppState;
use crate::types::CountryCode;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(public_table))
        .routes(routes!(my_rates))
        .routes(routes!(quote_message))
}

/// An operator id of the protocol crate's table serving `country`.
pub fn mno_of(field: &str, text: &str, country: &str) -> Result<&'static str> {
    let id = MnoId::parse(text).map_err(|_| Error::field(field, "is not a known operator id"))?;
    if id.operator().country != country {
        return Err(Error::field(field, "is an operator of another country"));
    }
    Ok(id.as_str())
}

/// An optional country filter, checked and upper-cased.
pub(crate) fn optional_country(country: Option<&str>) -> Result<Option<String>> {
    country
        .map(|c| CountryCode::field("country", c).map(|c| c.to_string()))
        .transpose()
}

/// The public pricing table: platform rates in force, by country and operator (no sign-in).
#[utoipa::path(get, path = "/v1/pricing", tag = "pricing", params(CountryQuery),
    responses(
        (status = 200, description = "Rates in credits per segment", body = Vec<EffectiveRate>),
    ))]
async fn public_table(
    State(state): State<AppState>,
    Query(q): Query<CountryQuery>,
) -> Result<Json<Vec<EffectiveRate>>> {
    let country = optional_country(q.country.as_deref())?;
    let now = OffsetDateTime::now_utc();
    Ok(Json(
        quote::platform_rates(&state.pool, country.as_deref(), now).await?,
    ))
}

/// The organisation's rates in force, by destination, with the price list that sets each.
#[utoipa::path(get, path = "/v1/pricing/rates", tag = "pricing",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(CountryQuery),
    responses(
        (status = 200, description = "Effective rates", body = Vec<EffectiveRate>),
        (status = 403, description = "API key without billing:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn my_rates(
    With(state, who): With<Principal>,
    Query(q): Query<CountryQuery>,
) -> Result<Json<Vec<EffectiveRate>>> {
    who.require(Scope::BillingRead, Role::Member)?;
    let country = optional_country(q.country.as_deref())?;
    let mut conn = state.pool.acquire().await?;
    let now = OffsetDateTime::now_utc();
    let rates = quote::effective_rates(&mut conn, who.scope(), country.as_deref(), now).await?;
    Ok(Json(rates))
}

/// The price of a message: segments, encoding, operator, rate and total.
#[utoipa::path(post, path = "/v1/pricing/quote", tag = "pricing",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), request_body = QuoteBody,
    responses(
        (status = 200, description = "The quote", body = Quote),
        (status = 403, description = "API key without billing:read or messages:send", body = Problem, content_type = "application/problem+json"),
    ))]
async fn quote_message(
    With(state, who): With<Principal>,
    Json(body): Json<QuoteBody>,
) -> Result<Json<Quote>> {
    if let Principal::Key(key) = &who {
        key.require(Scope::BillingRead)
            .or_else(|_| key.require(Scope::MessagesSend))?;
    }
    let content = match (&body.text, body.segments) {
        (Some(text), None) if text.chars().count() <= 10_000 => Content::Text(text),
        (Some(_), None) => return Err(Error::field("text", "must be at most 10000 characters")),
        (None, Some(n)) => Content::Segments(n),
        _ => return Err(Error::field("text", "give either text or segments")),
    };
    let now = OffsetDateTime::now_utc();
    let mut conn = state.pool.acquire().await?;
    let quote = quote::quote(&mut conn, who.scope(), &body.to, content, now).await?;
    Ok(Json(quote))
}
