//! Membership roles within an organisation: owner > admin > member.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A user's role in one organisation. Ordered: `Owner > Admin > Member`.
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
#[sqlx(type_name = "user_role", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Can read and change their own profile; reads the organisation.
    Member,
    /// Day-to-day administration: invites, API keys, business profile.
    Admin,
    /// Full control, including roles and removing members.
    Owner,
}

impl Role {
    /// True when this role is at least `needed`.
    pub fn at_least(self, needed: Role) -> bool {
        self >= needed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_is_owner_admin_member() {
        assert!(Role::Owner.at_least(Role::Admin));
        assert!(Role::Admin.at_least(Role::Member));
        assert!(!Role::Member.at_least(Role::Admin));
        assert!(!Role::Admin.at_least(Role::Owner));
    }
}
