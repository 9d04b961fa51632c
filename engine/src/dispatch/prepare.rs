//! One request → its segments, ready to submit: route (operator and upstream hints, else the
//! destination prefix), split with the upstream's segment options (3GPP TS 23.040
//! §9.2.3.24.1 UDH, or the SMPP `sar_*` TLVs of SMPP 3.4 §5.3.2.22–24) in the alphabet the
//! `encoding` hint asks for — a pre-split body part by part, never cut again — and the
//! `submit_sm` of each part, its sender typed by the upstream's [`Addressing`](crate::config::Addressing) rules and its
//! validity period from `expires_at`. [`check`] runs the same steps for the HTTP ingress, so
//! a request that cannot be sent is refused at the door.

use bytes::Bytes;
use semalink_protocol::contracts::{Body, DeliveryState, EncodingHint, Priority, SubmitRequest};
use semalink_protocol::segment::{self, Encoding, SegmentError, Segmented};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::config::{UpstreamConfig, UpstreamKind};
use crate::correlation::CorrelationStore;
use crate::routing::{RouteError, RouteId, Router};
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
    /// The message's `expires_at` (the part is reconciled then if no receipt came).
    pub expires_at: Option<OffsetDateTime>,
}

/// Why a request cannot be sent at all.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// A routing hint cannot be followed.
    #[error(transparent)]
    Route(#[from] RouteError),
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
    let routed = p.router.route_request(request)?;
    let route = p.router.get(routed.route);
    // While the route's upstream is down, its fallback (if up) takes the message, split by
    // its own rules; the route's bucket still paces it.
    let index = p.fallback(route.upstream).unwrap_or(route.upstream);
    let upstream = &p.upstreams[index];
    let jobs = segments(upstream, index, routed.route, request, reference)?;
    let total = u16::try_from(jobs.len()).map_err(|_| PrepareError::TooManySegments)?;
    p.tracker.set_segments(request.message_id, total);
    Ok(jobs)
}

/// What the dispatcher would decide about `request` before sending anything: its routing
/// hints can be followed and its body splits within the upstream's limits. The HTTP ingress
/// answers with this at once.
pub fn check(
    router: &Router,
    upstreams: &[UpstreamConfig],
    request: &SubmitRequest,
) -> Result<(), PrepareError> {
    let routed = router.route_request(request)?;
    let upstream = &upstreams[router.get(routed.route).upstream];
    let split = split(upstream, request, 0)?;
    u16::try_from(split.segments.len()).map_err(|_| PrepareError::TooManySegments)?;
    Ok(())
}

/// The body cut into parts for `upstream`: a text by the segmenter's rules, a pre-split body
/// as given; in the hinted alphabet.
fn split(
    upstream: &UpstreamConfig,
    request: &SubmitRequest,
    reference: u16,
) -> Result<Segmented, SegmentError> {
    let encoding = match request.encoding {
        EncodingHint::Auto => None,
        EncodingHint::Gsm7 => Some(Encoding::Gsm7),
        EncodingHint::Ucs2 => Some(Encoding::Ucs2),
    };
    let options = upstream.segment_options();
    match &request.body {
        Body::Text(text) => segment::split_as(text, reference, &options, encoding),
        Body::Segments(parts) => segment::split_given(parts, reference, &options, encoding),
    }
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
    if upstream.kind == UpstreamKind::CelcomHttp {
        return Ok(vec![whole(upstream, upstream_index, route, request)]);
    }
    let split = split(upstream, request, reference)?;
    let segments =
        u16::try_from(split.segments.len()).map_err(|_| PrepareError::TooManySegments)?;
    let data_coding = upstream.wire_data_coding(split.encoding);
    let (source_ton, source_npi, source_addr) = upstream.addressing.sender(&request.sender);
    let validity_period = request.expires_at.map(validity).unwrap_or_default();
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
                    validity_period: validity_period.clone(),
                    // Final receipt requested (SMPP 3.4 §5.2.17).
                    registered_delivery: 1,
                    data_coding,
                    short_message: Bytes::from(seg.short_message),
                    tlvs,
                    ..smpp::SubmitRequest::default()
                },
                expires_at: request.expires_at,
            }
        })
        .collect();
    Ok(jobs)
}

/// The one job of an HTTP upstream, which takes the whole text (and splits it itself): the
/// sender id as given, the destination's digits and the UTF-8 text.
fn whole(
    upstream: &UpstreamConfig,
    upstream_index: usize,
    route: RouteId,
    request: &SubmitRequest,
) -> SegmentJob {
    let text = match &request.body {
        Body::Text(t) => t.clone(),
        Body::Segments(parts) => parts.concat(),
    };
    let _ = upstream;
    SegmentJob {
        message_id: request.message_id,
        segment: 1,
        segments: 1,
        route,
        upstream: upstream_index,
        pdu: smpp::SubmitRequest {
            source_addr: request.sender.clone(),
            destination_addr: request.destination.trim_start_matches('+').to_owned(),
            short_message: Bytes::from(text),
            ..smpp::SubmitRequest::default()
        },
        expires_at: request.expires_at,
    }
}

/// `expires_at` as an absolute SMPP time (SMPP 3.4 §7.1.1): `YYMMDDhhmmsstnnp`, in UTC
/// (`00+`).
fn validity(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}{}00+",
        at.year().rem_euclid(100),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond() / 100,
    )
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
    fn senders_are_typed_by_the_upstream_rules() {
        let mut r = request("hi");
        for (sender, ton_npi) in [
            ("SEMALINK", (5, 0)),
            ("22345", (3, 0)),
            ("+254712345678", (1, 1)),
        ] {
            r.sender = sender.into();
            let jobs = segments(&upstream(""), 0, RouteId(0), &r, 1).unwrap();
            assert_eq!(
                (jobs[0].pdu.source_ton, jobs[0].pdu.source_npi),
                ton_npi,
                "{sender}"
            );
        }
        r.sender = "22345".into();
        let custom = upstream("addressing.short_code = { ton = 0, npi = 1 }");
        let jobs = segments(&custom, 0, RouteId(0), &r, 1).unwrap();
        assert_eq!((jobs[0].pdu.source_ton, jobs[0].pdu.source_npi), (0, 1));
    }

    #[test]
    fn hints_and_pre_split_bodies_are_applied() {
        let mut r = request("Hello");
        r.encoding = EncodingHint::Ucs2;
        let jobs = segments(&upstream(""), 0, RouteId(0), &r, 1).unwrap();
        assert_eq!(jobs[0].pdu.data_coding, 0x08);
        r.encoding = EncodingHint::Auto;
        r.body = Body::Segments(vec!["one ".into(), "two".into()]);
        let jobs = segments(&upstream(""), 0, RouteId(0), &r, 1).unwrap();
        assert_eq!(jobs.len(), 2, "sent as given, not joined");
        assert_eq!(&jobs[1].pdu.short_message[6..], b"two");
    }

    #[test]
    fn expires_at_is_the_validity_period() {
        let mut r = request("hi");
        r.expires_at = Some(time::macros::datetime!(2026-12-02 07:05:09.3 +03:00));
        let jobs = segments(&upstream(""), 0, RouteId(0), &r, 1).unwrap();
        assert_eq!(jobs[0].pdu.validity_period, "261202040509300+");
        assert!(jobs[0].pdu.encode().is_ok());
    }
}
