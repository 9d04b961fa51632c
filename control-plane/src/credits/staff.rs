//! Staff endpoints of the billing module: an account's credits, manual top-up, adjustment,
//! refund (`billing: admin`), billing mode and credit limit (`billing: owner`), and the
//! all-accounts ledger (`billing: read`). Every change writes the audit log in its own
//! transaction.

use axum::http::StatusCode;
use serde_json::json;
use sqlx::{Postgres, Transaction};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::admin::action::{self, StaffAction};
use crate::admin::guard::{BillingAdmin, BillingOwner, BillingRead, Require, StaffSession};
use crate::admin::permissions::{Level, Module};
use crate::credits::ledger::{self, Entry};
use crate::credits::money::{parse_amount, parse_non_negative_amount, parse_signed_amount};
use crate::credits::routes::ledger_page;
use crate::credits::store;
use crate::credits::topup::{ManualTopup, TopupProvider, TopupRequest};
use crate::credits::types::{
    Actor, AdjustmentBody, Balance, BillingSettings, CreditTransaction, LedgerQuery, Movement,
    RefundBody, TopupBody,
};
use crate::error::{Problem, Result};
use crate::http::{Json, Page, Paged, Path, reply::found, with::With};
use crate::identity::scope::AccountScope;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(account_credits))
        .routes(routes!(manual_topup))
        .routes(routes!(adjustment))
        .routes(routes!(staff_refund))
        .routes(routes!(set_billing))
        .routes(routes!(ledger_view))
}

/// Audits `movement` as `action` on its transaction and commits it; answers 201 for a new
/// movement, 200 for a replay of an earlier one.
async fn audited(
    mut tx: Transaction<'_, Postgres>,
    staff: &StaffSession,
    action: &str,
    movement: Movement,
) -> Result<(StatusCode, Json<Movement>)> {
    let t = &movement.transaction;
    let metadata = json!({
        "transaction_id": t.id, "amount": t.amount, "reference": t.reference,
        "reason": t.reason, "replayed": movement.replayed,
    });
    StaffAction::new(staff, Module::Billing, Level::Admin)?
        .audit(&mut *tx, action, "account", t.account_id, metadata)
        .await?;
    tx.commit().await?;
    let status = if movement.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(movement)))
}

/// A staff correction or refund.
enum StaffOp {
    Adjust(rust_decimal::Decimal),
    Refund,
}

/// Applies a staff correction or refund and audits it, in one transaction.
async fn staff_movement(
    state: &AppState,
    staff: &StaffSession,
    account_id: Uuid,
    reference: &str,
    reason: &str,
    op: StaffOp,
) -> Result<(StatusCode, Json<Movement>)> {
    let entry = Entry {
        account_id,
        reference,
        actor: Actor::Staff(staff.staff_id),
        reason: Some(reason),
        metadata: json!({}),
        base_url: &state.config.server.public_base_url,
    };
    let mut tx = state.pool.begin().await?;
    let (movement, action) = match op {
        StaffOp::Adjust(amount) => (
            ledger::adjust(&mut tx, &entry, amount).await?,
            "credits.adjust",
        ),
        StaffOp::Refund => (ledger::refund(&mut tx, &entry).await?, "credits.refund"),
    };
    audited(tx, staff, action, movement).await
}

/// An account's credits (`billing: read`).
#[utoipa::path(get, path = "/v1/admin/billing/accounts/{account_id}/credits", tag = "admin-billing",
    security(("staff_bearer" = [])), params(("account_id" = Uuid, Path, description = "Account id")),
    responses(
        (status = 200, description = "Balance", body = Balance),
    ))]
async fn account_credits(
    With(state, _): With<Require<BillingRead>>,
    Path(account_id): Path<Uuid>,
) -> Result<Json<Balance>> {
    found(store::balance(&state.pool, AccountScope::trusted(account_id)).await?).map(Json)
}

/// Records a payment received outside the platform (`billing: admin`). Idempotent by
/// reference: a repeat answers 200 with the first top-up.
#[utoipa::path(post, path = "/v1/admin/billing/accounts/{account_id}/topups", tag = "admin-billing",
    security(("staff_bearer" = [])), params(("account_id" = Uuid, Path, description = "Account id")),
    request_body = TopupBody,
    responses(
        (status = 201, description = "Credited", body = Movement),
        (status = 200, description = "Already credited with this reference", body = Movement),
        (status = 409, description = "Reference used with another amount", body = Problem, content_type = "application/problem+json"),
    ))]
async fn manual_topup(
    With(state, Require(staff, _)): With<Require<BillingAdmin>>,
    Path(account_id): Path<Uuid>,
    Json(body): Json<TopupBody>,
) -> Result<(StatusCode, Json<Movement>)> {
    let request = TopupRequest {
        account_id,
        amount: parse_amount("amount", &body.amount)?,
        reference: body.reference,
        requested_by: Actor::Staff(staff.staff_id),
        reason: Some(action::reason("reason", &body.reason)?.to_owned()),
    };
    let provider = ManualTopup;
    let initiated = provider.initiate(&request).await?;
    let mut tx = state.pool.begin().await?;
    let base_url = &state.config.server.public_base_url;
    let movement = provider
        .confirm(&mut tx, &request, &initiated, base_url)
        .await?;
    audited(tx, &staff, "credits.topup", movement).await
}

/// A signed correction with a reason (`billing: admin`). Idempotent by reference.
#[utoipa::path(post, path = "/v1/admin/billing/accounts/{account_id}/adjustments", tag = "admin-billing",
    security(("staff_bearer" = [])), params(("account_id" = Uuid, Path, description = "Account id")),
    request_body = AdjustmentBody,
    responses(
        (status = 201, description = "Adjusted", body = Movement),
        (status = 200, description = "Already applied with this reference", body = Movement),
        (status = 402, description = "Would take a prepaid balance below zero or exceed the credit limit", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Reference used with another amount", body = Problem, content_type = "application/problem+json"),
    ))]
async fn adjustment(
    With(state, Require(staff, _)): With<Require<BillingAdmin>>,
    Path(account_id): Path<Uuid>,
    Json(body): Json<AdjustmentBody>,
) -> Result<(StatusCode, Json<Movement>)> {
    let op = StaffOp::Adjust(parse_signed_amount("amount", &body.amount)?);
    let reason = action::reason("reason", &body.reason)?;
    staff_movement(&state, &staff, account_id, &body.reference, reason, op).await
}

/// Refunds a reservation by its reference (`billing: admin`): an open one is released, a
/// finalised one has its charge returned; at most once.
#[utoipa::path(post, path = "/v1/admin/billing/accounts/{account_id}/refunds", tag = "admin-billing",
    security(("staff_bearer" = [])), params(("account_id" = Uuid, Path, description = "Account id")),
    request_body = RefundBody,
    responses(
        (status = 201, description = "Refunded", body = Movement),
        (status = 200, description = "Already refunded", body = Movement),
    ))]
async fn staff_refund(
    With(state, Require(staff, _)): With<Require<BillingAdmin>>,
    Path(account_id): Path<Uuid>,
    Json(body): Json<RefundBody>,
) -> Result<(StatusCode, Json<Movement>)> {
    let reason = action::reason("reason", &body.reason)?;
    let op = StaffOp::Refund;
    staff_movement(&state, &staff, account_id, &body.reference, reason, op).await
}

/// Sets the billing mode and credit limit (`billing: owner`).
#[utoipa::path(put, path = "/v1/admin/billing/accounts/{account_id}/billing", tag = "admin-billing",
    security(("staff_bearer" = [])), params(("account_id" = Uuid, Path, description = "Account id")),
    request_body = BillingSettings,
    responses(
        (status = 200, description = "The balance with the new settings", body = Balance),
        (status = 409, description = "Negative balance cannot become prepaid", body = Problem, content_type = "application/problem+json"),
    ))]
async fn set_billing(
    With(state, Require(staff, _)): With<Require<BillingOwner>>,
    Path(account_id): Path<Uuid>,
    Json(body): Json<BillingSettings>,
) -> Result<Json<Balance>> {
    let limit = parse_non_negative_amount("credit_limit", &body.credit_limit)?;
    let scope = AccountScope::trusted(account_id);
    let base = &state.config.server.public_base_url;
    let mut tx = state.pool.begin().await?;
    let (before, after) =
        store::set_billing(&mut tx, scope, body.billing_mode, limit, base).await?;
    let metadata = json!({
        "before": {"billing_mode": before.billing_mode, "credit_limit": before.credit_limit},
        "after": {"billing_mode": after.billing_mode, "credit_limit": after.credit_limit},
    });
    StaffAction::new(&staff, Module::Billing, Level::Owner)?
        .audit(
            &mut *tx,
            "credits.billing_settings",
            "account",
            account_id,
            metadata,
        )
        .await?;
    tx.commit().await?;
    Ok(Json(after))
}

/// The ledger of every account, newest first, with filters (`billing: read`).
#[utoipa::path(get, path = "/v1/admin/billing/transactions", tag = "admin-billing",
    security(("staff_bearer" = [])), params(Paged<LedgerQuery>),
    responses(
        (status = 200, description = "Ledger rows", body = Page<CreditTransaction>),
    ))]
async fn ledger_view(
    With(state, _): With<Require<BillingRead>>,
    Paged { query: q, page }: Paged<LedgerQuery>,
) -> Result<Json<Page<CreditTransaction>>> {
    let scope = q.account_id.map(AccountScope::trusted);
    ledger_page(&state, scope, q.kind, (q.from, q.to), page).await
}
