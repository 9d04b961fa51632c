//! Kannel's delivery reports: which status is which report type (`dlr-mask` bits), whether
//! the mask asks for it, and the `dlr-url` with its escapes expanded the way Kannel's
//! `urltrans_fill_escape_codes` does for a report: values URL-encoded (space as `+`), `%%`
//! a percent sign, an unknown escape left as written.
//!
//! | escape | value |
//! |---|---|
//! | `%d` | the report type: 1 delivered, 2 undelivered, 8 accepted by the SMSC, 16 rejected by it |
//! | `%A` | the SMSC's answer: `ACK/`, `NACK/<code>/<text>`, or the receipt `id:… stat:DELIVRD err:000` |
//! | `%a` `%b` `%k` `%s` `%S` `%r` | the answer's words, its bytes, first word, next word, next word with `*`→`~` (not encoded), the words left |
//! | `%p` / `%P` | the sender ID / the handset (a report's sender and receiver are swapped, as in Kannel) |
//! | `%q` / `%Q` | as `%p` / `%P` with a leading `00` written `+` |
//! | `%t` / `%T` | the report's time, `YYYY-MM-DD+HH:MM:SS` UTC / Unix seconds |
//! | `%i` `%I` `%F` `%n` | upstream (SMSC id), message id, the SMSC's message id, the sendsms user |
//! | `%c` `%C` `%O` | coding 0 (GSM) or 2 (UCS-2), `UTF-8` / `UTF-16BE`, the DCS (`00` / `08`) |
//! | `%m` `%M` | message class and waiting indicator: `-1` (not set) |
//! | `%R` | the dlr-url itself; `%u` `%B` `%o` `%D` `%f`: empty (no UDH, billing, account, meta-data, SMSC number) |

use time::OffsetDateTime;
use uuid::Uuid;

/// Report type: delivered to the handset.
pub const DELIVERED: u8 = 1;
/// Report type: not delivered to the handset (failed, expired).
pub const UNDELIVERED: u8 = 2;
/// Report type: accepted by the SMSC.
pub const SMSC_ACK: u8 = 8;
/// Report type: rejected by the SMSC.
pub const SMSC_NACK: u8 = 16;

/// The report type of a message status (`error_kind` tells a refused submit from a receipt).
pub fn report_type(status: &str, error_kind: Option<&str>) -> Option<u8> {
    match status {
        "sent" => Some(SMSC_ACK),
        "delivered" => Some(DELIVERED),
        "rejected" => Some(SMSC_NACK),
        "failed" if error_kind == Some("command_status") => Some(SMSC_NACK),
        "failed" | "expired" => Some(UNDELIVERED),
        _ => None,
    }
}

/// Whether `mask` (Kannel's `dlr-mask`) asks for reports of `typ`.
pub fn wanted(mask: i16, typ: u8) -> bool {
    mask & i16::from(typ) != 0
}

/// One report, with what its escapes need.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// [`report_type`].
    pub typ: u8,
    /// The message's status word (`delivered`, …).
    pub status: &'a str,
    /// The handset (the original receiver).
    pub phone: &'a str,
    /// The sender ID (the original sender).
    pub sender: &'a str,
    /// The upstream it left through.
    pub smsc_id: Option<&'a str>,
    /// Our message id.
    pub message_id: Uuid,
    /// The SMSC's message id.
    pub foreign_id: Option<&'a str>,
    /// When the message was accepted by the SMSC.
    pub sent_at: Option<OffsetDateTime>,
    /// When this report's status was reached.
    pub at: OffsetDateTime,
    /// `ucs2` or else GSM.
    pub ucs2: bool,
    /// The error code, if any.
    pub error_code: Option<i64>,
    /// The error text, if any.
    pub error_text: Option<&'a str>,
    /// The sendsms user.
    pub username: Option<&'a str>,
}

fn ymdhm(t: OffsetDateTime) -> String {
    format!(
        "{:02}{:02}{:02}{:02}{:02}",
        t.year() % 100,
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

impl Report<'_> {
    /// What Kannel puts in a report's text (`%A`): the SMSC's answer.
    pub fn answer(&self) -> String {
        match self.typ {
            SMSC_ACK => "ACK/".to_owned(),
            SMSC_NACK => format!(
                "NACK/{}/{}",
                self.error_code
                    .map_or_else(String::new, |c| format!("0x{c:08x}")),
                self.error_text.unwrap_or("")
            ),
            _ => {
                let stat = match self.status {
                    "delivered" => "DELIVRD",
                    "expired" => "EXPIRED",
                    _ => "UNDELIV",
                };
                let done = ymdhm(self.at);
                format!(
                    "id:{} sub:001 dlvrd:{} submit date:{} done date:{done} stat:{stat} err:{:03}",
                    self.foreign_id.unwrap_or(""),
                    if self.typ == DELIVERED { "001" } else { "000" },
                    self.sent_at.map_or_else(|| done.clone(), ymdhm),
                    self.error_code.unwrap_or(0)
                )
            }
        }
    }
}

/// Kannel's `octstr_url_encode`: letters, digits and `-_.!~*'()` as they are, a space as
/// `+`, every other byte `%XX`.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) => out.push(char::from(b)),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn plus_for_00(n: &str) -> String {
    match n.strip_prefix("00") {
        Some(rest) => format!("%2B{}", url_encode(rest)),
        None => url_encode(n),
    }
}

/// `pattern` (a `dlr-url`) with its escapes filled in for `r`.
pub fn expand(pattern: &str, r: &Report<'_>) -> String {
    let answer = r.answer();
    let words: Vec<&str> = answer.split_whitespace().collect();
    let mut next = 1;
    let mut out = String::with_capacity(pattern.len() + 64);
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            // A lone `%` at the end stays.
            out.push('%');
            break;
        };
        match e {
            'a' => out.push_str(
                &words
                    .iter()
                    .map(|w| url_encode(w))
                    .collect::<Vec<_>>()
                    .join("+"),
            ),
            'A' | 'b' => out.push_str(&url_encode(&answer)),
            'k' => out.push_str(&words.first().map_or_else(String::new, |w| url_encode(w))),
            's' => {
                if let Some(w) = words.get(next) {
                    out.push_str(&url_encode(w));
                    next += 1;
                }
            }
            'S' => {
                if let Some(w) = words.get(next) {
                    out.push_str(&w.replace('*', "~"));
                    next += 1;
                }
            }
            'r' => out.push_str(
                &words
                    .iter()
                    .skip(next)
                    .map(|w| url_encode(w))
                    .collect::<Vec<_>>()
                    .join("+"),
            ),
            'd' => out.push_str(&r.typ.to_string()),
            'p' => out.push_str(&url_encode(r.sender)),
            'P' => out.push_str(&url_encode(r.phone)),
            'q' => out.push_str(&plus_for_00(r.sender)),
            'Q' => out.push_str(&plus_for_00(r.phone)),
            't' => out.push_str(&format!(
                "{:04}-{:02}-{:02}+{:02}:{:02}:{:02}",
                r.at.year(),
                u8::from(r.at.month()),
                r.at.day(),
                r.at.hour(),
                r.at.minute(),
                r.at.second()
            )),
            'T' => out.push_str(&r.at.unix_timestamp().to_string()),
            'i' => out.push_str(&url_encode(r.smsc_id.unwrap_or(""))),
            'I' => out.push_str(&r.message_id.to_string()),
            'F' => out.push_str(&url_encode(r.foreign_id.unwrap_or(""))),
            'n' => out.push_str(&url_encode(r.username.unwrap_or(""))),
            'c' => out.push(if r.ucs2 { '2' } else { '0' }),
            'C' => out.push_str(if r.ucs2 { "UTF-16BE" } else { "UTF-8" }),
            'O' => out.push_str(if r.ucs2 { "08" } else { "00" }),
            'm' | 'M' => out.push_str("-1"),
            'R' => out.push_str(&url_encode(pattern)),
            'u' | 'B' | 'o' | 'D' | 'f' => {}
            '%' => out.push('%'),
            other => {
                out.push('%');
                out.push(other);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(typ: u8, status: &'static str) -> Report<'static> {
        Report {
            typ,
            status,
            phone: "+254712345678",
            sender: "AcmeCorp",
            smsc_id: Some("celcom"),
            message_id: Uuid::from_u128(7),
            foreign_id: Some("3f2a"),
            sent_at: Some(OffsetDateTime::from_unix_timestamp(1_764_860_400).unwrap()),
            at: OffsetDateTime::from_unix_timestamp(1_764_860_465).unwrap(),
            ucs2: false,
            error_code: None,
            error_text: None,
            username: Some("shop user"),
        }
    }

    #[test]
    fn escapes_expand_as_kannel_does() {
        let r = report(DELIVERED, "delivered");
        let url = "https://h.example/dlr?type=%d&to=%P&from=%p&ts=%T&t=%t&id=%I&f=%F&smsc=%i&u=%n&c=%c&pct=%%&x=%z&end=%";
        assert_eq!(
            expand(url, &r),
            "https://h.example/dlr?type=1&to=%2B254712345678&from=AcmeCorp&ts=1764860465\
             &t=2025-12-04+15:01:05&id=00000000-0000-0000-0000-000000000007&f=3f2a\
             &smsc=celcom&u=shop+user&c=0&pct=%&x=%z&end=%"
        );
        assert_eq!(
            expand("%A", &r),
            "id%3A3f2a+sub%3A001+dlvrd%3A001+submit+date%3A2512041500+done+date%3A2512041501+stat%3ADELIVRD+err%3A000"
        );
        assert_eq!(
            expand("%k|%s|%s|%r", &r),
            "id%3A3f2a|sub%3A001|dlvrd%3A001|submit+date%3A2512041500+done+date%3A2512041501+stat%3ADELIVRD+err%3A000"
        );
        let ack = report(SMSC_ACK, "sent");
        assert_eq!(expand("%d:%A", &ack), "8:ACK%2F");
        let mut zero = report(SMSC_ACK, "sent");
        zero.phone = "00254712345678";
        assert_eq!(expand("%Q", &zero), "%2B254712345678");
    }

    #[test]
    fn statuses_map_to_report_types_and_the_mask_filters() {
        assert_eq!(report_type("delivered", None), Some(DELIVERED));
        assert_eq!(report_type("failed", Some("receipt")), Some(UNDELIVERED));
        assert_eq!(report_type("expired", None), Some(UNDELIVERED));
        assert_eq!(
            report_type("failed", Some("command_status")),
            Some(SMSC_NACK)
        );
        assert_eq!(report_type("rejected", None), Some(SMSC_NACK));
        assert_eq!(report_type("sent", None), Some(SMSC_ACK));
        assert_eq!(report_type("queued", None), None);
        assert!(wanted(3, DELIVERED) && wanted(3, UNDELIVERED) && !wanted(3, SMSC_ACK));
        assert!(!wanted(0, DELIVERED));
        assert!(wanted(31, SMSC_NACK));
    }
}
