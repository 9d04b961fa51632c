//! Analytics reads: everything comes from the rollups the status consumer keeps
//! (`message_rollups`, `message_latency`, docs/results.md), never from `messages`, so a
//! report costs the same for a thousand messages as for ten million.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use sqlx::PgExecutor;
use time::{OffsetDateTime, Time};

use super::types::*;
use crate::error::Result;
use crate::identity::scope::AccountScope;
use crate::results::store::{LATENCY_BOUNDS, NO_CAMPAIGN};

/// `part / whole` to 4 places; None when `whole` is 0.
pub fn rate(part: i64, whole: i64) -> Option<Decimal> {
    (whole > 0).then(|| (Decimal::from(part) / Decimal::from(whole)).round_dp(4))
}

/// The start of `d` and of the day after `to` (UTC).
fn bounds(r: Range) -> (OffsetDateTime, OffsetDateTime) {
    let start = r.from.with_time(Time::MIDNIGHT).assume_utc();
    let end = (r.to + time::Duration::days(1))
        .with_time(Time::MIDNIGHT)
        .assume_utc();
    (start, end)
}

/// Totals over the range.
pub async fn overview(
    conn: &mut sqlx::PgConnection,
    scope: AccountScope,
    r: Range,
) -> Result<Overview> {
    let (sent, delivered, failed, expired, rejected, cost, refunded): (
        i64,
        i64,
        i64,
        i64,
        i64,
        Decimal,
        Decimal,
    ) = sqlx::query_as(
        "SELECT coalesce(sum(sent), 0)::int8, coalesce(sum(delivered), 0)::int8,
                coalesce(sum(failed), 0)::int8, coalesce(sum(expired), 0)::int8,
                coalesce(sum(rejected), 0)::int8, coalesce(sum(cost), 0), coalesce(sum(refunded), 0)
         FROM message_rollups WHERE account_id = $1 AND day BETWEEN $2 AND $3",
    )
    .bind(scope.id())
    .bind(r.from)
    .bind(r.to)
    .fetch_one(&mut *conn)
    .await?;
    let (since, until) = bounds(r);
    let opt_outs = crate::inbound::store::opt_outs(&mut *conn, scope, since, until).await?;
    let all_failed = failed + expired + rejected;
    Ok(Overview {
        from: r.from,
        to: r.to,
        sent,
        delivered,
        failed: all_failed,
        expired,
        rejected,
        delivery_rate: rate(delivered, delivered + all_failed),
        opt_outs,
        opt_out_rate: rate(opt_outs, sent),
        cost,
        refunded,
    })
}

/// One entry per day of the range, zeros included.
pub async fn daily(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    r: Range,
) -> Result<Vec<DayCounts>> {
    Ok(sqlx::query_as(
        "SELECT d::date AS day, coalesce(x.sent, 0)::int8 AS sent,
                coalesce(x.delivered, 0)::int8 AS delivered, coalesce(x.failed, 0)::int8 AS failed,
                coalesce(x.cost, 0) AS cost
         FROM generate_series($2::date, $3::date, interval '1 day') AS d
         LEFT JOIN (SELECT day, sum(sent) AS sent, sum(delivered) AS delivered,
                           sum(failed + expired + rejected) AS failed, sum(cost) AS cost
                    FROM message_rollups WHERE account_id = $1 AND day BETWEEN $2 AND $3
                    GROUP BY day) x ON x.day = d::date
         ORDER BY d",
    )
    .bind(scope.id())
    .bind(r.from)
    .bind(r.to)
    .fetch_all(conn)
    .await?)
}

/// The campaigns with traffic in the range, sorted.
pub async fn campaigns(
    conn: impl PgExecutor<'_>,
    scope: AccountScope,
    r: Range,
    sort: CampaignSort,
    order: SortOrder,
) -> Result<Vec<CampaignResult>> {
    let key = match sort {
        CampaignSort::Date => "c.created_at",
        CampaignSort::DeliveryRate => "delivery_rate",
        CampaignSort::Cost => "cost",
        CampaignSort::Sent => "sent",
    };
    let dir = match order {
        SortOrder::Desc => "DESC NULLS LAST",
        SortOrder::Asc => "ASC NULLS LAST",
    };
    let sql = format!(
        "SELECT c.id AS campaign_id, c.name, c.status::text AS status, c.created_at,
                x.sent, x.delivered, x.failed, c.opted_out_count AS opted_out, x.cost,
                CASE WHEN x.delivered + x.failed = 0 THEN NULL
                     ELSE round(x.delivered::numeric / (x.delivered + x.failed), 4) END
                    AS delivery_rate,
                coalesce(cc.clicks, 0) AS clicks, coalesce(cc.clickers, 0) AS clickers,
                coalesce(cc.bot_clicks, 0) AS bot_clicks,
                CASE WHEN c.delivered_count = 0 THEN NULL
                     ELSE round(coalesce(cc.clickers, 0)::numeric / c.delivered_count, 4) END
                    AS click_through_rate
         FROM (SELECT campaign_id, sum(sent)::int8 AS sent, sum(delivered)::int8 AS delivered,
                      sum(failed + expired + rejected)::int8 AS failed, sum(cost) AS cost
               FROM message_rollups
               WHERE account_id = $1 AND day BETWEEN $2 AND $3 AND campaign_id <> $4
               GROUP BY campaign_id) x
         JOIN campaigns c ON c.id = x.campaign_id AND c.account_id = $1
         LEFT JOIN campaign_clicks cc ON cc.campaign_id = c.id
         ORDER BY {key} {dir}, c.id DESC
         LIMIT 1000"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(scope.id())
        .bind(r.from)
        .bind(r.to)
        .bind(NO_CAMPAIGN)
        .fetch_all(conn)
        .await?)
}

/// The median of bucketed latencies (`counts[b]` deliveries in bucket `b`), interpolated
/// linearly within the bucket that holds it; the open last bucket counts as its lower bound.
pub fn median(counts: &[i64]) -> Option<f64> {
    let total: i64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let half = total as f64 / 2.0;
    let mut below = 0.0;
    for (b, n) in counts.iter().enumerate() {
        let n = *n as f64;
        if n > 0.0 && below + n >= half {
            let lower = if b == 0 { 0.0 } else { LATENCY_BOUNDS[b - 1] };
            let Some(upper) = LATENCY_BOUNDS.get(b) else {
                return Some(lower);
            };
            let within = ((half - below) / n).clamp(0.0, 1.0);
            return Some(((lower + (upper - lower) * within) * 10.0).round() / 10.0);
        }
        below += n;
    }
    None
}

/// Countries and operators with traffic in the range, busiest first.
pub async fn operators(
    conn: &mut sqlx::PgConnection,
    scope: AccountScope,
    r: Range,
) -> Result<Vec<OperatorResult>> {
    type Row = (String, String, i64, i64, i64, Decimal, f64, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT country, mno_id, sum(sent)::int8, sum(delivered)::int8,
                sum(failed + expired + rejected)::int8, sum(cost), sum(deliver_seconds)::float8,
                sum(timed)::int8
         FROM message_rollups WHERE account_id = $1 AND day BETWEEN $2 AND $3
         GROUP BY country, mno_id ORDER BY sum(sent) DESC, country, mno_id",
    )
    .bind(scope.id())
    .bind(r.from)
    .bind(r.to)
    .fetch_all(&mut *conn)
    .await?;
    let buckets: Vec<(String, String, i16, i64)> = sqlx::query_as(
        "SELECT country, mno_id, bucket, sum(n)::int8 FROM message_latency
         WHERE account_id = $1 AND day BETWEEN $2 AND $3 GROUP BY country, mno_id, bucket",
    )
    .bind(scope.id())
    .bind(r.from)
    .bind(r.to)
    .fetch_all(&mut *conn)
    .await?;
    let mut latency: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    for (country, mno, bucket, n) in buckets {
        let counts = latency
            .entry((country, mno))
            .or_insert_with(|| vec![0; LATENCY_BOUNDS.len() + 1]);
        if let Some(slot) = usize::try_from(bucket).ok().and_then(|b| counts.get_mut(b)) {
            *slot += n;
        }
    }
    Ok(rows
        .into_iter()
        .map(
            |(country, mno, sent, delivered, failed, cost, seconds, timed)| {
                let median = latency
                    .get(&(country.clone(), mno.clone()))
                    .and_then(|c| median(c));
                OperatorResult {
                    operator: (!mno.is_empty()).then_some(mno),
                    country,
                    sent,
                    delivered,
                    failed,
                    delivery_rate: rate(delivered, delivered + failed),
                    cost,
                    median_seconds_to_deliver: median,
                    mean_seconds_to_deliver: (timed > 0)
                        .then(|| (seconds / timed as f64 * 10.0).round() / 10.0),
                }
            },
        )
        .collect())
}

/// Campaigns scheduled, queued, sending or paused.
pub async fn active_campaigns(conn: impl PgExecutor<'_>, scope: AccountScope) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM campaigns WHERE account_id = $1 AND deleted_at IS NULL
           AND status IN ('scheduled', 'queued', 'sending', 'paused')",
    )
    .bind(scope.id())
    .fetch_one(conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_interpolated_within_its_bucket() {
        let mut c = vec![0; LATENCY_BOUNDS.len() + 1];
        assert_eq!(median(&c), None);
        c[2] = 10; // 2–5 s
        assert_eq!(median(&c), Some(3.5));
        c[0] = 30; // < 1 s: the median moves into the first bucket
        assert_eq!(median(&c), Some(0.7));
        let mut slow = vec![0; LATENCY_BOUNDS.len() + 1];
        slow[LATENCY_BOUNDS.len()] = 3;
        assert_eq!(median(&slow), Some(3600.0));
    }

    #[test]
    fn rates_have_four_places_and_no_division_by_zero() {
        assert_eq!(rate(2, 3), Some(Decimal::new(6667, 4)));
        assert_eq!(rate(0, 0), None);
    }
}
