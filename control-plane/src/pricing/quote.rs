//! The price quote used everywhere: number → country and operator (protocol crate's
//! `Msisdn::parse` and `mno::lookup`) → the rate in force for the account → rate × segments
//! (protocol crate's `analysis::analyze`, the same count the splitter uses).
//!
//! [`quote`] prices one number, [`quote_many`] many (campaigns) with one rate query for all of
//! them; both take `at` so callers (and tests) choose the moment a future-dated rate applies.

use crate::http::reply::found;
use crate::identity::scope::AccountScope;
use std::collections::{BTreeSet, HashMap};

use rust_decimal::Decimal;
use semalink_protocol::analysis::{self, Encoding};
use semalink_protocol::mno;
use semalink_protocol::msisdn::Msisdn;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::credits::money::to_amount;
use crate::error::{Error, Result};
use crate::pricing::store::{self, Chain};
use crate::pricing::types::{EffectiveRate, Quote, Rate, RateScope};

/// What is being sent: a text (segments counted) or a known segment count.
#[derive(Debug, Clone, Copy)]
pub enum Content<'a> {
    /// The message text.
    Text(&'a str),
    /// Segments per message.
    Segments(u32),
}

/// A number resolved to its country and operator.
#[derive(Debug, Clone)]
pub struct Destination {
    /// The number.
    pub msisdn: Msisdn,
    /// ISO 3166-1 alpha-2 country.
    pub country: &'static str,
    /// Operator id, when the table knows one.
    pub mno_id: Option<&'static str>,
    /// Operator name.
    pub operator: Option<&'static str>,
}

impl Destination {
    /// Resolves a parsed number (numbers outside the operator table keep their plan's country).
    pub fn of(msisdn: Msisdn) -> Destination {
        let found = mno::lookup(&msisdn);
        let operator = found.and_then(|d| d.operator());
        Destination {
            country: found.map_or(msisdn.country(), |d| d.country()),
            mno_id: operator.map(|o| o.id.as_str()),
            operator: operator.map(|o| o.name),
            msisdn,
        }
    }

    /// Parses what a customer typed; 422 on `field` for a bad or non-mobile number.
    pub fn parse(field: &str, input: &str, default_country: &str) -> Result<Destination> {
        let msisdn = Msisdn::parse(input, Some(default_country)).map_err(|e| {
            Error::Validation(vec![crate::error::FieldError::new(field, e.to_string())])
        })?;
        if !msisdn.line_type().can_receive_sms() {
            return Err(Error::field(field, "is not a mobile number"));
        }
        Ok(Destination::of(msisdn))
    }
}

/// The rates in force for one account, resolved by precedence.
#[derive(Debug, Clone)]
pub struct Pricer {
    order: Vec<(RateScope, Option<Uuid>)>,
    rows: HashMap<(RateScope, Option<Uuid>, String, Option<String>), Rate>,
}

impl Pricer {
    /// Loads the rates in force at `at` on `chain`'s price lists for `countries` (all when
    /// `None`) — one query.
    pub async fn load(
        conn: &mut PgConnection,
        chain: &Chain,
        countries: Option<&[String]>,
        at: OffsetDateTime,
    ) -> Result<Pricer> {
        let rows = store::in_force(conn, Some(chain), countries, at).await?;
        Ok(Pricer::new(chain.order(), rows))
    }

    /// A pricer over given rows.
    pub fn new(order: Vec<(RateScope, Option<Uuid>)>, rows: Vec<Rate>) -> Pricer {
        let rows = rows
            .into_iter()
            .map(|r| {
                (
                    (r.scope, r.account_id, r.country.clone(), r.mno_id.clone()),
                    r,
                )
            })
            .collect();
        Pricer { order, rows }
    }

    /// The rate for a destination: the first price list (in precedence order) with a rate for
    /// the country; within it the operator's own rate beats the country default.
    pub fn rate_for(&self, country: &str, mno_id: Option<&str>) -> Option<&Rate> {
        self.order.iter().find_map(|(scope, account)| {
            let key =
                |m: Option<&str>| (*scope, *account, country.to_owned(), m.map(str::to_owned));
            mno_id
                .and_then(|m| self.rows.get(&key(Some(m))))
                .or_else(|| self.rows.get(&key(None)))
        })
    }

    /// Every destination key any list has a rate for, priced by precedence.
    pub fn effective(&self) -> Vec<EffectiveRate> {
        let keys: BTreeSet<(&str, Option<&str>)> = self
            .rows
            .keys()
            .map(|(_, _, c, m)| (c.as_str(), m.as_deref()))
            .collect();
        keys.into_iter()
            .filter_map(|(country, mno_id)| {
                let rate = self.rate_for(country, mno_id)?;
                Some(EffectiveRate {
                    country: country.to_owned(),
                    mno_id: mno_id.map(str::to_owned),
                    operator: mno_id.and_then(operator_name),
                    rate: rate.rate,
                    scope: rate.scope,
                    operator_specific: rate.mno_id.is_some(),
                    effective_from: rate.effective_from,
                })
            })
            .collect()
    }

    /// Prices `segments` to `dest`; 422 on `field` when no list has a rate.
    pub fn price(&self, field: &str, dest: &Destination, segments: u32) -> Result<Quote> {
        let rate = self.rate_for(dest.country, dest.mno_id).ok_or_else(|| {
            Error::Validation(vec![crate::error::FieldError::new(
                field,
                format!("no rate is set for {}", dest.mno_id.unwrap_or(dest.country)),
            )])
        })?;
        Ok(Quote {
            to: dest.msisdn.as_str().to_owned(),
            country: dest.country.to_owned(),
            mno_id: dest.mno_id.map(str::to_owned),
            operator: dest.operator.map(str::to_owned),
            encoding: None,
            characters: None,
            segments,
            rate: rate.rate,
            total: to_amount(rate.rate * Decimal::from(segments)),
            scope: rate.scope,
            effective_from: rate.effective_from,
        })
    }
}

/// Display name of an operator id from the protocol crate's table.
pub fn operator_name(mno_id: &str) -> Option<String> {
    mno::MnoId::parse(mno_id)
        .ok()
        .map(|id| id.operator().name.to_owned())
}

/// Segments of `content`, with the text's encoding and length when there is a text.
fn measure(content: Content<'_>) -> Result<(u32, Option<&'static str>, Option<usize>)> {
    match content {
        Content::Segments(n) if (1..=255).contains(&n) => Ok((n, None, None)),
        Content::Segments(_) => Err(Error::field("segments", "must be between 1 and 255")),
        Content::Text(text) => {
            let a = analysis::analyze(text);
            let encoding = match a.encoding {
                Encoding::Gsm7 => "gsm7",
                Encoding::Ucs2 => "ucs2",
            };
            let segments = u32::try_from(a.segments)
                .ok()
                .filter(|n| *n <= 255)
                .ok_or_else(|| Error::field("text", "needs more than 255 segments"))?;
            Ok((segments, Some(encoding), Some(a.characters)))
        }
    }
}

/// The pricing chain of an account; 404 for an unknown account.
pub(crate) async fn chain_of(conn: &mut PgConnection, scope: AccountScope) -> Result<Chain> {
    found(store::chain(&mut *conn, scope).await?)
}

/// Prices one message from `account_id` to `to` at `at`. 422 on `to` for a bad number or a
/// destination without a rate, on `text`/`segments` for bad content; 404 for an unknown
/// account.
pub async fn quote(
    conn: &mut PgConnection,
    scope: AccountScope,
    to: &str,
    content: Content<'_>,
    at: OffsetDateTime,
) -> Result<Quote> {
    let chain = chain_of(conn, scope).await?;
    let dest = Destination::parse("to", to, &chain.country)?;
    let (segments, encoding, characters) = measure(content)?;
    let pricer = Pricer::load(conn, &chain, Some(&[dest.country.to_owned()]), at).await?;
    let mut quote = pricer.price("to", &dest, segments)?;
    quote.encoding = encoding.map(str::to_owned);
    quote.characters = characters;
    Ok(quote)
}

/// The prices of one message to many numbers.
#[derive(Debug, Clone)]
pub struct BulkQuote {
    /// One entry per number, in input order: its quote, or why it cannot be priced.
    pub lines: Vec<Result<Quote, String>>,
    /// Sum of the priced lines.
    pub total: Decimal,
    /// Segments per message.
    pub segments: u32,
}

impl BulkQuote {
    /// The countries of the priced lines, each once.
    pub fn countries(&self) -> Vec<String> {
        let countries: BTreeSet<String> = self
            .lines
            .iter()
            .filter_map(|l| l.as_ref().ok().map(|q| q.country.clone()))
            .collect();
        countries.into_iter().collect()
    }
}

/// Prices one message from `account_id` to each of `numbers` at `at`, with one rate query for
/// all of them (campaigns). Unpriceable numbers are reported per line, not as an error.
pub async fn quote_many(
    conn: &mut PgConnection,
    scope: AccountScope,
    numbers: &[Msisdn],
    content: Content<'_>,
    at: OffsetDateTime,
) -> Result<BulkQuote> {
    let chain = chain_of(conn, scope).await?;
    let (segments, encoding, characters) = measure(content)?;
    let dests: Vec<Destination> = numbers.iter().cloned().map(Destination::of).collect();
    let countries: BTreeSet<String> = dests.iter().map(|d| d.country.to_owned()).collect();
    let countries: Vec<String> = countries.into_iter().collect();
    let pricer = Pricer::load(conn, &chain, Some(&countries), at).await?;
    let mut total = Decimal::ZERO;
    let lines = dests
        .iter()
        .map(|dest| match pricer.price("to", dest, segments) {
            Ok(mut q) => {
                total += q.total;
                q.encoding = encoding.map(str::to_owned);
                q.characters = characters;
                Ok(q)
            }
            Err(_) => Err(format!(
                "no rate is set for {}",
                dest.mno_id.unwrap_or(dest.country)
            )),
        })
        .collect();
    Ok(BulkQuote {
        lines,
        total,
        segments,
    })
}

/// The platform list's rates in force at `at` (for `country`, or every country), by
/// destination: the public pricing table and the staff margin view.
pub async fn platform_rates(
    conn: impl PgExecutor<'_>,
    country: Option<&str>,
    at: OffsetDateTime,
) -> Result<Vec<EffectiveRate>> {
    let countries = country.map(|c| vec![c.to_owned()]);
    let rows = store::in_force(conn, None, countries.as_deref(), at).await?;
    Ok(Pricer::new(vec![(RateScope::Platform, None)], rows).effective())
}

/// Every rate in force for `account_id` at `at`, by destination.
pub async fn effective_rates(
    conn: &mut PgConnection,
    scope: AccountScope,
    country: Option<&str>,
    at: OffsetDateTime,
) -> Result<Vec<EffectiveRate>> {
    let chain = chain_of(conn, scope).await?;
    let countries = country.map(|c| vec![c.to_owned()]);
    let pricer = Pricer::load(conn, &chain, countries.as_deref(), at).await?;
    Ok(pricer.effective())
}
