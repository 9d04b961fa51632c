//! Staff permission model: for each module a level, `owner > admin > read > none`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A module of the admin app.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    sqlx::Type,
)]
#[sqlx(type_name = "staff_module", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Module {
    /// Customer organisations.
    Crm,
    /// Sender ID approvals.
    SenderIds,
    /// Credits and invoices.
    Billing,
    /// Rates.
    Pricing,
    /// Resellers.
    Agents,
    /// Campaign oversight.
    Campaigns,
    /// Operations tooling.
    Engineering,
    /// The audit log.
    Audit,
    /// Staff accounts and permissions.
    Staff,
}

impl Module {
    /// Every module.
    pub const ALL: [Module; 9] = [
        Module::Crm,
        Module::SenderIds,
        Module::Billing,
        Module::Pricing,
        Module::Agents,
        Module::Campaigns,
        Module::Engineering,
        Module::Audit,
        Module::Staff,
    ];
}

/// A permission level. Ordered: `None < Read < Admin < Owner`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    sqlx::Type,
)]
#[sqlx(type_name = "staff_level", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// No access.
    None,
    /// Read only.
    Read,
    /// Day-to-day operations.
    Admin,
    /// Everything, including destructive actions.
    Owner,
}

/// Levels per module; absent modules are `none`.
pub type Permissions = BTreeMap<Module, Level>;

/// The level a permission set grants on a module.
pub fn level_of(permissions: &Permissions, module: Module) -> Level {
    permissions.get(&module).copied().unwrap_or(Level::None)
}

/// Every module at `owner` (the seeded first staff member).
pub fn all_owner() -> Permissions {
    Module::ALL.iter().map(|m| (*m, Level::Owner)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_absent_is_none() {
        assert!(
            Level::Owner > Level::Admin && Level::Admin > Level::Read && Level::Read > Level::None
        );
        let p: Permissions = [(Module::Crm, Level::Read)].into();
        assert_eq!(level_of(&p, Module::Crm), Level::Read);
        assert_eq!(level_of(&p, Module::Billing), Level::None);
    }

    #[test]
    fn wire_names() {
        assert_eq!(
            serde_json::to_string(&Module::SenderIds).unwrap(),
            "\"sender_ids\""
        );
        let p: Permissions = serde_json::from_str(r#"{"staff":"owner","audit":"read"}"#).unwrap();
        assert_eq!(level_of(&p, Module::Staff), Level::Owner);
    }
}
