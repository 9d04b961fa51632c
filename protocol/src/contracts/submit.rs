//! `SubmitRequest`: one message for the engine to send (control plane → engine over
//! `sms.priority` / `sms.normal`, or the engine's HTTP ingress).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Contract, VERSION, ValidationErrors};

/// The most segments one message may have: the 8-bit concatenation UDH counts parts in one
/// octet (3GPP TS 23.040 §9.2.3.24.1).
pub const MAX_SEGMENTS: usize = 255;

/// The longest text accepted: 255 GSM-7 parts of 153 septets. The segmenter and the account's
/// own limits are stricter; this only stops absurd input at the door.
const MAX_TEXT_CHARS: usize = MAX_SEGMENTS * 153;

/// A request to send one SMS (to one destination).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitRequest {
    /// Contract major version ([`VERSION`]).
    pub version: u32,
    /// The control plane's message id; the idempotency key for the whole life cycle.
    pub message_id: Uuid,
    /// The sending account.
    pub account_id: Uuid,
    /// Destination MSISDN in E.164 form, `+` and 7–15 digits (`+254712345678`).
    pub destination: String,
    /// Sender id: alphanumeric (≤ 11 characters) or numeric (≤ 15 digits, optional `+`).
    pub sender: String,
    /// The text, whole or already split.
    pub body: Body,
    /// Which alphabet to use.
    #[serde(default)]
    pub encoding: EncodingHint,
    /// Which queue lane it travels in.
    #[serde(default)]
    pub priority: Priority,
    /// Routing preferences (otherwise the engine routes by prefix).
    #[serde(default, skip_serializing_if = "RouteHints::is_empty")]
    pub route: RouteHints,
    /// Do not send after this moment; also passed upstream as the validity period.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<OffsetDateTime>,
    /// The customer's own reference, echoed back in status events and webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_reference: Option<String>,
    /// How many times the engine has already tried this message (0 on first publish).
    #[serde(default)]
    pub attempt: u32,
    /// When the control plane accepted the message.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The message text: whole (`{"text": "…"}`, the engine splits it) or pre-split
/// (`{"segments": ["…", "…"]}`, one string per part; the engine adds the UDH).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    /// The whole text.
    Text(String),
    /// The text of each part, in order.
    Segments(Vec<String>),
}

/// Alphabet choice (3GPP TS 23.038).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncodingHint {
    /// GSM-7 if every character fits, else UCS-2.
    #[default]
    Auto,
    /// GSM 03.38 default alphabet (characters outside it are an error or transliterated).
    Gsm7,
    /// UCS-2 (UTF-16BE) regardless of content.
    Ucs2,
}

/// Queue lane: `normal` (bulk, `sms.normal`) or `high` (transactional, `sms.priority`;
/// `"priority"` is accepted as a synonym).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Bulk and campaign traffic.
    #[default]
    Normal,
    /// Transactional traffic (OTPs, alerts), consumed first.
    #[serde(alias = "priority")]
    High,
}

/// Routing preferences; empty means "route by destination prefix".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteHints {
    /// Operator (MNO) id to route as, overriding the prefix lookup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mno: Option<String>,
    /// Upstream (SMPP connection) name to use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
}

impl RouteHints {
    /// Whether no hint is set.
    pub fn is_empty(&self) -> bool {
        self.mno.is_none() && self.upstream.is_none()
    }
}

impl SubmitRequest {
    /// Checks every field; the errors name the JSON field (`destination`, `body.text`, …).
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        e.check(self.version == VERSION, "version", "unsupported version");
        e.check(
            !self.message_id.is_nil(),
            "message_id",
            "must not be the nil UUID",
        );
        e.check(
            !self.account_id.is_nil(),
            "account_id",
            "must not be the nil UUID",
        );
        e.check(
            is_e164(&self.destination),
            "destination",
            "must be E.164: '+' then 7 to 15 digits, not starting with 0",
        );
        if let Err(message) = check_sender(&self.sender) {
            e.add("sender", message);
        }
        match &self.body {
            Body::Text(text) => {
                e.check(!text.is_empty(), "body.text", "must not be empty");
                e.check(
                    text.chars().count() <= MAX_TEXT_CHARS,
                    "body.text",
                    "is longer than 255 segments",
                );
            }
            Body::Segments(parts) => {
                e.check(
                    (1..=MAX_SEGMENTS).contains(&parts.len()),
                    "body.segments",
                    "must hold 1 to 255 segments",
                );
                e.check(
                    parts.iter().all(|p| !p.is_empty()),
                    "body.segments",
                    "segments must not be empty",
                );
            }
        }
        for (field, hint) in [
            ("route.mno", &self.route.mno),
            ("route.upstream", &self.route.upstream),
        ] {
            e.check(
                hint.as_ref().is_none_or(|h| !h.trim().is_empty()),
                field,
                "must not be blank when present",
            );
        }
        if let Some(expires_at) = self.expires_at {
            e.check(
                expires_at > self.created_at,
                "expires_at",
                "must be after created_at",
            );
        }
        if let Some(reference) = &self.client_reference {
            e.check(
                reference.chars().count() <= 100,
                "client_reference",
                "must be at most 100 characters",
            );
        }
        e.into_result()
    }
}

impl Contract for SubmitRequest {
    const NAME: &'static str = "SubmitRequest";

    fn version(&self) -> u32 {
        self.version
    }

    fn validate(&self) -> Result<(), ValidationErrors> {
        SubmitRequest::validate(self)
    }
}

/// E.164 (ITU-T E.164 §6): at most 15 digits, country code never starting with 0.
fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// Sender ids (3GPP TS 23.040 §9.1.2.5): numeric addresses up to 15 digits, alphanumeric ones
/// up to 11 characters (the 7-bit alphanumeric address field holds 11 GSM-7 characters).
fn check_sender(s: &str) -> Result<(), &'static str> {
    let numeric = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    if let Some(digits) = s.strip_prefix('+') {
        if numeric(digits) && digits.len() <= 15 {
            Ok(())
        } else {
            Err("a sender id starting with '+' needs 1 to 15 digits")
        }
    } else if s.trim().is_empty() {
        Err("must not be empty")
    } else if numeric(s) {
        if s.len() <= 15 {
            Ok(())
        } else {
            Err("numeric sender ids have at most 15 digits")
        }
    } else if s.chars().count() > 11 {
        Err("alphanumeric sender ids have at most 11 characters")
    } else if !s.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        Err("alphanumeric sender ids use printable ASCII only")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> SubmitRequest {
        SubmitRequest {
            version: VERSION,
            message_id: Uuid::from_u128(1),
            account_id: Uuid::from_u128(2),
            destination: "+254712345678".into(),
            sender: "SEMA".into(),
            body: Body::Text("Hello".into()),
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
    fn a_good_request_validates() {
        assert_eq!(sample().validate(), Ok(()));
        let numeric = SubmitRequest {
            sender: "+254700000000".into(),
            ..sample()
        };
        assert_eq!(numeric.validate(), Ok(()));
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = SubmitRequest {
            message_id: Uuid::nil(),
            destination: "0712345678".into(),
            sender: "TOO-LONG-SENDER".into(),
            body: Body::Segments(vec!["a".into(), String::new()]),
            route: RouteHints {
                mno: Some(" ".into()),
                upstream: None,
            },
            expires_at: Some(OffsetDateTime::UNIX_EPOCH),
            ..sample()
        };
        let errors = bad.validate().unwrap_err();
        for field in [
            "message_id",
            "destination",
            "sender",
            "body.segments",
            "route.mno",
            "expires_at",
        ] {
            assert!(errors.has(field), "{field} in {errors}");
        }
        assert!(!errors.has("account_id"));
    }

    #[test]
    fn destination_and_sender_rules() {
        for ok in ["+1234567", "+254712345678", "+123456789012345"] {
            assert!(is_e164(ok), "{ok}");
        }
        for bad in [
            "254712345678",
            "+0712345678",
            "+123456",
            "+1234567890123456",
            "+2547123x5678",
            "+",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
        assert!(check_sender("Sema Link").is_ok());
        assert!(check_sender("123456789012345").is_ok());
        assert!(check_sender("1234567890123456").is_err());
        assert!(check_sender("Séma").is_err());
        assert!(check_sender(" ").is_err());
        assert!(check_sender("+").is_err());
        assert!(check_sender("+SEMA").is_err());
    }

    #[test]
    fn body_and_priority_json_shapes() {
        let json = serde_json::to_value(SubmitRequest {
            body: Body::Segments(vec!["a".into()]),
            priority: Priority::High,
            ..sample()
        })
        .unwrap();
        assert_eq!(json["body"]["segments"][0], "a");
        assert_eq!(json["priority"], "high");
        assert_eq!(json["created_at"], "1970-01-01T00:00:00Z");
        assert!(json.get("route").is_none() && json.get("expires_at").is_none());
        let p: Priority = serde_json::from_str("\"priority\"").unwrap();
        assert_eq!(p, Priority::High);
    }
}
