//! The organisation's notifications: list (all or unread), unread count, mark read. Every
//! member of the organisation sees them.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::Result;
use crate::http::reply::found;
use crate::http::{Json, Page, Paged, Path, with::With};
use crate::identity::user::AuthUser;
use crate::notifications::store;
use crate::notifications::types::{MarkedRead, Notification, NotificationQuery, UnreadCount};
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(unread_count))
        .routes(routes!(mark_read))
        .routes(routes!(mark_all_read))
}

/// The organisation's notifications, newest first.
#[utoipa::path(get, path = "/v1/notifications", tag = "notifications", security(("bearer" = [])), params(Paged<NotificationQuery>),
    responses(
        (status = 200, description = "Notifications", body = Page<Notification>),
    ))]
async fn list_notifications(
    With(state, user): With<AuthUser>,
    Paged { query: q, page }: Paged<NotificationQuery>,
) -> Result<Json<Page<Notification>>> {
    let rows = store::list(&state.pool, user.scope(), q.unread.unwrap_or(false), &page).await?;
    Ok(Json(Page::from_rows(rows, page, |n| n.id)))
}

/// How many notifications are unread.
#[utoipa::path(get, path = "/v1/notifications/unread-count", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, description = "Unread count", body = UnreadCount),
    ))]
async fn unread_count(State(state): State<AppState>, user: AuthUser) -> Result<Json<UnreadCount>> {
    Ok(Json(UnreadCount {
        unread: store::unread_count(&state.pool, user.scope()).await?,
    }))
}

/// Marks a notification read (repeating it changes nothing).
#[utoipa::path(post, path = "/v1/notifications/{notification_id}/read", tag = "notifications", security(("bearer" = [])),
    params(("notification_id" = Uuid, Path, description = "Notification id")),
    responses(
        (status = 200, description = "The notification, read", body = Notification),
    ))]
async fn mark_read(
    With(state, user): With<AuthUser>,
    Path(id): Path<Uuid>,
) -> Result<Json<Notification>> {
    found(store::mark_read(&state.pool, user.scope(), id).await?).map(Json)
}

/// Marks every unread notification read.
#[utoipa::path(post, path = "/v1/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, description = "How many were marked", body = MarkedRead),
    ))]
async fn mark_all_read(State(state): State<AppState>, user: AuthUser) -> Result<Json<MarkedRead>> {
    Ok(Json(MarkedRead {
        marked: store::mark_all_read(&state.pool, user.scope()).await?,
    }))
}
