//! Staff endpoints of the pricing module: set a rate (`pricing: owner`), record an upstream
//! cost (`pricing: admin`), rate and cost history and the margin view (`pricing: read`).
//! Changes are new rows (never updates) and are audited in the same transaction.

use crate::identity::scope::AccountScope;
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::BTreeSet;
use time::{Duration, OffsetDateTime};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::admin::action::{self, StaffAction};
use crate::admin::guard::{PricingAdmin, PricingOwner, PricingRead, Require};
use crate::admin::permissions::{Level, Module};
use crate::credits::money::parse_rate;
use crate::error::{Error, Problem, Result};
use crate::http::{Json, Page, Paged, Query, with::With};
use crate::pricing::quote::{effective_rates, operator_name, platform_rates};
use crate::pricing::routes::{mno_of, optional_country};
use crate::pricing::store::{self, NewCost, NewRate};
use crate::pricing::types::{
    EffectiveRate, Margin, MarginQuery, Rate, RateHistoryQuery, RateScope, RecordCost, SetRate,
    UpstreamCost,
};
use crate::state::AppState;
use crate::types::CountryCode;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_rate, rate_history))
        .routes(routes!(record_cost, cost_history))
        .routes(routes!(margins))
}

/// A change may take effect now or later, not earlier (history is not rewritten). A minute
/// of clock skew is tolerated.
fn effective_from_of(at: Option<OffsetDateTime>) -> Result<OffsetDateTime> {
    let now = OffsetDateTime::now_utc();
    match at {
        None => Ok(now),
        Some(at) if at < now - Duration::minutes(1) => {
            Err(Error::field("effective_from", "must not be in the past"))
        }
        Some(at) if at.year() > 9999 || at > now + Duration::days(3660) => {
            Err(Error::field("effective_from", "must be within ten years"))
        }
        Some(at) => Ok(at),
    }
}

/// The destination, rate, moment and note of a new rate row, checked by the price lists'
/// rules (the staff endpoint here, and an agent's retail rates for its sub-customers).
#[derive(Debug, Clone)]
pub(crate) struct RateFields<'a> {
    country: String,
    mno_id: Option<&'static str>,
    rate: Decimal,
    effective_from: OffsetDateTime,
    note: Option<&'a str>,
}

impl<'a> RateFields<'a> {
    /// Checks the fields; 422 naming the field.
    pub(crate) fn check(
        country: &str,
        mno_id: Option<&str>,
        rate: &str,
        effective_from: Option<OffsetDateTime>,
        note: Option<&'a str>,
    ) -> Result<RateFields<'a>> {
        let country = CountryCode::field("country", country)?.to_string();
        let mno_id = mno_id.map(|m| mno_of("mno_id", m, &country)).transpose()?;
        Ok(RateFields {
            mno_id,
            rate: parse_rate("rate", rate)?,
            effective_from: effective_from_of(effective_from)?,
            note: action::note("note", note)?,
            country,
        })
    }

    /// The row for `scope`'s list of `account_id`, set by `created_by`.
    pub(crate) fn row(
        &self,
        scope: RateScope,
        account_id: Option<Uuid>,
        created_by: Uuid,
    ) -> NewRate<'_> {
        NewRate {
            scope,
            account_id,
            country: &self.country,
            mno_id: self.mno_id,
            rate: self.rate,
            effective_from: self.effective_from,
            created_by: Some(created_by),
            note: self.note,
        }
    }
}

/// Adds a rate to a price list (`pricing: owner`), effective now or at a future time.
#[utoipa::path(post, path = "/v1/admin/pricing/rates", tag = "admin-pricing",
    security(("staff_bearer" = [])), request_body = SetRate,
    responses(
        (status = 201, description = "The new rate row", body = Rate),
        (status = 409, description = "A row for this list, destination and moment exists", body = Problem, content_type = "application/problem+json"),
    ))]
async fn set_rate(
    With(state, Require(staff, _)): With<Require<PricingOwner>>,
    Json(body): Json<SetRate>,
) -> Result<(StatusCode, Json<Rate>)> {
    let fields = RateFields::check(
        &body.country,
        body.mno_id.as_deref(),
        &body.rate,
        body.effective_from,
        body.note.as_deref(),
    )?;
    let mut tx = state.pool.begin().await?;
    match (body.scope, body.account_id) {
        (RateScope::Platform, None) => {}
        (RateScope::Platform, Some(_)) => {
            return Err(Error::field(
                "account_id",
                "must be absent for the platform list",
            ));
        }
        (_, None) => return Err(Error::field("account_id", "is required for this scope")),
        (scope, Some(id)) => {
            let kind = store::account_type(&mut *tx, AccountScope::trusted(id)).await?;
            let agent_scope = matches!(scope, RateScope::AgentRetail | RateScope::AgentWholesale);
            match kind.as_deref() {
                None => return Err(Error::field("account_id", "no such account")),
                Some(k) if agent_scope && k != "agent" => {
                    return Err(Error::field("account_id", "is not an agent account"));
                }
                Some(_) => {}
            }
        }
    }
    let new = fields.row(body.scope, body.account_id, staff.staff_id);
    let row = store::insert_rate(&mut *tx, &new).await?;
    let metadata = json!({"scope": row.scope, "account_id": row.account_id, "country": row.country,
           "mno_id": row.mno_id, "rate": row.rate, "effective_from": row.effective_from.unix_timestamp()});
    StaffAction::new(&staff, Module::Pricing, Level::Owner)?
        .audit(
            &mut *tx,
            "pricing.rate_set",
            "pricing_rate",
            row.id,
            metadata,
        )
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Rate history, future rows included, newest first (`pricing: read`).
#[utoipa::path(get, path = "/v1/admin/pricing/rates", tag = "admin-pricing",
    security(("staff_bearer" = [])), params(Paged<RateHistoryQuery>),
    responses(
        (status = 200, description = "Rate rows", body = Page<Rate>),
    ))]
async fn rate_history(
    With(state, _): With<Require<PricingRead>>,
    Paged { query: mut q, page }: Paged<RateHistoryQuery>,
) -> Result<Json<Page<Rate>>> {
    q.country = optional_country(q.country.as_deref())?;
    let rows = store::rate_history(&state.pool, &q, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |r| r.id)))
}

/// Records what the upstream charges per segment (`pricing: admin`).
#[utoipa::path(post, path = "/v1/admin/pricing/costs", tag = "admin-pricing",
    security(("staff_bearer" = [])), request_body = RecordCost,
    responses(
        (status = 201, description = "The new cost row", body = UpstreamCost),
        (status = 409, description = "A row for this upstream, destination and moment exists", body = Problem, content_type = "application/problem+json"),
    ))]
async fn record_cost(
    With(state, Require(staff, _)): With<Require<PricingAdmin>>,
    Json(body): Json<RecordCost>,
) -> Result<(StatusCode, Json<UpstreamCost>)> {
    let upstream = body.upstream.as_deref().unwrap_or("celcom");
    let upstream_ok = (1..=40).contains(&upstream.len())
        && upstream
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !upstream_ok {
        return Err(Error::field(
            "upstream",
            "must be 1 to 40 of a-z, 0-9, _ and -",
        ));
    }
    let country = CountryCode::field("country", &body.country)?.to_string();
    let mno_id = body
        .mno_id
        .as_deref()
        .map(|m| mno_of("mno_id", m, &country))
        .transpose()?;
    let new = NewCost {
        upstream,
        country: &country,
        mno_id,
        cost: parse_rate("cost", &body.cost)?,
        effective_from: effective_from_of(body.effective_from)?,
        created_by: Some(staff.staff_id),
        note: action::note("note", body.note.as_deref())?,
    };
    let mut tx = state.pool.begin().await?;
    let row = store::insert_cost(&mut *tx, &new).await?;
    let metadata = json!({"upstream": row.upstream, "country": row.country, "mno_id": row.mno_id,
           "cost": row.cost, "effective_from": row.effective_from.unix_timestamp()});
    StaffAction::new(&staff, Module::Pricing, Level::Admin)?
        .audit(
            &mut *tx,
            "pricing.cost_recorded",
            "upstream_cost",
            row.id,
            metadata,
        )
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Upstream cost history, newest first (`pricing: read`).
#[utoipa::path(get, path = "/v1/admin/pricing/costs", tag = "admin-pricing",
    security(("staff_bearer" = [])), params(Paged),
    responses(
        (status = 200, description = "Cost rows", body = Page<UpstreamCost>),
    ))]
async fn cost_history(
    With(state, _): With<Require<PricingRead>>,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<UpstreamCost>>> {
    let rows = store::cost_history(&state.pool, None, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |r| r.id)))
}

/// Rate against upstream cost per destination, now (`pricing: read`): the platform list, or
/// one account's effective rates.
#[utoipa::path(get, path = "/v1/admin/pricing/margins", tag = "admin-pricing",
    security(("staff_bearer" = [])), params(MarginQuery),
    responses(
        (status = 200, description = "One line per destination and upstream", body = Vec<Margin>),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
    ))]
async fn margins(
    With(state, _): With<Require<PricingRead>>,
    Query(q): Query<MarginQuery>,
) -> Result<Json<Vec<Margin>>> {
    let now = OffsetDateTime::now_utc();
    let country = optional_country(q.country.as_deref())?;
    let country = country.as_deref();
    let mut conn = state.pool.acquire().await?;
    let rates: Vec<EffectiveRate> = match q.account_id {
        Some(id) => effective_rates(&mut conn, AccountScope::trusted(id), country, now).await?,
        None => platform_rates(&mut *conn, country, now).await?,
    };
    let costs = store::costs_in_force(&mut *conn, country, now).await?;
    let upstreams: BTreeSet<&str> = costs.iter().map(|c| c.upstream.as_str()).collect();
    let cost_for = |upstream: &str, rate: &EffectiveRate| {
        let find = |mno: Option<&str>| {
            costs.iter().find(|c| {
                c.upstream == upstream && c.country == rate.country && c.mno_id.as_deref() == mno
            })
        };
        rate.mno_id
            .as_deref()
            .and_then(|m| find(Some(m)))
            .or_else(|| find(None))
    };
    let mut lines = Vec::new();
    for rate in &rates {
        let line = |upstream: Option<&str>, cost: Option<Decimal>| {
            let margin = cost.map(|c| rate.rate - c);
            Margin {
                country: rate.country.clone(),
                mno_id: rate.mno_id.clone(),
                operator: rate.mno_id.as_deref().and_then(operator_name),
                scope: rate.scope,
                rate: rate.rate,
                upstream: upstream.map(str::to_owned),
                cost,
                margin,
                margin_percent: margin
                    .filter(|_| !rate.rate.is_zero())
                    .map(|m| (m / rate.rate * Decimal::from(100)).round_dp(2)),
            }
        };
        let priced: Vec<Margin> = upstreams
            .iter()
            .filter_map(|u| cost_for(u, rate).map(|c| line(Some(*u), Some(c.cost))))
            .collect();
        if priced.is_empty() {
            lines.push(line(None, None));
        } else {
            lines.extend(priced);
        }
    }
    Ok(Json(lines))
}
