//! The batch envelope: one queue message carrying many contract messages,
//! `{"version": 1, "batch": [<message>, …]}` (documented in `docs/contracts.md`).
//!
//! The broker's cost is per queue message, not per byte, so the engine and the control plane
//! put up to hundreds of `SubmitRequest`s / `StatusEvent`s / `InboundMessage`s in one. Readers
//! take either form: [`decode_batch`] returns one item for a bare message and one per element
//! for an envelope, each decoded and validated on its own (a bad element does not spoil the
//! others, and its raw JSON is kept so the reader can still name the message it was).
//!
//! Writers encode each message once with [`super::encode`] (where the error belongs to that
//! message) and join the encodings with [`join_batch`], which copies bytes and parses nothing.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Contract, ContractError, VERSION, decode};

/// The envelope's name in errors.
pub const BATCH: &str = "Batch";

/// An element that could not be read, with its JSON as it was on the wire.
#[derive(Debug)]
pub struct Undecodable {
    /// Why it could not be read.
    pub error: ContractError,
    /// Its JSON text.
    pub json: Vec<u8>,
}

/// One element of a received message: the contract message, or why it is unreadable.
pub type BatchItem<T> = Result<T, Undecodable>;

/// What the envelope looks like to a reader that has not decided yet whether it is one.
#[derive(Deserialize)]
struct Probe<'a> {
    version: Option<serde_json::Value>,
    #[serde(borrow)]
    batch: Option<Vec<&'a RawValue>>,
}

/// Reads a queue message that is either a bare `T` or a batch envelope of `T`s.
///
/// An envelope from an unknown major version (or with a missing one) is an error for the
/// whole message: nothing in it can be trusted to mean what this build thinks. Anything else
/// that is not an envelope is read as one bare message, so its error is that message's error.
pub fn decode_batch<T: Contract>(json: &[u8]) -> Result<Vec<BatchItem<T>>, ContractError> {
    let probe = serde_json::from_slice::<Probe<'_>>(json).ok();
    let Some(Probe {
        version,
        batch: Some(batch),
    }) = probe
    else {
        return Ok(vec![decode::<T>(json).map_err(|error| Undecodable {
            error,
            json: json.to_vec(),
        })]);
    };
    match version {
        None => return Err(ContractError::MissingVersion { contract: BATCH }),
        Some(v) if v.as_u64() != Some(u64::from(VERSION)) => {
            return Err(ContractError::UnsupportedVersion {
                contract: BATCH,
                found: v.to_string(),
                supported: VERSION,
            });
        }
        Some(_) => {}
    }
    Ok(batch
        .into_iter()
        .map(|raw| {
            let bytes = raw.get().as_bytes();
            decode::<T>(bytes).map_err(|error| Undecodable {
                error,
                json: bytes.to_vec(),
            })
        })
        .collect())
}

/// Joins messages encoded with [`super::encode`] into one envelope.
pub fn join_batch<B: AsRef<[u8]>>(encoded: &[B]) -> Vec<u8> {
    const HEAD: &[u8] = b"{\"version\":";
    let body: usize = encoded.iter().map(|e| e.as_ref().len() + 1).sum();
    let mut out = Vec::with_capacity(HEAD.len() + body + 16);
    out.extend_from_slice(HEAD);
    out.extend_from_slice(VERSION.to_string().as_bytes());
    out.extend_from_slice(b",\"batch\":[");
    for (i, e) in encoded.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(e.as_ref());
    }
    out.extend_from_slice(b"]}");
    out
}

/// Encodes `messages` as one envelope.
pub fn encode_batch<T: Contract>(messages: &[T]) -> Result<Vec<u8>, ContractError> {
    let encoded = messages
        .iter()
        .map(super::encode)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(join_batch(&encoded))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contracts::{InboundMessage, decode_inbound};

    fn inbound(n: u128) -> InboundMessage {
        decode_inbound(
            format!(
                r#"{{"version":1,"id":"{}","from":"254712345678","to":"20880","text":"hi {n}",
                "received_at":"2026-11-26T05:03:00Z","upstream":"sim"}}"#,
                uuid::Uuid::from_u128(n)
            )
            .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn an_envelope_round_trips_and_a_bare_message_reads_as_a_batch_of_one() {
        let messages = vec![inbound(1), inbound(2), inbound(3)];
        let json = encode_batch(&messages).unwrap();
        let back: Vec<InboundMessage> = decode_batch(&json)
            .unwrap()
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(back, messages);
        let bare = crate::contracts::encode(&messages[0]).unwrap();
        let one = decode_batch::<InboundMessage>(&bare).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].as_ref().unwrap(), &messages[0]);
        assert!(
            decode_batch::<InboundMessage>(&join_batch::<Vec<u8>>(&[]))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_bad_element_spoils_only_itself_and_a_future_envelope_is_refused() {
        let good = crate::contracts::encode(&inbound(1)).unwrap();
        let bad = br#"{"version":1,"id":"nope"}"#.to_vec();
        let items = decode_batch::<InboundMessage>(&join_batch(&[good, bad.clone()])).unwrap();
        assert!(items[0].is_ok());
        let err = items[1].as_ref().unwrap_err();
        assert_eq!(err.json, bad);
        assert!(
            matches!(err.error, ContractError::Malformed { .. }),
            "{:?}",
            err.error
        );
        let future = decode_batch::<InboundMessage>(br#"{"version":2,"batch":[]}"#).unwrap_err();
        assert!(matches!(
            future,
            ContractError::UnsupportedVersion {
                contract: BATCH,
                ..
            }
        ));
        let unversioned = decode_batch::<InboundMessage>(br#"{"batch":[]}"#).unwrap_err();
        assert!(matches!(
            unversioned,
            ContractError::MissingVersion { contract: BATCH }
        ));
        let garbage = decode_batch::<InboundMessage>(b"not json").unwrap();
        assert!(matches!(
            garbage[0],
            Err(Undecodable {
                error: ContractError::Malformed { .. },
                ..
            })
        ));
    }
}
