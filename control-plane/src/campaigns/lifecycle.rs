//! The life cycle's actions: submit for the content check, send now, schedule, pause,
//! resume, cancel (with the refund of what was not sent). Each runs in one transaction that
//! holds the campaign's row lock (a dispatcher batch in progress finishes first); an action
//! its status does not allow is a 409 naming the status.

use axum::extract::State;
use serde_json::json;
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::campaigns::content::{self, Submission};
use crate::campaigns::review;
use crate::campaigns::routes::{begin, done, instant, known_zone, locked, user_of};
use crate::campaigns::store;
use crate::campaigns::types::{
    Action, Campaign, CampaignStatus, PauseCampaign, ScheduleCampaign, SendAt,
};
use crate::credits::ledger::{self, Outcome};
use crate::credits::types::Actor;
use crate::error::{Error, Problem, Result};
use crate::http::{Json, Path};
use crate::identity::principal::Principal;
use crate::identity::scope::AccountScope;
use crate::state::AppState;
use crate::types::BoundedText;

/// How far ahead a campaign may be scheduled.
const MAX_SCHEDULE: Duration = Duration::days(60);

/// Routes of the actions.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit_campaign))
        .routes(routes!(send_campaign))
        .routes(routes!(schedule_campaign))
        .routes(routes!(pause_campaign))
        .routes(routes!(resume_campaign))
        .routes(routes!(cancel_campaign))
}

/// Submit for the content check: `approved`, or `rejected` with `rejection_reason` naming
/// each problem (empty text, sender ID missing / not approved / suspended, no audience,
/// unknown or malformed tokens, over the segment limit, blocked words or link domains, a
/// promotional sender without opt-out text), or — when a review rule matches (review words,
/// an organisation's first campaign) — left `pending_content_check` for Sema Link staff to
/// approve or reject.
#[utoipa::path(post, path = "/v1/campaigns/{campaign_id}/submit", tag = "campaigns",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Checked: approved or rejected", body = Campaign),
        (status = 403, description = "Key lacks messages:send", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a draft or rejected campaign (its status is named)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn submit_campaign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<Campaign>> {
    let (mut tx, scope, _) = begin(&state, &principal, id, Action::Submit).await?;
    store::set_status(
        &mut *tx,
        id,
        CampaignStatus::PendingContentCheck,
        None,
        None,
    )
    .await?;
    tx.commit().await?;
    let mut tx = state.pool.begin().await?;
    let current = locked(&mut tx, scope, id, Action::Submit).await?;
    let sender = match current.sender_id {
        Some(sid) => crate::sender_ids::store::get(&mut *tx, scope, sid).await?,
        None => None,
    };
    let unknown =
        store::unknown_attributes(&mut *tx, scope, &content::custom_tokens(&current.message))
            .await?;
    let submission = Submission {
        message: &current.message,
        sender: sender.as_ref(),
        has_audience: !current.list_ids.is_empty() || current.audience_filter.is_some(),
        link_domain: &state.config.links.domain,
    };
    let rules = &state.config.campaigns;
    let problems = content::check(&submission, &unknown, rules);
    if problems.is_empty() {
        let first = rules.review_first_campaign
            && review::store::is_first(&mut *tx, scope.id(), id).await?;
        let reasons = content::review_reasons(&current.message, rules, first);
        if reasons.is_empty() {
            store::set_status(&mut *tx, id, CampaignStatus::Approved, None, None).await?;
            review::store::set_reason(&mut *tx, id, None).await?;
        } else {
            // Stays pending_content_check: in the staff queue until a human decides.
            review::store::set_reason(&mut *tx, id, Some(&reasons.join("\n"))).await?;
        }
    } else {
        let reason = problems.join("\n");
        store::set_status(&mut *tx, id, CampaignStatus::Rejected, Some(&reason), None).await?;
        review::store::set_reason(&mut *tx, id, None).await?;
    }
    done(tx, scope, id).await
}

/// Send an approved campaign now: it is `queued` for the dispatcher.
#[utoipa::path(post, path = "/v1/campaigns/{campaign_id}/send", tag = "campaigns",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Queued", body = Campaign),
        (status = 403, description = "Key lacks messages:send", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not approved (its status is named)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn send_campaign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<Campaign>> {
    let (mut tx, scope, _) = begin(&state, &principal, id, Action::Send).await?;
    let now = OffsetDateTime::now_utc();
    store::release(&mut *tx, id, CampaignStatus::Queued, Some(now), None).await?;
    done(tx, scope, id).await
}

/// Schedule an approved campaign for `send_at` (the body's, else the campaign's): an instant,
/// or a local time in the time zone given (else the campaign's, else the organisation's). At
/// most 60 days ahead.
#[utoipa::path(post, path = "/v1/campaigns/{campaign_id}/schedule", tag = "campaigns",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id")), request_body = ScheduleCampaign,
    responses(
        (status = 200, description = "Scheduled", body = Campaign),
        (status = 403, description = "Key lacks messages:send", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not approved (its status is named)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn schedule_campaign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    Json(req): Json<ScheduleCampaign>,
) -> Result<Json<Campaign>> {
    let (mut tx, scope, current) = begin(&state, &principal, id, Action::Schedule).await?;
    let zone = match req.timezone.as_deref().map(str::trim) {
        Some(tz) => {
            known_zone(&mut tx, "timezone", tz).await?;
            tz.to_owned()
        }
        None => match &current.timezone {
            Some(tz) => tz.clone(),
            None => store::account_timezone(&mut *tx, scope).await?,
        },
    };
    let at = match req.send_at.as_deref() {
        Some(text) => instant(&mut tx, SendAt::parse("send_at", text)?, &zone).await?,
        None => current
            .send_at
            .ok_or_else(|| Error::field("send_at", "is required: the campaign has none"))?,
    };
    let now = OffsetDateTime::now_utc();
    if at <= now {
        return Err(Error::field("send_at", "must be in the future"));
    }
    if at > now + MAX_SCHEDULE {
        return Err(Error::field("send_at", "must be at most 60 days ahead"));
    }
    store::release(
        &mut *tx,
        id,
        CampaignStatus::Scheduled,
        Some(at),
        Some(&zone),
    )
    .await?;
    done(tx, scope, id).await
}

/// Pause a scheduled, queued or sending campaign (messages already written still go; the
/// dispatcher writes no more).
#[utoipa::path(post, path = "/v1/campaigns/{campaign_id}/pause", tag = "campaigns",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id")), request_body = PauseCampaign,
    responses(
        (status = 200, description = "Paused", body = Campaign),
        (status = 403, description = "Key lacks messages:send", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not scheduled, queued or sending (its status is named)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn pause_campaign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    Json(req): Json<PauseCampaign>,
) -> Result<Json<Campaign>> {
    let reason = match req.reason.as_deref() {
        Some(r) => BoundedText::<500>::parse(r)
            .ok_or_else(|| Error::field("reason", "must be 1 to 500 characters"))?
            .as_str()
            .to_owned(),
        None => "paused by the customer".to_owned(),
    };
    let (mut tx, scope, _) = begin(&state, &principal, id, Action::Pause).await?;
    pause(&mut tx, id, &reason).await?;
    done(tx, scope, id).await
}

/// The pause transition of a campaign locked (and checked for [`Action::Pause`]) on `tx`:
/// the dispatcher writes no more of it. Customers and staff both pause through here.
pub async fn pause(tx: &mut PgConnection, id: Uuid, reason: &str) -> Result<()> {
    store::set_status(&mut *tx, id, CampaignStatus::Paused, None, Some(reason)).await
}

/// A human content review's decision.
#[derive(Debug, Clone, Copy)]
pub enum Verdict<'a> {
    /// Approved: it may be sent or scheduled.
    Approve,
    /// Rejected, with the reason the customer sees.
    Reject(&'a str),
}

/// The review transition of a campaign locked (and checked for [`Action::Review`]) on `tx`
/// and waiting for a human: `approved`, or `rejected` with the reason; out of the queue, the
/// deciding staff member recorded.
pub async fn review(
    tx: &mut PgConnection,
    id: Uuid,
    staff_id: Uuid,
    verdict: Verdict<'_>,
) -> Result<()> {
    match verdict {
        Verdict::Approve => {
            store::set_status(&mut *tx, id, CampaignStatus::Approved, None, None).await?;
        }
        Verdict::Reject(reason) => {
            store::set_status(&mut *tx, id, CampaignStatus::Rejected, Some(reason), None).await?;
        }
    }
    review::store::decided(&mut *tx, id, staff_id).await
}

/// Resume a paused campaign: `sending` again if dispatch had started, else `scheduled` (send
/// time ahead) or `queued`.
#[utoipa::path(post, path = "/v1/campaigns/{campaign_id}/resume", tag = "campaigns",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Resumed", body = Campaign),
        (status = 403, description = "Key lacks messages:send", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not paused (its status is named)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn resume_campaign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<Campaign>> {
    let (mut tx, scope, current) = begin(&state, &principal, id, Action::Resume).await?;
    let now = OffsetDateTime::now_utc();
    let status = if current.started_at.is_some() {
        CampaignStatus::Sending
    } else if current.send_at.is_some_and(|at| at > now) {
        CampaignStatus::Scheduled
    } else {
        CampaignStatus::Queued
    };
    store::set_status(&mut *tx, id, status, None, None).await?;
    done(tx, scope, id).await
}

/// Cancel a campaign: no more messages are written, and those still in the outbox never go —
/// they are taken out, marked `cancelled` and refunded in the same transaction (the report
/// says how many and how much).
#[utoipa::path(post, path = "/v1/campaigns/{campaign_id}/cancel", tag = "campaigns",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("campaign_id" = Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Cancelled", body = Campaign),
        (status = 403, description = "Key lacks messages:send", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Completed or cancelled already (its status is named)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn cancel_campaign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<Campaign>> {
    let (mut tx, scope, current) = begin(&state, &principal, id, Action::Cancel).await?;
    let actor = match user_of(&principal) {
        Some(user) => Actor::User(user),
        None => Actor::System("campaigns_api"),
    };
    let base = &state.config.server.public_base_url;
    cancel(&mut tx, scope, &current, actor, base).await?;
    done(tx, scope, id).await
}

/// The cancel transition of `current`, locked (and checked for [`Action::Cancel`]) on `tx`:
/// its unsent messages are taken out of the outbox, marked cancelled and refunded, and the
/// report written. Customers and staff both cancel through here; returns the report.
pub async fn cancel(
    tx: &mut PgConnection,
    scope: AccountScope,
    current: &Campaign,
    actor: Actor,
    base_url: &str,
) -> Result<serde_json::Value> {
    let id = current.id;
    let unsent = store::lock_unsent(&mut *tx, scope, id).await?;
    let events: Vec<Uuid> = unsent.iter().map(|_| Uuid::now_v7()).collect();
    let cancelled = store::cancel_messages(&mut *tx, &unsent, &events).await?;
    let outcomes: Vec<(Uuid, Outcome)> = cancelled.iter().map(|m| (*m, Outcome::Refund)).collect();
    let settled = ledger::settle_messages(tx, scope.id(), &outcomes, actor, base_url).await?;
    let report = json!({
        "dispatched": current.dispatched_count,
        "cancelled_messages": cancelled.len(),
        "refunded": settled.refunded_cost,
    });
    store::mark_cancelled(&mut *tx, id, &report).await?;
    Ok(report)
}
