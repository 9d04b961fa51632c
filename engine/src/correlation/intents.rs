//! Submit intents: what a part was about to be (message, part, destination, upstream, time,
//! the first octets of its text) recorded *before* its `submit_sm` leaves, and forgotten once
//! the SMSC answered it for certain. What remains are the submits whose answer never came —
//! an engine killed with the PDU on the wire, or a response timeout that was retried. When
//! the SMSC did take such a submit, its receipt carries an SMSC id no mapping knows; instead
//! of an unmatched receipt it is matched here on (upstream, handset, submit time, text prefix)
//! to the intent, and reported as the receipt of a duplicate submit (the copy the redelivery
//! or the retry sent decides the message).
//!
//! The submit time: the receipt's `submit date:` (read as UTC, like every receipt date the
//! engine reads; minute precision unless the SMSC sends seconds) ± [`SUBMIT_WINDOW_SLACK`]
//! picks the intents recorded then. An SMSC whose clock is elsewhere (another zone, or wrong)
//! leaves no intent in the window; then every intent for the handset is a candidate, so a
//! skewed clock costs precision, never a match.
//!
//! Kept apart from the correlation store (its own small keys), in-process or on the same
//! Redis: `P i:<upstream>:<destination>` is a sorted set of
//! `<message uuid>:<segment>:<segments>:<unix ms>:<text>` scored by the time, expiring with
//! the mapping TTL; an answered submit removes its member (Redis drops the empty key).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use redis::aio::ConnectionManager;
use semalink_protocol::dlr::ReceiptDate;
use uuid::Uuid;

use crate::config::Config;
use crate::error::{Error, Result};

/// One recorded submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    /// Index of the upstream.
    pub upstream: u16,
    /// `destination_addr` as submitted (the receipt's `source_addr`).
    pub destination: String,
    /// The message.
    pub message_id: Uuid,
    /// The part, 1-based.
    pub segment: u16,
    /// Parts of the message.
    pub segments: u16,
    /// When it was recorded (Unix ms).
    pub at_ms: u64,
    /// The first 20 octets of `short_message` as a receipt's `text:` shows them.
    pub text: String,
}

impl Intent {
    fn member(&self) -> String {
        format!(
            "{}:{}:{}:{}:{}",
            self.message_id.simple(),
            self.segment,
            self.segments,
            self.at_ms,
            self.text
        )
    }

    fn from_member(upstream: u16, destination: &str, member: &str) -> Option<Intent> {
        let mut it = member.splitn(5, ':');
        Some(Intent {
            upstream,
            destination: destination.to_owned(),
            message_id: Uuid::parse_str(it.next()?).ok()?,
            segment: it.next()?.parse().ok()?,
            segments: it.next()?.parse().ok()?,
            at_ms: it.next()?.parse().ok()?,
            text: it.next()?.to_owned(),
        })
    }

    /// The receipt `text:` an SMSC would show for `short_message`: its first 20 octets,
    /// non-printable ones as `.` (a UDH, say).
    pub fn text_of(short_message: &[u8]) -> String {
        short_message
            .iter()
            .take(20)
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    char::from(b)
                } else {
                    '.'
                }
            })
            .collect()
    }
}

/// How far an intent's time may lie outside the minute (or second) a receipt's `submit date:`
/// names: the submit's time on the wire and in the SMSC's queue, and ordinary clock skew.
pub const SUBMIT_WINDOW_SLACK: Duration = Duration::from_secs(120);

/// The Unix-ms range of intents a receipt's `submit date:` admits, if it has a usable one.
fn submit_window(submitted: Option<&ReceiptDate>) -> Option<(u64, u64)> {
    let date = submitted?;
    let at = date.to_primitive()?.assume_utc();
    let start = u64::try_from(at.unix_timestamp()).ok()? * 1000;
    let precision = if date.second.is_some() { 1_000 } else { 60_000 };
    let slack = SUBMIT_WINDOW_SLACK.as_millis() as u64;
    Some((start.saturating_sub(slack), start + precision + slack))
}

/// Letters and digits only: vendors differ in what they do with the rest.
fn alnum(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// The best of `candidates` for a receipt whose `text:` is `text` and whose `submit date:`
/// admits `window`: among those in the window (all of them when none is), one whose text
/// agrees, else (no text to compare, or none agrees) the latest.
fn best(
    mut candidates: Vec<Intent>,
    text: Option<&str>,
    window: Option<(u64, u64)>,
) -> Option<Intent> {
    if let Some((from, to)) = window
        && candidates.iter().any(|i| (from..=to).contains(&i.at_ms))
    {
        candidates.retain(|i| (from..=to).contains(&i.at_ms));
    }
    candidates.sort_by_key(|i| i.at_ms);
    if let Some(text) = text.map(alnum).filter(|t| !t.is_empty())
        && let Some(i) = candidates.iter().rev().find(|i| {
            let own = alnum(&i.text);
            !own.is_empty() && (own.starts_with(&text) || text.starts_with(&own))
        })
    {
        return Some(i.clone());
    }
    candidates.pop()
}

/// Where intents are kept: with the correlation store's choice (Redis when configured).
pub enum Intents {
    /// In-process, by (upstream, destination).
    Memory(Mutex<HashMap<(u16, String), Vec<Intent>>>, Duration),
    /// On the shared Redis.
    Redis {
        /// The connection.
        conn: ConnectionManager,
        /// Key prefix (the store's).
        prefix: String,
        /// How long a key lives.
        ttl: Duration,
    },
}

impl std::fmt::Debug for Intents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Intents::Memory(..) => "Intents::Memory",
            Intents::Redis { .. } => "Intents::Redis",
        })
    }
}

impl Intents {
    /// Next to the store `config` chooses. Must run inside a tokio runtime.
    pub fn from_config(config: &Config) -> Result<Intents> {
        let Some(redis) = &config.redis else {
            let ttl = Duration::from_secs(config.correlation.ttl_secs);
            return Ok(Intents::Memory(Mutex::default(), ttl));
        };
        let client = redis::Client::open(redis.url.expose())
            .map_err(|e| Error::invalid("redis.url", e.to_string()))?;
        let manager = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_connection_timeout(Some(Duration::from_secs(2)));
        let conn = ConnectionManager::new_lazy_with_config(client, manager)
            .map_err(|e| Error::invalid("redis.url", e.to_string()))?;
        Ok(Intents::Redis {
            conn,
            prefix: redis.key_prefix.clone(),
            ttl: Duration::from_secs(redis.mapping_ttl_secs),
        })
    }

    /// The Redis connection and key prefix, when intents live on Redis (the reconciliation
    /// list shares them).
    pub fn redis(&self) -> Option<(ConnectionManager, String)> {
        match self {
            Intents::Memory(..) => None,
            Intents::Redis { conn, prefix, .. } => Some((conn.clone(), prefix.clone())),
        }
    }

    fn key(prefix: &str, upstream: u16, destination: &str) -> String {
        format!("{prefix}i:{upstream}:{destination}")
    }

    /// Records `intent` (before its submit leaves).
    pub async fn record(&self, intent: &Intent) -> Result<()> {
        match self {
            Intents::Memory(map, ttl) => {
                let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
                let list = map
                    .entry((intent.upstream, intent.destination.clone()))
                    .or_default();
                let oldest = intent.at_ms.saturating_sub(ttl.as_millis() as u64);
                list.retain(|i| i.at_ms >= oldest);
                list.push(intent.clone());
                Ok(())
            }
            Intents::Redis { conn, prefix, ttl } => {
                let key = Self::key(prefix, intent.upstream, &intent.destination);
                redis::pipe()
                    .zadd(&key, intent.member(), intent.at_ms)
                    .ignore()
                    .expire(&key, ttl.as_secs().max(1) as i64)
                    .ignore()
                    .query_async::<()>(&mut conn.clone())
                    .await
                    .map_err(|e| Error::Store(format!("redis: {e}")))
            }
        }
    }

    /// Forgets `intent`: the SMSC answered its submit.
    pub async fn forget(&self, intent: &Intent) -> Result<()> {
        match self {
            Intents::Memory(map, _) => {
                let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
                let id = (intent.upstream, intent.destination.clone());
                if let Some(list) = map.get_mut(&id) {
                    list.retain(|i| i != intent);
                    if list.is_empty() {
                        map.remove(&id);
                    }
                }
                Ok(())
            }
            Intents::Redis { conn, prefix, .. } => {
                let key = Self::key(prefix, intent.upstream, &intent.destination);
                redis::cmd("ZREM")
                    .arg(&key)
                    .arg(intent.member())
                    .query_async::<i64>(&mut conn.clone())
                    .await
                    .map(|_| ())
                    .map_err(|e| Error::Store(format!("redis: {e}")))
            }
        }
    }

    /// The unanswered submit a receipt from `handset` on `upstream` (with `text:` `text` and
    /// `submit date:` `submitted`) most likely belongs to.
    pub async fn find(
        &self,
        upstream: u16,
        handset: &str,
        text: Option<&str>,
        submitted: Option<&ReceiptDate>,
    ) -> Result<Option<Intent>> {
        // Receipts give the handset as they got it: with or without the `+`.
        let destination = handset.trim_start_matches('+');
        let candidates = match self {
            Intents::Memory(map, _) => {
                let map = map.lock().unwrap_or_else(|e| e.into_inner());
                map.get(&(upstream, destination.to_owned()))
                    .cloned()
                    .unwrap_or_default()
            }
            Intents::Redis { conn, prefix, .. } => {
                let key = Self::key(prefix, upstream, destination);
                let members: Vec<String> = redis::cmd("ZRANGE")
                    .arg(&key)
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut conn.clone())
                    .await
                    .map_err(|e| Error::Store(format!("redis: {e}")))?;
                members
                    .iter()
                    .filter_map(|m| Intent::from_member(upstream, destination, m))
                    .collect()
            }
        };
        Ok(best(candidates, text, submit_window(submitted)))
    }

    /// Intents held in-process (0 for Redis: they are there).
    pub fn local_len(&self) -> usize {
        match self {
            Intents::Memory(map, _) => map
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .values()
                .map(Vec::len)
                .sum(),
            Intents::Redis { .. } => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(segment: u16, at_ms: u64, text: &str) -> Intent {
        Intent {
            upstream: 0,
            destination: "254712345678".into(),
            message_id: Uuid::from_u128(7),
            segment,
            segments: 2,
            at_ms,
            text: text.into(),
        }
    }

    #[test]
    fn members_round_trip_even_with_colons_in_the_text() {
        let i = intent(2, 123, "time: 10:30");
        assert_eq!(Intent::from_member(0, "254712345678", &i.member()), Some(i));
    }

    #[test]
    fn the_text_decides_between_candidates_else_the_latest() {
        let a = intent(1, 10, "......Hello there");
        let b = intent(2, 20, "......general Kenobi");
        assert_eq!(
            best(vec![a.clone(), b.clone()], Some("Hello there"), None),
            Some(a.clone())
        );
        assert_eq!(
            best(vec![a.clone(), b.clone()], None, None),
            Some(b.clone())
        );
        assert_eq!(
            best(vec![a, b.clone()], Some("nothing alike"), None),
            Some(b)
        );
        assert_eq!(best(Vec::new(), Some("x"), None), None);
        assert_eq!(Intent::text_of(b"\x05\x00\x03\x01\x02\x01Hi"), "......Hi");
    }

    #[tokio::test]
    async fn answered_submits_are_forgotten_unanswered_ones_found() {
        let store = Intents::Memory(Mutex::default(), Duration::from_secs(60));
        let answered = intent(1, 10, "answered");
        let lost = intent(2, 20, "lost on the wire");
        store.record(&answered).await.unwrap();
        store.record(&lost).await.unwrap();
        store.forget(&answered).await.unwrap();
        let found = store
            .find(0, "+254712345678", Some("lost on the"), None)
            .await
            .unwrap();
        assert_eq!(found, Some(lost));
        assert_eq!(
            store.find(1, "254712345678", None, None).await.unwrap(),
            None
        );
    }

    /// 2026-12-03 09:00:00 UTC, in Unix ms.
    const NINE: u64 = 1_796_288_400_000;

    fn date(hour: u8, minute: u8, second: Option<u8>) -> ReceiptDate {
        ReceiptDate {
            year: 2026,
            month: 12,
            day: 3,
            hour,
            minute,
            second,
        }
    }

    #[tokio::test]
    async fn the_submit_date_picks_the_intent_of_its_time() {
        let store = Intents::Memory(Mutex::default(), Duration::from_secs(3600));
        // Two unanswered submits to one handset with the same opening words, ten minutes
        // apart (a reminder sent twice): the text cannot tell them apart, the time can.
        let early = intent(1, NINE + 20_000, "Your appointment is");
        let late = intent(1, NINE + 600_000, "Your appointment is");
        store.record(&early).await.unwrap();
        store.record(&late).await.unwrap();
        let text = Some("Your appointment is");
        let at_nine = date(9, 0, None);
        let found = store.find(0, "254712345678", text, Some(&at_nine)).await;
        assert_eq!(found.unwrap(), Some(early.clone()));
        let at_ten_past = date(9, 10, Some(1));
        let found = store
            .find(0, "254712345678", text, Some(&at_ten_past))
            .await;
        assert_eq!(found.unwrap(), Some(late.clone()));
        // No date, or a clock three hours off: every intent is a candidate (the latest wins).
        assert_eq!(
            store.find(0, "254712345678", text, None).await.unwrap(),
            Some(late.clone())
        );
        let skewed = date(12, 0, None);
        let found = store.find(0, "254712345678", text, Some(&skewed)).await;
        assert_eq!(found.unwrap(), Some(late));
        assert_eq!(
            submit_window(Some(&at_nine)),
            Some((NINE - 120_000, NINE + 180_000))
        );
    }
}
