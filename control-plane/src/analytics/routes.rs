//! `GET /v1/analytics/{overview,daily,campaigns,operators}` over a date range (each but the
//! overview also as CSV with `format=csv`) and `GET /v1/dashboard`. Readers as for messages
//! (any member, or a key with `reports:read` or `messages:send`); every figure is the
//! caller's organisation's.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store;
use super::types::*;
use crate::error::{Error, Result};
use crate::exports::stream::{FileFormat, Writer};
use crate::http::reply::found;
use crate::http::{Json, Query, with::With};
use crate::identity::principal::Principal;
use crate::messages::routes::reader;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(overview))
        .routes(routes!(daily))
        .routes(routes!(campaigns))
        .routes(routes!(operators))
        .routes(routes!(dashboard))
}

fn today() -> time::Date {
    OffsetDateTime::now_utc().date()
}

/// A report as JSON, or with `format=csv` as a formula-safe CSV download.
pub(crate) fn answer<T: serde::Serialize>(
    q: &RangeQuery,
    name: &str,
    body: T,
    header_row: &[&str],
    rows: Vec<Vec<String>>,
) -> Result<Response> {
    match q.format {
        None => Ok(Json(body).into_response()),
        Some(FileFormat::Csv) => {
            let mut w = Writer::new(FileFormat::Csv);
            w.row(header_row.iter().copied());
            for r in &rows {
                w.row(r.iter().map(String::as_str));
            }
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}.csv\""),
                    ),
                ],
                w.finish(),
            )
                .into_response())
        }
        Some(FileFormat::Xlsx) => Err(Error::field("format", "only csv is offered here")),
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Totals for a date range: sent, delivered, failed, delivery and opt-out rates, cost.
#[utoipa::path(get, path = "/v1/analytics/overview", tag = "analytics",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(RangeQuery),
    responses(
        (status = 200, description = "Totals", body = Overview),
    ))]
async fn overview(
    With(state, principal): With<Principal>,
    Query(q): Query<RangeQuery>,
) -> Result<Json<Overview>> {
    reader(&principal)?;
    let range = q.range(today())?;
    if q.format.is_some() {
        return Err(Error::field(
            "format",
            "the overview is JSON only; use daily for a file",
        ));
    }
    let mut conn = state.pool.acquire().await?;
    let overview = store::overview(&mut conn, principal.scope(), range).await?;
    Ok(Json(overview))
}

/// Sent, delivered and failed per day of the range.
#[utoipa::path(get, path = "/v1/analytics/daily", tag = "analytics",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(RangeQuery),
    responses(
        (status = 200, description = "One entry per day", body = Daily, content(("application/json"), ("text/csv"))),
    ))]
async fn daily(
    With(state, principal): With<Principal>,
    Query(q): Query<RangeQuery>,
) -> Result<Response> {
    reader(&principal)?;
    let range = q.range(today())?;
    let data = store::daily(&state.pool, principal.scope(), range).await?;
    let rows = data
        .iter()
        .map(|d| {
            vec![
                date_text(d.day),
                d.sent.to_string(),
                d.delivered.to_string(),
                d.failed.to_string(),
                d.cost.round_dp(4).to_string(),
            ]
        })
        .collect();
    answer(
        &q,
        "daily",
        Daily { data },
        &["day", "sent", "delivered", "failed", "cost"],
        rows,
    )
}

/// Each campaign's results in the range, sortable by date, delivery rate, cost or sent.
#[utoipa::path(get, path = "/v1/analytics/campaigns", tag = "analytics",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(RangeQuery),
    responses(
        (status = 200, description = "Campaigns", body = Campaigns, content(("application/json"), ("text/csv"))),
    ))]
async fn campaigns(
    With(state, principal): With<Principal>,
    Query(q): Query<RangeQuery>,
) -> Result<Response> {
    reader(&principal)?;
    let range = q.range(today())?;
    let data = store::campaigns(
        &state.pool,
        principal.scope(),
        range,
        q.sort.unwrap_or_default(),
        q.order.unwrap_or_default(),
    )
    .await?;
    let rows = data
        .iter()
        .map(|c| {
            vec![
                c.campaign_id.to_string(),
                c.name.clone(),
                c.status.clone(),
                c.sent.to_string(),
                c.delivered.to_string(),
                c.failed.to_string(),
                opt(c.delivery_rate),
                c.opted_out.to_string(),
                c.cost.round_dp(4).to_string(),
                c.clicks.to_string(),
                c.clickers.to_string(),
                c.bot_clicks.to_string(),
                opt(c.click_through_rate),
            ]
        })
        .collect();
    answer(
        &q,
        "campaigns",
        Campaigns { data },
        &[
            "campaign_id",
            "name",
            "status",
            "sent",
            "delivered",
            "failed",
            "delivery_rate",
            "opted_out",
            "cost",
            "clicks",
            "clickers",
            "bot_clicks",
            "click_through_rate",
        ],
        rows,
    )
}

/// Results per country and operator in the range, with the median time to deliver.
#[utoipa::path(get, path = "/v1/analytics/operators", tag = "analytics",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(RangeQuery),
    responses(
        (status = 200, description = "Countries and operators", body = Operators, content(("application/json"), ("text/csv"))),
    ))]
async fn operators(
    With(state, principal): With<Principal>,
    Query(q): Query<RangeQuery>,
) -> Result<Response> {
    reader(&principal)?;
    let range = q.range(today())?;
    let mut conn = state.pool.acquire().await?;
    let data = store::operators(&mut conn, principal.scope(), range).await?;
    let rows = data
        .iter()
        .map(|o| {
            vec![
                o.country.clone(),
                o.operator.clone().unwrap_or_default(),
                o.sent.to_string(),
                o.delivered.to_string(),
                o.failed.to_string(),
                opt(o.delivery_rate),
                o.cost.round_dp(4).to_string(),
                opt(o.median_seconds_to_deliver),
                opt(o.mean_seconds_to_deliver),
            ]
        })
        .collect();
    answer(
        &q,
        "operators",
        Operators { data },
        &[
            "country",
            "operator",
            "sent",
            "delivered",
            "failed",
            "delivery_rate",
            "cost",
            "median_seconds_to_deliver",
            "mean_seconds_to_deliver",
        ],
        rows,
    )
}

/// The dashboard: balance, messages sent and delivery rate of the last 30 days, active
/// campaigns, and the last 7 days' activity.
#[utoipa::path(get, path = "/v1/dashboard", tag = "analytics",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    responses(
        (status = 200, description = "The dashboard", body = Dashboard),
    ))]
async fn dashboard(State(state): State<AppState>, principal: Principal) -> Result<Json<Dashboard>> {
    reader(&principal)?;
    let scope = principal.scope();
    let to = today();
    let mut conn = state.pool.acquire().await?;
    let balance = found(crate::credits::store::balance(&mut *conn, scope).await?)?;
    let month = store::overview(&mut conn, scope, Range::ending(to, 30)).await?;
    let activity = store::daily(&mut *conn, scope, Range::ending(to, 7)).await?;
    Ok(Json(Dashboard {
        balance: balance.balance,
        reserved: balance.reserved,
        currency: balance.currency,
        messages_sent: month.sent,
        delivery_rate: month.delivery_rate,
        active_campaigns: store::active_campaigns(&mut *conn, scope).await?,
        activity,
    }))
}
