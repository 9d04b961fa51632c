//! How credit comes in: the [`TopupProvider`] interface and its first implementation,
//! [`ManualTopup`] (staff record a payment received outside the platform).
//!
//! A top-up is two steps. `initiate` starts the payment with the provider (an M-Pesa STK push
//! to the customer's phone, a card checkout) and returns what identifies it; `confirm` runs
//! when the provider says the money arrived (its callback) and credits the ledger, keyed by
//! the provider's reference so a callback delivered twice credits once. The manual provider
//! has nothing to wait for: it is confirmed as soon as it is initiated.

use std::future::Future;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::credits::ledger::{self, Entry};
use crate::credits::types::{Actor, Movement};
use crate::error::{Error, Result};

/// A request to add credit to an account.
#[derive(Debug, Clone)]
pub struct TopupRequest {
    /// The account credited.
    pub account_id: Uuid,
    /// Credits to add (> 0).
    pub amount: Decimal,
    /// The caller's reference (staff: the bank transfer's reference).
    pub reference: String,
    /// Who asked for it.
    pub requested_by: Actor,
    /// Why (staff top-ups need one).
    pub reason: Option<String>,
}

/// A started top-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initiated {
    /// The provider's name (`manual`, later `mpesa`, `card`).
    pub provider: &'static str,
    /// What identifies the payment at the provider; becomes the ledger reference.
    pub provider_reference: String,
    /// True when the money is already there and `confirm` may run at once.
    pub confirmed: bool,
}

/// A way to pay for credits.
pub trait TopupProvider: Send + Sync {
    /// Starts the payment.
    fn initiate(&self, request: &TopupRequest) -> impl Future<Output = Result<Initiated>> + Send;

    /// Credits the ledger for a payment the provider has confirmed, in the caller's
    /// transaction. Idempotent by the provider reference.
    fn confirm(
        &self,
        conn: &mut PgConnection,
        request: &TopupRequest,
        initiated: &Initiated,
        base_url: &str,
    ) -> impl Future<Output = Result<Movement>> + Send;
}

/// Staff record money received by bank transfer, cheque or cash.
#[derive(Debug, Clone, Copy, Default)]
pub struct ManualTopup;

impl ManualTopup {
    /// The provider's name.
    pub const NAME: &'static str = "manual";
}

impl TopupProvider for ManualTopup {
    async fn initiate(&self, request: &TopupRequest) -> Result<Initiated> {
        if request
            .reason
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
        {
            return Err(Error::field("reason", "is required for a manual top-up"));
        }
        Ok(Initiated {
            provider: Self::NAME,
            provider_reference: request.reference.clone(),
            confirmed: true,
        })
    }

    async fn confirm(
        &self,
        conn: &mut PgConnection,
        request: &TopupRequest,
        initiated: &Initiated,
        base_url: &str,
    ) -> Result<Movement> {
        if !initiated.confirmed || initiated.provider != Self::NAME {
            return Err(Error::Conflict(
                "the top-up is not confirmed by this provider",
            ));
        }
        let (requested_by_type, requested_by_id) = request.requested_by.columns();
        let metadata: Value = json!({
            "provider": initiated.provider,
            "requested_by": {"type": requested_by_type, "id": requested_by_id},
        });
        let entry = Entry {
            account_id: request.account_id,
            reference: &initiated.provider_reference,
            actor: request.requested_by.clone(),
            reason: request.reason.as_deref(),
            metadata,
            base_url,
        };
        ledger::topup(conn, &entry, request.amount).await
    }
}
