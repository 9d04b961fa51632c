//! Staff extractors. `StaffSession` accepts any valid staff token (used by password change,
//! logout, me); `Require<P>` is the route guard: a token whose permissions reach `P`'s level
//! on `P`'s module, and no pending forced password change.
//!
//! Permissions, the forced-change flag and the session's liveness come from the database on
//! every request (one indexed query, no cache), not from the token: a demotion, deactivation
//! or logout takes effect on the next request.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::admin::permissions::{Level, Module, Permissions, level_of};
use crate::admin::types::StaffClaims;
use crate::error::Error;
use crate::http::client_ip::ClientIp;
use crate::identity::jwt::STAFF_AUDIENCE;
use crate::identity::user::bearer;
use crate::state::AppState;

/// Any authenticated staff member.
#[derive(Debug, Clone)]
pub struct StaffSession {
    /// Staff id.
    pub staff_id: Uuid,
    /// Session id.
    pub session_id: Uuid,
    /// Current permissions (from the database, not the token).
    pub permissions: Permissions,
    /// Forced password change pending.
    pub must_change_password: bool,
    /// Client IP, for the audit log.
    pub ip: String,
}

impl FromRequestParts<AppState> for StaffSession {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(Error::Unauthorized("missing bearer token"))?;
        let claims: StaffClaims = state.staff_keys.verify(token, STAFF_AUDIENCE)?;
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        let live: Option<(bool, sqlx::types::Json<Permissions>)> = sqlx::query_as(
            "SELECT st.must_change_password,
                    COALESCE((SELECT jsonb_object_agg(p.module, p.level) FROM staff_permissions p
                               WHERE p.staff_id = st.id), '{}')
               FROM sessions s JOIN admin_staff st ON st.id = s.staff_id AND st.is_active
              WHERE s.id = $1 AND s.staff_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()",
        )
        .bind(claims.sid)
        .bind(claims.sub)
        .fetch_optional(&state.pool)
        .await?;
        let (must_change_password, permissions) =
            live.ok_or(Error::Unauthorized("the session has ended"))?;
        Ok(StaffSession {
            staff_id: claims.sub,
            session_id: claims.sid,
            permissions: permissions.0,
            must_change_password,
            ip: ip.to_string(),
        })
    }
}

/// A permission requirement: a module and the minimum level.
pub trait Permission: Send + Sync + 'static {
    /// The module.
    const MODULE: Module;
    /// The minimum level.
    const LEVEL: Level;
}

/// Route guard: rejects with 403 unless the staff token reaches `P`.
#[derive(Debug, Clone)]
pub struct Require<P: Permission>(pub StaffSession, pub PhantomData<P>);

impl<P: Permission> FromRequestParts<AppState> for Require<P> {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = StaffSession::from_request_parts(parts, state).await?;
        if session.must_change_password {
            return Err(Error::PasswordChangeRequired);
        }
        if level_of(&session.permissions, P::MODULE) < P::LEVEL {
            return Err(Error::Forbidden("your staff permissions do not allow this"));
        }
        Ok(Require(session, PhantomData))
    }
}

macro_rules! permission {
    ($($name:ident = $module:ident : $level:ident;)*) => {$(
        #[doc = concat!("`", stringify!($module), "` at `", stringify!($level), "` or above.")]
        #[derive(Debug, Clone, Copy)]
        pub struct $name;
        impl Permission for $name {
            const MODULE: Module = Module::$module;
            const LEVEL: Level = Level::$level;
        }
    )*};
}
pub(crate) use permission;

permission! {
    StaffRead = Staff: Read;
    StaffOwner = Staff: Owner;
    AuditRead = Audit: Read;
    SenderIdsRead = SenderIds: Read;
    SenderIdsAdmin = SenderIds: Admin;
    CrmRead = Crm: Read;
    CrmAdmin = Crm: Admin;
    CrmOwner = Crm: Owner;
    BillingRead = Billing: Read;
    BillingAdmin = Billing: Admin;
    BillingOwner = Billing: Owner;
    PricingRead = Pricing: Read;
    PricingAdmin = Pricing: Admin;
    PricingOwner = Pricing: Owner;
    AgentsRead = Agents: Read;
    AgentsAdmin = Agents: Admin;
    EngineeringRead = Engineering: Read;
    EngineeringAdmin = Engineering: Admin;
}
