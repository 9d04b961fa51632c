//! The redirect, the clicks it records and how they are counted.

use std::time::Duration;

use semalink_protocol::contracts::{DeliveryState, StatusEvent};
use time::OffsetDateTime;

use super::*;
use crate::results::{apply, event};

fn delivered_at(id: Uuid, at: OffsetDateTime) -> StatusEvent {
    StatusEvent {
        occurred_at: at,
        ..event(id, DeliveryState::Delivered, 0)
    }
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn short_links_redirect_and_clicks_are_recorded_with_machines_apart(db: PgPool) {
    let app = spawn_app(db);
    let message = "Sale today: {link:https://shop.example/sale?utm=sms&x=1} Reply STOP to opt out";
    let (user, id) = dispatched(&app, "clicks@example.com", message).await;
    let sent = bodies(&app, &id).await;
    assert_eq!(sent.len(), 3);
    let codes: Vec<String> = sent.iter().map(|(_, b)| code_in(b)).collect();
    for (body, code) in sent.iter().map(|(_, b)| b).zip(&codes) {
        assert_eq!(
            body,
            &format!("Sale today: https://sl.example/{code} Reply STOP to opt out")
        );
        assert!(code.chars().all(|c| c.is_ascii_alphanumeric()), "{code}");
    }
    let links: Vec<(String, Uuid, Option<Uuid>, String)> = sqlx::query_as(
        "SELECT code, message_id, contact_id, url FROM short_links WHERE campaign_id = $1::uuid
         ORDER BY code",
    )
    .bind(&id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(links.len(), 3, "one code per recipient");
    assert!(
        links
            .iter()
            .all(|l| l.2.is_some() && l.3 == "https://shop.example/sale?utm=sms&x=1")
    );

    // Two messages delivered a minute ago, the third just now (its previewer is early).
    let now = OffsetDateTime::now_utc();
    let ids: Vec<Uuid> = sent.iter().map(|(m, _)| *m).collect();
    apply(
        &app.app_pool,
        &[
            delivered_at(ids[0], now - Duration::from_secs(60)),
            delivered_at(ids[1], now - Duration::from_secs(60)),
            delivered_at(ids[2], now - Duration::from_secs(60)),
        ],
    )
    .await;
    sqlx::query("UPDATE messages SET final_at = now() WHERE id = $1")
        .bind(ids[2])
        .execute(&app.db)
        .await
        .unwrap();

    // A person, twice; a HEAD check; WhatsApp's previewer; a click on the just-delivered one.
    let r = follow(&app, Method::GET, &codes[0], PHONE).await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.text);
    assert_eq!(
        r.headers["location"],
        "https://shop.example/sale?utm=sms&x=1"
    );
    assert_eq!(r.headers["cache-control"], "no-store");
    assert_eq!(
        follow(&app, Method::GET, &codes[0], PHONE).await.status,
        StatusCode::FOUND
    );
    assert_eq!(
        follow(&app, Method::HEAD, &codes[0], PHONE).await.status,
        StatusCode::FOUND
    );
    let r = follow(&app, Method::GET, &codes[1], "WhatsApp/2.23.20.0 A").await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(
        follow(&app, Method::GET, &codes[2], PHONE).await.status,
        StatusCode::FOUND
    );
    assert_eq!(flush(&app).await, 5);

    let recorded: Vec<(String, Option<String>, Option<String>, Uuid)> =
        sqlx::query_as("SELECT method, user_agent, bot, message_id FROM link_clicks ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let bots: Vec<(&str, Option<&str>)> = recorded
        .iter()
        .map(|r| (r.0.as_str(), r.2.as_deref()))
        .collect();
    assert_eq!(
        bots,
        [
            ("GET", None),
            ("GET", None),
            ("HEAD", Some("head")),
            ("GET", Some("user_agent")),
            ("GET", Some("early")),
        ]
    );
    assert_eq!(recorded[0].1.as_deref(), Some(PHONE));
    assert_eq!(recorded[0].3, ids[0]);

    // The campaign's figures: 2 people's clicks by 1 recipient, 3 machines'; CTR 1/3.
    let analytics = app.get("/v1/analytics/campaigns", &user.access).await;
    assert_eq!(analytics.status, StatusCode::OK, "{}", analytics.text);
    let row = rows(&analytics.json)
        .iter()
        .find(|r| r["campaign_id"] == id.as_str())
        .unwrap_or_else(|| panic!("{}", analytics.text))
        .clone();
    assert_eq!(
        (
            &row["clicks"],
            &row["clickers"],
            &row["bot_clicks"],
            &row["click_through_rate"]
        ),
        (&json!(2), &json!(1), &json!(3), &json!("0.3333")),
        "{row}"
    );
    let c = campaign(&app, &user, &id).await;
    assert_eq!(c["status"], "completed", "{c}");
    assert_eq!(
        c["report"]["clicks"],
        json!({"clicks": 2, "clickers": 1, "bot_clicks": 3, "click_through_rate": "0.3333"})
    );

    // The clicks list: everything, people only, machines only; newest first.
    let all = app
        .get(&format!("/v1/campaigns/{id}/clicks"), &user.access)
        .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(rows(&all.json).len(), 5);
    assert_eq!(rows(&all.json)[0]["bot"], "early");
    let people = app
        .get(
            &format!("/v1/campaigns/{id}/clicks?kind=people&limit=1"),
            &user.access,
        )
        .await;
    assert_eq!(rows(&people.json).len(), 1);
    assert!(people.json["next_cursor"].is_string());
    assert_eq!(
        rows(&people.json)[0]["url"],
        "https://shop.example/sale?utm=sms&x=1"
    );
    let machines = app
        .get(
            &format!("/v1/campaigns/{id}/clicks?kind=bots"),
            &user.access,
        )
        .await;
    assert_eq!(rows(&machines.json).len(), 3);

    // The redirect answers from its cache: a code gone from the database still redirects
    // here until its entry expires.
    sqlx::query("DELETE FROM short_links WHERE code = $1")
        .bind(&codes[1])
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(
        follow(&app, Method::GET, &codes[1], PHONE).await.status,
        StatusCode::FOUND
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_full_click_channel_drops_and_counts_and_never_blocks_the_redirect(db: PgPool) {
    let mut config = test_config();
    config.links.click_queue = 2;
    let app = spawn_app_with(db, config);
    let (_, id) = dispatched(
        &app,
        "full@example.com",
        "Go {link:https://shop.example/} STOP",
    )
    .await;
    let code = code_in(&bodies(&app, &id).await[0].1);
    for _ in 0..5 {
        assert_eq!(
            follow(&app, Method::GET, &code, PHONE).await.status,
            StatusCode::FOUND
        );
    }
    let metrics = app.internal_get("/metrics").await.text;
    assert!(
        metrics.contains("semalink_api_link_clicks_total{outcome=\"dropped\"} 3"),
        "{metrics}"
    );
    assert!(metrics.contains("semalink_api_link_clicks_total{outcome=\"queued\"} 2"));
    assert_eq!(flush(&app).await, 2);
}
