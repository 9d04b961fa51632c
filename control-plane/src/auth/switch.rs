//! Switching organisation: new tokens for another membership of the caller, in the same
//! session. It lives with the token flows (it issues tokens), not with the organisations.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::store;
use crate::accounts::types::SwitchAccount;
use crate::auth::issue;
use crate::auth::types::TokenPair;
use crate::error::{Error, Problem, Result};
use crate::http::Json;
use crate::identity::sessions;
use crate::identity::user::AuthUser;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(switch))
}

/// Act for another of my organisations: new tokens for that membership, same session.
///
/// The refresh token held so far is spent by this call.
#[utoipa::path(post, path = "/v1/accounts/switch", tag = "accounts", security(("bearer" = [])), request_body = SwitchAccount,
    responses(
        (status = 200, description = "Tokens for the chosen organisation", body = TokenPair),
        (status = 404, description = "Not a member of that organisation", body = Problem, content_type = "application/problem+json"),
    ))]
async fn switch(
    State(state): State<AppState>,
    user: AuthUser,
    Json(req): Json<SwitchAccount>,
) -> Result<Json<TokenPair>> {
    let role = store::role_of(&state.pool, user.user_id, req.account_id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut tx = state.pool.begin().await?;
    let refresh = sessions::switch_account(
        &mut tx,
        user.session_id,
        req.account_id,
        state.config.auth.refresh_token_ttl_secs,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(issue::pair(
        &state,
        user.user_id,
        req.account_id,
        role,
        user.session_id,
        refresh,
    )?))
}
