//! Receipts from a `deliver_sm`'s parts: the text plus the receipt TLVs.
//!
//! SMPP 3.4 §5.3.2.12 `receipted_message_id` (0x001E, C-octet string), §5.3.2.35
//! `message_state` (0x0427, 1 octet) and §5.3.2.31 `network_error_code` (0x0423, 3 octets:
//! network type, then a 2-octet big-endian error code). When present these are authoritative
//! and win over the text, which is free-form and may be absent altogether (some SMSCs send
//! TLV-only receipts). The parts are plain byte slices so the engine can pass whatever its SMPP
//! library decoded, and so this stays simple to fuzz.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{Receipt, ReceiptError, Stat, build, text};

/// The parts of a receipt `deliver_sm` that matter here. Absent TLVs are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliverSmParts<'a> {
    /// `short_message` (or the `message_payload` TLV when the text came that way).
    pub short_message: Option<&'a [u8]>,
    /// The `receipted_message_id` TLV (0x001E); a trailing NUL is allowed.
    pub receipted_message_id: Option<&'a [u8]>,
    /// The `message_state` TLV (0x0427).
    pub message_state: Option<u8>,
    /// The `network_error_code` TLV (0x0423), expected to be 3 octets.
    pub network_error_code: Option<&'a [u8]>,
}

/// The `network_error_code` TLV (SMPP 3.4 §5.3.2.31).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NetworkError {
    /// Network type: 1 ANSI-136 access denied reason, 2 IS-95 access denied reason, 3 GSM,
    /// 4 ANSI-136 cause code, 5 IS-95 cause code, 6 ANSI-41 error, 7 SMPP error,
    /// 8 message-centre specific.
    pub network_type: u8,
    /// The error code, big-endian on the wire.
    pub code: u16,
}

impl NetworkError {
    /// Decodes the 3-octet TLV value; `None` for any other length.
    pub fn from_tlv(value: &[u8]) -> Option<NetworkError> {
        match *value {
            [network_type, hi, lo] => Some(NetworkError {
                network_type,
                code: u16::from_be_bytes([hi, lo]),
            }),
            _ => None,
        }
    }

    /// Encodes the 3-octet TLV value.
    pub fn to_tlv(self) -> [u8; 3] {
        let [hi, lo] = self.code.to_be_bytes();
        [self.network_type, hi, lo]
    }
}

/// Builds a receipt from a `deliver_sm`: the id comes from `receipted_message_id` if present
/// and non-empty, the state from `message_state` if it holds a defined value, each otherwise
/// from the text. A malformed `network_error_code` (wrong length) is ignored. Text that is not
/// UTF-8 is read lossily (receipts are ASCII; only `text:` could suffer).
pub fn from_deliver_sm(parts: &DeliverSmParts<'_>) -> Result<Receipt, ReceiptError> {
    let body: Cow<'_, str> = match parts.short_message {
        Some(bytes) => String::from_utf8_lossy(bytes),
        None => Cow::Borrowed(""),
    };
    let fields = text::scan(&body);
    let tlv_id = parts
        .receipted_message_id
        .map(|raw| String::from_utf8_lossy(raw.split(|&b| b == 0).next().unwrap_or(raw)))
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty());
    let tlv_stat = parts.message_state.and_then(Stat::from_message_state);
    if fields.is_empty() && tlv_id.is_none() && tlv_stat.is_none() {
        return Err(ReceiptError::NotAReceipt);
    }
    let id = tlv_id
        .or_else(|| fields.id.map(str::to_owned))
        .ok_or(ReceiptError::MissingField("id"))?;
    let stat = tlv_stat
        .or_else(|| fields.stat.map(Stat::from_word))
        .ok_or(ReceiptError::MissingField("stat"))?;
    let network_error = parts.network_error_code.and_then(NetworkError::from_tlv);
    Ok(build(&fields, id, stat, network_error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dlr::Outcome;

    const TEXT: &[u8] = b"id:0000A1 sub:001 dlvrd:000 submit date:2301311459 \
        done date:2301311500 stat:ENROUTE err:000 text:hi";

    #[test]
    fn text_only_matches_parse_text() {
        let parts = DeliverSmParts {
            short_message: Some(TEXT),
            ..Default::default()
        };
        let expected = crate::dlr::parse_text(std::str::from_utf8(TEXT).unwrap()).unwrap();
        assert_eq!(from_deliver_sm(&parts).unwrap(), expected);
    }

    #[test]
    fn tlvs_win_over_the_text() {
        let parts = DeliverSmParts {
            short_message: Some(TEXT),
            receipted_message_id: Some(b"a1\0"),
            message_state: Some(5),
            network_error_code: Some(&[3, 0x00, 0x22]),
        };
        let r = from_deliver_sm(&parts).unwrap();
        assert_eq!(r.id, "a1");
        assert_eq!(r.stat, Stat::Undeliverable);
        assert_eq!(r.outcome(), Outcome::Failed);
        assert_eq!(
            r.network_error,
            Some(NetworkError {
                network_type: 3,
                code: 0x22
            })
        );
        assert_eq!(r.error_code(), Some(0x22));
        assert_eq!(
            r.text.as_deref(),
            Some("hi"),
            "other fields still come from the text"
        );
    }

    #[test]
    fn tlv_only_receipt() {
        let parts = DeliverSmParts {
            receipted_message_id: Some(b"5f0c0c3e-8a43-4c1d-9b9e-3a2f1c0d9e8b"),
            message_state: Some(2),
            ..Default::default()
        };
        let r = from_deliver_sm(&parts).unwrap();
        assert_eq!(r.stat, Stat::Delivered);
        assert_eq!(r.id.len(), 36);
        assert_eq!((r.submitted, r.text, r.err), (None, None, None));
    }

    #[test]
    fn undefined_or_empty_tlvs_fall_back_to_the_text() {
        let parts = DeliverSmParts {
            short_message: Some(TEXT),
            receipted_message_id: Some(b"\0"),
            message_state: Some(42),
            network_error_code: Some(&[3, 1]),
        };
        let r = from_deliver_sm(&parts).unwrap();
        assert_eq!(
            (r.id.as_str(), &r.stat, r.network_error),
            ("0000A1", &Stat::Enroute, None)
        );
    }

    #[test]
    fn missing_pieces_are_reported() {
        assert_eq!(
            from_deliver_sm(&DeliverSmParts::default()),
            Err(ReceiptError::NotAReceipt)
        );
        let parts = DeliverSmParts {
            message_state: Some(2),
            ..Default::default()
        };
        assert_eq!(
            from_deliver_sm(&parts),
            Err(ReceiptError::MissingField("id"))
        );
        let parts = DeliverSmParts {
            receipted_message_id: Some(b"9"),
            ..Default::default()
        };
        assert_eq!(
            from_deliver_sm(&parts),
            Err(ReceiptError::MissingField("stat"))
        );
        let parts = DeliverSmParts {
            short_message: Some(b"STOP"),
            ..Default::default()
        };
        assert_eq!(from_deliver_sm(&parts), Err(ReceiptError::NotAReceipt));
    }

    #[test]
    fn network_error_tlv_round_trips() {
        let ne = NetworkError {
            network_type: 3,
            code: 0xBEEF,
        };
        assert_eq!(NetworkError::from_tlv(&ne.to_tlv()), Some(ne));
        assert_eq!(NetworkError::from_tlv(&[1, 2, 3, 4]), None);
    }

    #[test]
    fn non_utf8_text_is_read_lossily() {
        let parts = DeliverSmParts {
            short_message: Some(b"id:77 stat:DELIVRD text:\xff\xfe"),
            ..Default::default()
        };
        let r = from_deliver_sm(&parts).unwrap();
        assert_eq!((r.id.as_str(), r.stat), ("77", Stat::Delivered));
    }
}
