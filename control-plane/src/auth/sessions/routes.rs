//! The signed-in user's active sessions: list and revoke.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::sessions;
use crate::auth::types::SessionView;
use crate::error::{Error, Result};
use crate::http::{Json, Page, Paged, Path};
use crate::identity::user::AuthUser;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
}

/// List my active sessions, newest first.
#[utoipa::path(get, path = "/v1/auth/sessions", tag = "auth", security(("bearer" = [])), params(Paged),
    responses(
        (status = 200, description = "Active sessions", body = Page<SessionView>),
    ))]
async fn list_sessions(
    State(state): State<AppState>,
    user: AuthUser,
    Paged { page, .. }: Paged,
) -> Result<Json<Page<SessionView>>> {
    let rows = sessions::list_for_user(&state.pool, user.user_id, user.session_id, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |v| v.id)))
}

/// Revoke one of my sessions (signs that device out).
#[utoipa::path(delete, path = "/v1/auth/sessions/{session_id}", tag = "auth", security(("bearer" = [])),
    params(("session_id" = Uuid, Path, description = "Session id")),
    responses(
        (status = 204, description = "Revoked"),
    ))]
async fn revoke_session(
    State(state): State<AppState>,
    user: AuthUser,
    Path(session_id): Path<Uuid>,
) -> Result<StatusCode> {
    if sessions::revoke_own(&state.pool, user.user_id, session_id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound)
    }
}
