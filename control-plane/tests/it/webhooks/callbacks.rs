//! The compatibility adapters' per-message callbacks through the webhook outbox: Kannel's
//! dlr-url (a GET with its escapes expanded, only the reports dlr-mask asks for) and an
//! Africa's Talking callbackUrl (their form, POSTed), both signed with the organisation's
//! callback secret; refused URLs (the SSRF guard) refuse the send.

use axum::http::{Method, StatusCode};
use semalink_control_plane::webhooks::signing;
use semalink_protocol::contracts::{DeliveryState, StatusEvent};
use sqlx::PgPool;
use time::OffsetDateTime;

use super::receiver::{Received, Receiver};
use super::*;
use crate::messages::africastalking::messaging;
use crate::messages::kannel::sendsms;
use crate::messages::{SAFARICOM, SAFARICOM_2, ready};
use crate::results::{apply, event};
use crate::sender_ids::api_key;

fn signed_by(secret: &str, r: &Received) -> bool {
    signing::verify(
        secret,
        &r.header("webhook-id"),
        r.header("webhook-timestamp").parse().unwrap(),
        &r.header("webhook-signature"),
        &r.body,
        OffsetDateTime::now_utc().unix_timestamp(),
    )
    .is_ok()
}

/// The callback secret (created by the send, rotated here without overlap: only it signs).
async fn callback_secret(app: &TestApp, user: &User) -> String {
    let r = app
        .post(
            "/v1/webhooks/callbacks/rotate-secret",
            Some(&user.access),
            json!({"overlap_seconds": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json["secret"].as_str().unwrap().to_owned()
}

/// A status event at `at` (Unix seconds).
fn at(id: Uuid, state: DeliveryState, secs: i64) -> StatusEvent {
    StatusEvent {
        occurred_at: OffsetDateTime::from_unix_timestamp(secs).unwrap(),
        ..event(id, state, 0)
    }
}

async fn messages_of(app: &TestApp, account: Uuid) -> Vec<(Uuid, String)> {
    sqlx::query_as(
        "SELECT id, destination FROM messages WHERE account_id = $1 ORDER BY destination",
    )
    .bind(account)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn kannel_dlr_urls_are_called_signed_with_escapes_expanded_as_the_mask_asks(db: PgPool) {
    let app = spawn_app_with(db, quick());
    let owner = ready(&app, "kannel-dlr@example.com", "10").await;
    let key = api_key(&app, &owner, json!(["messages:send"])).await;
    let rx = Receiver::start().await;
    // Delivered (1) and undelivered (2) only: the SMSC's acceptance (8) is not asked for.
    let pattern = rx.url("/dlr?type=%d&to=%P&from=%p&ts=%T&id=%I&smsc=%i&answer=%A&pct=%%");
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("username", "shop")
        .append_pair("password", &key)
        .append_pair("to", &format!("{SAFARICOM} {SAFARICOM_2}"))
        .append_pair("text", "Hello")
        .append_pair("dlr-mask", "3")
        .append_pair("dlr-url", &pattern)
        .finish();
    let r = sendsms(&app, &query).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let secret = callback_secret(&app, &owner).await;
    let ids = messages_of(&app, owner.account_id).await;
    let (delivered, failed) = (ids[0].0, ids[1].0);
    apply(
        &app.app_pool,
        &[
            at(delivered, DeliveryState::Sent, 1_800_000_000),
            at(failed, DeliveryState::Sent, 1_800_000_001),
            at(delivered, DeliveryState::Delivered, 1_800_000_060),
            at(failed, DeliveryState::Failed, 1_800_000_061),
        ],
    )
    .await;
    let s = sender(&app, &quick());
    until(&s, async || rx.count() >= 2).await;
    for _ in 0..3 {
        s.run_once().await.unwrap();
    }
    let got = rx.got();
    assert_eq!(got.len(), 2, "the two sent steps are not in the mask");
    let mut queries: Vec<String> = got
        .iter()
        .map(|r| {
            assert_eq!(r.method, Method::GET);
            assert!(r.body.is_empty());
            assert!(signed_by(&secret, r), "signed with the callback secret");
            assert!(!signed_by(
                "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                r
            ));
            r.uri.query().unwrap().to_owned()
        })
        .collect();
    queries.sort();
    assert_eq!(
        queries[0],
        format!(
            "type=1&to=%2B254712345678&from=AcmeCorp&ts=1800000060&id={delivered}&smsc=celcom-1\
             &answer=id%3Asmsc-{}+sub%3A001+dlvrd%3A001+submit+date%3A2701150800+done+date%3A2701150801+stat%3ADELIVRD+err%3A000&pct=%",
            delivered.simple()
        )
    );
    assert!(
        queries[1].starts_with(&format!(
            "type=2&to=%2B254722000111&from=AcmeCorp&ts=1800000061&id={failed}&smsc=celcom-1&answer=id%3Asmsc-"
        )),
        "{}",
        queries[1]
    );
    assert!(
        queries[1].contains("stat%3AUNDELIV+err%3A001"),
        "{}",
        queries[1]
    );
    // Logged like every delivery.
    let log = app.get("/v1/webhooks/deliveries", &owner.access).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    let logged = log.json["data"].as_array().unwrap();
    assert_eq!(logged.len(), 2, "{}", log.text);
    assert!(
        logged
            .iter()
            .all(|d| d["event_type"] == "kannel.dlr" && d["state"] == "delivered")
    );
    // The hidden endpoint is not one of the organisation's endpoints.
    let endpoints = app.get("/v1/webhooks/endpoints", &owner.access).await;
    assert_eq!(endpoints.json["data"], json!([]));

    // A dlr-url the SSRF guard refuses refuses the send, nothing sent.
    for bad in [
        "http://169.254.169.254/latest?x=%d",
        "ftp://example.com/%d",
        "not a url",
    ] {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("username", "shop")
            .append_pair("password", &key)
            .append_pair("to", SAFARICOM)
            .append_pair("text", "Refused")
            .append_pair("dlr-mask", "1")
            .append_pair("dlr-url", bad)
            .finish();
        let r = sendsms(&app, &query).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
        assert_eq!(r.text, "Invalid dlr-url, rejected");
    }
    assert_eq!(messages_of(&app, owner.account_id).await.len(), 2);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn africas_talking_callbacks_post_their_form_signed(db: PgPool) {
    let app = spawn_app_with(db, quick());
    let owner = ready(&app, "at-callback@example.com", "10").await;
    let key = api_key(&app, &owner, json!(["messages:send"])).await;
    let rx = Receiver::start().await;
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("username", "sandbox")
        .append_pair("to", SAFARICOM)
        .append_pair("message", "Hello")
        .append_pair("callbackUrl", &rx.url("/at/dlr"))
        .finish();
    let r = messaging(&app, &key, &form).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let message_id = r.json["SMSMessageData"]["Recipients"][0]["messageId"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = callback_secret(&app, &owner).await;
    let id: Uuid = message_id.parse().unwrap();
    apply(
        &app.app_pool,
        &[
            at(id, DeliveryState::Sent, 1_800_000_000),
            at(id, DeliveryState::Delivered, 1_800_000_030),
        ],
    )
    .await;
    let s = sender(&app, &quick());
    until(&s, async || rx.count() >= 2).await;
    let got = rx.got();
    let forms: Vec<String> = got
        .iter()
        .map(|r| {
            assert_eq!(r.method, Method::POST);
            assert_eq!(r.uri.path(), "/at/dlr");
            assert_eq!(
                r.header("content-type"),
                "application/x-www-form-urlencoded"
            );
            assert!(signed_by(&secret, r));
            String::from_utf8(r.body.to_vec()).unwrap()
        })
        .collect();
    assert_eq!(
        forms,
        [
            format!(
                "id={message_id}&status=Sent&phoneNumber=%2B254712345678&networkCode=63902&retryCount=0"
            ),
            format!(
                "id={message_id}&status=Success&phoneNumber=%2B254712345678&networkCode=63902&retryCount=0"
            ),
        ],
        "in order"
    );
    // Another organisation's callback secret is its own.
    let other = app.verified("other-org@example.com").await;
    let theirs = callback_secret(&app, &other).await;
    assert_ne!(theirs, secret);
    assert!(!got.iter().any(|r| signed_by(&theirs, r)));
    // A private address is refused at the send.
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("username", "sandbox")
        .append_pair("to", SAFARICOM)
        .append_pair("message", "Hello")
        .append_pair("callbackUrl", "http://10.1.2.3/dlr")
        .finish();
    let r = messaging(&app, &key, &form).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.text, "Invalid form field 'callbackUrl'");
}
