//! Celcom's answers read: the per-recipient code (under `response-code`, or the misspelt
//! `respose-code` some responses use; a number or a string), the message id, and what each
//! code means for the message, expressed as the SMPP `command_status` whose class
//! ([`crate::retry`]) is the right one — so HTTP and SMPP submits share one retry policy:
//!
//! | Celcom | meaning | as | class |
//! |---|---|---|---|
//! | 200 | success | 0 | accepted |
//! | 1001 | invalid sender id | 0x0A `ESME_RINVSRCADR` | permanent |
//! | 1002 | network not allowed | 0x0B `ESME_RINVDSTADR` | permanent |
//! | 1003 | invalid mobile | 0x0B `ESME_RINVDSTADR` | permanent |
//! | 1004 | low bulk credits | 0x14 `ESME_RMSGQFUL` | throttled: waits for a top-up, never dropped |
//! | 1005, 1007 | system error | 0x08 `ESME_RSYSERR` | transient |
//! | 1006, 4091–4093 | credentials / partner id / details missing | 0x0D `ESME_RBINDFAIL` | transient (our config: logged) |
//! | 1009, 1010 | unsupported type | 0x43 `ESME_RINVESMCLASS` | permanent |
//! | 4090 | try again after five minutes | 0x58 `ESME_RTHROTTLED` | throttled |
//! | other | — | 0x08 `ESME_RSYSERR` | transient |

use semalink_protocol::dlr::{ReceiptDate, Stat};
use serde_json::Value;

/// The SMPP `command_status` standing for Celcom code `code`.
pub fn submit_status(code: u32) -> u32 {
    match code {
        200 => 0,
        1001 => 0x0A,
        1002 | 1003 => 0x0B,
        1004 => 0x14,
        1006 | 4091..=4093 => 0x0D,
        1009 | 1010 => 0x43,
        4090 => 0x58,
        _ => 0x08,
    }
}

/// The code of one response object: `response-code` or `respose-code`, number or string.
pub fn code(v: &Value) -> Option<u32> {
    let raw = v.get("response-code").or_else(|| v.get("respose-code"))?;
    match raw {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A string or number field as text.
pub fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `(code, message id)` of the first recipient of a `sendsms/` answer.
pub fn send_result(body: &[u8]) -> Option<(u32, Option<String>)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let first = v.get("responses")?.as_array()?.first()?;
    Some((code(first)?, text(first, "messageid")))
}

/// A `getdlr/` answer: `None` while there is no report yet (code 1008, or a state that is
/// not final is still a [`Stat`] the receipt path treats as intermediate).
pub struct Delivery {
    /// The state as a receipt `stat`.
    pub stat: Stat,
    /// When it reached that state, if given.
    pub done: Option<ReceiptDate>,
}

/// Reads a `getdlr/` answer; `Err(code)` for an answer that is not a report.
pub fn delivery(body: &[u8]) -> Result<Delivery, u32> {
    let v: Value = serde_json::from_slice(body).map_err(|_| 0u32)?;
    let code = code(&v).ok_or(0u32)?;
    if code != 200 {
        return Err(code);
    }
    Ok(report(&v))
}

/// Reads a report the API pushed to the callback URL: the `getdlr/` answer's fields
/// (`message-id`, `delivery-description`, `delivery-time`), a code optional (200 when
/// given). `None` when it names no message or carries another code.
pub fn pushed(body: &[u8]) -> Option<(String, Delivery)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    if v.get("response-code")
        .or_else(|| v.get("respose-code"))
        .is_some()
        && code(&v) != Some(200)
    {
        return None;
    }
    let id = ["message-id", "messageid", "messageID"]
        .iter()
        .find_map(|k| text(&v, k))?;
    Some((id, report(&v)))
}

/// The state and time of one report object.
fn report(v: &Value) -> Delivery {
    let words = text(v, "delivery-description").unwrap_or_default();
    let stat = match words.as_str() {
        "DeliveredToTerminal" | "Delivered" => Stat::Delivered,
        "MessageExpired" | "Expired" => Stat::Expired,
        "Rejected" => Stat::Rejected,
        "Deleted" => Stat::Deleted,
        "DeliveryImpossible"
        | "AbsentSubscriber"
        | "UserInBlacklist"
        | "SenderName Blacklisted"
        | "Undeliverable"
        | "Failed" => Stat::Undeliverable,
        "DeliveredToNetwork" | "MessageWaiting" | "Pending" | "Sent" => Stat::Enroute,
        _ => Stat::Other(words),
    };
    // "261202040509000+" (SMPP time) or "2026-12-02 04:05:09": the digits, as a receipt date.
    let done = text(v, "delivery-time").and_then(|t| {
        let digits: String = t.chars().filter(char::is_ascii_digit).collect();
        match digits.len() {
            14.. if t.contains('-') => ReceiptDate::parse(&digits[..14]),
            12.. => ReceiptDate::parse(&digits[..12]),
            _ => None,
        }
    });
    Delivery { stat, done }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_and_both_types_of_the_code_are_read() {
        let ok = br#"{"responses":[{"response-code":200,"response-description":"Success","mobile":254712345678,"messageid":8290842}]}"#;
        assert_eq!(send_result(ok), Some((200, Some("8290842".into()))));
        let quirk = br#"{"responses":[{"respose-code":"1003","response-description":"Invalid mobile number"}]}"#;
        assert_eq!(send_result(quirk), Some((1003, None)));
        assert_eq!(send_result(b"<html>"), None);
    }

    #[test]
    fn codes_fall_in_the_right_retry_class() {
        let policy = crate::retry::RetryPolicy::new(&crate::config::RetryConfig::default());
        use crate::retry::Disposition::*;
        for (code, class) in [
            (200, Accepted),
            (1001, Permanent),
            (1003, Permanent),
            (1004, Throttled),
            (4090, Throttled),
            (1005, Transient),
            (1006, Transient),
            (1009, Permanent),
            (9999, Transient),
        ] {
            assert_eq!(policy.classify(submit_status(code)), class, "{code}");
        }
    }

    #[test]
    fn pushed_reports_need_a_message_id_and_no_other_code() {
        let (id, d) =
            pushed(br#"{"message-id":8290842,"delivery-description":"DeliveredToTerminal"}"#)
                .unwrap();
        assert_eq!((id.as_str(), d.stat), ("8290842", Stat::Delivered));
        let quirk = br#"{"respose-code":"200","messageid":"9","delivery-description":"Rejected"}"#;
        assert_eq!(pushed(quirk).unwrap().1.stat, Stat::Rejected);
        assert!(pushed(br#"{"response-code":1008,"message-id":"9"}"#).is_none());
        assert!(pushed(br#"{"delivery-description":"Delivered"}"#).is_none());
        assert!(pushed(b"id=9").is_none());
    }

    #[test]
    fn delivery_reports_read_as_receipt_states() {
        let d = delivery(br#"{"response-code":200,"message-id":"7","delivery-description":"DeliveredToTerminal","delivery-time":"2026-12-02 04:05:09"}"#).ok().unwrap();
        assert_eq!(d.stat, Stat::Delivered);
        assert_eq!(d.done.unwrap().second, Some(9));
        let d = delivery(br#"{"respose-code":200,"delivery-description":"DeliveryImpossible","delivery-time":"261202040509000+"}"#).ok().unwrap();
        assert_eq!((d.stat, d.done.unwrap().minute), (Stat::Undeliverable, 5));
        assert_eq!(delivery(br#"{"response-code":1008}"#).err(), Some(1008));
    }
}
