//! What to do with a `submit_sm_resp` status (SMPP 3.4 §5.1.3), and how long to wait before a
//! retry.
//!
//! * `ESME_RTHROTTLED` (0x58) and `ESME_RMSGQFUL` (0x14): [`Disposition::Throttled`] — slow
//!   the route down and retry without limit; never drop the message.
//! * Errors about the message itself (bad destination or source address, bad length, bad
//!   `esm_class`, schedule or validity …): [`Disposition::Permanent`] — a failed status event
//!   with the code, at once.
//! * Everything else, vendor codes included (`ESME_RSYSERR`, `ESME_RSUBMITFAIL`, 0xFF …):
//!   [`Disposition::Transient`] — retried with back-off up to `retry.max_attempts`.
//!   `retry.permanent_status` and `retry.transient_status` move codes between the last two.
//!
//! A response timeout is not a status: the SMSC may have accepted the message, so a retry can
//! deliver it twice. The engine retries it (losing a message is worse than a rare duplicate)
//! and counts it under `retries_total{reason="timeout"}`.

use std::time::Duration;

use crate::config::RetryConfig;

/// `ESME_RMSGQFUL`: message queue full.
pub const ESME_RMSGQFUL: u32 = 0x14;
/// `ESME_RTHROTTLED`: throttling error (the ESME exceeded its allowed message limits).
pub const ESME_RTHROTTLED: u32 = 0x58;

/// Codes that say the message itself is wrong, so sending it again cannot help.
const PERMANENT: &[u32] = &[
    0x01, // ESME_RINVMSGLEN
    0x02, // ESME_RINVCMDLEN
    0x03, // ESME_RINVCMDID
    0x0A, // ESME_RINVSRCADR
    0x0B, // ESME_RINVDSTADR
    0x33, // ESME_RINVNUMDESTS
    0x40, // ESME_RINVDESTFLAG
    0x42, // ESME_RINVSUBREP
    0x43, // ESME_RINVESMCLASS
    0x48, // ESME_RINVSRCTON
    0x49, // ESME_RINVSRCNPI
    0x50, // ESME_RINVDSTTON
    0x51, // ESME_RINVDSTNPI
    0x53, // ESME_RINVSYSTYP
    0x54, // ESME_RINVREPFLAG
    0x61, // ESME_RINVSCHED
    0x62, // ESME_RINVEXPIRY
    0xC0, // ESME_RINVOPTPARSTREAM
    0xC1, // ESME_ROPTPARNOTALLWD
    0xC2, // ESME_RINVPARLEN
    0xC4, // ESME_RINVOPTPARAMVAL
];

/// What a `submit_sm_resp` status means for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Status 0: accepted.
    Accepted,
    /// Back off the route and retry, without limit.
    Throttled,
    /// Retry with back-off, up to the limit.
    Transient,
    /// Fail the message now.
    Permanent,
}

/// Classifies statuses under a retry policy.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    max_attempts: u32,
    min: Duration,
    max: Duration,
    permanent: Vec<u32>,
    transient: Vec<u32>,
}

impl RetryPolicy {
    /// The policy of the `[retry]` config.
    pub fn new(c: &RetryConfig) -> RetryPolicy {
        RetryPolicy {
            max_attempts: c.max_attempts,
            min: Duration::from_millis(c.backoff_min_ms),
            max: Duration::from_millis(c.backoff_max_ms),
            permanent: c.permanent_status.clone(),
            transient: c.transient_status.clone(),
        }
    }

    /// What `command_status` means.
    pub fn classify(&self, command_status: u32) -> Disposition {
        match command_status {
            0 => Disposition::Accepted,
            ESME_RTHROTTLED | ESME_RMSGQFUL => Disposition::Throttled,
            s if self.transient.contains(&s) => Disposition::Transient,
            s if self.permanent.contains(&s) || PERMANENT.contains(&s) => Disposition::Permanent,
            _ => Disposition::Transient,
        }
    }

    /// Whether a message that has made `attempts` attempts (the failed one included) may try
    /// again after a transient error or a timeout.
    pub fn may_retry(&self, attempts: u32) -> bool {
        attempts < self.max_attempts
    }

    /// The delay before retry number `retry` (1 for the first): exponential from the minimum,
    /// capped, with "equal jitter" (a uniform draw in the upper half) so that a window's worth
    /// of failures does not come back in one burst.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .min
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20))
            .min(self.max);
        let half = exp / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::new(&RetryConfig {
            max_attempts: 3,
            backoff_min_ms: 100,
            backoff_max_ms: 1_000,
            permanent_status: vec![0x400],
            transient_status: vec![0x0A],
        })
    }

    #[test]
    fn statuses_are_classified() {
        let p = policy();
        assert_eq!(p.classify(0), Disposition::Accepted);
        assert_eq!(p.classify(ESME_RTHROTTLED), Disposition::Throttled);
        assert_eq!(p.classify(ESME_RMSGQFUL), Disposition::Throttled);
        assert_eq!(p.classify(0x0B), Disposition::Permanent, "ESME_RINVDSTADR");
        assert_eq!(p.classify(0x08), Disposition::Transient, "ESME_RSYSERR");
        assert_eq!(p.classify(0x45), Disposition::Transient, "ESME_RSUBMITFAIL");
        assert_eq!(
            p.classify(0x1234),
            Disposition::Transient,
            "unknown vendor code"
        );
        assert_eq!(
            p.classify(0x400),
            Disposition::Permanent,
            "configured permanent"
        );
        assert_eq!(
            p.classify(0x0A),
            Disposition::Transient,
            "configured transient wins"
        );
    }

    #[test]
    fn attempts_are_limited() {
        let p = policy();
        assert!(p.may_retry(1) && p.may_retry(2));
        assert!(!p.may_retry(3));
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered_within_bounds() {
        let p = policy();
        for _ in 0..100 {
            let first = p.backoff(1);
            assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&first));
            let third = p.backoff(3);
            assert!((Duration::from_millis(200)..=Duration::from_millis(400)).contains(&third));
            let late = p.backoff(40);
            assert!((Duration::from_millis(500)..=Duration::from_millis(1_000)).contains(&late));
        }
    }
}
