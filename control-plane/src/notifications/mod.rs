//! In-app notifications for an organisation, with an email copy to its owners and admins.
//!
//! Other modules call [`notify`] inside the transaction of the change they report (a sender
//! ID approved, credits below the threshold …), so the notification exists exactly when the
//! change does. Customers list them and mark them read through [`routes`].

pub mod routes;
pub mod store;
pub mod types;

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::email::outbox;
use crate::email::templates::Template;
use crate::error::Result;

/// What to tell an organisation.
#[derive(Debug, Clone)]
pub struct Notice<'a> {
    /// Machine-readable kind, e.g. `sender_id.approved` (lowercase, dots and underscores).
    pub kind: &'a str,
    /// One line.
    pub title: &'a str,
    /// Plain text.
    pub body: &'a str,
    /// Ids and values the app links to.
    pub data: Value,
}

/// Records `notice` for `account_id` and queues the same text by email to the account's
/// active owners and admins. Runs on the caller's connection (use a transaction).
pub async fn notify(
    conn: &mut PgConnection,
    account_id: Uuid,
    notice: &Notice<'_>,
    base_url: &str,
) -> Result<Uuid> {
    let id = store::insert(&mut *conn, account_id, notice).await?;
    let recipients: Vec<String> = sqlx::query_scalar(
        "SELECT u.email FROM account_members m JOIN users u ON u.id = m.user_id
         WHERE m.account_id = $1 AND m.is_active AND u.is_active
           AND m.role IN ('owner', 'admin')
         ORDER BY u.email",
    )
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?;
    let template = Template::Notification {
        title: notice.title,
        body: notice.body,
    };
    for to in &recipients {
        outbox::enqueue(&mut *conn, to, &template, base_url).await?;
    }
    Ok(id)
}
