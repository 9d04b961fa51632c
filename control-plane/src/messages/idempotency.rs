//! `Idempotency-Key` for the sending endpoints: the same key with the same request answers
//! what the first request answered and sends nothing again; with another request it is a
//! 409. A key is claimed inside the request's own transaction ([`claim`]), so it exists only
//! if the request's effects committed: a request that failed (402, 422) left no key and may be
//! retried with it. Keys are kept [`KEY_TTL`].

use axum::http::HeaderMap;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::identity::scope::AccountScope;
use crate::messages::store;
use crate::worker::{Worker, pause};

/// How long a key is remembered.
pub const KEY_TTL: time::Duration = time::Duration::hours(24);
/// The header.
pub const HEADER: &str = "idempotency-key";

/// The key of a request, if it gave one: 1 to 255 visible ASCII characters.
pub fn key_of(headers: &HeaderMap) -> Result<Option<String>> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::MalformedRequest {
            detail: "must be 1 to 255 visible ASCII characters".into(),
            field: Some("Idempotency-Key".into()),
        });
    }
    Ok(Some(key.to_owned()))
}

/// SHA-256 of the endpoint and the request as parsed (so key order and spacing of the JSON do
/// not make two equal requests differ).
pub fn request_hash<T: Serialize>(endpoint: &str, request: &T) -> Result<Vec<u8>> {
    let body = serde_json::to_vec(request).map_err(Error::internal)?;
    let mut hash = Sha256::new();
    hash.update(endpoint.as_bytes());
    hash.update([0]);
    hash.update(&body);
    Ok(hash.finalize().to_vec())
}

/// What a claim found.
#[derive(Debug)]
pub enum Claim {
    /// The key is ours: run the request, then record its answer ([`store::record_key`], same
    /// transaction).
    Fresh,
    /// The same request ran before: answer this.
    Replay {
        /// Its status.
        status: u16,
        /// Its body.
        body: serde_json::Value,
    },
}

/// Claims `key` for `hash` on the request's transaction; 409 when the key was used with
/// another request.
pub async fn claim(
    conn: &mut PgConnection,
    scope: AccountScope,
    key: &str,
    hash: &[u8],
) -> Result<Claim> {
    if store::claim_key(&mut *conn, scope, key, hash, KEY_TTL).await? {
        return Ok(Claim::Fresh);
    }
    let stored = store::stored_key(&mut *conn, scope, key)
        .await?
        .ok_or_else(|| Error::internal("idempotency key vanished between claim and read"))?;
    if stored.request_hash != hash {
        return Err(Error::Conflict(
            "this Idempotency-Key was used with a different request",
        ));
    }
    match (stored.status_code, stored.response) {
        (Some(status), Some(body)) => Ok(Claim::Replay {
            status: u16::try_from(status).map_err(Error::internal)?,
            body,
        }),
        _ => Err(Error::internal(
            "idempotency key committed without its answer",
        )),
    }
}

/// The `idempotency_purge` worker: forgets keys past their 24 hours, every ten minutes.
pub fn purge_worker(pool: PgPool, stop: CancellationToken) -> Worker {
    Worker::new("idempotency_purge", async move {
        while pause(std::time::Duration::from_secs(600), &stop).await {
            if let Err(error) = store::purge_keys(&pool).await {
                tracing::warn!(%error, "idempotency key purge failed");
            }
        }
    })
}
