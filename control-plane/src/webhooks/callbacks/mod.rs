//! Per-message callbacks of the compatibility adapters: Kannel's `dlr-url` (with its
//! `%`-escapes expanded per report, `dlr-mask` respected, called with a GET like Kannel) and
//! an Africa's Talking `callbackUrl` (its delivery report form, POSTed). They are webhook
//! deliveries like any other — written in the status consumer's transaction, signed with
//! the organisation's callback secret (Standard Webhooks headers), retried with the same
//! back-off, logged, replayable — through a hidden per-organisation endpoint (`kind =
//! 'callbacks'`) that holds the secret. The SSRF guard checks the URL on the send and again
//! at every connection.
//!
//! * [`kannel`] — report types, the mask, escapes; [`africastalking`] — the form.
//! * [`store`] — the SQL; [`routes`] — `POST /v1/webhooks/callbacks/rotate-secret`.

pub mod africastalking;
pub mod kannel;
pub mod routes;
pub mod store;

use crate::error::{Error, Result};
use crate::webhooks::ssrf::{Guard, Refused};

/// Which wire format a callback gets (stored by its lower-case name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Style {
    /// Kannel's dlr-url: GET, escapes expanded.
    Kannel,
    /// Africa's Talking's delivery report: a form POST.
    AfricasTalking,
}

/// A callback given on a send.
#[derive(Debug, Clone)]
pub struct Callback {
    /// Its wire format.
    pub style: Style,
    /// The URL (Kannel: with its escapes).
    pub url: String,
    /// Kannel's `dlr-mask` (absent: 0, no reports, as in Kannel).
    pub dlr_mask: Option<i16>,
    /// Kannel's sendsms user.
    pub username: Option<String>,
}

impl Callback {
    /// The callback of a send, if `url` is given (blank: none); Err when it is refused
    /// ([`Callback::check`]).
    pub async fn given(
        state: &crate::state::AppState,
        style: Style,
        url: Option<&str>,
        dlr_mask: Option<i16>,
        username: Option<&str>,
    ) -> Result<Option<Callback>> {
        let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        let callback = Callback {
            style,
            url: url.to_owned(),
            dlr_mask,
            username: username.map(str::to_owned),
        };
        let guard = Guard::new(&state.config.webhooks).map_err(Error::internal)?;
        callback.check(&guard).await?;
        Ok(Some(callback))
    }

    /// Checks the URL at the send: at most 2,000 characters and, with its escapes filled in
    /// with sample values, a URL the SSRF guard accepts (its form, and where it resolves now
    /// if it resolves).
    pub async fn check(&self, guard: &Guard) -> Result<()> {
        if self.url.is_empty() || self.url.len() > 2000 {
            return Err(Error::field("callback", "must be 1 to 2000 characters"));
        }
        let sample = match self.style {
            Style::Kannel => kannel::expand(
                &self.url,
                &kannel::Report {
                    typ: kannel::DELIVERED,
                    status: "delivered",
                    phone: "+254700000000",
                    sender: "Sender",
                    smsc_id: None,
                    message_id: uuid::Uuid::nil(),
                    foreign_id: None,
                    sent_at: None,
                    at: time::OffsetDateTime::UNIX_EPOCH,
                    ucs2: false,
                    error_code: None,
                    error_text: None,
                    username: None,
                },
            ),
            Style::AfricasTalking => self.url.clone(),
        };
        match guard.check_url(&sample).await {
            // A name that does not resolve now is not refused on a send (a DNS hiccup would
            // refuse the message): the guard checks every address again at connect time.
            Ok(()) | Err(Refused::Unresolved) => Ok(()),
            Err(e) => Err(Error::field("callback", &e.to_string())),
        }
    }
}
