//! The dispatcher's money checks: a batch's budget and credit judged on the committed state
//! before its write, and again under the account's credits lock, with the one reservation.

use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgConnection;

use crate::agents::charge::Payer;
use crate::campaigns::budget::store as budget;
use crate::campaigns::dispatch::Dispatcher;
use crate::campaigns::dispatch::store::Sending;
use crate::credits::ledger::{self, Entry};
use crate::credits::types::Actor;
use crate::error::{Error, Result};
use crate::identity::scope::AccountScope;

impl Dispatcher {
    /// Why spending `total` more would cross a budget cap or the available credit, judged on
    /// the committed state.
    pub(super) async fn refusal(
        &self,
        tx: &mut PgConnection,
        scope: AccountScope,
        total: Decimal,
    ) -> Result<Option<String>> {
        if budget::capped(&mut *tx, scope).await?
            && let Some(reason) = budget::standing(&mut *tx, scope).await?.refusal(total)
        {
            return Ok(Some(reason));
        }
        let available = crate::credits::store::balance(&mut *tx, scope)
            .await?
            .ok_or(Error::NotFound)?
            .available;
        Ok((total > available).then(|| {
            format!(
                "insufficient credit: the next batch costs {total} and {available} is available"
            )
        }))
    }

    /// Reserves the written batch once, under the account's credits lock, after checking
    /// again what committed since [`Dispatcher::refusal`] (a parallel batch, an API send): the
    /// caps now count this batch's own messages. A refusal here rolls the batch back; the
    /// next pass pauses the campaign with the reason.
    pub(super) async fn reserve(
        &self,
        tx: &mut PgConnection,
        c: &Sending,
        reference: &str,
        total: Decimal,
        messages: usize,
    ) -> Result<()> {
        let scope = AccountScope::trusted(c.account_id);
        let locked = ledger::lock(&mut *tx, c.account_id).await?;
        if budget::capped(&mut *tx, scope).await?
            && budget::standing(&mut *tx, scope)
                .await?
                .refusal(Decimal::ZERO)
                .is_some()
        {
            return Err(Error::internal(
                "a budget cap was reached during the batch; batch rolled back",
            ));
        }
        if total > locked.available_at(locked.balance) {
            return Err(Error::internal(
                "the credit ran short during the batch; batch rolled back",
            ));
        }
        let entry = Entry {
            account_id: c.account_id,
            reference,
            actor: Actor::System("campaign_dispatcher"),
            reason: None,
            metadata: json!({"campaign_id": c.id, "messages": messages}),
            base_url: &self.base_url,
        };
        ledger::reserve(&mut *tx, &entry, total).await?;
        Ok(())
    }

    /// A sub-customer's batch, charged to its agent: the customer's budget caps, then the
    /// agent's credit and the agent's limits for this customer judged under the agent's
    /// credits lock ([`Payer::admit`]), and the wholesale total reserved there, all before the
    /// write. `Some(reason)`: pause the campaign, nothing reserved.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn admit_for_agent(
        &self,
        tx: &mut PgConnection,
        c: &Sending,
        payer: &Payer,
        reference: &str,
        total: Decimal,
        billed_total: Decimal,
        messages: usize,
    ) -> Result<Option<String>> {
        let scope = AccountScope::trusted(c.account_id);
        if total > Decimal::ZERO || billed_total > Decimal::ZERO {
            if budget::capped(&mut *tx, scope).await?
                && let Some(reason) = budget::standing(&mut *tx, scope).await?.refusal(total)
            {
                return Ok(Some(reason));
            }
            if let Some(refusal) = payer.admit(&mut *tx, scope, billed_total, total).await? {
                return Ok(Some(refusal.reason()));
            }
        }
        if billed_total > Decimal::ZERO {
            let entry = Entry {
                account_id: payer.account_id,
                reference,
                actor: Actor::System("campaign_dispatcher"),
                reason: None,
                metadata: json!({"campaign_id": c.id, "messages": messages,
                                 "customer_id": payer.agent().map(|_| c.account_id)}),
                base_url: &self.base_url,
            };
            ledger::reserve(&mut *tx, &entry, billed_total).await?;
        }
        Ok(None)
    }
}
