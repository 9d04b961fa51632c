//! Quiet hours for a promotional sender ID, and several dispatchers splitting one campaign.

use super::*;
use crate::credits::d;
use crate::messages::money;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_promotional_sender_gets_quiet_hours_without_asking(db: PgPool) {
    let app = spawn_app(db);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let list = list_of(&app, &a, "Customers", 0, 2).await;
    sqlx::query("UPDATE sender_ids SET traffic_type = 'promotional' WHERE id = $1::uuid")
        .bind(&sender)
        .execute(&app.db)
        .await
        .unwrap();
    // The campaign does not ask for quiet hours (the default is off).
    let c = create(
        &app,
        &a,
        json!({"name": "Promo", "sender_id": sender, "list_ids": [list],
               "message": "20% off today. Reply STOP to opt out"}),
    )
    .await;
    assert_eq!(c["quiet_hours"], false);
    let id = c["id"].as_str().unwrap().to_owned();
    act(&app, &a, &id, "submit", json!({})).await;
    let r = act(&app, &a, &id, "send", json!({})).await;
    assert_eq!(r.json["status"], "queued", "{}", r.text);
    // 20:30 UTC is 23:30 in Nairobi: held until 08:00 Nairobi (05:00 UTC) the next day.
    let tomorrow = time::OffsetDateTime::now_utc().date().next_day().unwrap();
    let late = tomorrow.with_hms(20, 30, 0).unwrap().assume_utc();
    dispatcher(&app, 10).at(late).drain().await.unwrap();
    let morning = tomorrow
        .next_day()
        .unwrap()
        .with_hms(5, 0, 0)
        .unwrap()
        .assume_utc();
    let held: Vec<(Option<time::OffsetDateTime>, time::OffsetDateTime)> = sqlx::query_as(
        "SELECT m.send_at, o.available_at FROM messages m
         JOIN message_outbox o ON o.message_id = m.id WHERE m.campaign_id = $1::uuid",
    )
    .bind(&id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(held, [(Some(morning), morning), (Some(morning), morning)]);

    // A transactional sender's campaign without quiet hours goes at night.
    sqlx::query("UPDATE sender_ids SET traffic_type = 'transactional' WHERE id = $1::uuid")
        .bind(&sender)
        .execute(&app.db)
        .await
        .unwrap();
    let night = queued(&app, &a, &sender, &list, "Your order shipped").await;
    dispatcher(&app, 10).at(late).drain().await.unwrap();
    let held: Vec<Option<time::OffsetDateTime>> =
        sqlx::query_scalar("SELECT send_at FROM messages WHERE campaign_id = $1::uuid")
            .bind(&night)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(held, [None, None]);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn four_dispatchers_split_one_campaign_reserving_once_per_batch(db: PgPool) {
    let app = spawn_app(db);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let list = list_of(&app, &a, "Customers", 0, 500).await;
    crate::credits::fund(&app, a.account_id, "more", "1000").await;
    let id = queued(&app, &a, &sender, &list, "Hi {first_name|there}").await;
    // Expanded first, so the four start on the same sending campaign.
    dispatcher(&app, 7).run_once().await.unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let d = dispatcher(&app, 7);
            tokio::spawn(async move { d.drain().await.unwrap() })
        })
        .collect();
    let mut batches = 0;
    for t in tasks {
        batches += t.await.unwrap();
    }
    // 500 in batches of at most 7: every batch full but the last one.
    assert_eq!(batches, 72);
    assert_eq!(super::dispatch::tally(&app, &id).await, (500, 500, 500));
    let reservations: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM credit_transactions WHERE account_id = $1 AND type = 'reservation'
           AND reference LIKE 'campaign:%'",
    )
    .bind(a.account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(reservations, 72);
    let c = campaign(&app, &a, &id).await;
    assert_eq!(c["dispatched_count"], 500);
    assert_eq!(c["reserved_cost"], "400.0000");
    assert_eq!(
        money(&app, a.account_id).await,
        (d("700.0000"), d("400.0000"))
    );
    assert!(super::money::verified_ledger(&app, a.account_id).await);
}
