//! The receipts the engines could not match. The engine publishes no event for them (they
//! belong to no message the control plane knows), so the control plane asks each engine's
//! own HTTP endpoint, `GET /v1/receipts/unmatched` (count since its start and the last 100,
//! engine/src/unmatched.rs), at the URLs of `[engineering] engine_urls`, with the engine's
//! ingress token. An engine that does not answer is listed as unreachable, never an error.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::engineering::config::EngineeringConfig;
use crate::engineering::types::{EngineUnmatched, UnmatchedReceipt, UnmatchedReceipts};

/// Most recent receipts shown.
const RECENT: usize = 100;

/// Largest answer read from one engine.
const MAX_BYTES: usize = 256 * 1024;

/// The engine's answer.
#[derive(Debug, Deserialize)]
struct Report {
    total: u64,
    recent: Vec<UnmatchedReceipt>,
}

/// Asks every configured engine at once.
pub async fn unmatched(config: &EngineeringConfig) -> UnmatchedReceipts {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let timeout = Duration::from_millis(config.engine_timeout_ms.max(1));
    let token = config
        .engine_token
        .as_ref()
        .map(|t| t.expose_secret().to_owned());
    let asks = config
        .engine_urls
        .iter()
        .map(|url| ask(&client, url, token.as_deref(), timeout));
    let answers = futures::future::join_all(asks).await;
    let mut out = UnmatchedReceipts {
        configured: !config.engine_urls.is_empty(),
        total: 0,
        engines: Vec::new(),
        recent: Vec::new(),
    };
    for (url, answer) in config.engine_urls.iter().zip(answers) {
        match answer {
            Ok(report) => {
                out.total += report.total;
                out.recent
                    .extend(report.recent.into_iter().map(|r| UnmatchedReceipt {
                        engine: url.clone(),
                        ..r
                    }));
                out.engines.push(EngineUnmatched {
                    url: url.clone(),
                    reachable: true,
                    error: None,
                    total: Some(report.total),
                });
            }
            Err(error) => out.engines.push(EngineUnmatched {
                url: url.clone(),
                reachable: false,
                error: Some(error),
                total: None,
            }),
        }
    }
    out.recent.sort_by_key(|r| std::cmp::Reverse(r.at));
    out.recent.truncate(RECENT);
    out
}

async fn ask(
    client: &Client<hyper_util::client::legacy::connect::HttpConnector, Empty<Bytes>>,
    base: &str,
    token: Option<&str>,
    timeout: Duration,
) -> Result<Report, String> {
    let uri = format!("{}/v1/receipts/unmatched", base.trim_end_matches('/'));
    let mut request = hyper::Request::get(uri.as_str());
    if let Some(token) = token {
        request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request
        .body(Empty::new())
        .map_err(|e| format!("invalid engine URL: {e}"))?;
    let exchange = async {
        let response = client.request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body = http_body_util::Limited::new(response.into_body(), MAX_BYTES)
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if !status.is_success() {
            return Err(format!("the engine answered {status}"));
        }
        serde_json::from_slice::<Report>(&body).map_err(|e| format!("unreadable answer: {e}"))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("no answer within {} ms", timeout.as_millis()))?
}
