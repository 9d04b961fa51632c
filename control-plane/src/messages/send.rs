//! Sending one text to many recipients, the service behind `POST /v1/messages` (and the
//! compatibility adapters): every recipient is normalised with the protocol crate (E.164,
//! operator), excluded when opted out or suppressed, de-duplicated, priced by operator and
//! segment count ([`quote::quote_many`], one rate query), the whole request's cost is reserved
//! once on the ledger, and the messages, their `submitted` events and their outbox rows are
//! written in one statement — all on the caller's transaction, so a failure writes nothing.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use semalink_protocol::msisdn::Msisdn;
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::agents::charge::{Billed, Payer};
use crate::contacts::store as contacts;
use crate::credits::ledger::{self, Entry};
use crate::credits::types::Actor;
use crate::error::{Error, FieldError, Result};
use crate::identity::principal::ApiKeyAuth;
use crate::identity::scope::AccountScope;
use crate::messages::store::{self, Common, NewMessages};
use crate::messages::types::{
    MessageStatus, RecipientError, RecipientResult, SendPlan, SendResult,
};
use crate::pricing::quote::{self, Content, Destination};
use crate::pricing::types::Quote;
use crate::sender_ids::approved_sender;

/// Who is sending.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    /// The organisation.
    pub scope: AccountScope,
    /// The API key, when a key sent it.
    pub api_key_id: Option<Uuid>,
    /// The user, when a user sent it.
    pub user_id: Option<Uuid>,
}

impl Origin {
    /// A send by the API key `key`, for its organisation.
    pub fn of_key(key: &ApiKeyAuth) -> Origin {
        Origin {
            scope: key.scope(),
            api_key_id: Some(key.key_id),
            user_id: None,
        }
    }
}

impl NewMessages {
    /// Adds message `id` as `quote` priced it (and, for a sub-customer's message, as its agent
    /// `billed` it), with a new id for its `submitted` event.
    pub fn push(&mut self, id: Uuid, quote: Quote, billed: Option<Billed>) {
        self.ids.push(id);
        self.event_ids.push(Uuid::now_v7());
        self.destinations.push(quote.to);
        self.countries.push(quote.country);
        self.mno_ids.push(quote.mno_id);
        self.unit_prices.push(quote.rate);
        self.costs.push(quote.total);
        self.billed_unit_prices.push(billed.map(|b| b.rate));
        self.billed_costs.push(billed.map(|b| b.total));
    }
}

/// One recipient on its way through the checks.
struct Line {
    to: String,
    outcome: std::result::Result<Msisdn, (RecipientError, String)>,
}

fn refused(
    error: RecipientError,
    detail: impl Into<String>,
) -> std::result::Result<Msisdn, (RecipientError, String)> {
    Err((error, detail.into()))
}

/// Parses and de-duplicates the recipients (numbers in national form use `country`).
fn normalise(to: &[String], country: &str) -> Vec<Line> {
    let mut seen = HashSet::with_capacity(to.len());
    to.iter()
        .map(|input| {
            let outcome = match Destination::parse("to", input, country) {
                Err(Error::Validation(e)) => refused(
                    RecipientError::InvalidNumber,
                    e.into_iter().next().map_or_else(String::new, |f| f.message),
                ),
                Err(_) => refused(RecipientError::InvalidNumber, "is not a phone number"),
                Ok(d) if !seen.insert(d.msisdn.as_str().to_owned()) => {
                    refused(RecipientError::Duplicate, "appears earlier in this request")
                }
                Ok(d) => Ok(d.msisdn),
            };
            Line {
                to: input.clone(),
                outcome,
            }
        })
        .collect()
}

/// Marks the opted-out and suppressed numbers.
async fn exclude(conn: &mut PgConnection, scope: AccountScope, lines: &mut [Line]) -> Result<()> {
    let phones: Vec<String> = lines
        .iter()
        .filter_map(|l| l.outcome.as_ref().ok().map(|m| m.as_str().to_owned()))
        .collect();
    if phones.is_empty() {
        return Ok(());
    }
    let excluded: HashMap<String, bool> = store::exclusions(&mut *conn, scope, &phones)
        .await?
        .into_iter()
        .collect();
    for line in lines.iter_mut() {
        let hit = match &line.outcome {
            Ok(m) => excluded.get(m.as_str()).copied(),
            Err(_) => None,
        };
        line.outcome = match hit {
            Some(true) => refused(RecipientError::OptedOut, "the contact opted out"),
            Some(false) => refused(RecipientError::Suppressed, "the number is suppressed"),
            None => continue,
        };
    }
    Ok(())
}

/// Reserves `billed` on the payer's credits for the request under `reference` (the sender's
/// own cost `total`, or its agent's price for a sub-customer); 402 naming the reason when it
/// cannot (the lock taken here is the one the reservation takes, so the figure is the one the
/// ledger decides on).
#[allow(clippy::too_many_arguments)]
async fn reserve(
    conn: &mut PgConnection,
    origin: &Origin,
    payer: &Payer,
    reference: &str,
    billed: Decimal,
    total: Decimal,
    accepted: usize,
    base_url: &str,
) -> Result<()> {
    if let Some(refusal) = payer.admit(&mut *conn, origin.scope, billed, total).await? {
        return Err(refusal.error());
    }
    let entry = Entry {
        account_id: payer.account_id,
        reference,
        actor: match origin.user_id {
            Some(user) => Actor::User(user),
            None => Actor::System("messages_api"),
        },
        reason: None,
        metadata: json!({"messages": accepted, "api_key_id": origin.api_key_id,
                         "customer_id": payer.agent().map(|_| origin.scope.id())}),
        base_url,
    };
    ledger::reserve(conn, &entry, billed).await?;
    Ok(())
}

/// Sends `plan` for `origin` at `now` on the caller's transaction. Recipients that cannot be
/// sent to are answered per recipient; 422 when none can (or the sender ID is not usable),
/// 402 when the account cannot pay for the ones that can.
pub async fn send(
    conn: &mut PgConnection,
    origin: Origin,
    plan: &SendPlan,
    now: OffsetDateTime,
    base_url: &str,
) -> Result<SendResult> {
    let scope = origin.scope;
    crate::accounts::gate::ensure_can_send(&mut *conn, scope.id()).await?;
    let sender = approved_sender(&mut *conn, scope, plan.from.as_deref())
        .await?
        .ok_or_else(|| match plan.from {
            Some(_) => Error::field("from", "is not an approved sender ID of this organisation"),
            None => Error::field(
                "from",
                "the organisation has no default sender ID: name an approved one",
            ),
        })?;
    let country = contacts::account_country(&mut *conn, scope).await?;
    let mut lines = normalise(&plan.to, &country);
    exclude(conn, scope, &mut lines).await?;
    let numbers: Vec<Msisdn> = lines
        .iter()
        .filter_map(|l| l.outcome.as_ref().ok().cloned())
        .collect();
    let quotes =
        quote::quote_many(&mut *conn, scope, &numbers, Content::Text(&plan.text), now).await?;
    let payer = Payer::load(&mut *conn, scope, &quotes.countries(), now).await?;
    let mut quotes = quotes.lines.into_iter();
    let mut rows = NewMessages::default();
    let mut results = Vec::with_capacity(lines.len());
    let (mut total, mut billed_total, mut encoding) = (Decimal::ZERO, Decimal::ZERO, None);
    for line in lines {
        let priced = match line.outcome {
            Ok(_) => quotes
                .next()
                .unwrap_or_else(|| Err("not priced".into()))
                .and_then(|q| payer.billed(&q).map(|b| (q, b)))
                .map_err(|why| (RecipientError::NoRate, why)),
            Err(e) => Err(e),
        };
        results.push(match priced {
            Ok((q, billed)) => {
                let id = Uuid::now_v7();
                total += q.total;
                billed_total += billed.map_or(q.total, |b| b.total);
                encoding = encoding.or(q.encoding.clone());
                let result = RecipientResult {
                    to: line.to,
                    destination: Some(q.to.clone()),
                    message_id: Some(id),
                    status: Some(MessageStatus::Submitted),
                    parts: Some(q.segments),
                    cost: Some(q.total),
                    ..RecipientResult::default()
                };
                rows.push(id, q, billed);
                result
            }
            Err((error, detail)) => RecipientResult {
                to: line.to,
                error: Some(error),
                error_detail: Some(detail),
                ..RecipientResult::default()
            },
        });
    }
    let accepted = rows.ids.len();
    if accepted == 0 {
        return Err(Error::Validation(
            results
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let code = r.error.map_or("invalid", RecipientError::as_str);
                    let detail = r.error_detail.as_deref().unwrap_or("");
                    FieldError::new(format!("to[{i}]"), format!("{code}: {detail}"))
                })
                .collect(),
        ));
    }
    let encoding = encoding.unwrap_or_else(|| "gsm7".into());
    let reference = format!("messages:{}", rows.ids[0]);
    let reservation = (billed_total > Decimal::ZERO).then_some(reference.as_str());
    match reservation {
        Some(reference) => {
            let billed = billed_total;
            reserve(
                conn, &origin, &payer, reference, billed, total, accepted, base_url,
            )
            .await?;
        }
        // Nothing to hold, but the limits an agent set still count the retail cost.
        None if payer.agent().is_some() && total > Decimal::ZERO => {
            if let Some(refusal) = payer.admit(&mut *conn, scope, billed_total, total).await? {
                return Err(refusal.error());
            }
        }
        None => {}
    }
    let common = Common {
        scope,
        campaign_id: None,
        api_key_id: origin.api_key_id,
        user_id: origin.user_id,
        client_reference: plan.client_reference.as_ref().map(|r| r.as_str()),
        sender_id: sender.id,
        sender: &sender.name,
        body: &plan.text,
        encoding: &encoding,
        parts: i32::try_from(quotes_parts(&results)).map_err(Error::internal)?,
        priority: plan.priority,
        send_at: plan.send_at,
        expires_at: plan.expires_at,
        reservation,
        billed_account_id: payer.agent(),
    };
    store::insert(conn, &common, &rows).await?;
    Ok(SendResult {
        accepted,
        rejected: results.len() - accepted,
        from: sender.name.clone(),
        encoding,
        parts: quotes_parts(&results),
        total_cost: total,
        recipients: results,
    })
}

/// [`send`] on a transaction of its own, waking the publisher once it committed (the
/// adapters; the messages API interleaves its Idempotency-Key claim), with a per-message
/// `callback` (an adapter's dlr-url or callback URL) remembered for every accepted message in
/// the same transaction.
pub async fn send_now_with(
    state: &crate::state::AppState,
    origin: Origin,
    plan: &SendPlan,
    callback: Option<&crate::webhooks::callbacks::Callback>,
) -> Result<SendResult> {
    let mut tx = state.pool.begin().await?;
    let now = OffsetDateTime::now_utc();
    let result = send(
        &mut tx,
        origin,
        plan,
        now,
        &state.config.server.public_base_url,
    )
    .await?;
    if let Some(callback) = callback {
        let ids: Vec<Uuid> = result
            .recipients
            .iter()
            .filter_map(|r| r.message_id)
            .collect();
        crate::webhooks::callbacks::store::attach(&mut tx, origin.scope.id(), &ids, callback)
            .await?;
    }
    tx.commit().await?;
    state.outbox_wake.notify_one();
    Ok(result)
}

/// Parts per message (one text, so every accepted recipient has the same count).
fn quotes_parts(results: &[RecipientResult]) -> u32 {
    results.iter().find_map(|r| r.parts).unwrap_or(1)
}
