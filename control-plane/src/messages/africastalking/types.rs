//! Africa's Talking's form fields, answer and per-recipient status codes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::messages::types::{RecipientError, RecipientResult};

/// The form of `POST /version1/messaging` (`application/x-www-form-urlencoded`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Messaging {
    /// Their application user name: any non-empty name (the key identifies the organisation).
    pub username: Option<String>,
    /// Recipients, comma-separated.
    pub to: Option<String>,
    /// The text.
    pub message: Option<String>,
    /// Sender ID (an approved one); absent: the organisation's default.
    pub from: Option<String>,
    /// `1` to queue (accepted; every send is queued here).
    pub enqueue: Option<String>,
    /// `1` for bulk (accepted; premium SMS is not offered).
    #[serde(rename = "bulkSMSMode")]
    pub bulk_sms_mode: Option<String>,
    /// Premium SMS keyword (refused when set: premium SMS is not offered).
    pub keyword: Option<String>,
    /// Premium SMS link id (refused when set).
    #[serde(rename = "linkId")]
    pub link_id: Option<String>,
    /// Hours the upstream keeps trying, 1 to 72.
    #[serde(rename = "retryDurationInHours")]
    pub retry_duration_in_hours: Option<String>,
    /// Where to POST this send's delivery reports (Africa's Talking's callback form), signed
    /// like a webhook. An extension: Africa's Talking itself sets the callback per
    /// application in its dashboard.
    #[serde(rename = "callbackUrl")]
    pub callback_url: Option<String>,
}

/// Their answer: `{"SMSMessageData": {...}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagingAnswer {
    /// The summary and the recipients.
    #[serde(rename = "SMSMessageData")]
    pub data: MessageData,
}

/// `SMSMessageData`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageData {
    /// `Sent to 1/2 Total Cost: KES 0.8000`.
    #[serde(rename = "Message")]
    pub message: String,
    /// One per recipient, in request order.
    #[serde(rename = "Recipients")]
    pub recipients: Vec<Recipient>,
}

/// One recipient.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    /// 101 Sent, 402 InvalidSenderId, 403 InvalidPhoneNumber, 405 InsufficientBalance,
    /// 406 UserInBlacklist, 407 CouldNotRoute.
    pub status_code: u16,
    /// The number (E.164 when it parsed).
    pub number: String,
    /// `Success` or the code's name.
    pub status: String,
    /// `KES 0.8000`, or `0` when nothing was charged.
    pub cost: String,
    /// The message id, or `None`.
    pub message_id: String,
}

/// Their code and name for a refused recipient.
pub fn refusal(error: RecipientError) -> (u16, &'static str) {
    match error {
        RecipientError::InvalidNumber | RecipientError::Duplicate => (403, "InvalidPhoneNumber"),
        RecipientError::OptedOut | RecipientError::Suppressed => (406, "UserInBlacklist"),
        RecipientError::NoRate => (407, "CouldNotRoute"),
    }
}

/// A recipient's line in their answer.
pub fn recipient(r: &RecipientResult, currency: &str) -> Recipient {
    let number = r.destination.clone().unwrap_or_else(|| r.to.clone());
    match (r.message_id, r.error) {
        (Some(id), _) => Recipient {
            status_code: 101,
            number,
            status: "Success".into(),
            cost: format!("{currency} {}", r.cost.unwrap_or_default()),
            message_id: id.to_string(),
        },
        (None, error) => {
            let (code, name) = refusal(error.unwrap_or(RecipientError::InvalidNumber));
            failed(number, code, name)
        }
    }
}

/// A recipient nothing was sent to.
pub fn failed(number: String, code: u16, name: &str) -> Recipient {
    Recipient {
        status_code: code,
        number,
        status: name.into(),
        cost: "0".into(),
        message_id: "None".into(),
    }
}
