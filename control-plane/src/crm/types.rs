//! Request and response types of the CRM module (organisations and users across orgs).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::accounts::team::store::Member;
use crate::accounts::types::{Account, AccountStatus, AccountType};
use crate::api_keys::types::ApiKey;
use crate::campaigns::types::Campaign;
use crate::credits::types::{Balance, BillingMode};
use crate::identity::role::Role;
use crate::sender_ids::types::StaffSenderId;

/// Filters of the organisation list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrgQuery {
    /// Part of the name (case-insensitive).
    pub q: Option<String>,
    /// Lifecycle state.
    pub status: Option<AccountStatus>,
    /// Kind of account.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub account_type: Option<AccountType>,
    /// ISO 3166-1 alpha-2 country.
    pub country: Option<String>,
}

/// One organisation in the staff list.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct OrgSummary {
    /// Account id.
    pub id: Uuid,
    /// Business name.
    pub name: String,
    /// Kind of account.
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub account_type: AccountType,
    /// Lifecycle state.
    pub status: AccountStatus,
    /// Country.
    pub country: String,
    /// Active members.
    pub member_count: i64,
    /// Credit balance.
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::credits::money::amount_str")]
    pub balance: Decimal,
    /// The plan: prepaid or postpaid.
    pub billing_mode: BillingMode,
    /// Whether its credits are frozen (suspended).
    pub credits_frozen: bool,
    /// Deleted (anonymised) organisations are listed with this set.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Suspension details of an organisation.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Suspension {
    /// When it was suspended (null when active).
    #[serde(with = "time::serde::rfc3339::option")]
    pub suspended_at: Option<OffsetDateTime>,
    /// Why.
    pub suspended_reason: Option<String>,
    /// When its credits were frozen.
    #[serde(with = "time::serde::rfc3339::option")]
    pub credits_frozen_at: Option<OffsetDateTime>,
    /// Messages written but held unpublished because of the suspension.
    pub held_messages: i64,
    /// When it was deleted.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
}

/// An organisation as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgDetail {
    /// Business profile.
    pub account: Account,
    /// Suspension and deletion state.
    pub suspension: Suspension,
    /// Active members (newest 100).
    pub members: Vec<Member>,
    /// Credits.
    pub balance: Option<Balance>,
    /// Sender IDs (newest 100).
    pub sender_ids: Vec<StaffSenderId>,
    /// Recent campaigns (newest 10).
    pub recent_campaigns: Vec<Campaign>,
    /// API keys' metadata (never the secret; newest 100).
    pub api_keys: Vec<ApiKey>,
}

/// Suspend an organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendOrg {
    /// Why (required, at most 1000 characters); shown to the organisation.
    pub reason: String,
}

/// Reactivate an organisation, or re-enable a user.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffNote {
    /// Optional note for the audit log (at most 1000 characters).
    pub note: Option<String>,
}

/// Delete an organisation: its exact name, typed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteOrg {
    /// The organisation's current name, exactly.
    pub confirm_name: String,
    /// Why (required).
    pub reason: String,
}

/// What a deletion removed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    /// The organisation.
    pub account_id: Uuid,
    /// Rows removed per table.
    #[schema(value_type = Object)]
    pub removed: serde_json::Value,
}

/// Filters of the user list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of the email or name (case-insensitive).
    pub q: Option<String>,
    /// Users holding this role in at least one organisation.
    pub role: Option<Role>,
    /// Only active (true) or disabled (false) users.
    pub active: Option<bool>,
}

/// A user across organisations.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct UserSummary {
    /// User id.
    pub id: Uuid,
    /// Email.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Whether they can sign in.
    pub is_active: bool,
    /// Email verified.
    pub email_verified: bool,
    /// Active memberships.
    pub membership_count: i64,
    /// Last successful login.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<OffsetDateTime>,
    /// Signup time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// One membership of a user, staff view.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct UserMembership {
    /// The organisation.
    pub account_id: Uuid,
    /// Its name.
    pub account_name: String,
    /// Its status.
    pub account_status: AccountStatus,
    /// Role there.
    pub role: Role,
    /// Whether the membership is active.
    pub is_active: bool,
    /// Joined.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A user with their memberships.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct UserDetail {
    /// The user.
    #[sqlx(flatten)]
    pub user: UserSummary,
    /// Whether TOTP is on.
    pub mfa_enabled: bool,
    /// Every membership, active or not.
    #[sqlx(skip)]
    pub memberships: Vec<UserMembership>,
}

/// One login attempt.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct LoginEvent {
    /// Event id.
    pub id: Uuid,
    /// Email as typed.
    pub email: String,
    /// Client IP.
    pub ip: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// Whether it succeeded.
    pub success: bool,
    /// Why it failed (`invalid_credentials`, `locked`, `deactivated`).
    pub reason: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}
