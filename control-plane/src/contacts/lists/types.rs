//! Contact lists' requests and responses, validated by parsing.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::contacts::types::check_text;
use crate::error::{Error, FieldError, Result};
use crate::http::reply::checked;

/// Most contact ids in one add/remove request.
pub const MAX_IDS: usize = 1000;

/// A contact list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct ContactList {
    /// Id (time-ordered).
    pub id: Uuid,
    /// Name, unique in the organisation (case-insensitively).
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Members not in the trash.
    pub total_count: i32,
    /// Of those, with a valid number.
    pub valid_count: i32,
    /// Of those, with an invalid number.
    pub invalid_count: i32,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change of name or description.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A new list, or changes to one (absent fields stay; an empty description clears it).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListInput {
    /// Name (1–100 characters); required when creating.
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// Description (at most 1000 characters).
    #[schema(max_length = 1000)]
    pub description: Option<String>,
}

impl ListInput {
    /// Validates; `creating` makes the name required.
    pub fn check(&self, creating: bool) -> Result<(Option<String>, Option<String>)> {
        let mut errors = Vec::new();
        let name = self.name.as_deref().map(str::trim);
        match name {
            None if creating => errors.push(FieldError::new("name", "is required")),
            Some(n) if n.is_empty() || n.chars().count() > 100 => {
                errors.push(FieldError::new("name", "must be 1 to 100 characters"));
            }
            _ => {}
        }
        let description = self.description.as_deref();
        let description = check_text("description", description, 1000, &mut errors);
        checked((name.map(str::to_owned), description), errors)
    }
}

/// Contacts to add to or remove from a list.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberIds {
    /// Contact ids (1 to 1000).
    #[serde(default)]
    #[schema(min_items = 1, max_items = 1000)]
    pub contact_ids: Vec<Uuid>,
}

impl MemberIds {
    /// Validates the id count.
    pub fn check(&self) -> Result<&[Uuid]> {
        if self.contact_ids.is_empty() || self.contact_ids.len() > MAX_IDS {
            return Err(Error::field("contact_ids", "must hold 1 to 1000 ids"));
        }
        Ok(&self.contact_ids)
    }
}

/// How many memberships a request changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Affected {
    /// Rows changed (ids that were already in the wanted state do not count).
    pub affected: u64,
}
