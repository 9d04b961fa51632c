//! Login throttling, shared by customer and staff logins (password and second factor).
//!
//! Failures are counted per (email as typed, client IP) and per email across every IP, in
//! `login_throttle`. Keyed by the typed address rather than by user, unknown addresses are
//! throttled exactly like real ones, so the answers reveal nothing about which exist.
//!
//! * One (email, IP) pair: after `threshold` failures each further one blocks the pair for a
//!   growing delay (30 s, 60 s, 120 s, … up to `lock_secs`). Other IPs are not affected, so an
//!   attacker cannot lock a user out of their own account from elsewhere.
//! * The email across every IP: after `account_threshold` failures within `lock_secs` the
//!   address is blocked for `lock_secs` from everywhere (an attack from many IPs), and the
//!   user (if there is one) gets an email saying so.
//!
//! While blocked no password is checked; the answer is 423 with `Retry-After`.

use std::time::Duration;

use sqlx::{PgExecutor, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::email::{Template, outbox};
use crate::error::{Error, Result};
use crate::worker::{Worker, pause};

/// Which table the principal lives in. Each variant selects fixed SQL (no string building).
#[derive(Debug, Clone, Copy)]
pub enum Table {
    /// `users`.
    Users,
    /// `admin_staff`.
    Staff,
}

impl Table {
    fn scope(self) -> &'static str {
        match self {
            Table::Users => "user",
            Table::Staff => "staff",
        }
    }
}

/// Throttling policy.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Free failures per (email, IP) before delays start.
    pub threshold: i32,
    /// Longest delay, the account-wide lock, and the window failures are counted in.
    pub lock_secs: i64,
    /// Failures of one email across every IP that lock it everywhere.
    pub account_threshold: i32,
}

/// First delay once a pair is over its threshold; each further failure doubles it.
const FIRST_DELAY_SECS: i64 = 30;

/// The `ip` of the row that counts an email's failures across every IP.
const EVERY_IP: &str = "*";

/// One login attempt: who it claims to be and where it comes from.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// Customer or staff login.
    pub table: Table,
    /// The email as typed.
    pub email: &'a str,
    /// Client IP (`None` when unknown).
    pub ip: Option<&'a str>,
    /// The User-Agent header, kept in the login history.
    pub user_agent: Option<&'a str>,
}

impl Attempt<'_> {
    fn key(&self) -> String {
        self.email.trim().to_lowercase()
    }

    fn ip(&self) -> &str {
        self.ip.unwrap_or("unknown")
    }
}

/// Delay of a pair after its `failures`-th failure (none up to the threshold).
fn pair_delay_secs(failures: i32, policy: Policy) -> Option<i64> {
    let over = failures - policy.threshold;
    (over >= 0).then(|| {
        let factor = 1i64.checked_shl(over.min(30) as u32).unwrap_or(i64::MAX);
        FIRST_DELAY_SECS
            .saturating_mul(factor)
            .min(policy.lock_secs)
    })
}

/// Fails with `Locked` while the attempt's pair or its email is blocked.
pub async fn ensure_unlocked(pool: &PgPool, attempt: &Attempt<'_>) -> Result<()> {
    let left: Option<i64> = sqlx::query_scalar(
        "SELECT CEIL(EXTRACT(EPOCH FROM max(blocked_until) - now()))::bigint
           FROM login_throttle
          WHERE scope = $1 AND email = $2 AND ip IN ($3, $4) AND blocked_until > now()",
    )
    .bind(attempt.table.scope())
    .bind(attempt.key())
    .bind(attempt.ip())
    .bind(EVERY_IP)
    .fetch_one(pool)
    .await?;
    match left {
        Some(secs) if secs > 0 => Err(Error::Locked {
            retry_after_secs: secs.unsigned_abs(),
        }),
        _ => Ok(()),
    }
}

/// Counts one more failure of `ip` (or of every IP) and returns the new count; counts older
/// than the window start again from one.
async fn count_failure(
    conn: impl PgExecutor<'_>,
    attempt: &Attempt<'_>,
    ip: &str,
    policy: Policy,
) -> Result<i32> {
    Ok(sqlx::query_scalar(
        "INSERT INTO login_throttle AS t (scope, email, ip, failures, updated_at)
         VALUES ($1, $2, $3, 1, now())
         ON CONFLICT (scope, email, ip) DO UPDATE SET
            failures = CASE WHEN t.updated_at < now() - make_interval(secs => $4)
                            THEN 1 ELSE t.failures + 1 END,
            updated_at = now()
         RETURNING failures",
    )
    .bind(attempt.table.scope())
    .bind(attempt.key())
    .bind(ip)
    .bind(policy.lock_secs as f64)
    .fetch_one(conn)
    .await?)
}

async fn block(
    conn: impl PgExecutor<'_>,
    attempt: &Attempt<'_>,
    ip: &str,
    secs: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE login_throttle SET blocked_until = now() + make_interval(secs => $4)
          WHERE scope = $1 AND email = $2 AND ip = $3",
    )
    .bind(attempt.table.scope())
    .bind(attempt.key())
    .bind(ip)
    .bind(secs as f64)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a failed attempt; returns the error to answer (`Locked` when this one blocked the
/// pair or the email). `owner` is the real principal's address, told when the email gets
/// locked everywhere; `None` for unknown addresses (throttled all the same).
pub async fn record_failure(
    pool: &PgPool,
    attempt: &Attempt<'_>,
    policy: Policy,
    owner: Option<&str>,
    base_url: &str,
) -> Result<Error> {
    let mut tx = pool.begin().await?;
    let mut reason = "invalid_credentials";
    let pair = count_failure(&mut *tx, attempt, attempt.ip(), policy).await?;
    let every = count_failure(&mut *tx, attempt, EVERY_IP, policy).await?;
    let mut answer = Error::InvalidCredentials;
    if let Some(secs) = pair_delay_secs(pair, policy) {
        block(&mut *tx, attempt, attempt.ip(), secs).await?;
        reason = "locked";
        answer = Error::Locked {
            retry_after_secs: secs.unsigned_abs(),
        };
    }
    if every >= policy.account_threshold {
        block(&mut *tx, attempt, EVERY_IP, policy.lock_secs).await?;
        reason = "locked";
        answer = Error::Locked {
            retry_after_secs: policy.lock_secs.unsigned_abs(),
        };
        // Once per attack (the count restarts after a quiet window), not per failure.
        if every == policy.account_threshold
            && let Some(to) = owner
        {
            let minutes = (policy.lock_secs / 60).max(1);
            let body = format!(
                "There were many failed attempts to sign in to your Sema Link account from \
                 several places, so signing in is paused for {minutes} minutes.\n\nIf it was \
                 not you, someone may be guessing your password: choose a new one with \
                 \"Forgot password\" once the pause is over, and turn on two-factor \
                 authentication."
            );
            let notice = Template::Notification {
                title: "Sign-ins to your account are paused",
                body: &body,
            };
            outbox::enqueue(&mut *tx, to, &notice, base_url).await?;
        }
    }
    record_event(&mut *tx, attempt, None, Some(reason)).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Appends one row to the login history: a success of principal `id` when `failure` is
/// `None`, else a failure for that reason (the principal is looked up by the typed email).
pub async fn record_event(
    conn: impl PgExecutor<'_>,
    attempt: &Attempt<'_>,
    id: Option<Uuid>,
    failure: Option<&str>,
) -> Result<()> {
    let sql = match attempt.table {
        Table::Users => {
            "INSERT INTO login_events (id, scope, principal_id, email, ip, user_agent, success, reason)
             VALUES ($1, 'user', coalesce($2, (SELECT id FROM users WHERE lower(email) = $3)),
                     $3, $4, $5, $6, $7)"
        }
        Table::Staff => {
            "INSERT INTO login_events (id, scope, principal_id, email, ip, user_agent, success, reason)
             VALUES ($1, 'staff', coalesce($2, (SELECT id FROM admin_staff WHERE lower(email) = $3)),
                     $3, $4, $5, $6, $7)"
        }
    };
    let user_agent = attempt
        .user_agent
        .map(|ua| ua.chars().take(300).collect::<String>());
    sqlx::query(sql)
        .bind(Uuid::now_v7())
        .bind(id)
        .bind(attempt.key())
        .bind(attempt.ip)
        .bind(user_agent)
        .bind(failure.is_none())
        .bind(failure)
        .execute(conn)
        .await?;
    Ok(())
}

/// Clears the attempt's pair after a successful check and stamps the login time. The count
/// across every IP is left to expire: one success must not reset an attack from many IPs.
pub async fn record_success(pool: &PgPool, attempt: &Attempt<'_>, id: Uuid) -> Result<()> {
    sqlx::query("DELETE FROM login_throttle WHERE scope = $1 AND email = $2 AND ip = $3")
        .bind(attempt.table.scope())
        .bind(attempt.key())
        .bind(attempt.ip())
        .execute(pool)
        .await?;
    record_event(pool, attempt, Some(id), None).await?;
    stamp_login(pool, attempt.table, id).await
}

/// Deletes counts that can no longer block anything (quiet for a day, not blocked).
pub async fn sweep(pool: &PgPool) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM login_throttle WHERE updated_at < now() - interval '1 day'
            AND (blocked_until IS NULL OR blocked_until < now())",
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// Stamps the login time (a magic link is a login without a password).
pub async fn stamp_login(conn: impl PgExecutor<'_>, table: Table, id: Uuid) -> Result<()> {
    let sql = match table {
        Table::Users => "UPDATE users SET last_login_at = now() WHERE id = $1",
        Table::Staff => "UPDATE admin_staff SET last_login_at = now() WHERE id = $1",
    };
    sqlx::query(sql).bind(id).execute(conn).await?;
    Ok(())
}

/// The sweep worker (`login_throttle_sweep`): [`sweep`] every minute until `stop`.
pub fn worker(pool: PgPool, stop: CancellationToken) -> Worker {
    Worker::new("login_throttle_sweep", async move {
        while pause(Duration::from_secs(60), &stop).await {
            if let Err(error) = sweep(&pool).await {
                tracing::warn!(%error, "login throttle sweep failed");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_at_the_threshold_and_double_up_to_the_cap() {
        let policy = Policy {
            threshold: 5,
            lock_secs: 900,
            account_threshold: 20,
        };
        let delays: Vec<Option<i64>> = (1..=12).map(|n| pair_delay_secs(n, policy)).collect();
        assert_eq!(
            delays,
            [
                None,
                None,
                None,
                None,
                Some(30),
                Some(60),
                Some(120),
                Some(240),
                Some(480),
                Some(900),
                Some(900),
                Some(900)
            ]
        );
        assert_eq!(pair_delay_secs(i32::MAX, policy), Some(900));
    }
}
