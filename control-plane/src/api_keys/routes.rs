//! API key management (admin or owner; creating needs a verified email) and the key's own
//! "who am I" endpoint.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api_keys::store;
use crate::api_keys::types::{ApiKey, CreateApiKey, CreatedApiKey, KEY_PREFIX};
use crate::crypto;
use crate::error::{FieldError, Problem, Result};
use crate::http::reply::{checked, found, gone};
use crate::http::{Json, Page, Paged, Path, with::With};
use crate::identity::principal::ApiKeyAuth;
use crate::identity::role::Role;
use crate::identity::user::{AuthUser, VerifiedUser};
use crate::state::AppState;
use crate::types::BoundedText;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_keys, create_key))
        .routes(routes!(current_key))
        .routes(routes!(revoke_key))
}

/// Create an API key (admin or owner, verified email). The secret is in this response only.
#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", security(("bearer" = [])), request_body = CreateApiKey,
    responses(
        (status = 201, description = "Created; store the secret now", body = CreatedApiKey),
        (status = 403, description = "Role too low or email unverified", body = Problem, content_type = "application/problem+json"),
    ))]
async fn create_key(
    With(state, VerifiedUser(user)): With<VerifiedUser>,
    Json(req): Json<CreateApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>)> {
    user.require(Role::Admin)?;
    let mut errors = Vec::new();
    BoundedText::<100>::check("name", &req.name, &mut errors);
    if req.scopes.is_empty() {
        errors.push(FieldError::new("scopes", "needs at least one scope"));
    }
    checked((), errors)?;
    let mut scopes = req.scopes.clone();
    scopes.sort_by_key(|s| s.as_str());
    scopes.dedup();
    let random = crypto::random_token();
    let secret = format!("{KEY_PREFIX}{random}");
    let prefix = format!("{KEY_PREFIX}{}", &random[..8]);
    let key = store::insert(
        &state.pool,
        user.scope(),
        req.name.trim(),
        &prefix,
        &secret,
        &scopes,
        user.user_id,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedApiKey { key, secret })))
}

/// The organisation's API keys, newest first (admin or owner).
#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys", security(("bearer" = [])), params(Paged),
    responses(
        (status = 200, description = "Keys (no secrets)", body = Page<ApiKey>),
    ))]
async fn list_keys(
    With(state, user): With<AuthUser>,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<ApiKey>>> {
    user.require(Role::Admin)?;
    let rows = store::list(&state.pool, user.scope(), &page).await?;
    Ok(Json(Page::from_rows(rows, page, |k| k.id)))
}

/// Revoke an API key (admin or owner).
#[utoipa::path(delete, path = "/v1/api-keys/{key_id}", tag = "api-keys", security(("bearer" = [])),
    params(("key_id" = Uuid, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
    ))]
async fn revoke_key(With(state, user): With<AuthUser>, Path(id): Path<Uuid>) -> Result<StatusCode> {
    user.require(Role::Admin)?;
    gone(store::revoke(&state.pool, user.scope(), id).await?)
}

/// The API key making this request (lets an integration check its key and scopes).
#[utoipa::path(get, path = "/v1/api-keys/current", tag = "api-keys", security(("api_key" = []), ("bearer_api_key" = [])),
    responses(
        (status = 200, description = "This key", body = ApiKey),
    ))]
async fn current_key(State(state): State<AppState>, key: ApiKeyAuth) -> Result<Json<ApiKey>> {
    found(store::get(&state.pool, key.scope(), key.key_id).await?).map(Json)
}
