//! Which attempt of a message a status event belongs to (migration 0110).
//!
//! A message's first attempt goes to the engine under the message id; a staff retry
//! ([`crate::engineering::retry`]) is a new attempt published under a fresh *attempt id*
//! ([`new_attempt_id`], a UUIDv8), because the engine keeps a record per id for the
//! correlation TTL and would treat a second submit under the same id as a redelivery (skip
//! the accepted segments, publish no second final). The consumer rewrites an event under an
//! attempt id to its message id and applies it only if that attempt is still the message's
//! current one: a late event of an earlier attempt — under the message id, or under an older
//! attempt id — is counted `stale` and changes nothing.
//!
//! Only ids of version 8 are looked up, so the first attempts (the whole of normal traffic,
//! UUIDv7) cost nothing extra.

use std::collections::HashMap;

use semalink_protocol::contracts::StatusEvent;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Result;

/// The UUID version of attempt ids.
const ATTEMPT_VERSION: usize = 8;

/// A fresh attempt id: time-ordered like the message ids (a v7 id) but marked version 8.
pub fn new_attempt_id() -> Uuid {
    uuid::Builder::from_custom_bytes(Uuid::now_v7().into_bytes()).into_uuid()
}

/// Whether `id` is an attempt id (not a message id).
pub fn is_attempt_id(id: &Uuid) -> bool {
    id.get_version_num() == ATTEMPT_VERSION
}

/// A batch with its events' attempts resolved.
#[derive(Debug, Default)]
pub struct Routed {
    /// The events rewritten to their message ids; `None` when no event needed it.
    pub events: Option<Vec<StatusEvent>>,
    /// The attempt of each event (by position); empty when all are first attempts.
    attempts: Vec<i32>,
}

impl Routed {
    /// The attempt the `i`-th event belongs to.
    pub fn attempt(&self, i: usize) -> i32 {
        self.attempts.get(i).copied().unwrap_or(0)
    }
}

/// Resolves the attempt ids among `events` (an unknown one is left as it is and counts as
/// an unknown message).
pub async fn route(conn: &mut PgConnection, events: &[StatusEvent]) -> Result<Routed> {
    let mut ids: Vec<Uuid> = events
        .iter()
        .map(|e| e.message_id)
        .filter(is_attempt_id)
        .collect();
    if ids.is_empty() {
        return Ok(Routed::default());
    }
    ids.sort_unstable();
    ids.dedup();
    let known: HashMap<Uuid, (Uuid, i32)> = sqlx::query_as::<_, (Uuid, Uuid, i32)>(
        "SELECT attempt_id, message_id, attempt FROM message_attempts WHERE attempt_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(attempt_id, message_id, attempt)| (attempt_id, (message_id, attempt)))
    .collect();
    let mut rewritten = events.to_vec();
    let mut attempts = vec![0; events.len()];
    for (event, attempt) in rewritten.iter_mut().zip(attempts.iter_mut()) {
        if let Some((message_id, n)) = known.get(&event.message_id) {
            event.message_id = *message_id;
            *attempt = *n;
        }
    }
    Ok(Routed {
        events: Some(rewritten),
        attempts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempt_ids_are_told_apart_from_message_ids() {
        let attempt = new_attempt_id();
        assert!(is_attempt_id(&attempt));
        assert!(!is_attempt_id(&Uuid::now_v7()));
        assert!(!is_attempt_id(&Uuid::new_v4()));
        assert!(new_attempt_id() > attempt, "time-ordered");
    }
}
