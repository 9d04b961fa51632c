//! The send limits an agent sets for a sub-customer — a daily cap, a monthly cap and a credit
//! line, all in the sub-customer's retail money — and the check the send path and the
//! dispatcher make before reserving ([`check`], called by [`crate::agents::charge`] under the
//! agent's credits lock). Spend is measured by the budgets' own rule
//! ([`crate::campaigns::budget::store`]): the cost of the messages written in the period, less
//! those cancelled, failed, rejected or expired.

use rust_decimal::Decimal;
use sqlx::PgConnection;

use crate::agents::store;
use crate::agents::types::LimitStanding;
use crate::campaigns::budget::store::{self as budget, Caps};
use crate::error::Result;
use crate::identity::scope::AccountScope;

/// Which limit a send would cross.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitKind {
    /// The daily cap.
    Daily,
    /// The monthly cap.
    Monthly,
    /// The credit line.
    CreditLine,
}

impl HitKind {
    /// The reason a refused API send answers with (402).
    pub fn refusal(self) -> &'static str {
        match self {
            HitKind::Daily => "the daily sending limit set by the organisation's agent is reached",
            HitKind::Monthly => {
                "the monthly sending limit set by the organisation's agent is reached"
            }
            HitKind::CreditLine => "the credit line set by the organisation's agent is used up",
        }
    }
}

/// A limit a send would cross, with the figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Which one.
    pub kind: HitKind,
    /// The limit.
    pub cap: Decimal,
    /// Spent against it so far.
    pub spent: Decimal,
    /// What the send would add.
    pub extra: Decimal,
}

impl Hit {
    /// The reason with its figures (a paused campaign's reason; all in the customer's money).
    pub fn reason(&self) -> String {
        format!(
            "{}: {} of {} spent, this send costs {}",
            self.kind.refusal(),
            self.spent,
            self.cap,
            self.extra
        )
    }
}

/// The customer's limits and its spend against them.
pub async fn standing(conn: &mut PgConnection, customer: AccountScope) -> Result<LimitStanding> {
    let s = budget::standing_against(&mut *conn, customer, Caps::Agent).await?;
    let line = store::credit_line(&mut *conn, customer).await?;
    let used = match line {
        Some((_, since)) => budget::spent_since(&mut *conn, customer, since).await?,
        None => Decimal::ZERO,
    };
    Ok(LimitStanding {
        daily_limit: s.daily_limit,
        monthly_limit: s.monthly_limit,
        credit_line: line.map(|(l, _)| l),
        credit_line_since: line.map(|(_, since)| since),
        spent_today: s.spent_today,
        spent_this_month: s.spent_this_month,
        credit_line_used: used,
        timezone: s.timezone,
    })
}

/// The limit spending `extra` more now would cross; `None` when it fits or none is set.
pub async fn check(
    conn: &mut PgConnection,
    customer: AccountScope,
    extra: Decimal,
) -> Result<Option<Hit>> {
    if !store::limited(&mut *conn, customer).await? {
        return Ok(None);
    }
    let s = standing(conn, customer).await?;
    let hit = |kind, cap: Option<Decimal>, spent: Decimal| {
        cap.filter(|cap| spent + extra > *cap).map(|cap| Hit {
            kind,
            cap,
            spent,
            extra,
        })
    };
    Ok(hit(HitKind::Daily, s.daily_limit, s.spent_today)
        .or_else(|| hit(HitKind::Monthly, s.monthly_limit, s.spent_this_month))
        .or_else(|| hit(HitKind::CreditLine, s.credit_line, s.credit_line_used)))
}
