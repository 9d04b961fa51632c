//! Writing events into the delivery outbox, on the caller's connection — inside the
//! transaction of the change the event reports, so an event exists exactly when its change
//! does and a crash loses neither. One row per subscribed, enabled endpoint; an account
//! without one gets no row (the endpoints join yields nothing). The body is the stable
//! envelope `{type, timestamp, data}`, built once here and signed as stored.

use serde_json::Value;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::types::EventType;
use crate::error::Result;

/// The envelope's `timestamp`: RFC 3339, UTC, milliseconds.
const TIMESTAMP: &str = r#"to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#;

fn timestamp(expr: &str) -> String {
    TIMESTAMP.replace("%s", expr)
}

/// The webhook event type of a message status a status event moved it to, if any.
pub fn message_event(status: &str) -> Option<EventType> {
    match status {
        "sent" => Some(EventType::MessageSent),
        "delivered" => Some(EventType::MessageDelivered),
        "failed" | "rejected" => Some(EventType::MessageFailed),
        "expired" => Some(EventType::MessageExpired),
        _ => None,
    }
}

/// The webhook event type of a notification kind, if it has one.
pub fn notice_event(kind: &str) -> Option<EventType> {
    match kind {
        "contact.opted_out" => Some(EventType::ContactOptedOut),
        "campaign.completed" => Some(EventType::CampaignCompleted),
        crate::credits::alert::LOW_CREDIT_KIND => Some(EventType::CreditLow),
        _ => None,
    }
}

/// Message status steps, set-based (one statement for a whole status batch): step `i` moved
/// message `messages[i]` of `accounts[i]` to `statuses[i]` at `at[i]`. Rows for the same
/// message get increasing `seq` in step time order, which is the order they are delivered
/// in. The messages must already carry their new state (error, cost) in this transaction.
pub async fn message_steps(
    conn: &mut PgConnection,
    messages: &[Uuid],
    accounts: &[Uuid],
    statuses: &[String],
    at: &[OffsetDateTime],
) -> Result<u64> {
    // The adapters' per-message callbacks of the same steps (Kannel dlr-url, AT callback).
    let callbacks = super::callbacks::store::steps(&mut *conn, messages, statuses, at).await?;
    let mut types = Vec::with_capacity(statuses.len());
    for s in statuses {
        types.push(message_event(s).map(|t| t.as_str().to_owned()));
    }
    if types.iter().all(Option::is_none) {
        return Ok(callbacks);
    }
    let sql = format!(
        "INSERT INTO webhook_deliveries (id, account_id, endpoint_id, event_type, ordering_key,
                                         body)
         SELECT webhook_id_v7(), e.account_id, e.id, u.t, u.m,
                jsonb_build_object('type', u.t, 'timestamp', {ts}, 'data', jsonb_build_object(
                    'message_id', m.id, 'client_reference', m.client_reference,
                    'status', u.s, 'to', m.destination, 'sender', m.sender,
                    'campaign_id', m.campaign_id, 'parts', m.parts, 'cost', m.cost::text,
                    'error', CASE WHEN u.s IN ('sent', 'delivered') OR
                                       (m.error_code IS NULL AND m.error_text IS NULL) THEN NULL
                             ELSE jsonb_build_object('kind', m.error_kind,
                                 'code', m.error_code, 'text', m.error_text) END))::text
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[])
              WITH ORDINALITY AS u (m, a, s, t, at, n)
         JOIN webhook_endpoints e ON e.account_id = u.a AND e.enabled
                                 AND u.t = ANY (e.event_types)
         JOIN messages m ON m.id = u.m
         ORDER BY u.at, u.n, e.id",
        ts = timestamp("u.at"),
    );
    let endpoints = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(messages)
        .bind(accounts)
        .bind(statuses)
        .bind(&types)
        .bind(at)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(endpoints + callbacks)
}

/// One event of `account_id` with `data`, to every endpoint subscribed to `event`
/// (`ordering_key`: deliver after the earlier events with the same key).
pub async fn enqueue(
    conn: &mut PgConnection,
    account_id: Uuid,
    event: EventType,
    data: &Value,
    ordering_key: Option<Uuid>,
) -> Result<u64> {
    let sql = format!(
        "INSERT INTO webhook_deliveries (id, account_id, endpoint_id, event_type, ordering_key,
                                         body)
         SELECT webhook_id_v7(), e.account_id, e.id, $2, $3,
                jsonb_build_object('type', $2::text, 'timestamp', {ts}, 'data', $4::jsonb)::text
         FROM webhook_endpoints e
         WHERE e.account_id = $1 AND e.enabled AND $2 = ANY (e.event_types)
         ORDER BY e.id",
        ts = timestamp("now()"),
    );
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account_id)
        .bind(event.as_str())
        .bind(ordering_key)
        .bind(data)
        .execute(conn)
        .await?
        .rows_affected())
}

/// A test-fire: a sample event of `event` to endpoint `endpoint_id` only (whatever it
/// subscribes to); the delivery's id.
pub async fn test_fire(
    conn: &mut PgConnection,
    account_id: Uuid,
    endpoint_id: Uuid,
    event: EventType,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let sql = format!(
        "INSERT INTO webhook_deliveries (id, account_id, endpoint_id, event_type, body)
         VALUES ($1, $2, $3, $4,
                 jsonb_build_object('type', $4::text, 'timestamp', {ts}, 'data', $5::jsonb)::text)",
        ts = timestamp("now()"),
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(account_id)
        .bind(endpoint_id)
        .bind(event.as_str())
        .bind(sample(event))
        .execute(conn)
        .await?;
    Ok(id)
}

/// The sample `data` of a test-fire (`"test": true`, placeholder ids).
pub fn sample(event: EventType) -> Value {
    let id = "00000000-0000-0000-0000-000000000000";
    let mut data = match event {
        EventType::MessageSent
        | EventType::MessageDelivered
        | EventType::MessageFailed
        | EventType::MessageExpired => {
            let status = event.as_str().trim_start_matches("message.");
            let error = (event == EventType::MessageFailed || event == EventType::MessageExpired)
                .then(|| serde_json::json!({"kind": "receipt", "code": 1, "text": "UNDELIV"}));
            serde_json::json!({
                "message_id": id, "client_reference": "order-1234", "status": status,
                "to": "+254712345678", "sender": "AcmeCorp", "campaign_id": null,
                "parts": 1, "cost": "0.8000", "error": error,
            })
        }
        EventType::InboundReceived => serde_json::json!({
            "inbound_id": id, "from": "+254712345678", "to": "AcmeCorp", "text": "Hello",
            "action": "none", "keyword": null, "contact_id": null, "campaign_id": null,
            "message_id": null,
        }),
        EventType::ContactOptedOut => serde_json::json!({
            "phone": "+254712345678", "keyword": "STOP", "contact_id": null,
            "campaign_id": null, "inbound_id": id,
        }),
        EventType::CreditLow => serde_json::json!({"available": "4.2000", "threshold": "10"}),
        EventType::CampaignCompleted => serde_json::json!({"campaign_id": id}),
    };
    data["test"] = Value::Bool(true);
    data
}
