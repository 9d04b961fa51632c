//! Kannel's sendsms parameters and answers.

use serde::Deserialize;
use utoipa::IntoParams;

/// Query of `GET /cgi-bin/sendsms` (Kannel's names; other Kannel parameters are ignored, as
/// Kannel ignores what it does not know).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SendSms {
    /// Kannel's sendsms user: any non-empty name (the key identifies the organisation).
    pub username: Option<String>,
    /// An API key with `messages:send`.
    pub password: Option<String>,
    /// Receivers, separated by spaces or commas (`+` arrives as a space: both work).
    pub to: Option<String>,
    /// The text.
    pub text: Option<String>,
    /// Sender ID (an approved one); absent: the organisation's default.
    pub from: Option<String>,
    /// Delivery report URL with Kannel's escapes (`%d`, `%p`, `%P`, `%T`, `%A`, …), called
    /// with a GET for each report `dlr-mask` asks for, signed like a webhook.
    #[serde(rename = "dlr-url")]
    #[param(rename = "dlr-url")]
    pub dlr_url: Option<String>,
    /// Delivery report mask, 0 to 31: 1 delivered, 2 undelivered, 8 accepted by the SMSC,
    /// 16 rejected by it (4, buffered, never happens here). Absent or 0: no reports.
    #[serde(rename = "dlr-mask")]
    #[param(rename = "dlr-mask")]
    pub dlr_mask: Option<String>,
    /// 0 (GSM 7-bit) or 2 (UCS-2); the encoding follows the text either way. 1 (8-bit binary)
    /// is refused.
    pub coding: Option<String>,
    /// Minutes the upstream keeps trying.
    pub validity: Option<String>,
    /// Minutes to wait before sending.
    pub deferred: Option<String>,
}

/// Kannel's answers (smsbox wording).
pub mod answer {
    /// Accepted now.
    pub const ACCEPTED: &str = "0: Accepted for delivery";
    /// Accepted for later (`deferred`).
    pub const QUEUED: &str = "3: Queued for later delivery";
    /// Bad or missing credentials, or a key without `messages:send`.
    pub const AUTH_FAILED: &str = "Authorization failed for sendsms";
    /// `to` or `text` missing, or a parameter out of range.
    pub const WRONG_ARGS: &str = "Wrong sendsms args, rejected";
    /// `to` holds no number.
    pub const EMPTY_RECEIVER: &str = "Empty receiver number not allowed, rejected";
    /// No `from` and no default sender ID.
    pub const NO_SENDER: &str = "Sender missing and no global set, rejected";
    /// A `dlr-url` that is not an acceptable URL (form, scheme, or an address the SSRF guard
    /// refuses). Kannel has no such answer; worded like its others.
    pub const BAD_DLR_URL: &str = "Invalid dlr-url, rejected";
    /// Every receiver is invalid, opted out or suppressed.
    pub const DENIED: &str = "Number(s) has/have been denied by white- and/or black-lists.";
}
