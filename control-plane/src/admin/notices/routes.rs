//! The staff bell: my notifications (all or unread), the unread count, mark read. Any
//! signed-in staff member sees their own, whatever their module levels.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::admin::guard::StaffSession;
use crate::admin::notices::store;
use crate::admin::notices::types::{MarkedRead, NotificationQuery, StaffNotification, UnreadCount};
use crate::error::Result;
use crate::http::{Json, Page, Paged, Path, reply::found, with::With};
use crate::state::AppState;

/// Routes of the feed.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_staff_notifications))
        .routes(routes!(staff_unread_count))
        .routes(routes!(staff_mark_read))
        .routes(routes!(staff_mark_all_read))
}

/// My staff notifications, newest first.
#[utoipa::path(get, path = "/v1/admin/notifications", tag = "admin-notifications", security(("staff_bearer" = [])),
    params(Paged<NotificationQuery>),
    responses(
        (status = 200, description = "Notifications", body = Page<StaffNotification>),
    ))]
async fn list_staff_notifications(
    With(state, me): With<StaffSession>,
    Paged { query: q, page }: Paged<NotificationQuery>,
) -> Result<Json<Page<StaffNotification>>> {
    let rows = store::list(&state.pool, me.staff_id, q.unread.unwrap_or(false), &page).await?;
    Ok(Json(Page::from_rows(rows, page, |n| n.id)))
}

/// How many of my staff notifications are unread.
#[utoipa::path(get, path = "/v1/admin/notifications/unread-count", tag = "admin-notifications", security(("staff_bearer" = [])),
    responses(
        (status = 200, description = "Unread count", body = UnreadCount),
    ))]
async fn staff_unread_count(With(state, me): With<StaffSession>) -> Result<Json<UnreadCount>> {
    let unread = store::unread_count(&state.pool, me.staff_id).await?;
    Ok(Json(UnreadCount { unread }))
}

/// Marks one of my notifications read.
#[utoipa::path(post, path = "/v1/admin/notifications/{notification_id}/read", tag = "admin-notifications", security(("staff_bearer" = [])),
    params(("notification_id" = Uuid, Path, description = "Notification id")),
    responses(
        (status = 200, description = "The notification, read", body = StaffNotification),
    ))]
async fn staff_mark_read(
    With(state, me): With<StaffSession>,
    Path(id): Path<Uuid>,
) -> Result<Json<StaffNotification>> {
    found(store::mark_read(&state.pool, me.staff_id, id).await?).map(Json)
}

/// Marks all my notifications read.
#[utoipa::path(post, path = "/v1/admin/notifications/read-all", tag = "admin-notifications", security(("staff_bearer" = [])),
    responses(
        (status = 200, description = "How many were marked", body = MarkedRead),
    ))]
async fn staff_mark_all_read(With(state, me): With<StaffSession>) -> Result<Json<MarkedRead>> {
    let marked = store::mark_all_read(&state.pool, me.staff_id).await?;
    Ok(Json(MarkedRead { marked }))
}
