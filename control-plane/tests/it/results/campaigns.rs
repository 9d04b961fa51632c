//! Campaign completion by the status consumer: counters, report, notification, and a
//! dispatched campaign end to end with a STOP reply.

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_campaign_completes_with_its_report_and_its_owner_is_told(db: PgPool) {
    let app = spawn_app(db);
    let user = ready(&app, "campaign@example.com", "10").await;
    let ids = sent(
        &app,
        &user.access,
        json!({"to": numbers(3), "text": "Promo"}),
    )
    .await;
    let campaign = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO campaigns (id, account_id, name, message, status, total_recipients,
                                dispatched_count, reserved_cost)
         VALUES ($1, $2, 'December promo', 'Promo', 'sending', 3, 3, 2.4)",
    )
    .bind(campaign)
    .bind(user.account_id)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("UPDATE messages SET campaign_id = $1 WHERE id = ANY($2)")
        .bind(campaign)
        .bind(&ids)
        .execute(&app.db)
        .await
        .unwrap();
    let a = apply(
        &app.app_pool,
        &[
            event(ids[0], DeliveryState::Delivered, 1_000),
            event(ids[1], DeliveryState::Delivered, 2_000),
        ],
    )
    .await;
    assert!(a.completed.is_empty(), "one message still open");
    let a = apply(
        &app.app_pool,
        &[event(ids[2], DeliveryState::Failed, 3_000)],
    )
    .await;
    assert_eq!(a.completed, [campaign]);
    let (status, report): (String, serde_json::Value) =
        sqlx::query_as("SELECT status::text, report FROM campaigns WHERE id = $1")
            .bind(campaign)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(status, "completed");
    assert_eq!(report["recipients"], 3);
    assert_eq!(report["delivered"], 2);
    assert_eq!(report["failed"], 1);
    assert_eq!(report["cost"], "1.6000");
    assert_eq!(report["delivery_rate"].as_f64(), Some(0.6667));
    let ops = report["by_operator"].as_array().unwrap();
    assert_eq!(ops.len(), 1, "{report}");
    assert_eq!(ops[0]["country"], "KE");
    assert_eq!(ops[0]["delivered"], 2);
    let (sent_count, delivered, failed): (i32, i32, i32) = sqlx::query_as(
        "SELECT sent_count, delivered_count, failed_count FROM campaigns WHERE id = $1",
    )
    .bind(campaign)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((sent_count, delivered, failed), (3, 2, 1));
    let told: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = 'campaign.completed'
           AND data->>'campaign_id' = $2",
    )
    .bind(user.account_id)
    .bind(campaign.to_string())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(told, 1);
    // Replaying the last event completes nothing twice.
    let a = apply(
        &app.app_pool,
        &[event(ids[2], DeliveryState::Failed, 3_000)],
    )
    .await;
    assert!(a.completed.is_empty());
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_dispatched_campaign_completes_and_a_stop_reply_keeps_the_number_out_of_the_next(
    db: PgPool,
) {
    use crate::campaigns::{campaign, dispatcher, list_of, queued, sender_ready};
    let app = spawn_app(db);
    let (user, sender) = sender_ready(&app, "loop@example.com").await;
    let list = list_of(&app, &user, "Loop", 0, 5).await;
    let id = queued(
        &app,
        &user,
        &sender,
        &list,
        "Hi {first_name|there}! Reply STOP to opt out",
    )
    .await;
    let dispatcher = dispatcher(&app, 2);
    dispatcher.drain().await.unwrap();
    let c = campaign(&app, &user, &id).await;
    assert_eq!(
        (c["status"].as_str(), c["dispatched_count"].as_i64()),
        (Some("sending"), Some(5))
    );
    let messages: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT id, destination FROM messages WHERE campaign_id = $1::uuid ORDER BY destination",
    )
    .bind(&id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(messages.len(), 5);
    let mut events = Vec::new();
    for (i, (m, _)) in messages.iter().enumerate() {
        events.push(event(*m, DeliveryState::Sent, 0));
        let fin = if i == 4 {
            DeliveryState::Failed
        } else {
            DeliveryState::Delivered
        };
        events.push(event(*m, fin, 2_000));
    }
    let a = apply(&app.app_pool, &events).await;
    assert_eq!(a.completed.len(), 1);
    let c = campaign(&app, &user, &id).await;
    assert_eq!(c["status"], "completed", "{c}");
    let (report,): (serde_json::Value,) =
        sqlx::query_as("SELECT report FROM campaigns WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(report["delivered"], 4);
    assert_eq!(report["cost"], "3.2000");
    assert_eq!(money(&app, user.account_id).await, (d("96.8"), d("0")));
    assert!(
        credits_store::verify(&app.db, user.account_id)
            .await
            .unwrap()
    );

    // The first recipient replies STOP: opted out, counted on the campaign, and the next
    // campaign to the same list leaves the number out.
    let stop = semalink_protocol::contracts::InboundMessage {
        version: VERSION,
        id: Uuid::now_v7(),
        from: messages[0].1.trim_start_matches('+').to_owned(),
        to: "AcmeCorp".into(),
        text: "STOP".into(),
        received_at: OffsetDateTime::now_utc(),
        upstream: "celcom-1".into(),
        segments: 1,
        numbering: None,
    };
    semalink_control_plane::inbound::store::apply_batch(
        &app.app_pool,
        &[stop],
        &Default::default(),
        BASE,
    )
    .await
    .unwrap();
    assert_eq!(campaign(&app, &user, &id).await["opted_out_count"], 1);
    let next = queued(&app, &user, &sender, &list, "Again! Reply STOP to opt out").await;
    dispatcher.drain().await.unwrap();
    let n = campaign(&app, &user, &next).await;
    assert_eq!(n["total_recipients"], 4, "{n}");
    let reached: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM messages WHERE campaign_id = $1::uuid AND destination = $2)",
    )
    .bind(&next)
    .bind(&messages[0].1)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(!reached);
}
