//! Fuzzes delivery-receipt reading: the Appendix B text parser, the `deliver_sm` TLV merge,
//! the formatter, and message-id canonicalisation. None may panic; whatever parses must format
//! to text that parses again to the same state and id.
//!
//! Input layout: byte 0 = message_state (values > 9 mean "absent"), byte 1 = length of the
//! receipted_message_id, then that many id bytes, then the short_message.

#![no_main]

use libfuzzer_sys::fuzz_target;
use semalink_protocol::dlr::{DeliverSmParts, from_deliver_sm, parse_text};
use semalink_protocol::msgid::{IdPolicy, Side, canonical};

const POLICIES: [IdPolicy; 5] = [
    IdPolicy::AsIs,
    IdPolicy::CaseInsensitive,
    IdPolicy::HexToDecimal,
    IdPolicy::DecimalToHex,
    IdPolicy::Auto,
];

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(receipt) = parse_text(text) {
            let again = parse_text(&receipt.to_text()).expect("formatted receipt parses");
            assert_eq!((again.id, again.stat), (receipt.id, receipt.stat));
        }
        for policy in POLICIES {
            let _ = canonical(text, Side::SubmitResp, policy);
            let _ = canonical(text, Side::Receipt, policy);
        }
    }

    let (state, rest) = data
        .split_first()
        .map_or((None, data), |(s, r)| (Some(*s), r));
    let (id_len, rest) = rest
        .split_first()
        .map_or((0, rest), |(l, r)| (usize::from(*l), r));
    let (rid, short_message) = rest.split_at(id_len.min(rest.len()));
    let parts = DeliverSmParts {
        short_message: Some(short_message),
        receipted_message_id: (!rid.is_empty()).then_some(rid),
        message_state: state.filter(|s| *s <= 9),
        network_error_code: short_message.get(..3),
    };
    if let Ok(receipt) = from_deliver_sm(&parts) {
        assert!(!receipt.id.is_empty());
        let _ = receipt.to_text();
    }
});
