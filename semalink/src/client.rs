//! A small JSON client of the control plane's public API (what `semalink demo` and the
//! integration test drive the system through): hyper's pooled client (already in the tree
//! through the engine), a bearer token from `POST /v1/auth/login`, problem documents turned
//! into errors, and `429 Too Many Requests` waited out (its `Retry-After`); Server-Sent
//! Events read as they come ([`Api::events`]).

use std::time::Duration;

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, header};
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

/// How often a `429` is waited out before the request fails.
const RATE_LIMIT_RETRIES: u32 = 20;

/// A logged-in (or anonymous) API client.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
    token: Option<String>,
}

/// A response: status and JSON body (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: StatusCode,
    /// The body as JSON.
    pub json: Value,
}

impl Api {
    /// A client of the API at `base` (`http://127.0.0.1:8080`).
    pub fn new(base: &str) -> Api {
        Api {
            base: base.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            token: None,
        }
    }

    /// Uses `token` as the bearer token from now on.
    pub fn set_token(&mut self, token: &str) {
        self.token = Some(token.to_owned());
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Logs in (`POST /v1/auth/login`) and keeps the access token.
    pub async fn login(&mut self, email: &str, password: &str) -> anyhow::Result<()> {
        let body = json!({ "email": email, "password": password });
        let r = self
            .send(Method::POST, "/v1/auth/login", Some(&body))
            .await?;
        if r.status != StatusCode::OK {
            bail!("login as {email} answered {}: {}", r.status, r.json);
        }
        let token = r.json["tokens"]["access_token"]
            .as_str()
            .context("the login answer has no access token (MFA on?)")?;
        self.token = Some(token.to_owned());
        Ok(())
    }

    /// One request; `429` is retried after its `Retry-After`.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Response> {
        let payload = body.map(|b| ("application/json", Bytes::from(b.to_string())));
        self.send_raw(method, path, payload).await
    }

    /// `POST path` with a raw body of `content_type` (a CSV upload), failing on anything
    /// but 200/201.
    pub async fn post_bytes(
        &self,
        path: &str,
        content_type: &'static str,
        body: Bytes,
    ) -> anyhow::Result<Value> {
        let r = self
            .send_raw(Method::POST, path, Some((content_type, body)))
            .await?;
        if !r.status.is_success() {
            bail!("POST {path} answered {}: {}", r.status, r.json);
        }
        Ok(r.json)
    }

    /// One request with an optional `(content type, body)`; `429` is retried after its
    /// `Retry-After`.
    async fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<(&'static str, Bytes)>,
    ) -> anyhow::Result<Response> {
        let mut attempt = 0;
        loop {
            let mut request = Request::builder()
                .method(method.clone())
                .uri(format!("{}{path}", self.base))
                .header(header::ACCEPT, "application/json");
            if let Some(token) = &self.token {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            let payload = match &body {
                Some((content_type, bytes)) => {
                    request = request.header(header::CONTENT_TYPE, *content_type);
                    bytes.clone()
                }
                None => Bytes::new(),
            };
            let response = self
                .client
                .request(request.body(Full::new(payload))?)
                .await
                .with_context(|| format!("{method} {path}"))?;
            let status = response.status();
            let wait = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(1);
            let bytes = response.into_body().collect().await?.to_bytes();
            if status == StatusCode::TOO_MANY_REQUESTS && attempt < RATE_LIMIT_RETRIES {
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(wait.clamp(1, 10))).await;
                continue;
            }
            let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            return Ok(Response { status, json });
        }
    }

    /// `GET path`, failing on anything but 200.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let r = self.send(Method::GET, path, None).await?;
        if r.status != StatusCode::OK {
            bail!("GET {path} answered {}: {}", r.status, r.json);
        }
        Ok(r.json)
    }

    /// `POST path` with a JSON body, failing on anything but 200/201.
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let r = self.send(Method::POST, path, Some(body)).await?;
        if !r.status.is_success() {
            bail!("POST {path} answered {}: {}", r.status, r.json);
        }
        Ok(r.json)
    }

    /// Every item of a paged list (`data` + `next_cursor`), 100 a page; `query` is the
    /// filter part (`status=sent&client_reference=…`, already encoded).
    pub async fn all(&self, path: &str, query: &str) -> anyhow::Result<Vec<Value>> {
        self.up_to(path, query, None).await
    }

    /// [`all`](Self::all), stopping after the page that reaches `limit` items.
    pub async fn up_to(
        &self,
        path: &str,
        query: &str,
        limit: Option<usize>,
    ) -> anyhow::Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{path}?limit=100");
            if !query.is_empty() {
                url.push('&');
                url.push_str(query);
            }
            if let Some(c) = &cursor {
                url.push_str("&cursor=");
                url.push_str(&encode(c));
            }
            let page = self.get(&url).await?;
            if let Some(data) = page["data"].as_array() {
                items.extend(data.iter().cloned());
            }
            match page["next_cursor"].as_str() {
                Some(_) if limit.is_some_and(|l| items.len() >= l) => return Ok(items),
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(items),
            }
        }
    }
}

/// A Server-Sent Events stream being read ([`Api::events`]).
#[derive(Debug)]
pub struct Events {
    body: hyper::body::Incoming,
    buf: String,
}

impl Events {
    /// The next event: its name (`message` when unnamed) and its `data` as JSON (`Null`
    /// when not JSON); comments (keep-alives) are skipped. `None` once the stream ended.
    pub async fn next(&mut self) -> anyhow::Result<Option<(String, Value)>> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut name, mut data) = ("message".to_owned(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        v.trim().clone_into(&mut name);
                    } else if let Some(v) = line.strip_prefix("data:") {
                        if !data.is_empty() {
                            data.push('\n');
                        }
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if data.is_empty() {
                    continue;
                }
                return Ok(Some((
                    name,
                    serde_json::from_str(&data).unwrap_or(Value::Null),
                )));
            }
            match self.body.frame().await {
                Some(frame) => {
                    if let Ok(bytes) = frame?.into_data() {
                        let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
                        self.buf.push_str(&text);
                    }
                }
                None => return Ok(None),
            }
        }
    }
}

impl Api {
    /// Opens the event stream at `path` (`Accept: text/event-stream`), failing on anything
    /// but 200.
    pub async fn events(&self, path: &str) -> anyhow::Result<Events> {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/event-stream");
        if let Some(token) = &self.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = self
            .client
            .request(request.body(Full::new(Bytes::new()))?)
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = response.status();
        if status != StatusCode::OK {
            let bytes = response.into_body().collect().await?.to_bytes();
            bail!(
                "GET {path} answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        Ok(Events {
            body: response.into_body(),
            buf: String::new(),
        })
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}
