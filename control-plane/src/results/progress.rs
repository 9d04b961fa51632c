//! Live campaign progress: `GET /v1/campaigns/{campaign_id}/progress` streams the campaign's
//! counters as Server-Sent Events while the status consumer moves them — one `progress`
//! event at once, then one whenever they change (looked at every 500 ms, so at most two a
//! second), and a last `end` event when the campaign is completed or cancelled (the stream
//! then closes). Comments keep idle proxies from closing it. Another organisation's
//! campaign is a 404.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::credits::money::amount_str;
use crate::error::{Error, Result};
use crate::http::Path;
use crate::identity::principal::Principal;
use crate::identity::scope::AccountScope;
use crate::messages::routes::reader;
use crate::state::AppState;

/// How often an open stream looks at the counters.
const POLL: Duration = Duration::from_millis(500);

/// A campaign's counters as the stream sends them.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Progress {
    /// The campaign.
    pub campaign_id: Uuid,
    /// Its status.
    pub status: String,
    /// Recipients after exclusions.
    pub total_recipients: i32,
    /// Messages written and reserved.
    pub dispatched: i32,
    /// Left for the upstream.
    pub sent: i32,
    /// Delivered.
    pub delivered: i32,
    /// Failed.
    pub failed: i32,
    /// Expired.
    pub expired: i32,
    /// Rejected.
    pub rejected: i32,
    /// Opted out by reply.
    pub opted_out: i32,
    /// Credits charged so far.
    #[schema(value_type = String)]
    #[serde(serialize_with = "amount_str")]
    pub spent: Decimal,
}

impl Progress {
    fn finished(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "cancelled")
    }
}

/// The campaign's counters; `None` when the account has no such campaign.
pub async fn load(pool: &PgPool, scope: AccountScope, id: Uuid) -> Result<Option<Progress>> {
    Ok(sqlx::query_as(
        "SELECT id AS campaign_id, status::text AS status, total_recipients,
                dispatched_count AS dispatched, sent_count AS sent, delivered_count AS delivered,
                failed_count AS failed, expired_count AS expired, rejected_count AS rejected,
                opted_out_count AS opted_out, spent_cost AS spent
         FROM campaigns WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(scope.id())
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

fn event(p: &Progress) -> Event {
    let name = if p.finished() { "end" } else { "progress" };
    Event::default()
        .event(name)
        .json_data(p)
        .unwrap_or_else(|_| Event::default().event(name))
}

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(campaign_progress))
}

/// Live progress of a campaign as Server-Sent Events: `progress` events with the counters
/// as they change (at most two a second), then `end` when it is completed or cancelled.
#[utoipa::path(get, path = "/v1/campaigns/{campaign_id}/progress", tag = "campaigns",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "An event stream of `progress` events and a final `end`, each a Progress document", body = Progress, content_type = "text/event-stream"),
    ))]
async fn campaign_progress(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    reader(&principal)?;
    let scope = principal.scope();
    let first = load(&state.pool, scope, id).await?.ok_or(Error::NotFound)?;
    let first_event = event(&first);
    let rest = futures::stream::unfold(
        ((!first.finished()).then_some(first), state.pool.clone()),
        move |(last, pool)| async move {
            // `None` once `end` was sent.
            let last = last?;
            loop {
                tokio::time::sleep(POLL).await;
                match load(&pool, scope, id).await {
                    Ok(Some(p)) if p != last => {
                        let out = event(&p);
                        let next = (!p.finished()).then_some(p);
                        return Some((Ok(out), (next, pool)));
                    }
                    Ok(Some(_)) => {}
                    // Deleted meanwhile: nothing more to tell.
                    Ok(None) => return None,
                    // The database is away: end the stream (the client reconnects).
                    Err(error) => {
                        tracing::warn!(%error, campaign_id = %id, "progress stream ended");
                        return None;
                    }
                }
            }
        },
    );
    let stream =
        futures::StreamExt::chain(futures::stream::once(async move { Ok(first_event) }), rest);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
