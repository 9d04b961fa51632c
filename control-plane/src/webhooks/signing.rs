//! Standard Webhooks 1.0 signatures (<https://www.standardwebhooks.com>, the spec's
//! "Signature scheme"): the secret is `whsec_` + base64 of 32 random bytes; the signed content
//! is `{webhook-id}.{webhook-timestamp}.{body}`; `webhook-signature` is `v1,` + base64 of its
//! HMAC-SHA256, one per live secret, space-separated (during a rotation both secrets sign).
//! [`verify`] is what a receiver does (the reference libraries — `standardwebhooks` for
//! Python / JavaScript / Go / Rust …, or `svix` — do the same).

use data_encoding::BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::crypto;

/// Visible start of every signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// How far a `webhook-timestamp` may be from the receiver's clock (the libraries' default).
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// A new signing secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> String {
    format!(
        "{SECRET_PREFIX}{}",
        BASE64.encode(&crypto::random_bytes::<32>())
    )
}

/// The key bytes of a `whsec_` secret; `None` when it is not one.
fn key(secret: &str) -> Option<Vec<u8>> {
    BASE64
        .decode(secret.strip_prefix(SECRET_PREFIX)?.as_bytes())
        .ok()
}

/// The HMAC-SHA256 under `key` of the signed content, `id.timestamp.body`.
fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(mac)
}

/// `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>` for one secret.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let mac = mac(&key(secret)?, id, timestamp, body)?;
    Some(format!(
        "v1,{}",
        BASE64.encode(&mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header value: one signature per secret, space-separated.
pub fn header(secrets: &[&str], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .filter_map(|s| sign(s, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a receiver refuses a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The timestamp is more than [`TOLERANCE_SECS`] away from `now` (a replay).
    #[error("timestamp outside the tolerance")]
    Timestamp,
    /// No `v1` signature matches.
    #[error("no matching signature")]
    Signature,
}

/// A receiver's check: the timestamp is within tolerance of `now` and one of the header's
/// `v1` signatures is the body's under `secret` (compared in constant time).
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: i64,
    signatures: &str,
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    if (now - timestamp).abs() > TOLERANCE_SECS {
        return Err(VerifyError::Timestamp);
    }
    let key = key(secret).ok_or(VerifyError::Signature)?;
    let expected = mac(&key, id, timestamp, body).ok_or(VerifyError::Signature)?;
    for candidate in signatures.split(' ') {
        let Some(b64) = candidate.strip_prefix("v1,") else {
            continue;
        };
        let Ok(given) = BASE64.decode(b64.as_bytes()) else {
            continue;
        };
        if expected.clone().verify_slice(&given).is_ok() {
            return Ok(());
        }
    }
    Err(VerifyError::Signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vector of the Standard Webhooks reference libraries.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn matches_the_reference_vector() {
        assert_eq!(sign(SECRET, ID, TS, BODY).unwrap(), EXPECTED);
        verify(SECRET, ID, TS, EXPECTED, BODY, TS + 10).unwrap();
    }

    #[test]
    fn refuses_wrong_secret_changed_body_and_old_timestamp() {
        let other = new_secret();
        assert_eq!(
            verify(&other, ID, TS, EXPECTED, BODY, TS),
            Err(VerifyError::Signature)
        );
        assert_eq!(
            verify(SECRET, ID, TS, EXPECTED, b"{\"test\": 1}", TS),
            Err(VerifyError::Signature)
        );
        assert_eq!(
            verify(SECRET, ID, TS, EXPECTED, BODY, TS + TOLERANCE_SECS + 1),
            Err(VerifyError::Timestamp)
        );
    }

    #[test]
    fn either_secret_verifies_during_rotation() {
        let new = new_secret();
        assert!(new.starts_with(SECRET_PREFIX) && key(&new).unwrap().len() == 32);
        let h = header(&[&new, SECRET], ID, TS, BODY);
        assert_eq!(h.split(' ').count(), 2);
        verify(SECRET, ID, TS, &h, BODY, TS).unwrap();
        verify(&new, ID, TS, &h, BODY, TS).unwrap();
    }
}
