//! Delivery receipts, SMPP 3.4 Appendix B (stub: being written).

use serde::Serialize;

/// A parsed delivery receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    /// The SMSC message id the receipt refers to, as sent.
    pub id: String,
}

/// Why a receipt text could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("invalid receipt: {0}")]
pub struct ReceiptError(pub String);

/// Parses the Appendix B text of a receipt.
pub fn parse_text(text: &str) -> Result<Receipt, ReceiptError> {
    let _ = text;
    todo!()
}
