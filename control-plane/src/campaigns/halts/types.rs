//! Kill-switch types: a halt as staff see it, and the body that starts one.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// A halt of sending, for one organisation or (`account_id` null) the whole platform.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Halt {
    /// Id.
    pub id: Uuid,
    /// The organisation halted; null for the platform.
    pub account_id: Option<Uuid>,
    /// Why.
    pub reason: String,
    /// Who halted.
    pub staff_id: Option<Uuid>,
    /// Since.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Lifted at (null while in force).
    #[serde(with = "time::serde::rfc3339::option")]
    pub lifted_at: Option<OffsetDateTime>,
    /// Who lifted it.
    pub lifted_by: Option<Uuid>,
}

/// Body of the halt routes.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartHalt {
    /// Why sending stops (1 to 500 characters).
    #[schema(max_length = 500)]
    pub reason: String,
}

/// Halts in force.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Halts {
    /// Newest first.
    pub data: Vec<Halt>,
}
