//! `query_sm`, `cancel_sm` and `replace_sm` (SMPP 3.4 §4.8–4.10) against the simulator's own
//! record of what it accepted ([`super::messages`]):
//!
//! * `query_sm` answers the message state (ENROUTE until the outcome drawn at submit is due,
//!   then that outcome; DELETED after a cancel), the final date (absolute time, §7.1.1) once
//!   final, and the receipt's error code; an unknown id is `ESME_RQUERYFAIL`.
//! * `cancel_sm` deletes a message that is not final yet (its receipts are then not sent);
//!   a final one is `ESME_RCANCELFAIL`, an unknown one `ESME_RINVMSGID`. Group cancels (no
//!   message id) are not served: `ESME_RCANCELFAIL`.
//! * `replace_sm` gives a message that is not final yet a new text: the receipt scheduled for
//!   the old text is dropped and one for the new text goes out when the old one would have
//!   (if `registered_delivery` still asks for one); a final one is `ESME_RREPLACEFAIL`.
//!
//! A wrong `source_addr` (not empty and not the submit's) is refused as for an unknown id.

use std::sync::Arc;

use bytes::BytesMut;
use rusmpp::{
    Command, CommandStatus, Pdu,
    pdus::{CancelSm, QuerySm, QuerySmResp, ReplaceSm},
    types::{COctetString, EmptyOrFullCOctetString},
    values::MessageState,
};
use semalink_protocol::smpp::SmppCodec;
use tokio::time::Instant;
use tokio_util::codec::Encoder;

use super::{
    messages::{Refusal, State},
    receipt::{encode_receipt, yymmddhhmm},
    registry::Kind,
    session::Session,
    stats::Stats,
};

fn c_bytes(b: &[u8]) -> &[u8] {
    b.strip_suffix(&[0]).unwrap_or(b)
}

/// An absolute SMPP time (§7.1.1) in UTC: `YYMMDDhhmmss000+`.
pub fn smpp_time(unix: u64) -> String {
    format!("{}{:02}000+", yymmddhhmm(unix), unix % 60)
}

impl Session {
    fn answer(&self, status: CommandStatus, seq: u32, pdu: Pdu, wbuf: &mut BytesMut) {
        // Encoding into a BytesMut cannot fail.
        let _ = SmppCodec::new().encode(Command::new(status, seq, pdu), wbuf);
    }

    pub(super) fn on_query(&mut self, seq: u32, q: &QuerySm, wbuf: &mut BytesMut) {
        Stats::inc(&self.shared.stats.queries);
        let id = String::from_utf8_lossy(c_bytes(q.message_id.as_ref())).into_owned();
        let source = c_bytes(q.source_addr.as_ref());
        let answer = self
            .bound
            .as_ref()
            .map(|_| self.shared.messages.query(&id, source));
        let (status, state, final_date, error) = match answer {
            None => (
                CommandStatus::EsmeRinvbndsts,
                MessageState::Unknown,
                None,
                0,
            ),
            Some(Err(_)) => (
                CommandStatus::EsmeRqueryfail,
                MessageState::Unknown,
                None,
                0,
            ),
            Some(Ok(State::Enroute)) => (CommandStatus::EsmeRok, MessageState::Enroute, None, 0),
            Some(Ok(State::Deleted(at))) => {
                (CommandStatus::EsmeRok, MessageState::Deleted, Some(at), 0)
            }
            Some(Ok(State::Final(outcome, at))) => (
                CommandStatus::EsmeRok,
                outcome.state(),
                Some(at),
                outcome.err().parse().unwrap_or(0),
            ),
        };
        let final_date = final_date
            .map(|at| EmptyOrFullCOctetString::from_string(smpp_time(at)).unwrap_or_default())
            .unwrap_or_default();
        let message_id = COctetString::from_string(id).unwrap_or_else(|_| COctetString::empty());
        let resp = QuerySmResp::new(message_id, final_date, state, error);
        self.answer(status, seq, Pdu::QuerySmResp(resp), wbuf);
    }

    pub(super) fn on_cancel(&mut self, seq: u32, c: &CancelSm, wbuf: &mut BytesMut) {
        Stats::inc(&self.shared.stats.cancels);
        let id = String::from_utf8_lossy(c_bytes(c.message_id.as_ref())).into_owned();
        let source = c_bytes(c.source_addr.as_ref());
        let status = if self.bound.is_none() {
            CommandStatus::EsmeRinvbndsts
        } else if id.is_empty() {
            CommandStatus::EsmeRcancelfail
        } else {
            match self.shared.messages.cancel(&id, source) {
                Ok(()) => CommandStatus::EsmeRok,
                Err(Refusal::Final) => CommandStatus::EsmeRcancelfail,
                Err(_) => CommandStatus::EsmeRinvmsgid,
            }
        };
        self.answer(status, seq, Pdu::CancelSmResp, wbuf);
    }

    pub(super) fn on_replace(&mut self, seq: u32, r: &ReplaceSm, wbuf: &mut BytesMut) {
        Stats::inc(&self.shared.stats.replaces);
        let id = String::from_utf8_lossy(c_bytes(r.message_id.as_ref())).into_owned();
        let source = c_bytes(r.source_addr.as_ref());
        let Some((_, system_id)) = self.bound.clone() else {
            self.answer(CommandStatus::EsmeRinvbndsts, seq, Pdu::ReplaceSmResp, wbuf);
            return;
        };
        let text = r.short_message().as_ref();
        let status = match self.shared.messages.replace(&id, source, text) {
            Ok(record) => {
                let receipts = &self.behaviour.receipts;
                let wants = u8::from(r.registered_delivery) & 0x03 != 0;
                if receipts.enabled && (wants || !receipts.only_when_requested) {
                    let input = record.receipt_input(receipts.tlvs);
                    let pdu = encode_receipt(&input, record.outcome, record.submitted_at);
                    let due = record.final_at.max(Instant::now());
                    let ticket = Some((Arc::from(id.as_str()), record.version));
                    let kind = Kind::Receipt(record.outcome, false);
                    self.schedule(due, &system_id, pdu, kind, ticket);
                }
                CommandStatus::EsmeRok
            }
            Err(Refusal::Final) => CommandStatus::EsmeRreplacefail,
            Err(_) => CommandStatus::EsmeRinvmsgid,
        };
        self.answer(status, seq, Pdu::ReplaceSmResp, wbuf);
    }
}
