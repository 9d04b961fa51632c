//! One request → its segments, ready to submit: route (operator hint or destination prefix),
//! split with the upstream's segment options (3GPP TS 23.040 §9.2.3.24.1 UDH, or the SMPP
//! `sar_*` TLVs of SMPP 3.4 §5.3.2.22–24), and the `submit_sm` of each part.

use bytes::Bytes;
use semalink_protocol::contracts::{Body, DeliveryState, Priority, SubmitRequest};
use semalink_protocol::segment::{self, SegmentError};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::config::UpstreamConfig;
use crate::correlation::CorrelationStore;
use crate::routing::RouteId;
use crate::sink::StatusSink;
use crate::smpp::{self, Tlv};

use super::Pipeline;

/// One segment to send.
#[derive(Debug, Clone)]
pub struct SegmentJob {
    /// The message.
    pub message_id: Uuid,
    /// 1-based segment number.
    pub segment: u16,
    /// How many segments the message has.
    pub segments: u16,
    /// The route (throttle bucket).
    pub route: RouteId,
    /// Index of the route's upstream.
    pub upstream: usize,
    /// The `submit_sm`.
    pub pdu: smpp::SubmitRequest,
}

/// Why a request cannot be sent at all.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// `route.mno` names no known operator.
    #[error("route.mno: {0}")]
    UnknownMno(String),
    /// The text cannot be encoded or is too long.
    #[error("body: {0}")]
    Segment(#[from] SegmentError),
    /// More parts than the `u16` segment counter holds (cannot happen with the 255-part cap).
    #[error("body: too many segments")]
    TooManySegments,
    /// `expires_at` passed before the message could be sent.
    #[error("expired before it could be sent")]
    Expired,
}

impl PrepareError {
    /// The final state the message ends in.
    pub fn state(&self) -> DeliveryState {
        match self {
            PrepareError::Expired => DeliveryState::Expired,
            _ => DeliveryState::Rejected,
        }
    }
}

/// Routes and splits `request`; tells the tracker how many segments it has.
pub(super) fn prepare<S: CorrelationStore, K: StatusSink>(
    p: &Pipeline<S, K>,
    request: &SubmitRequest,
    reference: u16,
) -> Result<Vec<SegmentJob>, PrepareError> {
    if request
        .expires_at
        .is_some_and(|at| at <= OffsetDateTime::now_utc())
    {
        return Err(PrepareError::Expired);
    }
    let routed = p
        .router
        .route_request(request)
        .map_err(|e| PrepareError::UnknownMno(e.to_string()))?;
    let route = p.router.get(routed.route);
    let upstream = &p.upstreams[route.upstream];
    let jobs = segments(upstream, route.upstream, routed.route, request, reference)?;
    let total = u16::try_from(jobs.len()).map_err(|_| PrepareError::TooManySegments)?;
    p.tracker.set_segments(request.message_id, total);
    Ok(jobs)
}

/// Splits `request` for `upstream` (index `upstream_index`) into the `submit_sm` of each
/// part.
pub(super) fn segments(
    upstream: &UpstreamConfig,
    upstream_index: usize,
    route: RouteId,
    request: &SubmitRequest,
    reference: u16,
) -> Result<Vec<SegmentJob>, PrepareError> {
    // Pre-split bodies are sent as their joined text, split by our own rules: the parts'
    // boundaries are not kept (documented in docs/engine.md).
    let text = match &request.body {
        Body::Text(t) => std::borrow::Cow::Borrowed(t.as_str()),
        Body::Segments(parts) => std::borrow::Cow::Owned(parts.concat()),
    };
    let split = segment::split(&text, reference, &upstream.segment_options())?;
    let segments =
        u16::try_from(split.segments.len()).map_err(|_| PrepareError::TooManySegments)?;
    let data_coding = upstream.wire_data_coding(split.encoding);
    let (source_ton, source_npi, source_addr) = sender_address(&request.sender);
    let destination = request.destination.trim_start_matches('+').to_owned();
    let priority = match request.priority {
        Priority::High => 1,
        Priority::Normal => 0,
    };
    let jobs = split
        .segments
        .into_iter()
        .enumerate()
        .map(|(i, seg)| {
            let tlvs = seg
                .sar
                .as_ref()
                .map(|s| Tlv::sar(s).to_vec())
                .unwrap_or_default();
            SegmentJob {
                message_id: request.message_id,
                segment: i as u16 + 1,
                segments,
                route,
                upstream: upstream_index,
                pdu: smpp::SubmitRequest {
                    source_ton,
                    source_npi,
                    source_addr: source_addr.clone(),
                    // International number, ISDN plan (SMPP 3.4 §5.2.5, §5.2.6).
                    dest_ton: 1,
                    dest_npi: 1,
                    destination_addr: destination.clone(),
                    // Explicit: default store-and-forward mode, UDHI when the part has a UDH
                    // (SMPP 3.4 §5.2.12).
                    esm_class: seg.esm_class(0x00),
                    priority,
                    // Final receipt requested (SMPP 3.4 §5.2.17).
                    registered_delivery: 1,
                    data_coding,
                    short_message: Bytes::from(seg.short_message),
                    tlvs,
                    ..smpp::SubmitRequest::default()
                },
            }
        })
        .collect();
    Ok(jobs)
}

/// `(ton, npi, address)` of a sender id: digits (with an optional `+`) are an international
/// number (TON 1, NPI 1); anything else is alphanumeric (TON 5, NPI 0; SMPP 3.4 §5.2.5).
fn sender_address(sender: &str) -> (u8, u8, String) {
    let digits = sender.trim_start_matches('+');
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        (1, 1, digits.to_owned())
    } else {
        (5, 0, sender.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use semalink_protocol::contracts::{EncodingHint, RouteHints, VERSION};

    use super::*;

    fn upstream(extra: &str) -> UpstreamConfig {
        toml::from_str(&format!(
            "name = \"sim\"\nhost = \"127.0.0.1\"\nport = 2775\nsystem_id = \"a\"\npassword = \"b\"\n{extra}"
        ))
        .unwrap()
    }

    fn request(text: &str) -> SubmitRequest {
        SubmitRequest {
            version: VERSION,
            message_id: Uuid::from_u128(7),
            account_id: Uuid::from_u128(8),
            destination: "+254712345678".into(),
            sender: "SEMALINK".into(),
            body: Body::Text(text.into()),
            encoding: EncodingHint::Auto,
            priority: Priority::Normal,
            route: RouteHints::default(),
            expires_at: None,
            client_reference: None,
            attempt: 0,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_short_gsm_text_is_one_part_without_udh() {
        let jobs = segments(&upstream(""), 0, RouteId(0), &request("Hello"), 1).unwrap();
        assert_eq!(jobs.len(), 1);
        let pdu = &jobs[0].pdu;
        assert_eq!((pdu.esm_class, pdu.data_coding), (0x00, 0x00));
        assert_eq!(&pdu.short_message[..], b"Hello");
        assert_eq!(pdu.destination_addr, "254712345678");
        assert_eq!((pdu.source_ton, pdu.source_npi), (5, 0));
        assert_eq!(pdu.registered_delivery, 1);
    }

    #[test]
    fn a_long_gsm_text_gets_8_bit_concat_udh_and_udhi() {
        let text = "x".repeat(400);
        let jobs = segments(&upstream(""), 0, RouteId(0), &request(&text), 0x1234).unwrap();
        assert_eq!(jobs.len(), 3);
        for (i, job) in jobs.iter().enumerate() {
            assert_eq!(job.segment, i as u16 + 1);
            assert_eq!(job.pdu.esm_class, 0x40, "UDHI set");
            // TS 23.040 §9.2.3.24.1: UDHL 5, IEI 0, IEDL 3, reference, total, sequence.
            assert_eq!(
                &job.pdu.short_message[..6],
                &[0x05, 0x00, 0x03, 0x34, 3, i as u8 + 1]
            );
            assert!(job.pdu.tlvs.is_empty());
        }
    }

    #[test]
    fn ucs2_parts_use_data_coding_8_and_sar_uses_tlvs_instead_of_udh() {
        let text = "Привет, как дела? ".repeat(5);
        let jobs = segments(&upstream(""), 0, RouteId(0), &request(&text), 9).unwrap();
        assert_eq!(jobs.len(), 2);
        assert!(
            jobs.iter()
                .all(|j| j.pdu.data_coding == 0x08 && j.pdu.esm_class == 0x40)
        );
        let sar = upstream("concat = \"sar\"\ndata_coding = \"ia5\"");
        let jobs = segments(&sar, 0, RouteId(0), &request(&"y".repeat(200)), 9).unwrap();
        assert_eq!(jobs.len(), 2);
        for job in &jobs {
            assert_eq!((job.pdu.esm_class, job.pdu.data_coding), (0x00, 0x01));
            assert_eq!(job.pdu.tlvs.len(), 3, "sar_msg_ref_num, total, seqnum");
        }
    }

    #[test]
    fn numeric_senders_are_international_and_others_alphanumeric() {
        assert_eq!(sender_address("+25420880"), (1, 1, "25420880".into()));
        assert_eq!(sender_address("20880"), (1, 1, "20880".into()));
        assert_eq!(sender_address("SEMALINK"), (5, 0, "SEMALINK".into()));
        assert_eq!(sender_address("Shop24"), (5, 0, "Shop24".into()));
    }
}
