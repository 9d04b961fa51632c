//! The receipts this engine could not match (a parked receipt whose `submit_sm_resp` never
//! came within `correlation.parked_ttl_secs`, and that is not the receipt of a duplicate
//! submit): counted in `semalink_engine_unmatched_receipts_total`, logged, and the last
//! [`KEPT`] kept in memory for `GET /v1/receipts/unmatched` — what the control plane's staff
//! engineering view shows (the engine sends no event for them: they belong to no message).

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// How many recent unmatched receipts are kept.
pub const KEPT: usize = 100;

/// One receipt that never matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmatchedReceipt {
    /// The upstream it came from.
    pub upstream: String,
    /// The SMSC message id it carried.
    pub smsc_message_id: String,
    /// Its stat word (`DELIVRD`, `UNDELIV`, …).
    pub stat: String,
    /// Its `err:` field, when it had one.
    pub err: Option<String>,
    /// When it was given up on.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// What `GET /v1/receipts/unmatched` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmatchedReport {
    /// Unmatched receipts since this process started.
    pub total: u64,
    /// The last ones, newest first (at most [`KEPT`]).
    pub recent: Vec<UnmatchedReceipt>,
}

/// The count and the last [`KEPT`] unmatched receipts.
#[derive(Debug, Default)]
pub struct UnmatchedLog {
    inner: Mutex<(u64, VecDeque<UnmatchedReceipt>)>,
}

impl UnmatchedLog {
    /// Records one.
    pub fn record(&self, receipt: UnmatchedReceipt) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.0 += 1;
        if inner.1.len() == KEPT {
            inner.1.pop_back();
        }
        inner.1.push_front(receipt);
    }

    /// The count and the recent ones, newest first.
    pub fn report(&self) -> UnmatchedReport {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        UnmatchedReport {
            total: inner.0,
            recent: inner.1.iter().cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(i: usize) -> UnmatchedReceipt {
        UnmatchedReceipt {
            upstream: "sim".into(),
            smsc_message_id: format!("id-{i}"),
            stat: "DELIVRD".into(),
            err: None,
            at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_last_ones_are_kept_newest_first_and_all_counted() {
        let log = UnmatchedLog::default();
        for i in 0..KEPT + 5 {
            log.record(receipt(i));
        }
        let report = log.report();
        assert_eq!(report.total, (KEPT + 5) as u64);
        assert_eq!(report.recent.len(), KEPT);
        assert_eq!(report.recent[0].smsc_message_id, format!("id-{}", KEPT + 4));
        assert_eq!(report.recent[KEPT - 1].smsc_message_id, "id-5");
    }
}
