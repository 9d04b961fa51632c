//! Delivery receipts (DLRs): SMPP 3.4 Appendix B text and the `deliver_sm` receipt TLVs.
//!
//! * [`parse_text`] reads the receipt text, tolerant of vendor variations (see the scanner
//!   module `text`: field order, key case and spelling, missing fields, dates with seconds,
//!   trailing text). Only `id` and `stat` are required.
//! * [`from_deliver_sm`] builds the receipt from a `deliver_sm`'s parts, letting the
//!   `receipted_message_id`, `message_state` and `network_error_code` TLVs (SMPP 3.4 §5.3.2.12,
//!   §5.3.2.35, §5.3.2.31) win over the text, which may be absent.
//! * [`Receipt::to_text`] writes the canonical Appendix B text (used by the SMSC simulator).
//! * [`Stat::outcome`] normalises the state to an [`Outcome`]: DELETED and UNKNOWN are final
//!   failures; ACCEPTD, ENROUTE, BUFFRED and unrecognised words are not final (reasons in the
//!   `stat` module).
//!
//! Nothing here panics on any input (property-tested and fuzzed).

mod date;
mod deliver_sm;
mod format;
mod stat;
mod text;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use date::ReceiptDate;
pub use deliver_sm::{DeliverSmParts, NetworkError, from_deliver_sm};
pub use stat::{Outcome, Stat};

/// A delivery receipt, whatever form it arrived in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The SMSC message id the receipt refers to, as sent (canonicalise it with
    /// [`crate::msgid::canonical`] before matching).
    pub id: String,
    /// `sub:` — number of messages originally submitted.
    pub submitted: Option<u32>,
    /// `dlvrd:` — number of messages delivered.
    pub delivered: Option<u32>,
    /// `submit date:` — when the message was submitted (SMSC local time).
    pub submit_date: Option<ReceiptDate>,
    /// `done date:` — when the message reached this state (SMSC local time).
    pub done_date: Option<ReceiptDate>,
    /// `stat:` or the `message_state` TLV.
    pub stat: Stat,
    /// `err:` — the network-specific error code as sent (usually three digits).
    pub err: Option<String>,
    /// `text:` — the first characters of the message (or whatever the vendor put there).
    pub text: Option<String>,
    /// The `network_error_code` TLV, when the `deliver_sm` carried one.
    pub network_error: Option<NetworkError>,
    /// The handset's number (the receipt's `source_addr`), when the reader kept it: lets a
    /// receipt whose SMSC id is unknown be matched to what was sent to that number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handset: Option<String>,
}

/// Why a receipt could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// None of the receipt fields were found: this is not a receipt (an MO message, say).
    #[error("not a delivery receipt: no receipt fields found")]
    NotAReceipt,
    /// A required field (`id` or `stat`) is missing from both the text and the TLVs.
    #[error("delivery receipt has no `{0}` field")]
    MissingField(&'static str),
}

impl Receipt {
    /// A receipt with only its id and state; set the other public fields as needed (a
    /// simulator fills them all to write a complete Appendix B text).
    pub fn new(id: impl Into<String>, stat: Stat) -> Receipt {
        Receipt {
            id: id.into(),
            submitted: None,
            delivered: None,
            submit_date: None,
            done_date: None,
            stat,
            err: None,
            text: None,
            network_error: None,
            handset: None,
        }
    }

    /// The normalised outcome of this receipt.
    pub fn outcome(&self) -> Outcome {
        self.stat.outcome()
    }

    /// Whether no further receipt will change the message's fate.
    pub fn is_final(&self) -> bool {
        self.outcome().is_final()
    }

    /// The error code worth recording: the `network_error_code` TLV's code when present,
    /// otherwise `err:` read as a decimal number (`None` if absent or not a number).
    pub fn error_code(&self) -> Option<u32> {
        match (&self.network_error, &self.err) {
            (Some(ne), _) => Some(u32::from(ne.code)),
            (None, Some(err)) => err.parse().ok(),
            (None, None) => None,
        }
    }

    /// The canonical Appendix B text of this receipt; fields in Appendix B order, absent ones
    /// left out.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        // Sized for a full receipt with a short `text:`, so formatting rarely reallocates.
        let mut out = String::with_capacity(128 + self.id.len());
        let _ = write!(out, "{self}"); // writing to a String cannot fail
        out
    }
}

/// Parses the Appendix B text of a receipt (the `short_message` of a `deliver_sm` whose
/// `esm_class` says "SMSC delivery receipt").
pub fn parse_text(text: &str) -> Result<Receipt, ReceiptError> {
    let fields = text::scan(text);
    if fields.is_empty() {
        return Err(ReceiptError::NotAReceipt);
    }
    let id = fields.id.ok_or(ReceiptError::MissingField("id"))?;
    let stat = fields.stat.ok_or(ReceiptError::MissingField("stat"))?;
    Ok(build(&fields, id.to_owned(), Stat::from_word(stat), None))
}

/// Assembles a receipt from scanned fields and the already-decided id and state. Malformed
/// optional fields (a non-numeric `sub:`, an impossible date) are dropped, not fatal.
fn build(
    fields: &text::Fields<'_>,
    id: String,
    stat: Stat,
    network_error: Option<NetworkError>,
) -> Receipt {
    Receipt {
        id,
        submitted: fields.sub.and_then(|s| s.parse().ok()),
        delivered: fields.dlvrd.and_then(|s| s.parse().ok()),
        submit_date: fields.submit_date.and_then(ReceiptDate::parse),
        done_date: fields.done_date.and_then(ReceiptDate::parse),
        stat,
        err: fields.err.map(str::to_owned),
        text: fields.text.map(str::to_owned),
        network_error,
        handset: None,
    }
}
