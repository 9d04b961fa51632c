//! One request → its segments, ready to submit: route (operator hint or destination prefix),
//! split with the upstream's segment options (3GPP TS 23.040 §9.2.3.24.1 UDH, or the SMPP
//! `sar_*` TLVs of SMPP 3.4 §5.3.2.22–24), and the `submit_sm` of each part.

use bytes::Bytes;
use semalink_protocol::contracts::{Body, DeliveryState, Priority, SubmitRequest};
use semalink_protocol::segment::{self, SegmentError};
use time::OffsetDateTime;
use uuid::Uuid;

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
    // Pre-split bodies are sent as their joined text, split by our own rules: the parts'
    // boundaries are not kept (documented in docs/engine.md).
    let text = match &request.body {
        Body::Text(t) => std::borrow::Cow::Borrowed(t.as_str()),
        Body::Segments(parts) => std::borrow::Cow::Owned(parts.concat()),
    };
    let split = segment::split(&text, reference, &upstream.segment_options())?;
    let total = u16::try_from(split.segments.len()).map_err(|_| PrepareError::TooManySegments)?;
    p.tracker.set_segments(request.message_id, total);
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
                route: routed.route,
                upstream: route.upstream,
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
    use super::*;

    #[test]
    fn numeric_senders_are_international_and_others_alphanumeric() {
        assert_eq!(sender_address("+25420880"), (1, 1, "25420880".into()));
        assert_eq!(sender_address("20880"), (1, 1, "20880".into()));
        assert_eq!(sender_address("SEMALINK"), (5, 0, "SEMALINK".into()));
        assert_eq!(sender_address("Shop24"), (5, 0, "Shop24".into()));
    }
}
