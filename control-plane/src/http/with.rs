//! Two small helpers of the handlers: page requests the service makes itself (a detail view
//! that shows the newest rows of a list — a staff view of an organisation's sender IDs, an
//! agent's sub-customers and their rates — reads them through the list's own store function,
//! which takes a [`PageRequest`]), and [`With`], the state and the caller in one parameter.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::http::pagination::PageRequest;
use crate::state::AppState;

/// The newest `n` rows: a request whose fetch (one more than its page) is exactly `n`.
pub fn newest(n: i64) -> PageRequest {
    PageRequest {
        before: None,
        limit: n - 1,
    }
}

/// The state and one extractor `E` — a staff guard, the principal, an agent's user — as one
/// handler parameter (`With(state, agent): With<AgentUser>`): the pair nearly every handler
/// starts with.
pub struct With<E>(pub AppState, pub E);

impl<E: FromRequestParts<AppState>> FromRequestParts<AppState> for With<E> {
    type Rejection = E::Rejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(With(
            state.clone(),
            E::from_request_parts(parts, state).await?,
        ))
    }
}
