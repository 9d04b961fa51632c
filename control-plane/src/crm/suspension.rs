//! Suspending and reactivating an organisation, the one sequence every staff path takes (the
//! CRM's organisations, the agent manager's agents): the row locked, the state checked, the
//! change ([`crate::crm::changes`]), the notification to the organisation's owners and to the
//! CRM's staff owners, and the audit row — all in one transaction, so a failure anywhere
//! leaves nothing changed. An agent's suspension blocks all its sub-customers' sends
//! through the send gate ([`crate::accounts::gate`]).

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::accounts::types::AccountStatus;
use crate::admin::action::StaffAction;
use crate::admin::notices::{self, Audience};
use crate::admin::permissions::{Level, Module};
use crate::crm::changes;
use crate::error::{Error, Result};
use crate::http::reply::found;
use crate::notifications::{self, Notice};
use crate::state::AppState;

/// Who hears of a suspension among staff: the CRM's owners.
const STAFF_OWNERS: Audience = Audience {
    module: Module::Crm,
    level: Level::Owner,
};

/// Locks organisation `id`: 404 when unknown, 409 when deleted.
async fn live(tx: &mut PgConnection, id: Uuid) -> Result<changes::LockedOrg> {
    let org = found(changes::lock_org(&mut *tx, id).await?)?;
    if org.deleted_at.is_some() {
        return Err(Error::Conflict("the organisation is deleted"));
    }
    Ok(org)
}

/// Suspends organisation `id` for `reason`, audited as `action` by `act`, in a transaction of
/// its own. 404 when unknown, 409 when deleted or already suspended.
pub async fn suspend(
    state: &AppState,
    act: &StaffAction<'_>,
    id: Uuid,
    reason: &str,
    action: &str,
) -> Result<()> {
    let base = &state.config.server.public_base_url;
    let mut tx = state.pool.begin().await?;
    let org = live(&mut tx, id).await?;
    if org.status == AccountStatus::Suspended {
        return Err(Error::Conflict("the organisation is already suspended"));
    }
    let held = changes::suspend(&mut tx, id, reason).await?;
    let body = format!(
        "Sema Link has suspended {}: sending is stopped and credits are frozen.\n\nReason: {reason}\n\nContact support to resolve this.",
        org.name
    );
    let notice = Notice {
        kind: "account.suspended",
        title: "Your organisation is suspended",
        body: &body,
        data: json!({ "reason": reason }),
    };
    notifications::notify(&mut tx, id, &notice, base).await?;
    let staff_body = format!("{} was suspended. Reason: {reason}", org.name);
    let staff_notice = Notice {
        kind: "org.suspended",
        title: "Organisation suspended",
        body: &staff_body,
        data: json!({ "account_id": id, "reason": reason, "by": act.staff_id() }),
    };
    notices::notify_staff(&mut tx, STAFF_OWNERS, &staff_notice, base).await?;
    let metadata = json!({ "reason": reason, "held_messages": held, "before": org.status });
    act.audit(&mut *tx, action, "account", id, metadata).await?;
    Ok(tx.commit().await?)
}

/// Lifts the suspension of organisation `id`, audited as `action` by `act`, in a transaction
/// of its own. 404 when unknown, 409 when deleted or not suspended.
pub async fn reactivate(
    state: &AppState,
    act: &StaffAction<'_>,
    id: Uuid,
    note: Option<&str>,
    action: &str,
) -> Result<()> {
    let base = &state.config.server.public_base_url;
    let mut tx = state.pool.begin().await?;
    let org = live(&mut tx, id).await?;
    if org.status != AccountStatus::Suspended {
        return Err(Error::Conflict("the organisation is not suspended"));
    }
    let released = changes::reactivate(&mut tx, id).await?;
    let notice = Notice {
        kind: "account.reactivated",
        title: "Your organisation is active again",
        body: "Sema Link has lifted the suspension: sending and credits work again.",
        data: json!({}),
    };
    notifications::notify(&mut tx, id, &notice, base).await?;
    let metadata = json!({ "note": note, "released_messages": released });
    act.audit(&mut *tx, action, "account", id, metadata).await?;
    Ok(tx.commit().await?)
}
