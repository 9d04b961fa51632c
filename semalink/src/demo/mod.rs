//! `semalink demo`: against a running `semalink up`, through the public API only — log in as
//! the demo owner, create a campaign to the demo list (`POST /v1/campaigns`, submitted for
//! the content check, then sent), follow its live progress over Server-Sent Events
//! (`GET /v1/campaigns/{id}/progress`: a progress bar of queued / sent / delivered / failed
//! and messages/s) until the campaign completes, then print the report ([`report`]) and
//! write a PNG chart of the run ([`crate::chart`]: messages/s and cumulative delivered).
//!
//! With `--limit N` the campaign goes to a sample list of the demo list's first N members
//! (created through the contacts API). [`recipients`] and [`send`] send through
//! `POST /v1/messages` instead (the tests' shutdown drills).

pub mod report;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::chart::{self, Sample};
use crate::client::Api;
pub use report::{OperatorCost, Report};

/// Recipients per `POST /v1/messages` (the API's maximum).
pub const BATCH: usize = 10_000;
/// Contacts per `POST /v1/contact-lists/{id}/members` (the API's maximum).
const MEMBERS_BATCH: usize = 1_000;

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
    /// Where the PNG chart goes.
    pub chart: Option<PathBuf>,
    /// Print live progress.
    pub live: bool,
}

/// Counts at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Recipients not yet handed to the upstream (not written yet, `submitted` or `queued`).
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

    /// From a campaign's counters: a progress event (`dispatched`, `sent`, …) or the
    /// campaign itself (`dispatched_count`, `sent_count`, …).
    pub fn of_campaign(c: &Value) -> Progress {
        let n = |key: &str| {
            let v = c.get(key).or_else(|| c.get(format!("{key}_count")));
            usize::try_from(v.and_then(Value::as_u64).unwrap_or(0)).unwrap_or(0)
        };
        let total = n("total_recipients");
        let (delivered, failed) = (n("delivered"), n("failed") + n("expired") + n("rejected"));
        let done = delivered + failed;
        // `sent` counts every message that reached the upstream, final ones included.
        let reached = n("sent").max(done);
        Progress {
            queued: total.saturating_sub(reached),
            sent: reached - done,
            delivered,
            failed,
        }
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

/// Sends `text` to `to` through `POST /v1/messages` in batches; (accepted, refused).
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

/// The list the campaign goes to and its size: the demo list, or with `limit` a new list of
/// its first `limit` members.
async fn audience(api: &Api, run: &DemoRun, stamp: &str) -> anyhow::Result<(String, usize)> {
    let list = api
        .get(&format!("/v1/contact-lists/{}", run.list_id))
        .await?;
    let size = list["total_count"].as_u64().map(|n| n as usize);
    let Some(limit) = run.limit.filter(|l| size.is_none_or(|s| *l < s)) else {
        return Ok((run.list_id.to_string(), size.unwrap_or(0)));
    };
    let members = api
        .up_to(
            &format!("/v1/contact-lists/{}/members", run.list_id),
            "",
            Some(limit),
        )
        .await?;
    let ids: Vec<&str> = members
        .iter()
        .filter_map(|m| m["id"].as_str())
        .take(limit)
        .collect();
    let sample = api
        .post(
            "/v1/contact-lists",
            &json!({ "name": format!("Demo sample of {limit} ({stamp})") }),
        )
        .await?;
    let id = sample["id"].as_str().context("list id")?.to_owned();
    for chunk in ids.chunks(MEMBERS_BATCH) {
        api.post(
            &format!("/v1/contact-lists/{id}/members"),
            &json!({ "contact_ids": chunk }),
        )
        .await?;
    }
    Ok((id, ids.len()))
}

/// The organisation's approved default sender ID (the seed's).
async fn sender(api: &Api) -> anyhow::Result<String> {
    let senders = api.all("/v1/sender-ids", "").await?;
    senders
        .iter()
        .filter(|s| s["status"] == "approved")
        .max_by_key(|s| s["is_default"] == true)
        .and_then(|s| s["id"].as_str().map(str::to_owned))
        .context("the demo organisation has no approved sender ID")
}

/// Creates the campaign, submits it for the content check and sends it; its id.
async fn start_campaign(
    api: &Api,
    name: &str,
    sender_id: &str,
    list_id: &str,
    text: &str,
) -> anyhow::Result<String> {
    let c = api
        .post(
            "/v1/campaigns",
            &json!({ "name": name, "sender_id": sender_id, "list_ids": [list_id],
                     "message": text, "quiet_hours": false }),
        )
        .await?;
    let id = c["id"].as_str().context("campaign id")?.to_owned();
    let r = api
        .post(&format!("/v1/campaigns/{id}/submit"), &json!({}))
        .await?;
    if r["status"] != "approved" {
        bail!(
            "the content check refused the campaign: {}",
            r["rejection_reason"]
        );
    }
    let r = api
        .post(&format!("/v1/campaigns/{id}/send"), &json!({}))
        .await?;
    if r["status"] != "queued" {
        bail!("the campaign was not queued: {r}");
    }
    Ok(id)
}

/// Follows the campaign's progress stream until its `end` event (reconnecting when the
/// stream closes early) or the deadline; the samples of the run.
async fn follow(
    api: &Api,
    id: &str,
    run: &DemoRun,
    started: Instant,
) -> anyhow::Result<(Progress, Vec<Sample>)> {
    let path = format!("/v1/campaigns/{id}/progress");
    let mut samples = vec![Sample {
        at: 0.0,
        rate: 0.0,
        delivered: 0.0,
    }];
    let (mut last_done, mut last_at, mut last) = (0usize, 0.0f64, Progress::default());
    loop {
        let mut events = api.events(&path).await?;
        loop {
            let left = run.deadline.saturating_sub(started.elapsed());
            let next = match tokio::time::timeout(left, events.next()).await {
                Ok(next) => next?,
                Err(_) => bail!(
                    "the campaign was not complete after {:?}: {last:?}",
                    run.deadline
                ),
            };
            let Some((name, data)) = next else { break };
            let p = Progress::of_campaign(&data);
            let at = started.elapsed().as_secs_f64();
            let rate = p.done().saturating_sub(last_done) as f64 / (at - last_at).max(0.001);
            if at - last_at >= 0.2 || name == "end" {
                samples.push(Sample {
                    at,
                    rate,
                    delivered: p.delivered as f64,
                });
                (last_done, last_at) = (p.done(), at);
            }
            last = p;
            if run.live {
                let total = p.queued + p.sent + p.done();
                print!(
                    "\r{at:>6.1} s  queued {:>6}  sent {:>6}  delivered {:>6}  failed {:>6}  {rate:>6.0} msg/s  [{}]",
                    p.queued,
                    p.sent,
                    p.delivered,
                    p.failed,
                    bar(p.done(), total)
                );
                std::io::stdout().flush().ok();
            }
            if name == "end" {
                if run.live {
                    println!();
                }
                if data["status"] != "completed" {
                    bail!("the campaign ended {}", data["status"]);
                }
                return Ok((p, samples));
            }
        }
        if started.elapsed() > run.deadline {
            bail!(
                "the campaign was not complete after {:?}: {last:?}",
                run.deadline
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Runs the demo: the campaign, its progress until complete (or the deadline), the report
/// and the chart.
pub async fn run(run: &DemoRun) -> anyhow::Result<Report> {
    let mut api = Api::new(&run.api);
    api.login(&run.email, &run.password).await?;
    let stamp = OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default();
    let (list_id, members) = audience(&api, run, &stamp).await?;
    if members == 0 {
        bail!("the demo list has no members");
    }
    let sender_id = sender(&api).await?;
    let name = format!("Demo run {stamp}");
    if run.live {
        println!("campaign {name:?} to {members} contacts of the demo list");
    }
    let started = Instant::now();
    let id = start_campaign(&api, &name, &sender_id, &list_id, &run.text).await?;
    let (_, samples) = follow(&api, &id, run, started).await?;
    let wall = started.elapsed();
    let report = report::build(&api, &id, members, wall, samples).await?;
    if let Some(path) = &run.chart {
        let title = format!(
            "semalink demo - {} messages, {:.0} msg/s, {:.1} % delivered",
            report.accepted,
            report.rate,
            100.0 * report.delivery_rate()
        );
        chart::write_png(path, &title, &report.samples)?;
        if run.live {
            println!("chart of the run written to {}", path.display());
        }
    }
    Ok(report)
}

fn bar(done: usize, total: usize) -> String {
    const WIDTH: usize = 30;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(0).min(WIDTH);
    format!("{}{}", "#".repeat(filled), ".".repeat(WIDTH - filled))
}
