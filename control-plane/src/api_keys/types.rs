//! API key types: scopes, the stored view, and the key format.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

pub use crate::identity::key_scope::{KEY_PREFIX, Scope};

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
