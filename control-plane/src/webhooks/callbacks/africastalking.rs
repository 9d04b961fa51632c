//! Africa's Talking's delivery report callback: a form POST (`application/x-www-form-urlencoded`)
//! with `id` (the `messageId` the send answered), `status` (`Sent`, then `Success`, `Failed`
//! or `Rejected`), `phoneNumber`, `networkCode` (MCC+MNC, when the operator is known),
//! `failureReason` (on failures) and `retryCount`.

/// Africa's Talking's status word of a message status, if it reports it.
pub fn status(status: &str) -> Option<&'static str> {
    match status {
        "sent" => Some("Sent"),
        "delivered" => Some("Success"),
        "failed" | "expired" => Some("Failed"),
        "rejected" => Some("Rejected"),
        _ => None,
    }
}

/// The MCC+MNC of an operator route key, for those Africa's Talking customers meet most.
pub fn network_code(mno_id: Option<&str>) -> Option<&'static str> {
    Some(match mno_id? {
        "ke-safaricom" => "63902",
        "ke-airtel" => "63903",
        "ke-telkom" => "63907",
        "ug-mtn" => "64110",
        "ug-airtel" => "64101",
        "tz-vodacom" => "64004",
        "tz-airtel" => "64005",
        "tz-tigo" => "64002",
        "rw-mtn" => "63510",
        "ng-mtn" => "62130",
        _ => return None,
    })
}

/// The form body of one report.
pub fn body(
    message_id: &str,
    status_word: &str,
    phone: &str,
    mno_id: Option<&str>,
    failed: bool,
) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("id", message_id)
        .append_pair("status", status_word)
        .append_pair("phoneNumber", phone);
    if let Some(code) = network_code(mno_id) {
        form.append_pair("networkCode", code);
    }
    if failed {
        form.append_pair(
            "failureReason",
            if status_word == "Rejected" {
                "RejectedByGateway"
            } else {
                "DeliveryFailure"
            },
        );
    }
    form.append_pair("retryCount", "0");
    form.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_is_what_africas_talking_posts() {
        assert_eq!(
            body(
                "m1",
                "Success",
                "+254712345678",
                Some("ke-safaricom"),
                false
            ),
            "id=m1&status=Success&phoneNumber=%2B254712345678&networkCode=63902&retryCount=0"
        );
        assert_eq!(
            body("m1", "Failed", "+256772000000", None, true),
            "id=m1&status=Failed&phoneNumber=%2B256772000000&failureReason=DeliveryFailure&retryCount=0"
        );
        assert_eq!(status("queued"), None);
    }
}
