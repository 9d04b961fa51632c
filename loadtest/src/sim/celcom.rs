//! The Celcom Africa HTTP API (SMS-FACTS: the production upstream's other door), served on
//! the simulator's HTTP listener under `/api/services/`: `sendsms/`, `sendbulk/`, `getdlr/`,
//! `getbalance/`, with JSON bodies. Credentials: `partnerID` is an account's `system_id`,
//! `apikey` its password (any, when no account is configured).
//!
//! Responses follow Celcom's shape — `{"responses":[{"response-code":200,
//! "response-description":"Success","mobile":…,"messageid":…}]}` — including the
//! `respose-code` misspelling when `http_api.respose_quirk` is on. Codes: 200 ok, 1001 invalid
//! sender id, 1003 invalid mobile, 1006 invalid credentials, 1008 no delivery report (yet),
//! 4090 try again later, 4091/4092/4093 missing partnerID / apikey / details. Accepted
//! messages go into the same message record as SMPP submits, so `getdlr/` answers from the
//! outcome drawn at submit once its receipt delay has passed. With `http_api.dlr_callback_url`
//! each message's final report (the same JSON) is also pushed there when it is decided, as a
//! provider's delivery callback does: again every 500 ms until answered 200, 20 times at most.

use axum::{Json, extract::State, response::IntoResponse};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{
    SimHandle,
    messages::{Record, State as MsgState},
    receipt::{Outcome, unix_now},
    stats::Stats,
};

/// A `sendsms/` request (also one item of `sendbulk/`'s `smslist`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SendSms {
    apikey: Option<String>,
    #[serde(rename = "partnerID")]
    partner_id: Option<String>,
    message: Option<String>,
    shortcode: Option<String>,
    mobile: Option<String>,
}

/// `getdlr/` and `getbalance/` requests.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Lookup {
    apikey: Option<String>,
    #[serde(rename = "partnerID")]
    partner_id: Option<String>,
    #[serde(rename = "messageID")]
    message_id: Option<String>,
}

/// A `sendbulk/` request.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SendBulk {
    smslist: Vec<SendSms>,
}

fn code_key(h: &SimHandle) -> &'static str {
    if h.behaviour().http_api.respose_quirk {
        "respose-code"
    } else {
        "response-code"
    }
}

/// 4091–4093 for missing fields, 1006 for wrong ones, else `None`.
fn credentials(h: &SimHandle, partner: &Option<String>, key: &Option<String>) -> Option<u32> {
    let (Some(partner), Some(key)) = (partner, key) else {
        return Some(if partner.is_none() { 4091 } else { 4092 });
    };
    let accounts = &h.shared.accounts;
    let ok = accounts.is_empty()
        || accounts
            .iter()
            .any(|a| a.system_id == *partner && a.password == *key);
    (!ok).then_some(1006)
}

fn description(code: u32) -> &'static str {
    match code {
        200 => "Success",
        1001 => "Invalid sender id",
        1002 => "Network not allowed",
        1003 => "Invalid mobile number",
        1004 => "Low bulk credits",
        1005 | 1007 => "Failed. System error",
        1006 => "Invalid credentials",
        1008 => "No Delivery Report",
        4090 => "Internal Error. Try again after 5 minutes",
        4091 => "No Partner ID is Set",
        4092 => "No API KEY Provided",
        4093 => "Details Not Found",
        _ => "Error",
    }
}

/// Decides one recipient of one send: `(code, message id)`.
fn send_one(h: &SimHandle, sms: &SendSms, mobile: &str) -> (u32, Option<String>) {
    let behaviour = h.behaviour();
    if let Some(code) = credentials(h, &sms.partner_id, &sms.apikey) {
        return (code, None);
    }
    let (Some(message), Some(sender)) = (&sms.message, &sms.shortcode) else {
        return (4093, None);
    };
    if behaviour.http_api.force_code != 0 {
        return (behaviour.http_api.force_code, None);
    }
    if sender.trim().is_empty() || sender.len() > 11 {
        return (1001, None);
    }
    let digits = mobile.trim().trim_start_matches('+');
    if !(9..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return (1003, None);
    }
    Stats::inc(&h.shared.stats.http_submits);
    let n = h
        .shared
        .next_message_id
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut id = String::new();
    behaviour.message_id.render(n, &mut id);
    let mut rng = fastrand::Rng::new();
    let now = Instant::now();
    let final_at = now + behaviour.receipts.delay.sample(&mut rng);
    let done = unix_now();
    h.shared.messages.insert(
        &id,
        Record {
            source: sender.as_bytes().into(),
            source_type: (5, 0),
            destination: digits.as_bytes().into(),
            destination_type: (1, 1),
            text: message.bytes().take(20).collect(),
            receipt_id: id.as_str().into(),
            submitted_at: done,
            outcome: Outcome::draw(&behaviour.receipts.mix, &mut rng),
            final_at,
            final_unix: done + (final_at - now).as_secs(),
            cancelled: None,
            version: 0,
        },
    );
    let callback = &behaviour.http_api.dlr_callback_url;
    if !callback.is_empty() {
        tokio::spawn(push(h.clone(), id.clone(), callback.clone(), final_at));
    }
    (200, Some(id))
}

/// Pushes the final report of `id` to `url` from `at` on, until answered 200.
async fn push(h: SimHandle, id: String, url: String, at: Instant) {
    tokio::time::sleep_until(at).await;
    for _ in 0..20 {
        if let Some(body) = report(&h, &id)
            && post(&url, &body.to_string()).await == Some(200)
        {
            Stats::inc(&h.shared.stats.http_dlr_pushed);
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    tracing::warn!(%id, "delivery report callback never answered 200");
}

/// One JSON `POST` to an `http://host:port/path?query` URL: the answer's status code.
async fn post(url: &str, body: &str) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, format!("/{p}")),
        None => (rest, "/".to_owned()),
    };
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(authority).await.ok()?;
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.ok()?;
        std::str::from_utf8(answer.get(9..12)?).ok()?.parse().ok()
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), exchange)
        .await
        .ok()?
}

fn responses(h: &SimHandle, sms: &SendSms) -> Vec<Value> {
    let key = code_key(h);
    let mobiles = sms.mobile.clone().unwrap_or_default();
    let mut out = Vec::new();
    for mobile in mobiles.split(',').filter(|m| !m.trim().is_empty()) {
        let (code, id) = send_one(h, sms, mobile);
        let mut r = json!({
            key: code,
            "response-description": description(code),
            "mobile": mobile.trim(),
        });
        if let Some(id) = id {
            r["messageid"] = json!(id);
            r["networkid"] = json!("1");
        }
        out.push(r);
    }
    if out.is_empty() {
        out.push(json!({ key: 4093, "response-description": description(4093) }));
    }
    out
}

/// `POST /api/services/sendsms/`.
pub async fn sendsms(State(h): State<SimHandle>, Json(sms): Json<SendSms>) -> impl IntoResponse {
    Json(json!({ "responses": responses(&h, &sms) }))
}

/// `POST /api/services/sendbulk/`.
pub async fn sendbulk(State(h): State<SimHandle>, Json(bulk): Json<SendBulk>) -> impl IntoResponse {
    let all: Vec<Value> = bulk.smslist.iter().flat_map(|s| responses(&h, s)).collect();
    Json(json!({ "responses": all }))
}

/// `POST /api/services/getdlr/`: the message's delivery state once final, else 1008.
pub async fn getdlr(State(h): State<SimHandle>, Json(q): Json<Lookup>) -> impl IntoResponse {
    Stats::inc(&h.shared.stats.http_dlr_queries);
    let key = code_key(&h);
    if let Some(code) = credentials(&h, &q.partner_id, &q.apikey) {
        return Json(json!({ key: code, "response-description": description(code) }));
    }
    let Some(id) = q.message_id else {
        return Json(json!({ key: 4093, "response-description": description(4093) }));
    };
    Json(report(&h, &id).unwrap_or_else(|| {
        json!({
            key: 1008,
            "response-description": description(1008),
            "message-id": id,
        })
    }))
}

/// The report of `id` once it is decided (`getdlr/`'s answer, and what a callback pushes).
fn report(h: &SimHandle, id: &str) -> Option<Value> {
    let (status, words, at) = match h.shared.messages.query(id, b"") {
        Ok(MsgState::Final(outcome, at)) => match outcome {
            Outcome::Delivrd => (32, "DeliveredToTerminal", at),
            Outcome::Expired => (4, "MessageExpired", at),
            Outcome::Rejectd => (16, "Rejected", at),
            _ => (2, "DeliveryImpossible", at),
        },
        Ok(MsgState::Deleted(at)) => (8, "Deleted", at),
        Ok(MsgState::Enroute) | Err(_) => return None,
    };
    let key = code_key(h);
    Some(json!({
        key: 200,
        "response-description": "Success",
        "message-id": id,
        "delivery-status": status,
        "delivery-description": words,
        "delivery-time": super::query::smpp_time(at),
    }))
}

/// `POST /api/services/getbalance/`.
pub async fn getbalance(State(h): State<SimHandle>, Json(q): Json<Lookup>) -> impl IntoResponse {
    let key = code_key(&h);
    if let Some(code) = credentials(&h, &q.partner_id, &q.apikey) {
        return Json(json!({ key: code, "response-description": description(code) }));
    }
    Json(json!({
        key: 200,
        "credit": format!("{:.2}", h.behaviour().http_api.balance),
        "partner-id": q.partner_id,
    }))
}
