//! [`StaffAction`]: the one way a staff mutation is done. It checks the staff member's level
//! on the module (again, whatever guard let the request in), validates notes and reasons by
//! one rule ([`note`], [`reason`]: trimmed, at most [`MAX_NOTE`] characters) and appends the
//! audit row (staff, module, action, target, metadata, IP) on the caller's connection, so the
//! row commits or rolls back with the change it records.

use std::fmt::Display;

use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::admin::audit::{self, Entry};
use crate::admin::guard::StaffSession;
use crate::admin::permissions::{Level, Module, level_of};
use crate::error::{Error, Result};

/// Longest staff note or reason, in characters.
pub const MAX_NOTE: usize = 1000;

/// A staff member acting in one module, their level checked.
#[derive(Debug, Clone, Copy)]
pub struct StaffAction<'a> {
    staff: &'a StaffSession,
    module: Module,
}

impl<'a> StaffAction<'a> {
    /// `staff` acting in `module`; 403 unless their permissions reach `level` there.
    pub fn new(staff: &'a StaffSession, module: Module, level: Level) -> Result<StaffAction<'a>> {
        if level_of(&staff.permissions, module) < level {
            return Err(Error::Forbidden("your staff permissions do not allow this"));
        }
        Ok(StaffAction { staff, module })
    }

    /// The acting staff member.
    pub fn staff_id(&self) -> Uuid {
        self.staff.staff_id
    }

    /// Appends the audit row for `action` on `target_type`/`target_id`, on the caller's
    /// connection (use the transaction that makes the change).
    pub async fn audit(
        &self,
        conn: impl PgExecutor<'_>,
        action: &str,
        target_type: &str,
        target_id: impl Display,
        metadata: Value,
    ) -> Result<()> {
        let entry = Entry {
            staff_id: Some(self.staff.staff_id),
            module: self.module,
            action,
            target_type: Some(target_type),
            target_id: Some(target_id.to_string()),
            metadata,
            ip: Some(&self.staff.ip),
        };
        audit::record(conn, entry).await
    }
}

/// An optional staff note: trimmed; `None` when absent or blank; a 422 on `field` when longer
/// than [`MAX_NOTE`].
pub fn note<'n>(field: &str, text: Option<&'n str>) -> Result<Option<&'n str>> {
    let text = text.map(str::trim).filter(|n| !n.is_empty());
    if text.is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(Error::field(field, "must be at most 1000 characters"));
    }
    Ok(text)
}

/// A required reason: the [`note`] rule, and not blank.
pub fn reason<'n>(field: &str, text: &'n str) -> Result<&'n str> {
    note(field, Some(text))?.ok_or_else(|| Error::field(field, "is required"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_and_reasons_follow_one_rule() {
        assert_eq!(note("note", Some("  ok ")).unwrap(), Some("ok"));
        assert_eq!(note("note", Some("   ")).unwrap(), None);
        assert_eq!(note("note", None).unwrap(), None);
        assert!(note("note", Some(&"x".repeat(MAX_NOTE))).is_ok());
        assert!(note("note", Some(&"x".repeat(MAX_NOTE + 1))).is_err());
        assert_eq!(reason("reason", " why ").unwrap(), "why");
        let Err(Error::Validation(errors)) = reason("reason", "  ") else {
            panic!("a blank reason is refused");
        };
        assert_eq!(errors[0].field, "reason");
    }

    #[test]
    fn the_level_is_checked() {
        let staff = StaffSession {
            staff_id: Uuid::now_v7(),
            session_id: Uuid::now_v7(),
            permissions: serde_json::from_value(serde_json::json!({"billing": "admin"})).unwrap(),
            must_change_password: false,
            ip: "127.0.0.1".into(),
        };
        assert!(StaffAction::new(&staff, Module::Billing, Level::Admin).is_ok());
        assert!(StaffAction::new(&staff, Module::Billing, Level::Owner).is_err());
        assert!(StaffAction::new(&staff, Module::Pricing, Level::Read).is_err());
    }
}
