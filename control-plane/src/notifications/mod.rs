//! In-app notifications for an organisation, with an email copy to its owners and admins.
//!
//! Other modules call [`notify`] inside the transaction of the change they report (a sender
//! ID approved, credits below the threshold …), so the notification exists exactly when the
//! change does. Customers list them and mark them read through [`routes`]. The kinds with a
//! webhook event type (`contact.opted_out`, `credits.low` → `credit.low`,
//! `campaign.completed`) are also written to the webhook outbox there.

pub mod routes;
pub mod store;
pub mod types;

use crate::identity::scope::AccountScope;

/// The customer routes of the module.
pub use routes::router as routes;

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::accounts::team::store as team;
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
/// active owners and admins. Runs on the caller's connection (use a transaction). Notices
/// are raised by the system (workers, staff decisions), never by a customer request, so the
/// account is trusted here.
pub async fn notify(
    conn: &mut PgConnection,
    account_id: Uuid,
    notice: &Notice<'_>,
    base_url: &str,
) -> Result<Uuid> {
    let scope = AccountScope::trusted(account_id);
    let id = store::insert(&mut *conn, scope, notice).await?;
    let recipients = team::admin_emails(&mut *conn, scope).await?;
    let template = Template::Notification {
        title: notice.title,
        body: notice.body,
    };
    for to in &recipients {
        outbox::enqueue(&mut *conn, to, &template, base_url).await?;
    }
    // The kinds customers subscribe to by webhook (opt-outs, low credit, completed
    // campaigns) go to the webhook outbox in the same transaction.
    if let Some(event) = crate::webhooks::events::notice_event(notice.kind) {
        crate::webhooks::events::enqueue(conn, account_id, event, &notice.data, None).await?;
    }
    Ok(id)
}
