//! How [`super::RedisStore`] writes things into Redis strings: key members, mapping
//! values, parked receipts.

use std::time::{SystemTime, UNIX_EPOCH};

use semalink_protocol::dlr::Receipt;
use semalink_protocol::msgid::CanonicalId;
use uuid::Uuid;

use crate::correlation::{CorrelationKey, SegmentKey};
use crate::error::{Error, Result};

/// `<up>:<id>`: the variable part of a key.
pub(super) fn member(key: &CorrelationKey) -> String {
    match &key.id {
        CanonicalId::Number(n) => format!("{}:n{n}", key.upstream),
        CanonicalId::Uuid(u) => format!("{}:u{u:x}", key.upstream),
        CanonicalId::Text(t) => format!("{}:t{t}", key.upstream),
    }
}

/// The key a [`member`] was made from.
pub(super) fn parse_member(member: &str) -> Option<CorrelationKey> {
    let (upstream, id) = member.split_once(':')?;
    let upstream = upstream.parse().ok()?;
    let id = match id.split_at_checked(1)? {
        ("n", n) => CanonicalId::Number(n.parse().ok()?),
        ("u", u) => CanonicalId::Uuid(u128::from_str_radix(u, 16).ok()?),
        ("t", t) => CanonicalId::Text(t.into()),
        _ => return None,
    };
    Some(CorrelationKey { upstream, id })
}

/// Wall-clock milliseconds: parked receipts are aged by whichever engine sweeps.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A mapping's value: `<message uuid>:<segment>:<segments>`.
pub(super) fn encode_target(t: &SegmentKey) -> String {
    format!("{}:{}:{}", t.message_id.simple(), t.segment, t.segments)
}

/// The mapping a value stands for.
pub(super) fn decode_target(value: &str) -> Result<SegmentKey> {
    let bad = || Error::Store(format!("redis: unreadable mapping {value:?}"));
    let mut parts = value.split(':');
    let (Some(id), Some(segment), Some(segments), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    Ok(SegmentKey {
        message_id: Uuid::parse_str(id).map_err(|_| bad())?,
        segment: segment.parse().map_err(|_| bad())?,
        segments: segments.parse().map_err(|_| bad())?,
    })
}

/// A parked list entry: `<parked at, ms>|<receipt JSON>` (the script reads the time).
pub(super) fn encode_parked(at_ms: u64, receipt: &Receipt) -> Result<String> {
    let json = serde_json::to_string(receipt)
        .map_err(|e| Error::Store(format!("receipt not serialisable: {e}")))?;
    Ok(format!("{at_ms}|{json}"))
}

/// The receipt of a parked list entry.
pub(super) fn decode_parked(entry: &str) -> Result<Receipt> {
    let json = entry.split_once('|').map_or(entry, |(_, j)| j);
    serde_json::from_str(json)
        .map_err(|e| Error::Store(format!("redis: unreadable parked receipt: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_round_trip_every_id_form() {
        for id in [
            CanonicalId::Number(1234567890123),
            CanonicalId::Uuid(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
            CanonicalId::Text("ab:c|d".into()),
        ] {
            let key = CorrelationKey { upstream: 3, id };
            assert_eq!(parse_member(&member(&key)), Some(key));
        }
        assert_eq!(parse_member("x:n1"), None);
        assert_eq!(parse_member("1:z1"), None);
    }

    #[test]
    fn mapping_values_round_trip_and_garbage_is_an_error() {
        let t = SegmentKey {
            message_id: Uuid::from_u128(42),
            segment: 2,
            segments: 3,
        };
        assert_eq!(decode_target(&encode_target(&t)).unwrap(), t);
        assert!(decode_target("nope").is_err());
        assert!(decode_target("a:b:c:d").is_err());
    }
}
