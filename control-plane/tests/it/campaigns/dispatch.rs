//! The dispatcher: personalised texts, batches and counters, two dispatchers on one campaign,
//! a dispatcher killed mid-campaign then restarted, an audience nobody in it can be sent to.

use std::time::Duration;

use sqlx::PgPool;

use super::*;
use crate::credits::d;
use crate::messages::money;

/// Every recipient of `campaign` has exactly one message, and no message is in another
/// recipient row: (recipients, messages, distinct destinations of the messages).
pub(super) async fn tally(app: &TestApp, campaign: &str) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM campaign_recipients WHERE campaign_id = $1::uuid
                   AND message_id IS NOT NULL),
                (SELECT count(*) FROM messages WHERE campaign_id = $1::uuid),
                (SELECT count(DISTINCT destination) FROM messages WHERE campaign_id = $1::uuid)",
    )
    .bind(campaign)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn tokens_are_rendered_per_recipient_and_batches_reserve_once(db: PgPool) {
    let app = spawn_app(db);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let list = list_of(&app, &a, "Customers", 0, 5).await;
    let id = queued(
        &app,
        &a,
        &sender,
        &list,
        "Hi {first_name|there}, {city} {last_name}!",
    )
    .await;
    let dispatcher = dispatcher(&app, 2);
    use semalink_control_plane::campaigns::dispatch::Pass;
    assert_eq!(
        dispatcher.run_once().await.unwrap(),
        Pass::Expanded { recipients: 5 }
    );
    let c = campaign(&app, &a, &id).await;
    assert_eq!(
        (c["status"].as_str(), c["total_recipients"].as_i64()),
        (Some("sending"), Some(5))
    );
    assert_eq!(
        dispatcher.run_once().await.unwrap(),
        Pass::Dispatched { messages: 2 }
    );
    assert_eq!(campaign(&app, &a, &id).await["dispatched_count"], 2);
    assert_eq!(dispatcher.drain().await.unwrap(), 2);
    let bodies: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT destination, body, priority::text FROM messages WHERE campaign_id = $1::uuid
         ORDER BY destination",
    )
    .bind(&id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let texts: Vec<&str> = bodies.iter().map(|b| b.1.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Hi Name0, Town0 !",
            "Hi there, Town1 !",
            "Hi Name2, Town2 !",
            "Hi there, Town3 !",
            "Hi Name4, Town4 !"
        ]
    );
    assert!(bodies.iter().all(|b| b.2 == "normal"));
    // Three batches, three reservations (one per batch), 5 × 0.80 held.
    let reservations: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM credit_transactions WHERE account_id = $1 AND type = 'reservation'
           AND reference LIKE 'campaign:%'",
    )
    .bind(a.account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(reservations, 3);
    assert_eq!(money(&app, a.account_id).await, (d("96.0000"), d("4.0000")));
    let c = campaign(&app, &a, &id).await;
    assert_eq!(c["dispatched_count"], 5);
    assert_eq!(c["reserved_cost"], "4.0000");
    // The dispatcher leaves completion to the status consumer.
    assert_eq!(c["status"], "sending");
    assert_eq!(crate::messages::outbox(&app, a.account_id).await, 5);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn an_audience_nobody_can_receive_completes_at_once(db: PgPool) {
    let app = spawn_app(db);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let list = list_of(&app, &a, "Customers", 0, 2).await;
    let id = queued(&app, &a, &sender, &list, "hi").await;
    sqlx::query(
        "UPDATE contacts SET is_opted_out = true, opted_out_at = now() WHERE account_id = $1",
    )
    .bind(a.account_id)
    .execute(&app.db)
    .await
    .unwrap();
    assert_eq!(dispatcher(&app, 10).drain().await.unwrap(), 0);
    let c = campaign(&app, &a, &id).await;
    assert_eq!(c["status"], "completed");
    assert_eq!(c["total_recipients"], 0);
    assert_eq!(c["report"]["recipients"], 0);
    assert_eq!(c["report"]["delivered"], 0);
    assert_eq!(
        money(&app, a.account_id).await,
        (d("100.0000"), d("0.0000"))
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn two_dispatchers_on_one_campaign_write_every_recipient_once(db: PgPool) {
    let app = spawn_app(db);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let list = list_of(&app, &a, "Customers", 0, 600).await;
    crate::credits::fund(&app, a.account_id, "more", "1000").await;
    let id = queued(&app, &a, &sender, &list, "Hi {first_name|there}").await;
    let (one, two) = (dispatcher(&app, 25), dispatcher(&app, 25));
    let (x, y) = tokio::join!(
        tokio::spawn(async move { one.drain().await.unwrap() }),
        tokio::spawn(async move { two.drain().await.unwrap() })
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x + y, 24, "600 recipients in batches of 25: {x} + {y}");
    assert_eq!(tally(&app, &id).await, (600, 600, 600));
    let c = campaign(&app, &a, &id).await;
    assert_eq!(
        (
            c["total_recipients"].as_i64(),
            c["dispatched_count"].as_i64()
        ),
        (Some(600), Some(600))
    );
    assert_eq!(
        money(&app, a.account_id).await,
        (d("620.0000"), d("480.0000"))
    );
    let mut conn = app.app_pool.acquire().await.unwrap();
    assert!(
        semalink_control_plane::credits::store::verify(&mut *conn, a.account_id)
            .await
            .unwrap()
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_dispatcher_killed_mid_campaign_is_resumed_without_duplicates(db: PgPool) {
    let app = spawn_app(db);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let list = list_of(&app, &a, "Customers", 0, 400).await;
    crate::credits::fund(&app, a.account_id, "more", "1000").await;
    let id = queued(&app, &a, &sender, &list, "Hi {first_name|there}").await;
    let first = dispatcher(&app, 10);
    first.run_once().await.unwrap(); // expansion
    for _ in 0..5 {
        first.run_once().await.unwrap();
    }
    // Hold the account's credits row: the next batch stops inside its transaction (it has
    // claimed the campaign and read its recipients, and waits to reserve). Kill it there.
    let mut blocker = app.db.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM credits WHERE account_id = $1 FOR UPDATE")
        .bind(a.account_id)
        .execute(&mut *blocker)
        .await
        .unwrap();
    let task = tokio::spawn(async move { first.drain().await });
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
               AND query LIKE '%FROM credits WHERE account_id%'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    task.abort();
    let _ = task.await;
    blocker.rollback().await.unwrap();
    assert_eq!(tally(&app, &id).await, (50, 50, 50));
    // A new dispatcher finishes the rest.
    dispatcher(&app, 10).drain().await.unwrap();
    assert_eq!(tally(&app, &id).await, (400, 400, 400));
    let c = campaign(&app, &a, &id).await;
    assert_eq!(c["dispatched_count"], 400);
    assert_eq!(c["reserved_cost"], "320.0000");
    assert_eq!(
        money(&app, a.account_id).await,
        (d("780.0000"), d("320.0000"))
    );
    let mut conn = app.app_pool.acquire().await.unwrap();
    assert!(
        semalink_control_plane::credits::store::verify(&mut *conn, a.account_id)
            .await
            .unwrap()
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn quiet_hours_hold_until_morning_and_unpriced_numbers_are_skipped(db: PgPool) {
    let app = spawn_app(db);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let list = list_of(&app, &a, "Customers", 0, 2).await;
    // A Tanzanian number: no price list has a rate for it.
    sqlx::query(
        "WITH c AS (
            INSERT INTO contacts (id, account_id, phone, phone_raw, status, country)
            VALUES (gen_random_uuid(), $1, '+255712345678', '+255712345678', 'valid', 'TZ')
            RETURNING id
         )
         INSERT INTO contact_list_memberships (list_id, contact_id, account_id)
         SELECT $2::uuid, id, $1 FROM c",
    )
    .bind(a.account_id)
    .bind(&list)
    .execute(&app.db)
    .await
    .unwrap();
    let night = create(
        &app,
        &a,
        json!({"name": "Night", "sender_id": sender, "list_ids": [list], "message": "Hi", "quiet_hours": true}),
    )
    .await;
    let night = night["id"].as_str().unwrap().to_owned();
    act(&app, &a, &night, "submit", json!({})).await;
    act(&app, &a, &night, "send", json!({})).await;
    // 20:30 UTC tomorrow is 23:30 in Nairobi: held until 08:00 Nairobi (05:00 UTC) the day after.
    let tomorrow = time::OffsetDateTime::now_utc().date().next_day().unwrap();
    let late = tomorrow.with_hms(20, 30, 0).unwrap().assume_utc();
    dispatcher(&app, 10).at(late).drain().await.unwrap();
    let held: Vec<Option<time::OffsetDateTime>> = sqlx::query_scalar(
        "SELECT send_at FROM messages WHERE campaign_id = $1::uuid ORDER BY destination",
    )
    .bind(&night)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let morning = tomorrow
        .next_day()
        .unwrap()
        .with_hms(5, 0, 0)
        .unwrap()
        .assume_utc();
    assert_eq!(held, [Some(morning), Some(morning)]);
    let available: Vec<time::OffsetDateTime> = sqlx::query_scalar(
        "SELECT o.available_at FROM message_outbox o JOIN messages m ON m.id = o.message_id
         WHERE m.campaign_id = $1::uuid",
    )
    .bind(&night)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(available, [morning, morning]);
    // The Tanzanian recipient is skipped with its reason and leaves the total.
    let skipped: Vec<String> = sqlx::query_scalar(
        "SELECT skipped_reason FROM campaign_recipients WHERE campaign_id = $1::uuid
           AND skipped_reason IS NOT NULL",
    )
    .bind(&night)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0].starts_with("no rate is set for"), "{skipped:?}");
    let c = campaign(&app, &a, &night).await;
    assert_eq!(
        (
            c["total_recipients"].as_i64(),
            c["dispatched_count"].as_i64()
        ),
        (Some(2), Some(2))
    );

    // At 10:00 UTC (13:00 in Nairobi) nothing is held.
    let day = create(
        &app,
        &a,
        json!({"name": "Day", "sender_id": sender, "list_ids": [list], "message": "Hi", "quiet_hours": true}),
    )
    .await;
    let day = day["id"].as_str().unwrap().to_owned();
    act(&app, &a, &day, "submit", json!({})).await;
    act(&app, &a, &day, "send", json!({})).await;
    let noon = tomorrow.with_hms(10, 0, 0).unwrap().assume_utc();
    dispatcher(&app, 10).at(noon).drain().await.unwrap();
    let held: Vec<Option<time::OffsetDateTime>> =
        sqlx::query_scalar("SELECT send_at FROM messages WHERE campaign_id = $1::uuid")
            .bind(&day)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(held, [None, None]);
}
