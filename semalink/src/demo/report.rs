//! The report of a `semalink demo` run, from the public API once the campaign completed: the
//! campaign's own report (`GET /v1/campaigns/{id}`: counts, delivery rate, cost per country
//! and operator with the mean time to deliver), the time to deliver p50/p99 from its
//! messages' `sent_at` / `final_at` (`GET /v1/messages?campaign_id=…`), the credits after
//! settlement (`GET /v1/credits`).

use std::collections::BTreeMap;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Progress;
use crate::chart::Sample;
use crate::client::Api;

/// Cost and counts of one operator (the campaign report's `by_operator`).
#[derive(Debug, Clone, Default)]
pub struct OperatorCost {
    /// Final messages.
    pub messages: usize,
    /// Delivered.
    pub delivered: usize,
    /// Credits charged.
    pub cost: Decimal,
    /// Mean seconds from `sent` to delivered.
    pub mean_seconds: Option<f64>,
}

/// The report of a finished run.
#[derive(Debug, Clone)]
pub struct Report {
    /// The campaign.
    pub campaign_id: String,
    /// Its recipients after exclusions (= messages written).
    pub accepted: usize,
    /// Members of the list left out by the exclusions (opted out, invalid, duplicates).
    pub rejected: usize,
    /// Final counts.
    pub progress: Progress,
    /// From the send request to the campaign's completion.
    pub wall: Duration,
    /// Final messages per second over `wall`.
    pub rate: f64,
    /// Delivered / final, as the campaign report says.
    pub delivery_rate: Option<f64>,
    /// Per `country operator`.
    pub by_operator: BTreeMap<String, OperatorCost>,
    /// `final_at − sent_at` of the delivered messages, milliseconds.
    pub deliver_p50_ms: Option<i64>,
    /// See `deliver_p50_ms`.
    pub deliver_p99_ms: Option<i64>,
    /// Credits charged (the campaign report's `cost`).
    pub charged: Decimal,
    /// `GET /v1/credits` after the run.
    pub credits: Value,
    /// The run over time (what the chart draws).
    pub samples: Vec<Sample>,
}

fn decimal(v: &Value) -> Decimal {
    v.as_str().and_then(|c| c.parse().ok()).unwrap_or_default()
}

fn count(v: &Value) -> usize {
    usize::try_from(v.as_u64().unwrap_or(0)).unwrap_or(usize::MAX)
}

fn parse_time(v: &Value) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(v.as_str()?, &Rfc3339).ok()
}

fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// The report of the completed campaign `id`.
pub async fn build(
    api: &Api,
    id: &str,
    members: usize,
    wall: Duration,
    samples: Vec<Sample>,
) -> anyhow::Result<Report> {
    let campaign = api.get(&format!("/v1/campaigns/{id}")).await?;
    let report = &campaign["report"];
    let progress = Progress::of_campaign(&campaign);
    let mut by_operator = BTreeMap::new();
    for o in report["by_operator"].as_array().into_iter().flatten() {
        let name = format!(
            "{} {}",
            o["country"].as_str().unwrap_or("??"),
            o["operator"].as_str().unwrap_or("unknown")
        );
        by_operator.insert(
            name,
            OperatorCost {
                messages: count(&o["delivered"]) + count(&o["failed"]),
                delivered: count(&o["delivered"]),
                cost: decimal(&o["cost"]),
                mean_seconds: o["mean_seconds_to_deliver"].as_f64(),
            },
        );
    }
    let messages = api
        .all(
            "/v1/messages",
            &format!("campaign_id={id}&status=delivered"),
        )
        .await?;
    let mut to_deliver: Vec<i64> = messages
        .iter()
        .filter_map(|m| {
            Some(
                (parse_time(&m["final_at"])? - parse_time(&m["sent_at"])?).whole_milliseconds()
                    as i64,
            )
        })
        .collect();
    to_deliver.sort_unstable();
    let accepted = count(&campaign["total_recipients"]);
    Ok(Report {
        campaign_id: id.to_owned(),
        accepted,
        rejected: members.saturating_sub(accepted),
        rate: progress.done() as f64 / wall.as_secs_f64().max(0.001),
        progress,
        wall,
        delivery_rate: report["delivery_rate"].as_f64().or_else(|| {
            report["delivery_rate"]
                .as_str()
                .and_then(|s| s.parse().ok())
        }),
        by_operator,
        deliver_p50_ms: percentile(&to_deliver, 0.50),
        deliver_p99_ms: percentile(&to_deliver, 0.99),
        charged: decimal(&report["cost"]),
        credits: api.get("/v1/credits").await?,
        samples,
    })
}

impl Report {
    /// Delivered / final (the campaign report's, else from the counts).
    pub fn delivery_rate(&self) -> f64 {
        self.delivery_rate.unwrap_or_else(|| {
            let done = self.progress.done();
            if done == 0 {
                0.0
            } else {
                self.progress.delivered as f64 / done as f64
            }
        })
    }

    /// The report for the terminal.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "\nSema Link demo report — campaign {}\n  messages     {} sent to, {} of the list excluded\n",
            self.campaign_id, self.accepted, self.rejected
        ));
        out.push_str(&format!(
            "  final        {} delivered, {} failed — delivery rate {:.2} %\n",
            self.progress.delivered,
            self.progress.failed,
            100.0 * self.delivery_rate()
        ));
        out.push_str(&format!(
            "  wall time    {:.1} s from the send request to the campaign's completion ({:.0} msg/s)\n",
            self.wall.as_secs_f64(),
            self.rate
        ));
        let ms = |v: Option<i64>| v.map_or("-".to_owned(), |v| format!("{v} ms"));
        out.push_str(&format!(
            "  to deliver   p50 {}, p99 {} (sent → delivered)\n",
            ms(self.deliver_p50_ms),
            ms(self.deliver_p99_ms)
        ));
        out.push_str("  cost by operator\n");
        for (operator, c) in &self.by_operator {
            let mean = c
                .mean_seconds
                .map_or("-".to_owned(), |s| format!("{s:.1} s"));
            out.push_str(&format!(
                "    {operator:<20} {:>6} final {:>6} delivered {:>12} credits   mean to deliver {mean}\n",
                c.messages, c.delivered, c.cost
            ));
        }
        out.push_str(&format!("  charged      {} credits\n", self.charged));
        out.push_str(&format!(
            "  credits      balance {}, reserved {}\n",
            self.credits["balance"], self.credits["reserved"]
        ));
        out
    }
}
