//! Pure SMS logic shared by the engine and the control plane.
//!
//! Nothing in this crate performs I/O or needs a tokio runtime: it is encoding (GSM 03.38 and
//! UCS-2), segmentation and UDH, message analysis, delivery-receipt parsing, message-id
//! canonicalisation, MSISDN parsing, operator (MNO) prefix lookup, the versioned queue contracts
//! and the SMPP framing codec.

pub mod analysis;
pub mod contracts;
pub mod dlr;
pub mod gsm7;
pub mod mno;
pub mod msgid;
pub mod msisdn;
pub mod segment;
pub mod smpp;
pub mod translit;
pub mod ucs2;
