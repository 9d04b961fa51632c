//! Customer endpoints: the balance, the credit history (filtered, paginated) and the
//! low-credit threshold. Users and API keys with `billing:read` may read; setting the
//! threshold needs an owner or admin.

use crate::identity::scope::AccountScope;
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api_keys::types::Scope;
use crate::credits::money::parse_non_negative_amount;
use crate::credits::store::{self, LedgerFilter};
use crate::credits::types::{Balance, CreditTransaction, SetThreshold, TxType};
use crate::error::{Error, Problem, Result};
use crate::http::{Json, Page, Paged, pagination::PageRequest, reply::found, with::With};
use crate::identity::principal::Principal;
use crate::identity::role::Role;
use crate::identity::user::AuthUser;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_balance))
        .routes(routes!(list_transactions))
        .routes(routes!(set_threshold))
}

/// Query of the customer's credit history.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only rows of this kind.
    #[serde(rename = "type")]
    #[param(value_type = Option<TxType>)]
    pub kind: Option<TxType>,
    /// Only rows at or after this time (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<OffsetDateTime>,
    /// Only rows before this time (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<OffsetDateTime>,
}

/// One page of the ledger with the given filters (customer history and staff view).
pub(crate) async fn ledger_page(
    state: &AppState,
    scope: Option<AccountScope>,
    kind: Option<TxType>,
    (from, to): (Option<OffsetDateTime>, Option<OffsetDateTime>),
    page: PageRequest,
) -> Result<Json<Page<CreditTransaction>>> {
    if let (Some(from), Some(to)) = (from, to)
        && from >= to
    {
        return Err(Error::field("to", "must be after from"));
    }
    let filter = LedgerFilter {
        scope,
        kind,
        from,
        to,
    };
    let rows = store::history(&state.pool, &filter, &page).await?;
    Ok(Json(Page::from_rows(rows, page, |t| t.id)))
}

/// The organisation's credit balance.
#[utoipa::path(get, path = "/v1/credits", tag = "credits",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    responses(
        (status = 200, description = "Balance, reserved, available, limit, threshold", body = Balance),
        (status = 403, description = "API key without billing:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_balance(With(state, who): With<Principal>) -> Result<Json<Balance>> {
    who.require(Scope::BillingRead, Role::Member)?;
    found(store::balance(&state.pool, who.scope()).await?).map(Json)
}

/// The organisation's credit history, newest first.
#[utoipa::path(get, path = "/v1/credits/transactions", tag = "credits",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(Paged<HistoryQuery>),
    responses(
        (status = 200, description = "Ledger rows", body = Page<CreditTransaction>),
        (status = 403, description = "API key without billing:read", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_transactions(
    With(state, who): With<Principal>,
    Paged { query: q, page }: Paged<HistoryQuery>,
) -> Result<Json<Page<CreditTransaction>>> {
    who.require(Scope::BillingRead, Role::Member)?;
    ledger_page(&state, Some(who.scope()), q.kind, (q.from, q.to), page).await
}

/// Sets the low-credit alert threshold (owner or admin); null turns the alert off.
#[utoipa::path(put, path = "/v1/credits/threshold", tag = "credits", security(("bearer" = [])),
    request_body = SetThreshold,
    responses(
        (status = 200, description = "The balance with the new threshold", body = Balance),
    ))]
async fn set_threshold(
    With(state, user): With<AuthUser>,
    Json(body): Json<SetThreshold>,
) -> Result<Json<Balance>> {
    user.require(Role::Admin)?;
    let threshold = body
        .low_credit_threshold
        .as_deref()
        .map(|t| parse_non_negative_amount("low_credit_threshold", t))
        .transpose()?;
    let base = &state.config.server.public_base_url;
    let mut conn = state.pool.acquire().await?;
    let balance = store::set_threshold(&mut conn, user.scope(), threshold, base).await?;
    Ok(Json(balance))
}
