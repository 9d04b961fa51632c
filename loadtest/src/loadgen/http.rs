//! `loadgen http`: drives the engine's HTTP ingress (`POST /v1/messages`, batches of JSON
//! submit requests over keep-alive connections) and measures end to end, from the first POST
//! until the engine reports every message final (its `status_events_total` counters on
//! `/metrics`, read before and after so earlier traffic does not count).

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use serde::Serialize;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
    time::Instant,
};

use crate::Error;

/// What to send.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// The engine's HTTP address.
    pub addr: SocketAddr,
    /// Messages in total.
    pub messages: u64,
    /// Messages per POST.
    pub batch: usize,
    /// Concurrent connections.
    pub connections: usize,
    /// Destinations (E.164 with `+`), used in turn.
    pub destinations: Vec<String>,
    /// Sender id.
    pub sender: String,
    /// Text (a counter is appended).
    pub text: String,
    /// How long to wait for final states after the last POST.
    pub final_wait: Duration,
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize)]
pub struct HttpReport {
    /// Messages posted.
    pub posted: u64,
    /// Answered `accepted`.
    pub accepted: u64,
    /// Answered otherwise (rejected, duplicate) or failed POSTs.
    pub refused: u64,
    /// Seconds from the first POST to the last answer.
    pub post_secs: f64,
    /// Accepted messages per second at the ingress.
    pub accepted_per_sec: f64,
    /// Final status events (delivered, failed, expired, rejected) seen during the run.
    pub finals: u64,
    /// Of which delivered.
    pub delivered: u64,
    /// Seconds from the first POST until every accepted message was final (or the wait ran out).
    pub end_to_end_secs: f64,
    /// Accepted → final messages per second over the whole run.
    pub end_to_end_per_sec: f64,
    /// Accepted messages with no final event when the wait ran out.
    pub lost: u64,
}

/// Runs the load and waits for the final states.
pub async fn run(opts: &HttpOptions) -> Result<HttpReport, Error> {
    let base = finals(opts.addr).await?;
    let next = Arc::new(AtomicU64::new(0));
    let accepted = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..opts.connections.max(1) {
        let (opts, next, accepted, refused) = (
            opts.clone(),
            Arc::clone(&next),
            Arc::clone(&accepted),
            Arc::clone(&refused),
        );
        tasks.spawn(async move {
            let mut conn = Conn::open(opts.addr).await?;
            loop {
                let first = next.fetch_add(opts.batch as u64, Relaxed);
                if first >= opts.messages {
                    return Ok::<_, Error>(());
                }
                let n = (opts.messages - first).min(opts.batch as u64);
                let body = batch_json(&opts, first, n);
                let answer = conn.post("/v1/messages", &body).await?;
                let ok = count(&answer, "\"status\":\"accepted\"");
                accepted.fetch_add(ok, Relaxed);
                refused.fetch_add(n - ok, Relaxed);
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|e| Error::Protocol(format!("sender task: {e}")))??;
    }
    let post_secs = started.elapsed().as_secs_f64();
    let accepted = accepted.load(Relaxed);
    let until = Instant::now() + opts.final_wait;
    let (mut total, mut delivered);
    loop {
        let now = finals(opts.addr).await?;
        total = now.0 - base.0;
        delivered = now.1 - base.1;
        if total >= accepted || Instant::now() >= until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let end_to_end_secs = started.elapsed().as_secs_f64();
    Ok(HttpReport {
        posted: opts.messages,
        accepted,
        refused: refused.load(Relaxed),
        post_secs,
        accepted_per_sec: accepted as f64 / post_secs.max(1e-9),
        finals: total,
        delivered,
        end_to_end_secs,
        end_to_end_per_sec: total.min(accepted) as f64 / end_to_end_secs.max(1e-9),
        lost: accepted.saturating_sub(total),
    })
}

fn count(haystack: &str, needle: &str) -> u64 {
    haystack.matches(needle).count() as u64
}

/// A JSON array of `n` submit requests numbered from `first`.
fn batch_json(opts: &HttpOptions, first: u64, n: u64) -> String {
    let mut out = String::with_capacity(n as usize * 300);
    out.push('[');
    for i in first..first + n {
        if i > first {
            out.push(',');
        }
        let dest = &opts.destinations[(i as usize) % opts.destinations.len().max(1)];
        let id = uuid_v4(fastrand::u128(..));
        out.push_str(&format!(
            r#"{{"version":1,"message_id":"{id}","account_id":"00000000-0000-4000-8000-000000000001","destination":"{dest}","sender":"{}","body":{{"text":"{} {i:010}"}},"created_at":"2026-01-01T00:00:00Z"}}"#,
            opts.sender, opts.text
        ));
    }
    out.push(']');
    out
}

/// A random version-4 UUID in hyphenated form.
fn uuid_v4(r: u128) -> String {
    let r = (r & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let h = format!("{r:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// `(final events, delivered events)` from the engine's `/metrics`.
async fn finals(addr: SocketAddr) -> Result<(u64, u64), Error> {
    let text = Conn::open(addr).await?.get("/metrics").await?;
    let mut total = 0;
    let mut delivered = 0;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("semalink_engine_status_events_total{state=\"") else {
            continue;
        };
        let Some((state, value)) = rest.split_once("\"} ") else {
            continue;
        };
        let value: u64 = value.trim().parse().unwrap_or(0);
        if matches!(state, "delivered" | "failed" | "expired" | "rejected") {
            total += value;
        }
        if state == "delivered" {
            delivered = value;
        }
    }
    Ok((total, delivered))
}

/// One keep-alive HTTP/1.1 connection (responses must carry `Content-Length`, as the
/// engine's do).
struct Conn {
    stream: BufReader<TcpStream>,
    host: String,
}

impl Conn {
    async fn open(addr: SocketAddr) -> Result<Conn, Error> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true).ok();
        Ok(Conn {
            stream: BufReader::new(stream),
            host: addr.to_string(),
        })
    }

    async fn post(&mut self, path: &str, body: &str) -> Result<String, Error> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        self.send(&head, body.as_bytes()).await
    }

    async fn get(&mut self, path: &str) -> Result<String, Error> {
        let head = format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.host);
        self.send(&head, &[]).await
    }

    async fn send(&mut self, head: &str, body: &[u8]) -> Result<String, Error> {
        let s = self.stream.get_mut();
        s.write_all(head.as_bytes()).await?;
        s.write_all(body).await?;
        let mut status = String::new();
        self.stream.read_line(&mut status).await?;
        let code: u16 = status.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line).await?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut buf = vec![0; length];
        self.stream.read_exact(&mut buf).await?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        if code != 200 {
            return Err(Error::Protocol(format!("HTTP {code}: {text}")));
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_uuids_are_version_4_and_requests_are_json() {
        let id = uuid_v4(u128::MAX);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        let opts = HttpOptions {
            addr: "127.0.0.1:1".parse().unwrap(),
            messages: 2,
            batch: 2,
            connections: 1,
            destinations: vec!["+254712000001".into()],
            sender: "SEMALINK".into(),
            text: "hi".into(),
            final_wait: Duration::ZERO,
        };
        let json: serde_json::Value = serde_json::from_str(&batch_json(&opts, 5, 2)).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 2);
        assert_eq!(json[1]["body"]["text"], "hi 0000000006");
    }
}
