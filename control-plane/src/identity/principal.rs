//! Authenticating API keys (`Authorization: Bearer sl_live_…` or `X-API-Key`), and `Principal`:
//! either a user token or a key, for endpoints that accept both.

use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::identity::IdentityState;
use crate::identity::key_scope::{KEY_PREFIX, Scope};
use crate::identity::key_store as store;
use crate::identity::role::Role;
use crate::identity::scope::AccountScope;
use crate::identity::user::{AuthUser, bearer};

/// A request authenticated by an API key.
#[derive(Debug, Clone)]
pub struct ApiKeyAuth {
    /// Key id.
    pub key_id: Uuid,
    /// The key's account; every query is scoped by it.
    pub account_id: Uuid,
    /// Granted scopes.
    pub scopes: Vec<Scope>,
}

impl ApiKeyAuth {
    /// The key's organisation, as the scope of its queries.
    pub fn scope(&self) -> AccountScope {
        AccountScope::of_credentials(self.account_id)
    }

    /// Fails with 403 unless the key has `scope`.
    pub fn require(&self, scope: Scope) -> Result<()> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(Error::Forbidden("the API key lacks the scope for this"))
        }
    }
}

fn presented_key(parts: &Parts) -> Option<&str> {
    if let Some(key) = parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(key.trim());
    }
    bearer(parts).filter(|t| t.starts_with(KEY_PREFIX))
}

async fn authenticate(state: &impl IdentityState, secret: &str) -> Result<ApiKeyAuth> {
    if !secret.starts_with(KEY_PREFIX) {
        return Err(Error::Unauthorized("invalid API key"));
    }
    let key = store::authenticate(state.pool(), secret)
        .await?
        .ok_or(Error::Unauthorized("invalid API key"))?;
    state.limits().check_principal(key.id)?;
    if state.last_used().due(key.id, Instant::now()) {
        let pool = state.pool().clone();
        let id = key.id;
        tokio::spawn(async move {
            if let Err(error) = store::touch(&pool, id).await {
                tracing::warn!(%error, key_id = %id, "could not stamp API key use");
            }
        });
    }
    Ok(ApiKeyAuth {
        key_id: key.id,
        account_id: key.account_id,
        scopes: key.scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
    })
}

impl ApiKeyAuth {
    /// Authenticates a key presented some other way than `Authorization` / `X-API-Key`
    /// (the compatibility adapters: Kannel's `password`, Africa's Talking's `apiKey`).
    pub async fn from_secret(state: &impl IdentityState, secret: &str) -> Result<ApiKeyAuth> {
        authenticate(state, secret.trim()).await
    }
}

impl<S: IdentityState> FromRequestParts<S> for ApiKeyAuth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let secret = presented_key(parts).ok_or(Error::Unauthorized("missing API key"))?;
        authenticate(state, secret).await
    }
}

/// Either a signed-in user or an API key.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A user's access token.
    User(AuthUser),
    /// An API key.
    Key(ApiKeyAuth),
}

impl Principal {
    /// The account every query must be scoped by.
    pub fn account_id(&self) -> Uuid {
        match self {
            Principal::User(u) => u.account_id,
            Principal::Key(k) => k.account_id,
        }
    }

    /// The organisation the user's token or the key acts for, as the scope of its queries.
    pub fn scope(&self) -> AccountScope {
        AccountScope::of_credentials(self.account_id())
    }

    /// Keys need the scope; users need at least `role`.
    pub fn require(&self, scope: Scope, role: Role) -> Result<()> {
        match self {
            Principal::User(u) => u.require(role),
            Principal::Key(k) => k.require(scope),
        }
    }
}

impl<S: IdentityState> FromRequestParts<S> for Principal {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match presented_key(parts) {
            Some(secret) => authenticate(state, secret).await.map(Principal::Key),
            None => AuthUser::from_request_parts(parts, state)
                .await
                .map(Principal::User),
        }
    }
}
