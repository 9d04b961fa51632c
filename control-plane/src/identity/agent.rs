//! [`AgentUser`]: a signed-in user of an agent (reseller) account, the caller of the agent API
//! (`/v1/agent/...`). Agents log in through the ordinary auth (login, reset, MFA); this
//! extractor only admits tokens acting for an account of type `agent`, and is the one place a
//! sub-customer's [`AccountScope`] is made from an agent's credentials
//! ([`AgentUser::customer`]): a customer of another agent, a direct customer or an unknown id
//! answers 404, exactly like another tenant's resource.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::identity::IdentityState;
use crate::identity::role::Role;
use crate::identity::scope::AccountScope;
use crate::identity::user::AuthUser;

/// A user acting for an agent account.
#[derive(Debug, Clone)]
pub struct AgentUser(pub AuthUser);

impl AgentUser {
    /// The agent's own organisation.
    pub fn scope(&self) -> AccountScope {
        self.0.scope()
    }

    /// The user.
    pub fn user_id(&self) -> Uuid {
        self.0.user_id
    }

    /// 403 unless the caller's role in the agent is at least `needed`.
    pub fn require(&self, needed: Role) -> Result<()> {
        self.0.require(needed)
    }

    /// The scope of sub-customer `customer_id` of this agent; 404 when it is not one
    /// (another agent's customer, a direct customer, a deleted account, nothing).
    pub async fn customer(
        &self,
        conn: impl PgExecutor<'_>,
        customer_id: Uuid,
    ) -> Result<AccountScope> {
        let mine: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND parent_agent_id = $2
                              AND type = 'agent_customer' AND deleted_at IS NULL)",
        )
        .bind(customer_id)
        .bind(self.0.account_id)
        .fetch_one(conn)
        .await?;
        if mine {
            Ok(AccountScope::of_credentials(customer_id))
        } else {
            Err(Error::NotFound)
        }
    }
}

impl<S: IdentityState> FromRequestParts<S> for AgentUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        let agent: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND type = 'agent')",
        )
        .bind(user.account_id)
        .fetch_one(state.pool())
        .await?;
        if !agent {
            return Err(Error::Forbidden(
                "the agent API is for users of an agent account",
            ));
        }
        Ok(AgentUser(user))
    }
}
