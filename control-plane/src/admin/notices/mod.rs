//! Staff notifications: the admin app's bell. Modules call [`notify_staff`] in the
//! transaction of the event (an organisation suspended, a sender ID submitted …): one row per
//! active staff member whose level on the event's module reaches its level, and an email copy
//! through the outbox. Staff read their own feed through [`routes`].

pub mod routes;
pub mod store;
pub mod types;

use sqlx::PgConnection;

use crate::admin::permissions::{Level, Module};
use crate::admin::store as staff_store;
use crate::email::outbox;
use crate::email::templates::Template;
use crate::error::Result;
use crate::notifications::Notice;

/// Who a staff notice is for: active staff at `level` or above on `module`.
#[derive(Debug, Clone, Copy)]
pub struct Audience {
    /// The module.
    pub module: Module,
    /// The lowest level told.
    pub level: Level,
}

/// Records `notice` for every staff member of `audience` and queues it by email to them.
/// Returns how many were told.
pub async fn notify_staff(
    conn: &mut PgConnection,
    audience: Audience,
    notice: &Notice<'_>,
    base_url: &str,
) -> Result<u64> {
    let told = store::insert_for(&mut *conn, audience, notice).await?;
    let template = Template::Notification {
        title: notice.title,
        body: notice.body,
    };
    for to in staff_store::emails_with(&mut *conn, audience.module, audience.level).await? {
        outbox::enqueue(&mut *conn, &to, &template, base_url).await?;
    }
    Ok(told)
}
