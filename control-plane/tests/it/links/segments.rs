//! A `{link:…}` counts as its short URL: a text that fits one part with the short URL but
//! not with the long one is one part in the preview, the content check and the dispatched
//! messages (and priced so).

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_link_is_counted_at_the_short_urls_length(db: PgPool) {
    let app = spawn_app(db);
    let long = format!("https://shop.example/deals/{}", "p".repeat(200));
    // 120 characters of text + a 26-character short URL = 146: one GSM-7 part. With the long
    // URL it would be 346 characters: three parts.
    let text = format!("{} {{link:{long}}}", "Sale STOP ".repeat(12).trim_end());
    assert_eq!(text.len() - long.len() - "{link:}".len(), 120);
    let (user, sender) = sender_ready(&app, "segments@example.com").await;
    let list = list_of(&app, &user, "Shoppers", 0, 2).await;
    let c = crate::campaigns::create(
        &app,
        &user,
        json!({"name": "Links", "sender_id": sender, "list_ids": [list], "message": text}),
    )
    .await;
    let id = c["id"].as_str().unwrap().to_owned();
    let preview = app
        .post(
            &format!("/v1/campaigns/{id}/preview"),
            Some(&user.access),
            json!({}),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert_eq!(preview.json["parts"], 1, "{}", preview.text);
    assert_eq!(preview.json["characters"], 146, "{}", preview.text);
    assert!(
        preview.json["text"]
            .as_str()
            .unwrap()
            .ends_with(" https://sl.example/xxxxxxx"),
        "{}",
        preview.text
    );
    assert_eq!(
        preview.json["total_cost"], "1.6000",
        "two recipients, one part each"
    );
    let r = crate::campaigns::act(&app, &user, &id, "submit", json!({})).await;
    assert_eq!(r.json["status"], "approved", "{}", r.text);
    let r = crate::campaigns::act(&app, &user, &id, "send", json!({})).await;
    assert_eq!(r.json["status"], "queued", "{}", r.text);
    dispatcher(&app, 100).drain().await.unwrap();
    let sent: Vec<(String, i32, String)> =
        sqlx::query_as("SELECT body, parts, cost::text FROM messages WHERE campaign_id = $1::uuid")
            .bind(&id)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(sent.len(), 2);
    for (body, parts, cost) in &sent {
        assert_eq!(
            (body.chars().count(), *parts, cost.as_str()),
            (146, 1, "0.8000"),
            "{body}"
        );
    }
    assert_ne!(
        code_in(&sent[0].0),
        code_in(&sent[1].0),
        "one code per recipient"
    );

    // A blocked domain or a bad URL in a link is named by the content check.
    let mut config = test_config();
    config.campaigns.blocked_domains = vec!["bad.example".into()];
    let strict = spawn_app_with(app.db.clone(), config);
    let c = crate::campaigns::create(
        &strict,
        &user,
        json!({"name": "Bad", "sender_id": sender, "list_ids": [list],
               "message": "Win {link:https://x.bad.example/a} {link:ftp://files.example/f} STOP"}),
    )
    .await;
    let id = c["id"].as_str().unwrap().to_owned();
    let r = crate::campaigns::act(&strict, &user, &id, "submit", json!({})).await;
    assert_eq!(r.json["status"], "rejected", "{}", r.text);
    let reason = r.json["rejection_reason"].as_str().unwrap();
    assert!(reason.contains("blocked domain bad.example"), "{reason}");
    assert!(
        reason.contains("ftp://files.example/f must start with https://"),
        "{reason}"
    );
}
