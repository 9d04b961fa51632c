//! Celcom's HTTP API as an upstream (`kind = "celcom_http"`): the same jobs, throttle,
//! correlation and status events as an SMPP upstream, through another door.
//!
//! * Submits: `POST {url}sendsms/` with `apikey`, `partnerID`, `message`, `shortcode` (the
//!   sender id) and `mobile`, over one pooled keep-alive client (connections are reused),
//!   at most `window` requests in flight. The answer's code is mapped to an SMPP status
//!   ([`codes`]) so the retry policy treats it like any upstream's; its `messageid` is the
//!   SMSC id the correlation store maps. A request that could not be sent (connection
//!   refused) is [`SubmitError::NotSent`]; one sent without an answer is ambiguous, as an
//!   unanswered `submit_sm` is.
//! * Receipts: pulled with `getdlr/` ([`dlr`]) and fed to the pool event loop as receipt
//!   `deliver_sm`s, so they are correlated, parked when early, deduplicated and published by
//!   the same code as SMPP receipts.
//! * Or receipts pushed: with `dlr_callback_token` the API posts its reports to the engine
//!   (`POST /v1/upstreams/<name>/dlr?token=…`, [`HttpUpstream::pushed`]); they enter the
//!   event loop the same way, the request is answered once the receipt is handled (200) or
//!   could not be (503: the API pushes it again), and nothing is polled.
//! * Up: while the API answers (a `getbalance/` probe at start and every poll round keeps
//!   this fresh); routes fall back to `fallback` while it is down.
//!
//! Plain `http://` only: there is no TLS client in the engine yet (see docs/engine.md).

pub mod codes;
mod dlr;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use crate::config::UpstreamConfig;
use crate::smpp::{
    AmbiguousReason, DeliverAck, NotSentReason, QueryAnswer, QueryRequest, SessionEvent, SessionId,
    SubmitError, SubmitOutcome, SubmitRequest, SubmitResult,
};

/// The HTTP client: pooled keep-alive connections.
type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Why one request did not get a usable answer.
#[derive(Debug)]
enum CallError {
    /// The connection was never made: the request did not leave.
    NotSent(String),
    /// Sent, no answer (timeout, reset, a non-JSON answer).
    Unanswered(String),
    /// HTTP status other than 200.
    Status(u16),
}

/// One Celcom HTTP upstream. Clone freely.
#[derive(Debug, Clone)]
pub struct HttpUpstream {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    name: Arc<str>,
    client: HttpClient,
    url: String,
    api_key: String,
    partner_id: String,
    timeout: Duration,
    in_flight: Arc<Semaphore>,
    up: AtomicBool,
    receipts: dlr::Pending,
    /// The token of the receipt callback, when receipts are pushed (then none are polled).
    callback_token: Option<String>,
    /// The event stream, for pushed receipts (weak: the stream closes when the poller stops).
    events: mpsc::WeakSender<SessionEvent>,
    stop: CancellationToken,
}

/// What became of a pushed report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Handled: correlated and its event published, or parked until its submit's answer.
    Taken,
    /// Not a final report: nothing to do.
    NotFinal,
    /// Not a report this API sends (no message id, another code, not JSON).
    Unreadable,
    /// Could not be handled now (store or sink refused, shutting down): push it again.
    Deferred,
}

impl HttpUpstream {
    /// Starts the client and the receipt poller; receipts come out of the returned stream.
    /// Must run inside a tokio runtime.
    pub fn start(config: &UpstreamConfig) -> (HttpUpstream, mpsc::Receiver<SessionEvent>) {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(config.response_timeout()));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(config.window as usize)
            .build(connector);
        let (tx, rx) = mpsc::channel(crate::smpp::EVENT_CAPACITY);
        let upstream = HttpUpstream {
            inner: Arc::new(Inner {
                name: Arc::from(config.name.as_str()),
                client,
                url: config.url.clone().unwrap_or_default(),
                api_key: config
                    .api_key
                    .as_ref()
                    .map(|s| s.expose().to_owned())
                    .unwrap_or_default(),
                partner_id: config.partner_id.clone().unwrap_or_default(),
                timeout: config.response_timeout(),
                in_flight: Arc::new(Semaphore::new(config.window.max(1) as usize)),
                up: AtomicBool::new(false),
                receipts: dlr::Pending::default(),
                callback_token: config
                    .dlr_callback_token
                    .as_ref()
                    .map(|t| t.expose().to_owned()),
                events: tx.downgrade(),
                stop: CancellationToken::new(),
            }),
        };
        let poll = Duration::from_millis(config.dlr_poll_ms);
        tokio::spawn(dlr::run(upstream.clone(), tx, poll));
        (upstream, rx)
    }

    /// The upstream's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Whether the API answered the last request.
    pub fn is_up(&self) -> bool {
        self.inner.up.load(Ordering::Relaxed) && !self.inner.stop.is_cancelled()
    }

    /// Receipts still to be pulled.
    pub fn pending_receipts(&self) -> usize {
        self.inner.receipts.len()
    }

    /// Whether `token` is this upstream's receipt callback token (`false` when receipts are
    /// pulled). Compared without stopping at the first difference.
    pub fn callback_token_is(&self, token: &str) -> bool {
        self.inner
            .callback_token
            .as_deref()
            .is_some_and(|own| crate::ingress::same(own.as_bytes(), token.as_bytes()))
    }

    /// A report the API pushed to the callback URL: handed to the event loop as the receipt
    /// `deliver_sm` a poll would have produced, and answered when the loop answered it.
    pub async fn pushed(&self, body: &[u8]) -> Pushed {
        let Some((id, report)) = codes::pushed(body) else {
            return Pushed::Unreadable;
        };
        let Some(sm) = dlr::receipt_sm(&id, report) else {
            return Pushed::NotFinal;
        };
        let Some(events) = self.inner.events.upgrade() else {
            return Pushed::Deferred;
        };
        let (tx, mut answer) = mpsc::unbounded_channel();
        let session = SessionId {
            upstream: self.inner.name.clone(),
            index: 0,
        };
        let ack = DeliverAck::new(tx, 0, 0);
        if events
            .send(SessionEvent::Deliver { session, sm, ack })
            .await
            .is_err()
        {
            return Pushed::Deferred;
        }
        drop(events);
        match answer.recv().await {
            Some(a) if a.status == 0 => Pushed::Taken,
            _ => Pushed::Deferred,
        }
    }

    /// `getdlr/` for one message, answered as the `query_sm_resp` an SMSC would give (SMPP 3.4
    /// §4.8.2): how the reconciler asks an HTTP upstream about a part whose receipt never came
    /// (its poll list died with another engine, or the poller gave up on it). "No delivery
    /// report" (1008) is `ENROUTE`; another code is a refusal (`ESME_RSYSERR`).
    pub async fn query(&self, request: &QueryRequest) -> SubmitResult {
        let body = serde_json::json!({
            "apikey": self.inner.api_key,
            "partnerID": self.inner.partner_id,
            "messageID": request.message_id,
        });
        let answer = match self.call("getdlr/", &body).await {
            Ok(answer) => answer,
            Err(CallError::NotSent(_)) => {
                return Err(SubmitError::NotSent(NotSentReason::BindDown));
            }
            Err(CallError::Unanswered(_)) => {
                return Err(SubmitError::Ambiguous(AmbiguousReason::Timeout));
            }
            Err(CallError::Status(_)) => return Ok(outcome(0x08, None)),
        };
        let answer = match codes::delivery(&answer) {
            Ok(report) => QueryAnswer {
                // 7 UNKNOWN for a state SMPP has no number for.
                message_state: report.stat.message_state().unwrap_or(7),
                final_date: report.done.map_or_else(String::new, |d| {
                    format!(
                        "{:02}{:02}{:02}{:02}{:02}{:02}000+",
                        d.year % 100,
                        d.month,
                        d.day,
                        d.hour,
                        d.minute,
                        d.second.unwrap_or(0)
                    )
                }),
                error_code: 0,
            },
            Err(1008) => QueryAnswer {
                message_state: 1,
                final_date: String::new(),
                error_code: 0,
            },
            Err(_) => return Ok(outcome(0x08, None)),
        };
        Ok(SubmitOutcome {
            command_status: 0,
            message_id: Some(request.message_id.clone()),
            query: Some(answer),
        })
    }

    /// Stops the poller; requests in flight finish.
    pub fn shutdown(&self) {
        self.inner.stop.cancel();
    }

    /// `sendsms/` for one part prepared for this upstream (sender in `source_addr`,
    /// destination digits in `destination_addr`, the UTF-8 text in `short_message`).
    pub async fn submit(&self, request: &SubmitRequest) -> SubmitResult {
        let text = std::str::from_utf8(&request.short_message)
            .map_err(|_| SubmitError::Invalid("the text is not UTF-8"))?;
        let body = serde_json::json!({
            "apikey": self.inner.api_key,
            "partnerID": self.inner.partner_id,
            "message": text,
            "shortcode": request.source_addr,
            "mobile": request.destination_addr,
        });
        let answer = match self.call("sendsms/", &body).await {
            Ok(answer) => answer,
            Err(CallError::NotSent(e)) => {
                tracing::debug!(upstream = %self.inner.name, error = %e, "sendsms not sent");
                return Err(SubmitError::NotSent(NotSentReason::BindDown));
            }
            Err(CallError::Unanswered(e)) => {
                tracing::info!(upstream = %self.inner.name, error = %e, "sendsms unanswered");
                return Err(SubmitError::Ambiguous(AmbiguousReason::Timeout));
            }
            Err(CallError::Status(status)) => {
                let command_status = if status == 429 { 0x58 } else { 0x08 };
                return Ok(outcome(command_status, None));
            }
        };
        let Some((code, id)) = codes::send_result(&answer) else {
            // A 200 whose body we cannot read: it may have been accepted.
            return Err(SubmitError::Ambiguous(AmbiguousReason::Timeout));
        };
        let status = codes::submit_status(code);
        if matches!(code, 1006 | 4091..=4093) {
            tracing::error!(upstream = %self.inner.name, code, "the HTTP API refuses our credentials");
        }
        if status == 0 {
            let Some(id) = id else {
                return Err(SubmitError::Ambiguous(AmbiguousReason::Timeout));
            };
            if self.inner.callback_token.is_none() {
                self.inner.receipts.add(id.clone());
            }
            return Ok(outcome(0, Some(id)));
        }
        Ok(outcome(status, None))
    }

    /// POSTs `body` as JSON to `{url}{path}` within the in-flight limit and the timeout.
    async fn call(&self, path: &str, body: &serde_json::Value) -> Result<Bytes, CallError> {
        let _permit = self
            .inner
            .in_flight
            .acquire()
            .await
            .map_err(|_| CallError::NotSent("shutting down".into()))?;
        let request = hyper::Request::post(format!("{}{path}", self.inner.url))
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| CallError::NotSent(e.to_string()))?;
        let exchange = async {
            let response = self.inner.client.request(request).await.map_err(|e| {
                if e.is_connect() {
                    CallError::NotSent(e.to_string())
                } else {
                    CallError::Unanswered(e.to_string())
                }
            })?;
            let status = response.status().as_u16();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| CallError::Unanswered(e.to_string()))?
                .to_bytes();
            if status != 200 {
                return Err(CallError::Status(status));
            }
            Ok(bytes)
        };
        let result = match tokio::time::timeout(self.inner.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(CallError::Unanswered("timed out".into())),
        };
        self.inner.up.store(
            !matches!(result, Err(CallError::NotSent(_))),
            Ordering::Relaxed,
        );
        result
    }
}

fn outcome(command_status: u32, message_id: Option<String>) -> SubmitOutcome {
    SubmitOutcome {
        command_status,
        message_id,
        query: None,
    }
}
