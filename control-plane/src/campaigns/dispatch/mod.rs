//! The campaign dispatcher (`campaign_dispatcher` worker, [`LOOPS`] loops per process). Each
//! pass is one transaction:
//!
//! 1. **Expansion** of a due campaign (`queued`, or `scheduled` with `send_at` reached), under
//!    its row lock (`FOR UPDATE SKIP LOCKED`: one expander per campaign): its audience — the
//!    contacts filter, the lists, minus opted-out, suppressed and invalid numbers, one row per
//!    number — is inserted into `campaign_recipients` by one `INSERT … SELECT`, and the
//!    campaign becomes `sending` (or `completed` at once with a zero report when nobody can
//!    be sent to).
//! 2. **A batch** of a `sending` campaign, under a `FOR KEY SHARE` lock of the campaign
//!    (several dispatchers, in this process or others, write batches of one campaign at
//!    once; a pause, resume or cancel waits for them): the next `batch` recipients without a
//!    message, in `seq` order, each row locked `FOR UPDATE SKIP LOCKED` (parallel batches are
//!    disjoint), are rendered (tokens from the contact) and priced by operator and parts; the
//!    batch's total is checked against the budget caps and the credit; the messages, their
//!    events, their outbox rows and the recipients' `message_id` are written in one
//!    statement; then, under the account's credits lock, the checks are repeated and the
//!    total is reserved once, and the campaign's counters move.
//!
//! Crash safety: a pass commits all of it or nothing, so a restarted dispatcher resumes at
//! the first recipient without a message; the recipient row locks and the `message_id IS
//! NULL` condition of the write make a second writer of the same recipients skip them or roll
//! back. After the last batch the campaign stays `sending`: the status consumer completes it
//! when every message is final. A halted account (kill switch) is never claimed.

mod money;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use semalink_protocol::analysis;
use semalink_protocol::msisdn::Msisdn;
use serde::Deserialize;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::agents::charge::Payer;
use crate::campaigns::dispatch::store::{Batch, BatchCommon, Recipient, Sending};
use crate::campaigns::template::{Template, encoding_name, value_of};
use crate::contacts::filter::{ContactFilter, SearchFilter};
use crate::error::{Error, Result};
use crate::identity::scope::AccountScope;
use crate::notifications::{Notice, notify};
use crate::pricing::quote::{Destination, Pricer};
use crate::sender_ids::types::SenderIdStatus;
use crate::state::AppState;
use crate::types::CountryCode;
use crate::worker::{Worker, pause};

/// `[dispatcher]`: how campaigns are dispatched.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DispatcherConfig {
    /// Recipients written per transaction.
    pub batch: i64,
    /// How often an idle dispatcher looks for due campaigns.
    pub poll_interval_ms: u64,
}

/// Dispatch loops per process: they write batches of one campaign in parallel (each locks
/// its own recipients), so the database writes one batch while the next is rendered.
pub const LOOPS: usize = 2;

impl Default for DispatcherConfig {
    fn default() -> DispatcherConfig {
        DispatcherConfig {
            batch: 5_000,
            poll_interval_ms: 500,
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Nothing was due.
    Idle,
    /// A campaign's audience was expanded (`recipients` sendable).
    Expanded {
        /// Recipients written.
        recipients: i64,
    },
    /// A batch was written.
    Dispatched {
        /// Messages written.
        messages: i64,
    },
    /// A campaign was paused (budget, credit, sender).
    Paused,
}

/// Dispatches due campaigns.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    pool: PgPool,
    config: DispatcherConfig,
    bulk_timeout_ms: u64,
    base_url: String,
    wake: Arc<Notify>,
    clock: Option<time::OffsetDateTime>,
    link_domain: String,
}

/// The stored audience filter, checked like the contacts endpoints check it.
pub fn audience_filter(stored: Option<&serde_json::Value>, country: &str) -> Result<SearchFilter> {
    match stored {
        None => Ok(SearchFilter::default()),
        Some(v) => serde_json::from_value::<ContactFilter>(v.clone())
            .map_err(|e| Error::field("audience_filter", &e.to_string()))?
            .check("audience_filter.", country),
    }
}

impl Dispatcher {
    /// A dispatcher over `state`'s pool and configuration.
    pub fn new(state: &AppState) -> Dispatcher {
        Dispatcher {
            pool: state.pool.clone(),
            config: state.config.dispatcher.clone(),
            bulk_timeout_ms: state.config.database.bulk_statement_timeout_ms,
            base_url: state.config.server.public_base_url.clone(),
            wake: state.outbox_wake.clone(),
            clock: None,
            link_domain: state.config.links.domain.clone(),
        }
    }

    /// The same dispatcher judging quiet hours and rates at `at` instead of the real time
    /// (tests).
    pub fn at(mut self, at: time::OffsetDateTime) -> Dispatcher {
        self.clock = Some(at);
        self
    }

    fn now(&self) -> time::OffsetDateTime {
        self.clock.unwrap_or_else(time::OffsetDateTime::now_utc)
    }

    /// The same dispatcher with another configuration (tests, benchmarks).
    pub fn with_config(mut self, config: DispatcherConfig) -> Dispatcher {
        self.config = config;
        self
    }

    /// One pass: expands a due campaign if there is one, else writes one batch of a sending
    /// campaign.
    pub async fn run_once(&self) -> Result<Pass> {
        let pass = self.expand_one().await?;
        if pass != Pass::Idle {
            return Ok(pass);
        }
        self.batch_one().await
    }

    /// Passes until nothing is due (tests and the benchmark); how many batches were written.
    pub async fn drain(&self) -> Result<usize> {
        let mut batches = 0;
        loop {
            match self.run_once().await? {
                Pass::Idle => return Ok(batches),
                Pass::Dispatched { .. } => batches += 1,
                _ => {}
            }
        }
    }

    /// A pass's transaction: the bulk statement timeout, and custom plans only — a plan cached
    /// while `campaign_recipients` was small (before an expansion's statistics) would join a
    /// batch against a million rows by scanning them once per recipient.
    async fn begin(
        &self,
    ) -> Result<(
        sqlx::Transaction<'static, sqlx::Postgres>,
        crate::db::CancelOnDrop,
    )> {
        let (mut tx, guard) = crate::db::begin_bulk(&self.pool, self.bulk_timeout_ms).await?;
        sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan")
            .execute(&mut *tx)
            .await?;
        Ok((tx, guard))
    }

    async fn expand_one(&self) -> Result<Pass> {
        let (mut tx, guard) = self.begin().await?;
        let Some(claimed) = store::claim_due(&mut tx).await? else {
            tx.commit().await?;
            guard.disarm();
            return Ok(Pass::Idle);
        };
        let scope = AccountScope::trusted(claimed.account_id);
        let pass = match audience_filter(claimed.audience_filter.as_ref(), &claimed.country) {
            Ok(filter) => {
                let total = store::expand(&mut tx, scope, claimed.id, &filter).await?;
                store::start(&mut *tx, claimed.id, total).await?;
                Pass::Expanded { recipients: total }
            }
            Err(_) => {
                let reason = "the audience filter is no longer valid: edit the campaign";
                self.pause(&mut tx, claimed.id, claimed.account_id, reason)
                    .await?;
                Pass::Paused
            }
        };
        tx.commit().await?;
        guard.disarm();
        Ok(pass)
    }

    async fn pause(
        &self,
        conn: &mut PgConnection,
        campaign: Uuid,
        account_id: Uuid,
        reason: &str,
    ) -> Result<()> {
        store::pause(&mut *conn, campaign, reason).await?;
        let body = format!("Your campaign was paused: {reason}. Resume it once this is resolved.");
        let notice = Notice {
            kind: "campaign.paused",
            title: "Campaign paused",
            body: &body,
            data: json!({"campaign_id": campaign, "reason": reason}),
        };
        notify(conn, account_id, &notice, &self.base_url).await?;
        Ok(())
    }

    async fn batch_one(&self) -> Result<Pass> {
        let (mut tx, guard) = self.begin().await?;
        let Some(campaign) = store::claim_sending(&mut tx).await? else {
            tx.commit().await?;
            guard.disarm();
            return Ok(Pass::Idle);
        };
        let pass = self.batch(&mut tx, &campaign).await?;
        tx.commit().await?;
        guard.disarm();
        if matches!(pass, Pass::Dispatched { .. }) {
            self.wake.notify_one();
        }
        Ok(pass)
    }

    async fn batch(&self, tx: &mut PgConnection, c: &Sending) -> Result<Pass> {
        let (Some(sender_id), Some(sender), Some(SenderIdStatus::Approved)) =
            (c.sender_id, c.sender.as_deref(), c.sender_status)
        else {
            let reason = "the sender ID is no longer approved";
            self.pause(tx, c.id, c.account_id, reason).await?;
            return Ok(Pass::Paused);
        };
        if !store::hold_parents(&mut *tx, c.account_id, sender_id).await? {
            return Err(Error::internal(
                "the campaign's organisation or sender ID is gone",
            ));
        }
        let Ok(template) = Template::parse(&c.message) else {
            self.pause(tx, c.id, c.account_id, "the message has a malformed token")
                .await?;
            return Ok(Pass::Paused);
        };
        let scope = AccountScope::trusted(c.account_id);
        let started = std::time::Instant::now();
        let recipients = store::next_batch(&mut *tx, c.id, self.config.batch.max(1)).await?;
        if recipients.is_empty() {
            // Every recipient left is in a parallel dispatcher's batch.
            return Ok(Pass::Idle);
        }
        let read = started.elapsed();
        let now = self.now();
        let chain = crate::pricing::store::chain(&mut *tx, scope)
            .await?
            .ok_or(Error::NotFound)?;
        let dests: Vec<Option<Destination>> = recipients
            .iter()
            .map(|r| {
                Msisdn::parse(&r.destination, None)
                    .ok()
                    .map(Destination::of)
            })
            .collect();
        let mut countries: Vec<String> = dests
            .iter()
            .flatten()
            .map(|d| d.country.to_owned())
            .collect();
        countries.sort_unstable();
        countries.dedup();
        let pricer = Pricer::load(&mut *tx, &chain, Some(&countries), now).await?;
        let payer = Payer::load(&mut *tx, scope, &countries, now).await?;
        let fixed = (!template.is_personalised()).then(|| {
            let text = template.render(|_| None, &[]);
            let a = analysis::analyze(&text);
            (text, a.encoding, a.segments)
        });
        // Links are priced at their short URL's length (a stand-in code: same characters, same
        // parts); the real codes are allocated for the accepted recipients just before the
        // write, and their texts rendered again with them.
        let urls = template.links();
        let stand_ins = vec![crate::links::code::sample_url(&self.link_domain); urls.len()];
        let mut accepted: Vec<&Recipient> = Vec::new();
        let mut batch = Batch::default();
        let mut skipped: Vec<(i64, String)> = Vec::new();
        let (mut total, mut billed_total) = (Decimal::ZERO, Decimal::ZERO);
        for (r, dest) in recipients.iter().zip(dests) {
            let Some(dest) = dest else {
                skipped.push((r.seq, "not a phone number".to_owned()));
                continue;
            };
            let (body, encoding, segments) = match &fixed {
                Some((text, encoding, segments)) => (text.clone(), *encoding, *segments),
                None => {
                    let text = template.render(|name| value_of(r, name), &stand_ins);
                    let a = analysis::analyze(&text);
                    (text, a.encoding, a.segments)
                }
            };
            let parts = u32::try_from(segments).ok().filter(|p| *p <= 255);
            let quote = parts.and_then(|p| pricer.price("to", &dest, p).ok());
            let (Some(parts), Some(quote)) = (parts, quote) else {
                let why = match parts {
                    None => "the personalised text needs more than 255 parts".to_owned(),
                    Some(_) => {
                        format!("no rate is set for {}", dest.mno_id.unwrap_or(dest.country))
                    }
                };
                skipped.push((r.seq, why));
                continue;
            };
            if body.trim().is_empty() {
                skipped.push((r.seq, "the personalised text is empty".to_owned()));
                continue;
            }
            let billed = match payer.billed(&quote) {
                Ok(billed) => billed,
                Err(why) => {
                    skipped.push((r.seq, why));
                    continue;
                }
            };
            total += quote.total;
            billed_total += billed.map_or(quote.total, |b| b.total);
            accepted.push(r);
            batch.seqs.push(r.seq);
            batch.timezones.push(
                CountryCode::parse(dest.country)
                    .map_or("UTC", |cc| cc.timezone())
                    .to_owned(),
            );
            batch.bodies.push(body);
            batch.encodings.push(encoding_name(encoding).to_owned());
            batch
                .parts
                .push(i32::try_from(parts).map_err(Error::internal)?);
            batch.rows.push(Uuid::now_v7(), quote, billed);
        }
        let rendered = started.elapsed();
        let reference = format!(
            "campaign:{}:{}",
            c.id,
            recipients.first().map_or(0, |r| r.seq)
        );
        if payer.agent().is_some() {
            // A sub-customer's batch is charged to its agent: admitted (the agent's credit and
            // the agent's limits for this customer) and reserved under the agent's credits lock
            // before the write, so its parallel batches queue for the whole batch.
            if let Some(reason) = self
                .admit_for_agent(
                    tx,
                    c,
                    &payer,
                    &reference,
                    total,
                    billed_total,
                    batch.rows.ids.len(),
                )
                .await?
            {
                self.pause(tx, c.id, c.account_id, &reason).await?;
                return Ok(Pass::Paused);
            }
        } else {
            // Judged first on what is committed, without a lock (a refusal pauses the campaign);
            // the credits row is locked only after the write, so parallel batches of one
            // account overlap in their writes and queue only for the reservation.
            if total > Decimal::ZERO
                && let Some(reason) = self.refusal(tx, scope, total).await?
            {
                self.pause(tx, c.id, c.account_id, &reason).await?;
                return Ok(Pass::Paused);
            }
        }
        let reserved = started.elapsed();
        if !urls.is_empty() {
            let contacts: Vec<Option<Uuid>> = accepted.iter().map(|r| r.contact_id).collect();
            let short = crate::links::dispatch::short_urls(
                &mut *tx,
                c.account_id,
                c.id,
                &self.link_domain,
                &urls,
                &batch.rows.ids,
                &contacts,
            )
            .await?;
            for ((body, r), links) in batch.bodies.iter_mut().zip(&accepted).zip(&short) {
                *body = template.render(|name| value_of(r, name), links);
            }
        }
        let written = if batch.rows.ids.is_empty() {
            0
        } else {
            let common = BatchCommon {
                account_id: c.account_id,
                campaign_id: c.id,
                sender_id,
                sender,
                priority: c.priority,
                quiet_hours: c.quiet_hours,
                reservation: (billed_total > Decimal::ZERO).then_some(reference.as_str()),
                billed_account_id: payer.agent(),
                at: now,
            };
            store::write_batch(&mut *tx, &common, &batch).await?
        };
        if written != batch.rows.ids.len() as i64 {
            return Err(Error::internal(
                "campaign recipients were dispatched concurrently; batch rolled back",
            ));
        }
        let (seqs, reasons): (Vec<i64>, Vec<String>) = skipped.into_iter().unzip();
        store::skip(&mut *tx, c.id, &seqs, &reasons).await?;
        if payer.agent().is_none() && total > Decimal::ZERO {
            self.reserve(tx, c, &reference, total, batch.rows.ids.len())
                .await?;
        }
        if !store::count_batch(&mut *tx, c.id, written, seqs.len() as i64, total).await? {
            return Err(Error::internal(
                "the campaign stopped sending during the batch; batch rolled back",
            ));
        }
        tracing::debug!(
            campaign_id = %c.id,
            messages = written,
            skipped = seqs.len(),
            cost = %total,
            read_ms = read.as_millis() as u64,
            render_ms = (rendered - read).as_millis() as u64,
            check_ms = (reserved - rendered).as_millis() as u64,
            write_reserve_ms = (started.elapsed() - reserved).as_millis() as u64,
            "campaign batch written"
        );
        Ok(Pass::Dispatched { messages: written })
    }

    /// Passes until `stop`: a pass that did something is followed at once by the next,
    /// otherwise it waits `poll_interval_ms`.
    pub async fn run(self, stop: CancellationToken) {
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(1));
        while !stop.is_cancelled() {
            let idle = match self.run_once().await {
                Ok(pass) => pass == Pass::Idle,
                Err(error) => {
                    tracing::warn!(%error, "campaign dispatch pass failed");
                    true
                }
            };
            if idle && !pause(poll, &stop).await {
                return;
            }
        }
    }
}

/// The `campaign_dispatcher` worker: [`LOOPS`] dispatch loops.
pub fn worker(state: &AppState, stop: CancellationToken) -> Worker {
    let dispatcher = Dispatcher::new(state);
    let loops: Vec<_> = (0..LOOPS)
        .map(|_| dispatcher.clone().run(stop.clone()))
        .collect();
    Worker::new("campaign_dispatcher", async move {
        futures::future::join_all(loops).await;
    })
}
