//! The one send gate: whether an organisation may send now. Every path that sends asks it —
//! the messages API and its Kannel / Africa's Talking adapters through [`ensure_can_send`], the
//! campaign dispatcher's claims through [`blocked`], the outbox publisher through
//! [`held_accounts`] — so that a suspension or a halt stops every path at once.
//!
//! An organisation may not send when it is suspended, when the agent it buys through is
//! suspended (an agent's suspension blocks all its sub-customers), when its agent deactivated
//! it, or while staff halt sending for it or for the whole platform (the kill switch,
//! [`crate::campaigns::halts`]). A halt holds work without refusing it (the API still accepts;
//! the messages wait in the outbox); a suspension or a deactivation refuses new sends with 403
//! and holds what was accepted before it. A sub-customer whose agent has no credit left is
//! refused with 402 ([`Block::AgentOutOfCredit`]) before anything is priced or reserved; the
//! dispatcher pauses its campaigns with the same reason (`crate::agents::charge`).

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::campaigns::halts::store::halted;
use crate::error::{Error, Result};

/// True when the account in column `$ACCOUNT` is suspended, deactivated by its agent, or buys
/// through a suspended agent.
const SUSPENDED: &str = "EXISTS (SELECT 1 FROM accounts ga
    LEFT JOIN accounts gp ON gp.id = ga.parent_agent_id
    WHERE ga.id = $ACCOUNT
      AND (ga.status = 'suspended' OR ga.deactivated_at IS NOT NULL OR gp.status = 'suspended'))";

/// The SQL condition (for a `WHERE … AND NOT {}`) that the organisation in `column` (e.g.
/// `k.account_id`) may not send now: suspended, its agent suspended, or halted.
pub fn blocked(column: &str) -> String {
    format!(
        "({} OR {})",
        SUSPENDED.replace("$ACCOUNT", column),
        halted(column)
    )
}

/// Why an organisation may not send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// The organisation is suspended by staff.
    Suspended,
    /// The agent the organisation buys through is suspended.
    AgentSuspended,
    /// The organisation's agent deactivated it.
    Deactivated,
    /// The agent the organisation buys through has no credit left (402, not 403).
    AgentOutOfCredit,
}

impl Block {
    /// The reason a refused send answers with.
    pub fn reason(self) -> &'static str {
        match self {
            Block::Suspended => "the organisation is suspended: sending is not allowed",
            Block::AgentSuspended => {
                "the organisation's agent is suspended: sending is not allowed"
            }
            Block::Deactivated => {
                "the organisation was deactivated by its agent: sending is not allowed"
            }
            Block::AgentOutOfCredit => {
                "the organisation's agent has no credit left: sending is refused until the agent tops up"
            }
        }
    }
}

/// Whether `account_id` is barred from sending (a halt does not bar: it holds).
pub async fn block_of(conn: impl PgExecutor<'_>, account_id: Uuid) -> Result<Option<Block>> {
    let row: Option<(bool, bool, bool, bool)> = sqlx::query_as(
        "SELECT a.status = 'suspended', coalesce(p.status = 'suspended', false),
                a.deactivated_at IS NOT NULL,
                coalesce((SELECT c.balance + CASE WHEN c.billing_mode = 'postpaid'
                                                  THEN c.credit_limit ELSE 0 END <= 0
                          FROM credits c WHERE c.account_id = p.id), false)
         FROM accounts a LEFT JOIN accounts p ON p.id = a.parent_agent_id
         WHERE a.id = $1",
    )
    .bind(account_id)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some((true, _, _, _)) => Some(Block::Suspended),
        Some((false, true, _, _)) => Some(Block::AgentSuspended),
        Some((false, false, true, _)) => Some(Block::Deactivated),
        Some((false, false, false, true)) => Some(Block::AgentOutOfCredit),
        _ => None,
    })
}

/// Refuses a send of `account_id` that may not send now, naming the reason: 403 when it (or
/// its agent) is suspended or it is deactivated, 402 when its agent has no credit left.
pub async fn ensure_can_send(conn: impl PgExecutor<'_>, account_id: Uuid) -> Result<()> {
    match block_of(conn, account_id).await? {
        Some(Block::AgentOutOfCredit) => {
            Err(Error::InsufficientCredit(Block::AgentOutOfCredit.reason()))
        }
        Some(block) => Err(Error::Forbidden(block.reason())),
        None => Ok(()),
    }
}

/// What the outbox publisher must hold this pass: whether the whole platform is halted, and
/// the organisations that are halted, suspended, deactivated, or buy through a suspended agent.
pub async fn held_accounts(conn: impl PgExecutor<'_>) -> Result<(bool, Vec<Uuid>)> {
    let rows: Vec<Option<Uuid>> = sqlx::query_scalar(
        "SELECT account_id FROM sending_halts WHERE lifted_at IS NULL
         UNION
         SELECT id FROM accounts WHERE status = 'suspended'
         UNION
         SELECT id FROM accounts WHERE deactivated_at IS NOT NULL
         UNION
         SELECT c.id FROM accounts c JOIN accounts p ON p.id = c.parent_agent_id
         WHERE p.status = 'suspended'",
    )
    .fetch_all(conn)
    .await?;
    let platform = rows.iter().any(Option::is_none);
    Ok((platform, rows.into_iter().flatten().collect()))
}
