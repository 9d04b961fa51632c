//! TOTP (RFC 6238) over HOTP (RFC 4226): HMAC-SHA1, 30-second steps, 6 digits — what every
//! authenticator app expects from an `otpauth://` URI.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Step length in seconds (RFC 6238 §4.1 default).
pub const STEP_SECS: i64 = 30;
const DIGITS: u32 = 6;
/// Length of a code.
pub const DIGITS_LEN: usize = DIGITS as usize;

/// HOTP value for one counter (RFC 4226 §5.3, dynamic truncation).
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let code = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    code % 10u32.pow(DIGITS)
}

/// The step number for a Unix time.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// Finds the step (now ±1, for clock drift) whose code equals `code`, skipping steps at or
/// before `last_used` so a code cannot be replayed.
pub fn matching_step(
    secret: &[u8],
    code: &str,
    unix_secs: i64,
    last_used: Option<i64>,
) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let wanted: u32 = code.parse().ok()?;
    let now = step_at(unix_secs);
    (now - 1..=now + 1)
        .filter(|step| last_used.is_none_or(|last| *step > last))
        .find(|step| u64::try_from(*step).is_ok_and(|s| hotp(secret, s) == wanted))
}

/// The `otpauth://` URI an authenticator app scans (Key Uri Format).
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let issuer_enc = utf8_percent_encode(issuer, NON_ALPHANUMERIC).to_string();
    let account_enc = utf8_percent_encode(account, NON_ALPHANUMERIC).to_string();
    format!(
        "otpauth://totp/{issuer_enc}:{account_enc}?secret={secret_base32}&issuer={issuer_enc}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc4226_appendix_d_vectors() {
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, counter as u64), *want);
        }
    }

    #[test]
    fn rfc6238_appendix_b_sha1_vectors_last_six_digits() {
        for (t, want) in [
            (59, "287082"),
            (1111111109, "081804"),
            (1234567890, "005924"),
            (2000000000, "279037"),
        ] {
            assert_eq!(matching_step(RFC_SECRET, want, t, None), Some(step_at(t)));
        }
    }

    #[test]
    fn replay_and_drift() {
        let t = 1_234_567_890;
        let code = format!("{:06}", hotp(RFC_SECRET, step_at(t) as u64));
        assert_eq!(
            matching_step(RFC_SECRET, &code, t + STEP_SECS, None),
            Some(step_at(t))
        );
        assert_eq!(matching_step(RFC_SECRET, &code, t, Some(step_at(t))), None);
        assert_eq!(
            matching_step(RFC_SECRET, &code, t + 3 * STEP_SECS, None),
            None
        );
        assert_eq!(matching_step(RFC_SECRET, "12345", t, None), None);
    }
}
