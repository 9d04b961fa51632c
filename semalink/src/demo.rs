//! `semalink demo`: against a running `semalink up`, through the public API only — log in as
//! the demo owner, read the demo list's members, send one text to all of them with
//! `POST /v1/messages` (batches of up to 10,000 recipients; the campaigns API is not on main
//! yet), show live progress (queued / sent / delivered / failed, messages/s) until every
//! message is final, then print the report: delivery rate, cost by operator, time to deliver
//! (p50/p99 of `final_at − sent_at`), the ledger after settlement. The per-second progress is
//! written as CSV (no chart: a PNG would need the load generator's plotting code reshaped for
//! this report).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::client::{Api, encode};

/// Recipients per `POST /v1/messages` (the API's maximum).
pub const BATCH: usize = 10_000;
/// Statuses a message can still leave.
const OPEN: &[&str] = &["submitted", "queued", "sent"];
/// Shortest pause between two progress polls.
const POLL: Duration = Duration::from_millis(500);
/// Final statuses other than delivered.
const FAILED: &[&str] = &["failed", "expired", "rejected"];

/// What to send and where.
#[derive(Debug, Clone)]
pub struct DemoRun {
    /// The API's base URL.
    pub api: String,
    /// Demo owner login.
    pub email: String,
    /// Its password.
    pub password: String,
    /// The list to send to.
    pub list_id: uuid::Uuid,
    /// At most this many recipients (the whole list when `None`).
    pub limit: Option<usize>,
    /// The text.
    pub text: String,
    /// Give up after this long.
    pub deadline: Duration,
    /// Where the per-second CSV goes.
    pub csv: Option<PathBuf>,
    /// Print live progress.
    pub live: bool,
}

/// Counts at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Accepted, not yet handed to the upstream (`submitted` or `queued`).
    pub queued: usize,
    /// Accepted by the upstream, no final receipt yet.
    pub sent: usize,
    /// Delivered.
    pub delivered: usize,
    /// Failed, expired or rejected.
    pub failed: usize,
}

impl Progress {
    /// Final messages.
    pub fn done(&self) -> usize {
        self.delivered + self.failed
    }
}

/// Cost and counts of one operator.
#[derive(Debug, Clone, Default)]
pub struct OperatorCost {
    /// Messages.
    pub messages: usize,
    /// Delivered.
    pub delivered: usize,
    /// Credits charged (delivered messages' cost).
    pub cost: Decimal,
}

/// The report of a finished run.
#[derive(Debug, Clone)]
pub struct Report {
    /// Messages accepted.
    pub accepted: usize,
    /// Recipients refused at send.
    pub rejected: usize,
    /// Final counts.
    pub progress: Progress,
    /// From the send request to the last final message.
    pub wall: Duration,
    /// Final messages per second over `wall`.
    pub rate: f64,
    /// Per operator (`unknown` without one).
    pub by_operator: BTreeMap<String, OperatorCost>,
    /// `final_at − sent_at`, milliseconds.
    pub deliver_p50_ms: Option<i64>,
    /// See `deliver_p50_ms`.
    pub deliver_p99_ms: Option<i64>,
    /// Sum of the delivered messages' cost.
    pub charged: Decimal,
    /// `GET /v1/credits` after the run.
    pub credits: Value,
}

impl Report {
    /// Delivered / final.
    pub fn delivery_rate(&self) -> f64 {
        let done = self.progress.done();
        if done == 0 {
            0.0
        } else {
            self.progress.delivered as f64 / done as f64
        }
    }

    /// The report for the terminal.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "\nSema Link demo report\n  messages     {} accepted, {} refused at send\n",
            self.accepted, self.rejected
        ));
        out.push_str(&format!(
            "  final        {} delivered, {} failed — delivery rate {:.2} %\n",
            self.progress.delivered,
            self.progress.failed,
            100.0 * self.delivery_rate()
        ));
        out.push_str(&format!(
            "  wall time    {:.1} s from the send request to the last final status ({:.0} msg/s)\n",
            self.wall.as_secs_f64(),
            self.rate
        ));
        let ms = |v: Option<i64>| v.map_or("-".to_owned(), |v| format!("{v} ms"));
        out.push_str(&format!(
            "  to deliver   p50 {}, p99 {} (sent_at → final_at)\n",
            ms(self.deliver_p50_ms),
            ms(self.deliver_p99_ms)
        ));
        out.push_str("  cost by operator\n");
        for (operator, c) in &self.by_operator {
            out.push_str(&format!(
                "    {operator:<16} {:>6} messages {:>6} delivered {:>12} credits\n",
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

/// The members' numbers of a list (`GET /v1/contact-lists/{id}/members`), valid ones only.
pub async fn recipients(
    api: &Api,
    list_id: uuid::Uuid,
    limit: Option<usize>,
) -> anyhow::Result<Vec<String>> {
    let members = api
        .up_to(&format!("/v1/contact-lists/{list_id}/members"), "", limit)
        .await?;
    Ok(members
        .iter()
        .filter(|m| m["status"] == "valid")
        .filter_map(|m| m["phone"].as_str().map(str::to_owned))
        .collect())
}

/// Sends `text` to `to` in batches; (accepted, refused).
pub async fn send(
    api: &Api,
    to: &[String],
    text: &str,
    reference: &str,
) -> anyhow::Result<(usize, usize)> {
    let (mut accepted, mut rejected) = (0, 0);
    for batch in to.chunks(BATCH) {
        let body = json!({ "to": batch, "text": text, "client_reference": reference });
        let answer = api.post("/v1/messages", &body).await?;
        accepted += answer["accepted"].as_u64().unwrap_or(0) as usize;
        rejected += answer["rejected"].as_u64().unwrap_or(0) as usize;
    }
    Ok((accepted, rejected))
}

/// How many messages of the run are in `status`.
async fn count(api: &Api, reference: &str, status: &str) -> anyhow::Result<usize> {
    let query = format!("status={status}&client_reference={}", encode(reference));
    Ok(api.all("/v1/messages", &query).await?.len())
}

/// The run's counts: the open statuses and the failures are counted, the rest is delivered.
pub async fn progress(api: &Api, reference: &str, accepted: usize) -> anyhow::Result<Progress> {
    let mut p = Progress::default();
    for status in OPEN {
        let n = count(api, reference, status).await?;
        match *status {
            "sent" => p.sent += n,
            _ => p.queued += n,
        }
    }
    for status in FAILED {
        p.failed += count(api, reference, status).await?;
    }
    p.delivered = accepted.saturating_sub(p.queued + p.sent + p.failed);
    Ok(p)
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

/// The report from every message of the run (`GET /v1/messages?client_reference=…`).
pub async fn report(
    api: &Api,
    reference: &str,
    accepted: usize,
    rejected: usize,
    wall: Duration,
) -> anyhow::Result<Report> {
    let query = format!("client_reference={}", encode(reference));
    let messages = api.all("/v1/messages", &query).await?;
    let mut progress = Progress::default();
    let mut by_operator: BTreeMap<String, OperatorCost> = BTreeMap::new();
    let mut to_deliver = Vec::new();
    let mut charged = Decimal::ZERO;
    for m in &messages {
        let status = m["status"].as_str().unwrap_or_default();
        let operator = m["mno_id"].as_str().unwrap_or("unknown").to_owned();
        let entry = by_operator.entry(operator).or_default();
        entry.messages += 1;
        match status {
            "delivered" => {
                progress.delivered += 1;
                entry.delivered += 1;
                let cost: Decimal = m["cost"]
                    .as_str()
                    .and_then(|c| c.parse().ok())
                    .or_else(|| m["cost"].as_f64().and_then(|f| Decimal::try_from(f).ok()))
                    .unwrap_or_default();
                entry.cost += cost;
                charged += cost;
            }
            "sent" => progress.sent += 1,
            "submitted" | "queued" => progress.queued += 1,
            _ => progress.failed += 1,
        }
        if let (Some(sent), Some(done)) = (parse_time(&m["sent_at"]), parse_time(&m["final_at"])) {
            to_deliver.push((done - sent).whole_milliseconds() as i64);
        }
    }
    to_deliver.sort_unstable();
    let credits = api.get("/v1/credits").await?;
    let secs = wall.as_secs_f64().max(0.001);
    Ok(Report {
        accepted,
        rejected,
        rate: progress.done() as f64 / secs,
        progress,
        wall,
        by_operator,
        deliver_p50_ms: percentile(&to_deliver, 0.50),
        deliver_p99_ms: percentile(&to_deliver, 0.99),
        charged,
        credits,
    })
}

/// Runs the demo: send, follow until final (or the deadline), report.
pub async fn run(run: &DemoRun) -> anyhow::Result<Report> {
    let mut api = Api::new(&run.api);
    api.login(&run.email, &run.password).await?;
    let mut to = recipients(&api, run.list_id, run.limit).await?;
    if let Some(limit) = run.limit {
        to.truncate(limit);
    }
    if to.is_empty() {
        bail!("the demo list has no valid members");
    }
    let reference = format!("demo-{}", OffsetDateTime::now_utc().unix_timestamp_nanos());
    if run.live {
        println!(
            "sending to {} recipients of the demo list (client_reference {reference})",
            to.len()
        );
    }
    let started = Instant::now();
    let (accepted, rejected) = send(&api, &to, &run.text, &reference).await?;
    let mut csv = match &run.csv {
        Some(path) => Some(start_csv(path)?),
        None => None,
    };
    let (mut last_done, mut last_at) = (0usize, started);
    let finished = loop {
        let polled = Instant::now();
        let p = progress(&api, &reference, accepted).await?;
        let now = Instant::now();
        // Counting pages through the API costs the system it watches: poll at most half the
        // time (at least every 500 ms), so the demo measures the system, not its own polling.
        let pause = POLL.max(now.duration_since(polled));
        let dt = now.duration_since(last_at).as_secs_f64().max(0.001);
        let rate = (p.done().saturating_sub(last_done)) as f64 / dt;
        (last_done, last_at) = (p.done(), now);
        let elapsed = now.duration_since(started);
        if let Some(file) = &mut csv {
            writeln!(
                file,
                "{:.1},{},{},{},{},{:.1}",
                elapsed.as_secs_f64(),
                p.queued,
                p.sent,
                p.delivered,
                p.failed,
                rate
            )?;
        }
        if run.live {
            print!(
                "\r{:>6.1} s  queued {:>6}  sent {:>6}  delivered {:>6}  failed {:>6}  {:>7.0} msg/s  [{}]",
                elapsed.as_secs_f64(),
                p.queued,
                p.sent,
                p.delivered,
                p.failed,
                rate,
                bar(p.done(), accepted)
            );
            std::io::stdout().flush().ok();
        }
        if p.done() >= accepted {
            break elapsed;
        }
        if elapsed > run.deadline {
            bail!(
                "not every message was final after {:?}: {p:?}",
                run.deadline
            );
        }
        tokio::time::sleep(pause).await;
    };
    if run.live {
        println!();
    }
    let report = report(&api, &reference, accepted, rejected, finished).await?;
    if let (Some(path), true) = (&run.csv, run.live) {
        println!("progress per poll written to {}", path.display());
    }
    Ok(report)
}

fn start_csv(path: &Path) -> anyhow::Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    writeln!(file, "elapsed_s,queued,sent,delivered,failed,final_per_s")?;
    Ok(file)
}

fn bar(done: usize, total: usize) -> String {
    const WIDTH: usize = 30;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(0).min(WIDTH);
    format!("{}{}", "#".repeat(filled), ".".repeat(WIDTH - filled))
}
