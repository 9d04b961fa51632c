//! Budget types: the caps and what has been spent against them, and the body that sets them.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An organisation's spend caps and its spend in the current day and month (in its time
/// zone). Spend: the cost of the messages written in the period, less those cancelled,
/// failed, rejected or expired.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Budget {
    /// Daily cap (null: none).
    #[schema(value_type = Option<String>, example = "500.0000")]
    pub daily_limit: Option<Decimal>,
    /// Monthly cap (null: none).
    #[schema(value_type = Option<String>, example = "10000.0000")]
    pub monthly_limit: Option<Decimal>,
    /// Spent today.
    #[schema(value_type = String)]
    pub spent_today: Decimal,
    /// Spent this month.
    #[schema(value_type = String)]
    pub spent_this_month: Decimal,
    /// The time zone days and months are counted in (the organisation's).
    pub timezone: String,
}

/// Body of `PUT /v1/budget`: both caps (null or absent: no cap).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetBudget {
    /// Daily cap, a positive decimal string (4 places at most).
    #[schema(example = "500")]
    pub daily_limit: Option<String>,
    /// Monthly cap.
    #[schema(example = "10000")]
    pub monthly_limit: Option<String>,
}

/// Spend against the caps, as the dispatcher sees it: the [`Budget`] the organisation reads.
pub type Standing = Budget;

impl Standing {
    /// Why spending `extra` more now would cross a cap; `None` when it fits.
    pub fn refusal(&self, extra: Decimal) -> Option<String> {
        if let Some(cap) = self.daily_limit
            && self.spent_today + extra > cap
        {
            return Some(format!(
                "daily budget of {cap} reached: {} spent today, the next batch costs {extra}",
                self.spent_today
            ));
        }
        if let Some(cap) = self.monthly_limit
            && self.spent_this_month + extra > cap
        {
            return Some(format!(
                "monthly budget of {cap} reached: {} spent this month, the next batch costs {extra}",
                self.spent_this_month
            ));
        }
        None
    }
}
