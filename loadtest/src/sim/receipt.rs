//! Delivery receipts (SMPP 3.4 Appendix B text in a `deliver_sm` with `esm_class` 0x04, plus the
//! `receipted_message_id` / `message_state` TLVs of §5.3.2.12 and §5.3.2.35) and MO messages.
//! Formatted here rather than with the protocol crate's receipt module so the simulator stays
//! an independent party.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use rusmpp::{
    Command, CommandStatus, Pdu,
    pdus::DeliverSm,
    tlvs::MessageDeliveryRequestTlvValue,
    types::{COctetString, OctetString},
    values::{DataCoding, EsmClass, MessageState, Npi, Ton},
};
use semalink_protocol::smpp::SmppCodec;
use tokio_util::codec::Encoder;

use super::config::OutcomeMix;

/// A receipt state (`stat:` word).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered to the handset (final).
    Delivrd,
    /// Undeliverable (final).
    Undeliv,
    /// Validity period expired (final).
    Expired,
    /// Rejected by the network (final).
    Rejectd,
    /// Still trying (intermediate).
    Enroute,
    /// Accepted by the network (intermediate).
    Acceptd,
}

impl Outcome {
    /// Index into [`super::stats::RECEIPT_STATS`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The 7-letter `stat:` word.
    pub fn word(self) -> &'static str {
        super::stats::RECEIPT_STATS[self.index()]
    }

    /// The `message_state` value (SMPP 3.4 §5.2.28).
    pub fn state(self) -> MessageState {
        match self {
            Outcome::Delivrd => MessageState::Delivered,
            Outcome::Undeliv => MessageState::Undeliverable,
            Outcome::Expired => MessageState::Expired,
            Outcome::Rejectd => MessageState::Rejected,
            Outcome::Enroute => MessageState::Enroute,
            Outcome::Acceptd => MessageState::Accepted,
        }
    }

    /// The `err:` field.
    pub fn err(self) -> &'static str {
        match self {
            Outcome::Delivrd | Outcome::Enroute | Outcome::Acceptd => "000",
            Outcome::Undeliv => "001",
            Outcome::Expired => "002",
            Outcome::Rejectd => "003",
        }
    }

    /// Draws a final outcome from the weights.
    pub fn draw(mix: &OutcomeMix, rng: &mut fastrand::Rng) -> Outcome {
        let total = mix.delivrd + mix.undeliv + mix.expired + mix.rejectd;
        let mut x = rng.f64() * total;
        for (w, o) in [
            (mix.delivrd, Outcome::Delivrd),
            (mix.undeliv, Outcome::Undeliv),
            (mix.expired, Outcome::Expired),
        ] {
            if x < w {
                return o;
            }
            x -= w;
        }
        if mix.rejectd > 0.0 {
            Outcome::Rejectd
        } else {
            Outcome::Delivrd
        }
    }
}

/// `YYMMDDhhmm` (UTC) for a Unix time, as Appendix B dates are written.
pub fn yymmddhhmm(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Civil-from-days (H. Hinnant), valid for the Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{:02}{m:02}{d:02}{:02}{:02}",
        y % 100,
        secs / 3600,
        secs % 3600 / 60
    )
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What a receipt is about.
#[derive(Debug, Clone)]
pub struct ReceiptInput<'a> {
    /// Message id as rendered for receipts.
    pub id: &'a str,
    /// The `submit_sm` source (receipt destination).
    pub source: &'a [u8],
    /// The `submit_sm` destination (receipt source).
    pub destination: &'a [u8],
    /// TON / NPI of the `submit_sm` source (the receipt's destination address type).
    pub source_type: (u8, u8),
    /// TON / NPI of the `submit_sm` destination (the receipt's source address type).
    pub destination_type: (u8, u8),
    /// The first octets of the submitted text (Appendix B `text:` carries the first 20).
    pub text: &'a [u8],
    /// When the message was accepted (Unix seconds).
    pub submitted_at: u64,
    /// Add the TLVs.
    pub tlvs: bool,
}

/// The Appendix B text for `outcome`.
pub fn receipt_text(input: &ReceiptInput<'_>, outcome: Outcome, done_at: u64) -> Vec<u8> {
    let dlvrd = if outcome == Outcome::Delivrd {
        "001"
    } else {
        "000"
    };
    let mut text = format!(
        "id:{} sub:001 dlvrd:{dlvrd} submit date:{} done date:{} stat:{} err:{} text:",
        input.id,
        yymmddhhmm(input.submitted_at),
        yymmddhhmm(done_at),
        outcome.word(),
        outcome.err()
    )
    .into_bytes();
    text.extend(input.text.iter().take(20).map(|b| {
        if b.is_ascii_graphic() || *b == b' ' {
            *b
        } else {
            b'.'
        }
    }));
    text
}

fn c_string<const MIN: usize, const MAX: usize>(bytes: &[u8]) -> COctetString<MIN, MAX> {
    let mut v: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| *b != 0)
        .take(MAX - 1)
        .collect();
    v.push(0);
    COctetString::from_vec(v).unwrap_or_else(|_| COctetString::empty())
}

/// Encodes the receipt as a `deliver_sm` with sequence number 0 (the session patches it).
pub fn encode_receipt(input: &ReceiptInput<'_>, outcome: Outcome, done_at: u64) -> BytesMut {
    let text = receipt_text(input, outcome, done_at);
    let mut sm = DeliverSm::builder()
        .source_addr_ton(Ton::from(input.destination_type.0))
        .source_addr_npi(Npi::from(input.destination_type.1))
        .source_addr(c_string(input.destination))
        .dest_addr_ton(Ton::from(input.source_type.0))
        .dest_addr_npi(Npi::from(input.source_type.1))
        .destination_addr(c_string(input.source))
        .esm_class(EsmClass::from(0x04))
        .short_message(OctetString::from_vec(text).unwrap_or_default())
        .build();
    if input.tlvs {
        sm.push_tlv(MessageDeliveryRequestTlvValue::ReceiptedMessageId(
            c_string(input.id.as_bytes()),
        ));
        sm.push_tlv(MessageDeliveryRequestTlvValue::MessageState(
            outcome.state(),
        ));
    }
    encode(Pdu::DeliverSm(sm))
}

/// The address type an SMSC gives `addr`: an international number (TON 1 / NPI 1), a short
/// code of at most 8 digits (TON 3 / NPI 0) or alphanumeric (TON 5 / NPI 0).
fn address_type(addr: &str) -> (Ton, Npi) {
    let digits = addr.strip_prefix('+').unwrap_or(addr);
    match digits.bytes().all(|b| b.is_ascii_digit()) && !digits.is_empty() {
        true if digits.len() <= 8 && !addr.starts_with('+') => (Ton::NetworkSpecific, Npi::Unknown),
        true => (Ton::International, Npi::Isdn),
        false => (Ton::Alphanumeric, Npi::Unknown),
    }
}

/// Encodes a mobile-originated `deliver_sm` (esm_class 0, GSM default alphabet), with the
/// address types of [`address_type`].
pub fn encode_mo(from: &str, to: &str, text: &[u8]) -> BytesMut {
    let (from_ton, from_npi) = address_type(from);
    let (to_ton, to_npi) = address_type(to);
    let sm = DeliverSm::builder()
        .source_addr_ton(from_ton)
        .source_addr_npi(from_npi)
        .source_addr(c_string(from.as_bytes()))
        .dest_addr_ton(to_ton)
        .dest_addr_npi(to_npi)
        .destination_addr(c_string(to.as_bytes()))
        // Explicit: rusmpp's EsmClass::default() is 0x08, not 0.
        .esm_class(EsmClass::from(0x00))
        .data_coding(DataCoding::default())
        .short_message(
            OctetString::from_vec(text.iter().copied().take(254).collect()).unwrap_or_default(),
        )
        .build();
    encode(Pdu::DeliverSm(sm))
}

fn encode(pdu: Pdu) -> BytesMut {
    let mut buf = BytesMut::new();
    // Encoding into a BytesMut cannot fail.
    let _ = SmppCodec::new().encode(Command::new(CommandStatus::EsmeRok, 0, pdu), &mut buf);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_yymmddhhmm_utc() {
        // 2026-11-26 03:30:00 UTC
        assert_eq!(yymmddhhmm(1_795_663_800), "2611260330");
        assert_eq!(yymmddhhmm(951_782_400), "0002290000"); // 2000-02-29
    }

    #[test]
    fn text_follows_appendix_b() {
        let input = ReceiptInput {
            id: "0A1B",
            source: b"SEMALINK",
            destination: b"254712345678",
            source_type: (5, 0),
            destination_type: (1, 1),
            text: b"Hello world, this is longer than twenty",
            submitted_at: 1_795_663_800,
            tlvs: true,
        };
        let text =
            String::from_utf8(receipt_text(&input, Outcome::Undeliv, 1_795_663_860)).unwrap();
        assert_eq!(
            text,
            "id:0A1B sub:001 dlvrd:000 submit date:2611260330 done date:2611260331 \
             stat:UNDELIV err:001 text:Hello world, this is"
        );
    }

    #[test]
    fn draw_respects_zero_weights() {
        let mix = OutcomeMix {
            delivrd: 0.0,
            undeliv: 0.0,
            expired: 1.0,
            rejectd: 0.0,
        };
        let mut rng = fastrand::Rng::with_seed(1);
        assert!((0..100).all(|_| Outcome::draw(&mix, &mut rng) == Outcome::Expired));
    }
}
