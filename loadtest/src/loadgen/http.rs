//! `loadgen http`: drives the engine's HTTP ingress (`POST /v1/messages`, batches of JSON
//! submit requests from the [`super::mix`] over keep-alive connections, at a fixed rate or flat
//! out) and measures end to end, from the first POST
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

use semalink_protocol::contracts;
use serde::Serialize;
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
    time::Instant,
};

use super::{
    mix::{MixOptions, MixTotals},
    pace::Pacer,
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
    /// What the messages look like ([`super::mix`]).
    pub mix: MixOptions,
    /// Messages per second, or flat out when `None` (a batch goes when its first message is
    /// due).
    pub rate: Option<f64>,
    /// How long to wait for final states after the last POST.
    pub final_wait: Duration,
    /// The engine's ingress token (`Authorization: Bearer`), when it has one.
    pub token: Option<String>,
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
    /// What was posted: kinds, lanes and the SMS parts expected in total.
    pub mix: MixTotals,
}

/// Runs the load and waits for the final states.
pub async fn run(opts: &HttpOptions) -> Result<HttpReport, Error> {
    let base = finals(opts.addr, opts.token.as_deref()).await?;
    let next = Arc::new(AtomicU64::new(0));
    let accepted = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let totals = Arc::new(std::sync::Mutex::new(MixTotals::default()));
    let pacer = Pacer::new(opts.rate);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..opts.connections.max(1) {
        let (opts, next, accepted, refused, totals) = (
            opts.clone(),
            Arc::clone(&next),
            Arc::clone(&accepted),
            Arc::clone(&refused),
            Arc::clone(&totals),
        );
        tasks.spawn(async move {
            let mut conn = Conn::open(opts.addr, opts.token.as_deref()).await?;
            loop {
                let first = next.fetch_add(opts.batch as u64, Relaxed);
                if first >= opts.messages {
                    return Ok::<_, Error>(());
                }
                let n = (opts.messages - first).min(opts.batch as u64);
                pacer.wait(first).await;
                let (body, batch_totals) = batch_json(&opts.mix, first, n)?;
                merge(&totals, &batch_totals);
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
        let now = finals(opts.addr, opts.token.as_deref()).await?;
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
        mix: *totals.lock().unwrap_or_else(|e| e.into_inner()),
    })
}

fn count(haystack: &str, needle: &str) -> u64 {
    haystack.matches(needle).count() as u64
}

/// A JSON array of the mix's submit requests `first..first + n`, and their totals.
fn batch_json(mix: &MixOptions, first: u64, n: u64) -> Result<(Vec<u8>, MixTotals), Error> {
    let mut out = Vec::with_capacity(n as usize * 400);
    let mut totals = MixTotals::default();
    out.push(b'[');
    for i in first..first + n {
        if i > first {
            out.push(b',');
        }
        let g = mix.generate(i);
        totals.add(&g);
        out.extend(
            contracts::encode(&g.request).map_err(|e| Error::Protocol(format!("encode: {e}")))?,
        );
    }
    out.push(b']');
    Ok((out, totals))
}

/// Adds a batch's totals to the run's.
fn merge(into: &std::sync::Mutex<MixTotals>, batch: &MixTotals) {
    let mut t = into.lock().unwrap_or_else(|e| e.into_inner());
    t.messages += batch.messages;
    t.short += batch.short;
    t.long += batch.long;
    t.ucs2 += batch.ucs2;
    t.priority += batch.priority;
    t.segments += batch.segments;
}

/// `(final events, delivered events)` from the engine's `/metrics`.
async fn finals(addr: SocketAddr, token: Option<&str>) -> Result<(u64, u64), Error> {
    let text = Conn::open(addr, token).await?.get("/metrics").await?;
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
    /// `Authorization: …\r\n`, or empty.
    auth: String,
}

impl Conn {
    async fn open(addr: SocketAddr, token: Option<&str>) -> Result<Conn, Error> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true).ok();
        Ok(Conn {
            stream: BufReader::new(stream),
            host: addr.to_string(),
            auth: token
                .map(|t| format!("Authorization: Bearer {t}\r\n"))
                .unwrap_or_default(),
        })
    }

    async fn post(&mut self, path: &str, body: &[u8]) -> Result<String, Error> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            self.auth,
            body.len()
        );
        self.send(&head, body).await
    }

    async fn get(&mut self, path: &str) -> Result<String, Error> {
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\n{}\r\n",
            self.host, self.auth
        );
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
    use semalink_protocol::contracts::SubmitRequest;

    use super::*;

    #[test]
    fn batches_are_json_arrays_of_the_mix() {
        let mix = MixOptions::default();
        let (body, totals) = batch_json(&mix, 5, 3).unwrap();
        let parsed: Vec<SubmitRequest> = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[1].message_id, mix.generate(6).request.message_id);
        assert_eq!(totals.messages, 3);
        let segments: u64 = (5..8).map(|i| u64::from(mix.generate(i).segments)).sum();
        assert_eq!(totals.segments, segments);
    }
}
