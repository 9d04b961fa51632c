//! `submit_sm` handling: counting, throttling, injected errors, message ids, receipts.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    sync::{Arc, atomic::Ordering::Relaxed},
    time::Duration,
};

use bytes::BytesMut;
use rusmpp::{CommandStatus, pdus::SubmitSm, tlvs::TlvValue};
use semalink_protocol::smpp::put_submit_sm_resp;
use tokio::time::Instant;

use super::{
    config::DuplicateKey,
    dispatch::Job,
    messages::{Record, Ticket},
    receipt::{Outcome, encode_receipt, unix_now},
    registry::Kind,
    session::Session,
    stats::{RESP_STATUSES, Stats},
};

/// Strips the C-string terminator rusmpp keeps.
fn c_bytes(b: &[u8]) -> &[u8] {
    b.strip_suffix(&[0]).unwrap_or(b)
}

fn hash_of(parts: &[&[u8]]) -> u64 {
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

fn resp_index(status: CommandStatus) -> usize {
    let code = u32::from(status);
    RESP_STATUSES
        .iter()
        .position(|(c, _)| *c == code)
        .unwrap_or(0)
}

impl Session {
    pub(super) fn on_submit(&mut self, seq: u32, sm: &SubmitSm, wbuf: &mut BytesMut) {
        let stats = Arc::clone(&self.shared.stats);
        let beh = Arc::clone(&self.behaviour);
        let Some((kind, system_id)) = self.bound.clone().filter(|(k, _)| k.can_submit()) else {
            Stats::inc(&stats.responses[resp_index(CommandStatus::EsmeRinvbndsts)]);
            put_submit_sm_resp(wbuf, seq, CommandStatus::EsmeRinvbndsts, b"");
            return;
        };
        Stats::inc(&stats.submits);
        let source = c_bytes(sm.source_addr.as_ref());
        let dest = c_bytes(sm.destination_addr.as_ref());
        let text = sm.short_message().as_ref();
        let digits = dest.strip_prefix(b"+").unwrap_or(dest);
        let prefix = &digits[..digits.len().min(beh.stats.mno_prefix_len)];
        self.batch
            .count_mno(std::str::from_utf8(prefix).unwrap_or("?"));
        self.batch
            .count_source_type(u8::from(sm.source_addr_ton), u8::from(sm.source_addr_npi));
        match beh.stats.duplicate_key {
            DuplicateKey::Content => self.batch.dup_keys.push(hash_of(&[source, dest, text])),
            DuplicateKey::MessageReference => {
                let reference = sm.tlvs().iter().find_map(|t| match t.value() {
                    Some(TlvValue::UserMessageReference(r)) => Some(r.value),
                    _ => None,
                });
                if let Some(r) = reference {
                    self.batch
                        .dup_keys
                        .push(hash_of(&[source, dest, &r.to_be_bytes()]));
                }
            }
            DuplicateKey::Off => {}
        }
        if beh.flow.silent {
            Stats::inc(&stats.unanswered);
            return;
        }
        let status = self.decide_status(dest);
        Stats::inc(&stats.responses[resp_index(status)]);
        if self.rng.f64() < beh.flow.disconnect_rate {
            self.force_disconnect = true;
        }
        let latency = beh.response_latency;
        if status != CommandStatus::EsmeRok {
            let mut resp = BytesMut::new();
            put_submit_sm_resp(&mut resp, seq, status, b"");
            let delay = latency.sample(&mut self.rng);
            self.respond(resp, delay, wbuf);
            return;
        }
        let n = self.shared.next_message_id.fetch_add(1, Relaxed);
        beh.message_id.render(n, &mut self.id_buf);
        let mut resp = BytesMut::with_capacity(16 + self.id_buf.len() + 1);
        put_submit_sm_resp(&mut resp, seq, status, self.id_buf.as_bytes());
        let mut delay = latency.sample(&mut self.rng);
        let r = &beh.receipts;
        let wants = u8::from(sm.registered_delivery) & 0x03 != 0;
        let sends = r.enabled && (wants || !r.only_when_requested);
        beh.receipt_id
            .unwrap_or(beh.message_id)
            .render(n, &mut self.receipt_id_buf);
        let early = sends && self.rng.f64() < r.before_resp_rate;
        let now = Instant::now();
        let final_at = now + r.delay.sample(&mut self.rng);
        let outcome = Outcome::draw(&r.mix, &mut self.rng);
        let done = unix_now();
        // Real SMSCs echo the submit's address types (swapped) in the receipt; the old
        // behaviour, 0/0, stays available to test that the engine takes both.
        let types = |ton: rusmpp::values::Ton, npi: rusmpp::values::Npi| {
            if r.echo_address_types {
                (u8::from(ton), u8::from(npi))
            } else {
                (0, 0)
            }
        };
        let record = Record {
            source: source.into(),
            source_type: types(sm.source_addr_ton, sm.source_addr_npi),
            destination: dest.into(),
            destination_type: types(sm.dest_addr_ton, sm.dest_addr_npi),
            text: text.iter().copied().take(20).collect(),
            receipt_id: self.receipt_id_buf.as_str().into(),
            submitted_at: done,
            outcome,
            final_at,
            final_unix: done + (final_at - now).as_secs(),
            cancelled: None,
            version: 0,
        };
        let ticket: Ticket = (Arc::from(self.id_buf.as_str()), 0);
        if sends {
            let input = record.receipt_input(r.tlvs);
            let mut intermediates = Vec::new();
            if r.acceptd_first {
                intermediates.push(Outcome::Acceptd);
            }
            if r.enroute_first {
                intermediates.push(Outcome::Enroute);
            }
            if early {
                Stats::inc(&stats.receipts_before_resp);
                let pdu = encode_receipt(&input, outcome, done);
                if kind.can_receive() {
                    // Same connection: the receipt is written ahead of the response.
                    self.write_deliver(pdu, Kind::Receipt(outcome, false), wbuf);
                } else {
                    let job = Kind::Receipt(outcome, false);
                    self.schedule(now, &system_id, pdu, job, None);
                    delay = delay.max(Duration::from_millis(r.before_resp_hold_ms));
                }
            } else {
                for (i, o) in intermediates.into_iter().enumerate() {
                    let at = now + (final_at - now) * (i as u32 + 1) / 3;
                    let pdu = encode_receipt(&input, o, done);
                    self.schedule(
                        at,
                        &system_id,
                        pdu,
                        Kind::Receipt(o, false),
                        Some(ticket.clone()),
                    );
                }
                let pdu = encode_receipt(&input, outcome, done);
                if self.rng.f64() < r.duplicate_rate {
                    let dup = pdu.clone();
                    self.schedule(
                        final_at + Duration::from_millis(5),
                        &system_id,
                        dup,
                        Kind::Receipt(outcome, true),
                        Some(ticket.clone()),
                    );
                }
                self.schedule(
                    final_at,
                    &system_id,
                    pdu,
                    Kind::Receipt(outcome, false),
                    Some(ticket.clone()),
                );
            }
        }
        self.shared.messages.insert(&ticket.0, record);
        self.respond(resp, delay, wbuf);
    }

    /// Throttling first (per bind, then overall), then the injected error rates.
    fn decide_status(&mut self, dest: &[u8]) -> CommandStatus {
        let flow = &self.behaviour.flow;
        let second = self.shared.second();
        if flow.tps_per_bind > 0 {
            if self.window.0 != second {
                self.window = (second, 0);
            }
            self.window.1 += 1;
            if self.window.1 > flow.tps_per_bind {
                return CommandStatus::EsmeRthrottled;
            }
        }
        if flow.tps_total > 0 && self.shared.total_window_hit(second) > u64::from(flow.tps_total) {
            return CommandStatus::EsmeRthrottled;
        }
        if flow.invdstadr_rate > 0.0 {
            let h = hash_of(&[b"dst", dest]);
            if (h as f64 / u64::MAX as f64) < flow.invdstadr_rate {
                return CommandStatus::EsmeRinvdstadr;
            }
        }
        let x = self.rng.f64();
        if x < flow.msgqful_rate {
            CommandStatus::EsmeRmsgqful
        } else if x < flow.msgqful_rate + flow.syserr_rate {
            CommandStatus::EsmeRsyserr
        } else {
            CommandStatus::EsmeRok
        }
    }

    fn respond(&mut self, resp: BytesMut, delay: Duration, wbuf: &mut BytesMut) {
        if delay.is_zero() {
            wbuf.extend_from_slice(&resp);
        } else {
            self.delayed.push(Instant::now() + delay, resp);
        }
    }

    /// Queues a `deliver_sm` for a receiver of `system_id` at `due`; with a `ticket` it is
    /// dropped then if the message was cancelled or replaced meanwhile.
    pub(super) fn schedule(
        &self,
        due: Instant,
        system_id: &Arc<str>,
        pdu: BytesMut,
        kind: Kind,
        ticket: Option<Ticket>,
    ) {
        let _ = self.shared.jobs.send(Job {
            due,
            system_id: Some(Arc::clone(system_id)),
            pdu,
            kind,
            ticket,
        });
    }
}
