//! Analytics answers and their query parameters.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::credits::money::amount_str;
use crate::error::{Error, Result};
use crate::exports::stream::FileFormat;

/// Longest range one request may cover, in days.
pub const MAX_DAYS: i64 = 366;

/// The date range of a report (UTC days, both ends included) and its format.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First day (`YYYY-MM-DD`, UTC); default 29 days before `to`.
    pub from: Option<String>,
    /// Last day (`YYYY-MM-DD`, UTC); default today.
    pub to: Option<String>,
    /// `csv` for a file instead of JSON (the per-day, per-campaign and per-operator reports).
    pub format: Option<FileFormat>,
    /// Per-campaign report: `date` (default), `delivery_rate`, `cost` or `sent`.
    pub sort: Option<CampaignSort>,
    /// `desc` (default) or `asc`.
    pub order: Option<SortOrder>,
}

/// How the per-campaign report is sorted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignSort {
    /// When the campaign was created.
    #[default]
    Date,
    /// Delivered / final.
    DeliveryRate,
    /// Credits charged.
    Cost,
    /// Messages sent.
    Sent,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// Largest / newest first.
    #[default]
    Desc,
    /// Smallest / oldest first.
    Asc,
}

/// A checked range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First day.
    pub from: Date,
    /// Last day (included).
    pub to: Date,
}

impl Range {
    /// The `days` days up to `to` (included).
    pub fn ending(to: Date, days: i64) -> Range {
        let from = to - time::Duration::days(days - 1);
        Range { from, to }
    }
}

/// `YYYY-MM-DD`.
pub fn date_text(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Serialises a date as `YYYY-MM-DD`.
pub fn date_str<S: serde::Serializer>(d: &Date, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&date_text(*d))
}

fn day(field: &str, input: &str) -> Result<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(input.trim(), format)
        .map_err(|_| Error::field(field, "must be a date (YYYY-MM-DD)"))
}

impl RangeQuery {
    /// The range asked for, checked: `from` ≤ `to`, at most [`MAX_DAYS`] days.
    pub fn range(&self, today: Date) -> Result<Range> {
        let to = match &self.to {
            Some(t) => day("to", t)?,
            None => today,
        };
        let from = match &self.from {
            Some(f) => day("from", f)?,
            None => Range::ending(to, 30).from,
        };
        if from > to {
            return Err(Error::field("to", "must not be before from"));
        }
        if (to - from).whole_days() >= MAX_DAYS {
            return Err(Error::field("from", "the range may cover at most 366 days"));
        }
        Ok(Range { from, to })
    }
}

/// Totals over a range.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Overview {
    /// First day.
    #[schema(value_type = String, format = Date)]
    #[serde(serialize_with = "date_str")]
    pub from: Date,
    /// Last day.
    #[schema(value_type = String, format = Date)]
    #[serde(serialize_with = "date_str")]
    pub to: Date,
    /// Messages that left for the upstream.
    pub sent: i64,
    /// Delivered to the handset.
    pub delivered: i64,
    /// Failed (including expired and rejected).
    pub failed: i64,
    /// Of which expired.
    pub expired: i64,
    /// Of which rejected.
    pub rejected: i64,
    /// Delivered / final (4 places); null before any final.
    #[schema(value_type = Option<String>, example = "0.9812")]
    pub delivery_rate: Option<Decimal>,
    /// Opt-out replies received.
    pub opt_outs: i64,
    /// Opt-outs / sent (4 places); null before any send.
    #[schema(value_type = Option<String>, example = "0.0012")]
    pub opt_out_rate: Option<Decimal>,
    /// Credits charged for delivered messages.
    #[schema(value_type = String, example = "812.4000")]
    #[serde(serialize_with = "amount_str")]
    pub cost: Decimal,
    /// Credits returned for messages that were not delivered.
    #[schema(value_type = String, example = "12.0000")]
    #[serde(serialize_with = "amount_str")]
    pub refunded: Decimal,
}

/// One day's counts.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct DayCounts {
    /// The UTC day.
    #[schema(value_type = String, format = Date)]
    #[serde(serialize_with = "date_str")]
    pub day: Date,
    /// Sent.
    pub sent: i64,
    /// Delivered.
    pub delivered: i64,
    /// Failed, expired or rejected.
    pub failed: i64,
    /// Credits charged.
    #[schema(value_type = String)]
    #[serde(serialize_with = "amount_str")]
    pub cost: Decimal,
}

/// The daily trend.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Daily {
    /// One entry per day of the range, oldest first (days without traffic are zeros).
    pub data: Vec<DayCounts>,
}

/// One campaign's results in the range.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct CampaignResult {
    /// The campaign.
    pub campaign_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its status.
    pub status: String,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Sent.
    pub sent: i64,
    /// Delivered.
    pub delivered: i64,
    /// Failed, expired or rejected.
    pub failed: i64,
    /// Delivered / final.
    #[schema(value_type = Option<String>)]
    pub delivery_rate: Option<Decimal>,
    /// Opt-outs attributed to it.
    pub opted_out: i32,
    /// Credits charged.
    #[schema(value_type = String)]
    #[serde(serialize_with = "amount_str")]
    pub cost: Decimal,
    /// People's short-link clicks (all time; machines' requests are not counted).
    pub clicks: i64,
    /// Recipients who clicked a short link at least once (all time).
    pub clickers: i64,
    /// Requests for its short links by previewers, crawlers, HEAD and too-early clicks.
    pub bot_clicks: i64,
    /// Click-through rate: clickers / the campaign's delivered messages.
    #[schema(value_type = Option<String>)]
    pub click_through_rate: Option<Decimal>,
}

/// The per-campaign report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Campaigns {
    /// The campaigns with traffic in the range.
    pub data: Vec<CampaignResult>,
}

/// One country and operator's results in the range.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OperatorResult {
    /// ISO country.
    pub country: String,
    /// Operator route key (`ke-safaricom`); null when unknown.
    pub operator: Option<String>,
    /// Sent.
    pub sent: i64,
    /// Delivered.
    pub delivered: i64,
    /// Failed, expired or rejected.
    pub failed: i64,
    /// Delivered / final.
    #[schema(value_type = Option<String>)]
    pub delivery_rate: Option<Decimal>,
    /// Credits charged.
    #[schema(value_type = String)]
    #[serde(serialize_with = "amount_str")]
    pub cost: Decimal,
    /// Median seconds from sent to delivered (interpolated within the latency buckets).
    pub median_seconds_to_deliver: Option<f64>,
    /// Mean seconds from sent to delivered.
    pub mean_seconds_to_deliver: Option<f64>,
}

/// The per-country / per-operator report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Operators {
    /// Countries and operators with traffic in the range.
    pub data: Vec<OperatorResult>,
}

/// The dashboard's cards and 7-day chart.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dashboard {
    /// Spendable credits.
    #[schema(value_type = String)]
    #[serde(serialize_with = "amount_str")]
    pub balance: Decimal,
    /// Credits held for sends in flight.
    #[schema(value_type = String)]
    #[serde(serialize_with = "amount_str")]
    pub reserved: Decimal,
    /// Currency of one credit.
    pub currency: String,
    /// Messages sent in the last 30 days.
    pub messages_sent: i64,
    /// Delivery rate of the last 30 days.
    #[schema(value_type = Option<String>)]
    pub delivery_rate: Option<Decimal>,
    /// Campaigns scheduled, queued, sending or paused.
    pub active_campaigns: i64,
    /// The last 7 days, oldest first.
    pub activity: Vec<DayCounts>,
}
