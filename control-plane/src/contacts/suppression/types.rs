//! The suppression list's requests and responses, validated by parsing.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::contacts::phone;
use crate::contacts::types::check_text;
use crate::error::{Error, FieldError, Result};

/// Where a suppression came from (stored by its snake_case name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum SuppressionSource {
    /// A STOP reply from the number.
    Stop,
    /// Added by a user in the app.
    Manual,
    /// From an imported file.
    Import,
    /// Added through the API with a key.
    Api,
}

/// A suppressed number.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Suppression {
    /// Id (time-ordered).
    pub id: Uuid,
    /// The number, E.164.
    pub phone: String,
    /// Why it is suppressed.
    pub reason: Option<String>,
    /// `stop`, `manual`, `import` or `api`.
    pub source: String,
    /// The user who added it, if a user did.
    pub created_by: Option<Uuid>,
    /// When it was added.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A number to suppress.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSuppression {
    /// Phone number in any common form; national forms use the organisation's country.
    #[schema(min_length = 1, max_length = 64)]
    pub phone: String,
    /// Why (at most 500 characters).
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

impl CreateSuppression {
    /// Validates; returns the E.164 number and the trimmed reason.
    pub fn check(&self, country: &str) -> Result<(String, Option<String>)> {
        let mut errors = Vec::new();
        let number = match phone::normalise(&self.phone, country) {
            Some(n) if n.country.is_some() => Some(n.phone),
            Some(n) => {
                let why = n.reason.unwrap_or_else(|| "is not a phone number".into());
                errors.push(FieldError::new("phone", why));
                None
            }
            None => {
                errors.push(FieldError::new("phone", "must be 1 to 64 characters"));
                None
            }
        };
        let reason = check_text("reason", self.reason.as_deref(), 500, &mut errors);
        match number {
            Some(n) if errors.is_empty() => Ok((n, reason.filter(|r| !r.is_empty()))),
            _ => Err(Error::Validation(errors)),
        }
    }
}
