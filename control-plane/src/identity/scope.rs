//! [`AccountScope`]: the one organisation a request may read or change. Customer queries take
//! it instead of a bare account id, so the only ways to get one are the caller's credentials
//! ([`crate::identity::user::AuthUser::scope`], [`crate::identity::principal::Principal::scope`])
//! or an explicit, greppable [`AccountScope::trusted`] for workers and staff actions. The agent
//! API (an agent acting for a sub-customer) and staff impersonation will make theirs here.

use uuid::Uuid;

/// The organisation a request acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccountScope(Uuid);

impl AccountScope {
    /// The scope of a caller whose credentials name `account_id` (crate-internal: only the
    /// extractors know that).
    pub(crate) fn of_credentials(account_id: Uuid) -> AccountScope {
        AccountScope(account_id)
    }

    /// A scope taken without a customer credential: a worker (a STOP reply, a campaign run)
    /// or a staff action vouches that `account_id` is the organisation acted for.
    pub fn trusted(account_id: Uuid) -> AccountScope {
        AccountScope(account_id)
    }

    /// The organisation's id, to bind into SQL.
    pub fn id(self) -> Uuid {
        self.0
    }
}
