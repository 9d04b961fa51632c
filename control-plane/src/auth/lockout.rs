//! Credential checks with lock-out, shared by customer and staff logins: after `threshold`
//! consecutive failures the principal is locked for a while, and while locked no password is
//! even checked.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::error::{Error, Result};

/// Which table the principal lives in. Each variant selects fixed SQL (no string building).
#[derive(Debug, Clone, Copy)]
pub enum Table {
    /// `users`.
    Users,
    /// `admin_staff`.
    Staff,
}

/// Lock-out policy.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures before locking.
    pub threshold: i32,
    /// Lock duration.
    pub lock_secs: i64,
}

/// Fails with `Locked` when `locked_secs_left` is positive.
pub fn ensure_unlocked(locked_secs_left: Option<i64>) -> Result<()> {
    match locked_secs_left {
        Some(secs) if secs > 0 => Err(Error::Locked {
            retry_after_secs: secs.unsigned_abs(),
        }),
        _ => Ok(()),
    }
}

/// Records a failed attempt; returns the error to answer (`Locked` when this one locked it).
pub async fn record_failure(
    conn: impl PgExecutor<'_>,
    table: Table,
    id: Uuid,
    policy: Policy,
) -> Result<Error> {
    let sql = match table {
        Table::Users => {
            "UPDATE users SET
                locked_until = CASE WHEN failed_login_count + 1 >= $2 THEN now() + make_interval(secs => $3) ELSE locked_until END,
                failed_login_count = CASE WHEN failed_login_count + 1 >= $2 THEN 0 ELSE failed_login_count + 1 END
             WHERE id = $1 RETURNING locked_until > now()"
        }
        Table::Staff => {
            "UPDATE admin_staff SET
                locked_until = CASE WHEN failed_login_count + 1 >= $2 THEN now() + make_interval(secs => $3) ELSE locked_until END,
                failed_login_count = CASE WHEN failed_login_count + 1 >= $2 THEN 0 ELSE failed_login_count + 1 END
             WHERE id = $1 RETURNING locked_until > now()"
        }
    };
    let locked: Option<Option<bool>> = sqlx::query_scalar(sql)
        .bind(id)
        .bind(policy.threshold)
        .bind(policy.lock_secs as f64)
        .fetch_optional(conn)
        .await?;
    Ok(if locked.flatten() == Some(true) {
        Error::Locked {
            retry_after_secs: policy.lock_secs.unsigned_abs(),
        }
    } else {
        Error::InvalidCredentials
    })
}

/// Clears the failure count after a successful check and stamps the login time.
pub async fn record_success(conn: impl PgExecutor<'_>, table: Table, id: Uuid) -> Result<()> {
    let sql = match table {
        Table::Users => {
            "UPDATE users SET failed_login_count = 0, locked_until = NULL, last_login_at = now() WHERE id = $1"
        }
        Table::Staff => {
            "UPDATE admin_staff SET failed_login_count = 0, locked_until = NULL, last_login_at = now() WHERE id = $1"
        }
    };
    sqlx::query(sql).bind(id).execute(conn).await?;
    Ok(())
}
