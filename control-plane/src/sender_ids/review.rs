//! Staff decisions on a sender ID: approve, reject, suspend, reinstate. Each one, in the
//! caller's transaction, locks the row, checks the life cycle, changes the status, appends a
//! status event, writes the audit log and notifies the organisation (in-app + email).

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::admin::action::StaffAction;
use crate::admin::guard::StaffSession;
use crate::admin::permissions::{Level, Module};
use crate::error::Result;
use crate::notifications::{self, Notice};
use crate::sender_ids::store::{self, Event};
use crate::sender_ids::types::{SenderId, SenderIdStatus};

/// A staff decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// pending → approved.
    Approve,
    /// pending → rejected (reason required).
    Reject,
    /// approved → suspended (reason required).
    Suspend,
    /// suspended → approved.
    Reinstate,
}

impl Action {
    /// The status the action applies to.
    pub fn from(self) -> SenderIdStatus {
        match self {
            Action::Approve | Action::Reject => SenderIdStatus::Pending,
            Action::Suspend => SenderIdStatus::Approved,
            Action::Reinstate => SenderIdStatus::Suspended,
        }
    }

    /// The status it leads to.
    pub fn to(self) -> SenderIdStatus {
        match self {
            Action::Approve | Action::Reinstate => SenderIdStatus::Approved,
            Action::Reject => SenderIdStatus::Rejected,
            Action::Suspend => SenderIdStatus::Suspended,
        }
    }

    /// Audit log action name.
    fn audit_action(self) -> &'static str {
        match self {
            Action::Approve => "sender_id.approve",
            Action::Reject => "sender_id.reject",
            Action::Suspend => "sender_id.suspend",
            Action::Reinstate => "sender_id.reinstate",
        }
    }

    /// Past participle, used in the notification kind and text.
    fn done(self) -> &'static str {
        match self {
            Action::Approve => "approved",
            Action::Reject => "rejected",
            Action::Suspend => "suspended",
            Action::Reinstate => "reinstated",
        }
    }
}

/// What a decision did.
#[derive(Debug)]
pub enum Decided {
    /// The status changed to this one.
    Changed(SenderIdStatus),
    /// The sender ID is in a status the action does not apply to.
    Refused(SenderIdStatus),
    /// No such sender ID.
    Missing,
}

/// Applies `action` to sender ID `id` on the caller's transaction. `note` is already clean.
pub async fn decide(
    conn: &mut PgConnection,
    staff: &StaffSession,
    id: Uuid,
    action: Action,
    note: Option<&str>,
    base_url: &str,
) -> Result<Decided> {
    let act = StaffAction::new(staff, Module::SenderIds, Level::Admin)?;
    let Some(current) = store::lock(&mut *conn, None, id).await? else {
        return Ok(Decided::Missing);
    };
    if current.status != action.from() || !current.status.can_become(action.to()) {
        return Ok(Decided::Refused(current.status));
    }
    let changed =
        store::set_status(&mut *conn, id, action.to(), Some(staff.staff_id), note).await?;
    let event = Event {
        from: Some(current.status),
        to: action.to(),
        staff_id: Some(staff.staff_id),
        user_id: None,
        note,
    };
    store::insert_event(&mut *conn, &changed, &event).await?;
    let metadata = json!({
        "account_id": changed.account_id,
        "name": changed.name,
        "country": changed.country,
        "from": current.status,
        "to": changed.status,
        "note": note,
    });
    act.audit(&mut *conn, action.audit_action(), "sender_id", id, metadata)
        .await?;
    notify(conn, &changed, action, note, current.is_default, base_url).await?;
    Ok(Decided::Changed(changed.status))
}

async fn notify(
    conn: &mut PgConnection,
    sender: &SenderId,
    action: Action,
    note: Option<&str>,
    was_default: bool,
    base_url: &str,
) -> Result<()> {
    let done = action.done();
    let title = format!("Sender ID {} {done}", sender.name);
    let outcome = match action {
        Action::Approve | Action::Reinstate => {
            format!("is {done} and can be used to send messages.")
        }
        Action::Reject => "was rejected.".to_owned(),
        Action::Suspend => "is suspended and cannot be used until it is reinstated.".to_owned(),
    };
    let mut body = format!(
        "Your sender ID {} ({}) {outcome}",
        sender.name, sender.country
    );
    if action == Action::Suspend && was_default {
        body.push_str(" It is no longer your default sender ID.");
    }
    if let Some(note) = note {
        let label = match action {
            Action::Reject | Action::Suspend => "Reason",
            Action::Approve | Action::Reinstate => "Note",
        };
        body.push_str(&format!("\n\n{label}: {note}"));
    }
    let kind = format!("sender_id.{done}");
    let notice = Notice {
        kind: &kind,
        title: &title,
        body: &body,
        data: json!({
            "sender_id_id": sender.id,
            "name": sender.name,
            "country": sender.country,
            "status": sender.status,
            "note": note,
        }),
    };
    notifications::notify(conn, sender.account_id, &notice, base_url).await?;
    Ok(())
}
