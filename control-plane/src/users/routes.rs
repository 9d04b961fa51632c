//! The signed-in user's profile and password.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{Error, Problem, Result};
use crate::http::Json;
use crate::identity::password::check_strength;
use crate::identity::sessions;
use crate::identity::user::AuthUser;
use crate::state::AppState;
use crate::users::store;
use crate::users::types::{ChangePassword, Profile, UpdateProfile, check_name, check_phone};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me, update_me))
        .routes(routes!(change_password))
}

/// My profile.
#[utoipa::path(get, path = "/v1/me", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "Profile", body = Profile),
    ))]
async fn get_me(State(state): State<AppState>, user: AuthUser) -> Result<Json<Profile>> {
    Ok(Json(
        store::profile(&state.pool, user.user_id)
            .await?
            .ok_or(Error::NotFound)?,
    ))
}

/// Update my profile.
#[utoipa::path(patch, path = "/v1/me", tag = "users", security(("bearer" = [])), request_body = UpdateProfile,
    responses(
        (status = 200, description = "Updated profile", body = Profile),
    ))]
async fn update_me(
    State(state): State<AppState>,
    user: AuthUser,
    Json(req): Json<UpdateProfile>,
) -> Result<Json<Profile>> {
    let mut errors = Vec::new();
    if let Some(v) = &req.first_name {
        check_name("first_name", v, &mut errors);
    }
    if let Some(v) = &req.last_name {
        check_name("last_name", v, &mut errors);
    }
    if let Some(v) = req.phone.as_deref().filter(|p| !p.is_empty()) {
        check_phone("phone", v, &mut errors);
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    store::update_profile(
        &state.pool,
        user.user_id,
        req.first_name.as_deref().map(str::trim),
        req.last_name.as_deref().map(str::trim),
        req.phone.as_deref(),
    )
    .await?;
    get_me(State(state), user).await
}

/// Change my password. Signs out my other sessions and spends every reset and magic link sent
/// to me.
#[utoipa::path(post, path = "/v1/me/password", tag = "users", security(("bearer" = [])), request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "Not signed in or wrong current password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Weak new password", body = Problem, content_type = "application/problem+json"),
    ))]
async fn change_password(
    State(state): State<AppState>,
    user: AuthUser,
    Json(req): Json<ChangePassword>,
) -> Result<StatusCode> {
    let creds = store::credentials_by_id(&state.pool, user.user_id)
        .await?
        .ok_or(Error::NotFound)?;
    check_strength("new_password", &req.new_password, &creds.email)
        .map_err(|e| Error::Validation(vec![e]))?;
    if !state
        .passwords
        .verify(req.current_password, creds.password_hash)
        .await
    {
        return Err(Error::InvalidCredentials);
    }
    let hash = state.passwords.hash(req.new_password).await?;
    let mut tx = state.pool.begin().await?;
    store::set_password(&mut *tx, user.user_id, &hash).await?;
    sessions::revoke_others_for_user(&mut *tx, user.user_id, user.session_id, "password_changed")
        .await?;
    crate::identity::action_tokens::spend_sign_in_tokens(&mut *tx, user.user_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
