//! Live campaign progress over Server-Sent Events.

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn campaign_progress_streams_the_counters_until_the_end(db: PgPool) {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let app = spawn_app(db);
    let user = ready(&app, "progress@example.com", "10").await;
    let other = ready(&app, "peek@example.com", "10").await;
    let ids = sent(
        &app,
        &user.access,
        json!({"to": numbers(2), "text": "Live"}),
    )
    .await;
    let campaign = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO campaigns (id, account_id, name, message, status, total_recipients,
                                dispatched_count)
         VALUES ($1, $2, 'Live', 'Live', 'sending', 2, 2)",
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
    let uri = format!("/v1/campaigns/{campaign}/progress");
    let r = app.get(&uri, &other.access).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "another organisation's campaign"
    );

    let request = Request::builder()
        .uri(&uri)
        .header("authorization", format!("Bearer {}", user.access))
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    // The events of the stream, read until it ends (bounded, so a bug fails, never hangs).
    let reader = async {
        let mut text = String::new();
        let mut applied = false;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                text.push_str(std::str::from_utf8(&data).unwrap());
            }
            if !applied && text.contains("event: progress") {
                applied = true;
                apply(&app.app_pool, &[event(ids[0], DeliveryState::Delivered, 1)]).await;
                apply(&app.app_pool, &[event(ids[1], DeliveryState::Failed, 2)]).await;
            }
        }
        text
    };
    let text = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("the stream ends once the campaign is completed");
    let events: Vec<(String, serde_json::Value)> = text
        .split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((name.to_owned(), serde_json::from_str(data).unwrap()))
        })
        .collect();
    assert_eq!(events.first().unwrap().0, "progress");
    assert_eq!(events.first().unwrap().1["delivered"], 0);
    let (last, counts) = events.last().unwrap();
    assert_eq!(last, "end", "{text}");
    assert_eq!(counts["status"], "completed");
    assert_eq!(counts["delivered"], 1);
    assert_eq!(counts["failed"], 1);
    assert_eq!(counts["spent"], "0.8000");
}
