//! API key types: scopes, the stored view, and the key format.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// Visible start of every live key.
pub const KEY_PREFIX: &str = "sl_live_";

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Scope {
    /// Send messages.
    #[serde(rename = "messages:send")]
    MessagesSend,
    /// Read contacts and lists.
    #[serde(rename = "contacts:read")]
    ContactsRead,
    /// Create and change contacts and lists.
    #[serde(rename = "contacts:write")]
    ContactsWrite,
    /// Read delivery reports and analytics.
    #[serde(rename = "reports:read")]
    ReportsRead,
    /// Read sender IDs.
    #[serde(rename = "sender_ids:read")]
    SenderIdsRead,
    /// Register and withdraw sender IDs, choose the default.
    #[serde(rename = "sender_ids:write")]
    SenderIdsWrite,
    /// Read the balance, the credit history, rates and price quotes.
    #[serde(rename = "billing:read")]
    BillingRead,
}

impl Scope {
    /// The wire name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::MessagesSend => "messages:send",
            Scope::ContactsRead => "contacts:read",
            Scope::ContactsWrite => "contacts:write",
            Scope::ReportsRead => "reports:read",
            Scope::SenderIdsRead => "sender_ids:read",
            Scope::SenderIdsWrite => "sender_ids:write",
            Scope::BillingRead => "billing:read",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Scope> {
        [
            Scope::MessagesSend,
            Scope::ContactsRead,
            Scope::ContactsWrite,
            Scope::ReportsRead,
            Scope::SenderIdsRead,
            Scope::SenderIdsWrite,
            Scope::BillingRead,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// A key as listed (never the secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKey {
    /// Key id.
    pub id: Uuid,
    /// Label.
    pub name: String,
    /// Visible start of the key, e.g. `sl_live_3f9a1c2b`.
    pub prefix: String,
    /// Granted scopes.
    pub scopes: Vec<Scope>,
    /// Last use, to the minute.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    /// Revocation time, if revoked.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A new key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// Label (1–100 characters).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// At least one scope.
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
}

/// The created key and its secret, which is shown only in this response.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    /// The key.
    pub key: ApiKey,
    /// The full secret: send as `Authorization: Bearer` or `X-API-Key`.
    pub secret: String,
}
