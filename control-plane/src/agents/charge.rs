//! Who pays for a send, and how much: the one rule the messages API and the campaign
//! dispatcher share.
//!
//! A direct customer pays its own price from its own credits. A sub-customer (an
//! `agent_customer` account) is priced at its retail price (the pricing chain of its own
//! account: the rate its agent set for it, the agent's retail list, the platform list) — that
//! is the message's `cost`, what the sub-customer sees and its budgets and limits count — but
//! the credits reserved and settled are its **agent's**, at the agent's own price (the
//! pricing chain of the agent account: its `agent_wholesale` list, else the platform list),
//! kept as the message's `billed_cost`. Both are decided here in the caller's transaction,
//! before anything is reserved: [`Payer::admit`] locks the payer's credits (the lock the
//! reservation takes), so concurrent sends of one agent's customers are judged one after the
//! other against the same balance and the same limits.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::gate::Block;
use crate::agents::limits;
use crate::credits::ledger;
use crate::credits::money::to_amount;
use crate::error::{Error, Result};
use crate::identity::scope::AccountScope;
use crate::pricing::quote::{Pricer, chain_of};
use crate::pricing::types::Quote;

/// The account that pays for an organisation's sends, with the agent's prices when it is a
/// sub-customer's agent.
#[derive(Debug, Clone)]
pub struct Payer {
    /// The account whose credits are reserved: the sender itself, or its agent.
    pub account_id: Uuid,
    /// The agent's own price list, for a sub-customer.
    wholesale: Option<Pricer>,
}

/// The agent's price of one message: rate per part and total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Billed {
    /// Rate per part.
    pub rate: Decimal,
    /// Rate × parts, to the ledger's 4 places.
    pub total: Decimal,
}

/// Why a send may not be reserved now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A direct customer cannot pay (the figures are its own).
    Shortfall {
        /// The cost.
        needed: Decimal,
        /// What it can still reserve.
        available: Decimal,
    },
    /// The sub-customer's agent has no credit left.
    AgentExhausted,
    /// The agent's credit does not cover this send (no figure: they are the agent's).
    AgentShort,
    /// A limit the agent set for the sub-customer would be crossed.
    Limit(limits::Hit),
}

impl Refusal {
    /// The reason, for a paused campaign.
    pub fn reason(&self) -> String {
        match self {
            Refusal::Shortfall { needed, available } => format!(
                "insufficient credit: the next batch costs {needed} and {available} is available"
            ),
            Refusal::AgentExhausted => Block::AgentOutOfCredit.reason().to_owned(),
            Refusal::AgentShort => AGENT_SHORT.to_owned(),
            Refusal::Limit(hit) => hit.reason(),
        }
    }

    /// The answer of a refused API send: 402 naming the reason.
    pub fn error(self) -> Error {
        match self {
            Refusal::Shortfall { needed, available } => {
                Error::CreditShortfall { needed, available }
            }
            Refusal::AgentExhausted => Error::InsufficientCredit(Block::AgentOutOfCredit.reason()),
            Refusal::AgentShort => Error::InsufficientCredit(AGENT_SHORT),
            Refusal::Limit(hit) => Error::InsufficientCredit(hit.kind.refusal()),
        }
    }
}

const AGENT_SHORT: &str =
    "the organisation's agent does not have enough credit for this send: ask the agent to top up";

impl Payer {
    /// The payer of `scope`'s sends, with the agent's rates in force at `at` for `countries`
    /// (one query) when `scope` is a sub-customer.
    pub async fn load(
        conn: &mut PgConnection,
        scope: AccountScope,
        countries: &[String],
        at: OffsetDateTime,
    ) -> Result<Payer> {
        let Some(agent) = crate::agents::store::agent_of(&mut *conn, scope.id()).await? else {
            return Ok(Payer {
                account_id: scope.id(),
                wholesale: None,
            });
        };
        let chain = chain_of(&mut *conn, AccountScope::trusted(agent)).await?;
        let pricer = Pricer::load(conn, &chain, Some(countries), at).await?;
        Ok(Payer {
            account_id: agent,
            wholesale: Some(pricer),
        })
    }

    /// The agent paying, when the sender is a sub-customer.
    pub fn agent(&self) -> Option<Uuid> {
        self.wholesale.as_ref().map(|_| self.account_id)
    }

    /// What the payer is charged for a message priced `quote`: `Ok(None)` for a direct
    /// customer (it pays `quote.total`), the agent's price for a sub-customer, `Err` with the
    /// no-rate reason when the agent has no rate for the destination (worded like a missing
    /// retail rate, so the agent's price list is not revealed).
    pub fn billed(&self, quote: &Quote) -> std::result::Result<Option<Billed>, String> {
        let Some(pricer) = &self.wholesale else {
            return Ok(None);
        };
        let rate = pricer
            .rate_for(&quote.country, quote.mno_id.as_deref())
            .ok_or_else(|| {
                format!(
                    "no rate is set for {}",
                    quote.mno_id.as_deref().unwrap_or(&quote.country)
                )
            })?;
        Ok(Some(Billed {
            rate: rate.rate,
            total: to_amount(rate.rate * Decimal::from(quote.segments)),
        }))
    }

    /// Locks the payer's credits and decides whether `billed` (what the payer reserves) can
    /// be held for a send of `scope` whose own cost is `cost`: `None` when it can.
    pub async fn admit(
        &self,
        conn: &mut PgConnection,
        scope: AccountScope,
        billed: Decimal,
        cost: Decimal,
    ) -> Result<Option<Refusal>> {
        let locked = ledger::lock(&mut *conn, self.account_id).await?;
        let available = locked.available_at(locked.balance);
        if self.wholesale.is_none() {
            return Ok((billed > available).then_some(Refusal::Shortfall {
                needed: billed,
                available,
            }));
        }
        if available <= Decimal::ZERO {
            return Ok(Some(Refusal::AgentExhausted));
        }
        if billed > available {
            return Ok(Some(Refusal::AgentShort));
        }
        Ok(limits::check(conn, scope, cost).await?.map(Refusal::Limit))
    }
}
