//! Request and response types of the notifications endpoints.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A notification.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Notification {
    /// Id (time-ordered).
    pub id: Uuid,
    /// Machine-readable kind, e.g. `sender_id.approved`.
    pub kind: String,
    /// One line.
    pub title: String,
    /// Plain text.
    pub body: String,
    /// Ids and values the app links to.
    #[schema(value_type = Object)]
    pub data: Value,
    /// When it was marked read; null while unread.
    #[serde(with = "time::serde::rfc3339::option")]
    pub read_at: Option<OffsetDateTime>,
    /// When it was raised.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Query of the list endpoint.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only unread notifications.
    pub unread: Option<bool>,
}

/// How many notifications are unread.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnreadCount {
    /// Unread notifications of the organisation.
    pub unread: i64,
}

/// Answer of "mark all read".
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MarkedRead {
    /// Notifications newly marked read.
    pub marked: u64,
}
