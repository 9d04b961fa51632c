//! Request and response types of the staff endpoints.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::admin::permissions::{Module, Permissions};

/// Claims of a staff access token (audience `semalink-admin`, its own secret).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StaffClaims {
    /// Staff id.
    pub sub: Uuid,
    /// Session id.
    pub sid: Uuid,
    /// Level per module.
    pub perms: Permissions,
    /// True until the first password change: only that endpoint is allowed.
    pub pwc: bool,
    /// Issued at.
    pub iat: i64,
    /// Expires at.
    pub exp: i64,
    /// Audience.
    pub aud: String,
    /// Issuer.
    pub iss: String,
}

/// Staff login.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffLogin {
    /// Email.
    pub email: String,
    /// Password.
    pub password: String,
}

/// Staff tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffTokens {
    /// JWT for `Authorization: Bearer` on `/v1/admin/*`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Access token lifetime in seconds.
    pub expires_in: i64,
    /// Single-use refresh token.
    pub refresh_token: String,
    /// When true, only `POST /v1/admin/auth/password` is allowed until the password changes.
    pub must_change_password: bool,
    /// Level per module.
    #[schema(value_type = Object)]
    pub permissions: Permissions,
}

/// A staff member.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct StaffMember {
    /// Staff id.
    pub id: Uuid,
    /// Email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Whether they can log in.
    pub is_active: bool,
    /// Whether they still must set their own password.
    pub must_change_password: bool,
    /// Last login.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<OffsetDateTime>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Level per module.
    #[schema(value_type = Object)]
    #[sqlx(json)]
    pub permissions: Permissions,
}

/// A new staff member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStaff {
    /// Email.
    #[schema(format = Email)]
    pub email: String,
    /// Display name.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Level per module (absent: none).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub permissions: Permissions,
}

/// The created staff member and a temporary password, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedStaff {
    /// The staff member.
    pub staff: StaffMember,
    /// Must be changed at first login.
    pub temporary_password: String,
}

/// Replaces a staff member's permissions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPermissions {
    /// Level per module; absent modules become none.
    #[schema(value_type = Object)]
    pub permissions: Permissions,
}

/// Staff password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffPasswordChange {
    /// Current (or temporary) password.
    pub current_password: String,
    /// New password.
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// One audit log entry.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditEntry {
    /// Entry id.
    pub id: Uuid,
    /// Acting staff member (null for system actions such as seeding).
    pub staff_id: Option<Uuid>,
    /// Module acted in.
    pub module: Module,
    /// Action name, e.g. `staff.create`.
    pub action: String,
    /// Kind of target.
    pub target_type: Option<String>,
    /// Target id.
    pub target_id: Option<String>,
    /// Details.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// Client IP.
    pub ip: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}
