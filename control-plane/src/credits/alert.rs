//! The low-credit alert: when available credit falls below the account's threshold the
//! organisation gets ONE notification (in-app + email to owners and admins); the notice is
//! re-armed only once credit is back at or above the threshold. The state lives in
//! `credits.low_credit_notified_at` and is changed under the credits row lock, in the
//! transaction of the movement that crossed the line.

use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Result;
use crate::notifications::{self, Notice};

/// Notification kind of the alert.
pub const LOW_CREDIT_KIND: &str = "credits.low";

/// Decides the notice state for `available` credit and raises the notification when the
/// threshold has just been crossed downwards. Returns whether the notice now stands.
pub async fn settle(
    conn: &mut PgConnection,
    account_id: Uuid,
    available: Decimal,
    threshold: Option<Decimal>,
    was_notified: bool,
    base_url: &str,
) -> Result<bool> {
    let below = threshold.is_some_and(|t| available < t);
    if below && !was_notified {
        let threshold = threshold.unwrap_or_default();
        let body = format!(
            "Your available credit is {available}, below your alert threshold of {threshold}. \
             Top up to keep sending."
        );
        let notice = Notice {
            kind: LOW_CREDIT_KIND,
            title: "Your credit is running low",
            body: &body,
            data: json!({"available": available, "threshold": threshold}),
        };
        notifications::notify(conn, account_id, &notice, base_url).await?;
    }
    Ok(below)
}
