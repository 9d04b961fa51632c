//! What an API key may do ([`Scope`]) and the key format: the part of API keys the request
//! principal checks. The `api_keys` feature re-exports them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

crate::wire::wire_names!(Scope {
    MessagesSend => "messages:send",
    ContactsRead => "contacts:read",
    ContactsWrite => "contacts:write",
    ReportsRead => "reports:read",
    SenderIdsRead => "sender_ids:read",
    SenderIdsWrite => "sender_ids:write",
    BillingRead => "billing:read",
});
