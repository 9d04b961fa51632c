//! Sent emails do not keep their single-use links in clear in `email_outbox`.

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn sent_bodies_lose_their_links(db: PgPool) {
    let app = spawn_app(db);
    let email = "outbox@example.com";
    app.signup(email).await;
    let r = app
        .post("/v1/auth/password/forgot", None, json!({ "email": email }))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let token = app.email_token(email, "password_reset").await;
    let mailer = semalink_control_plane::email::worker::Mailer::LogWithoutLinks;
    let sent = semalink_control_plane::email::worker::drain_once(&app.app_pool, &mailer)
        .await
        .unwrap();
    assert_eq!(sent, 2, "verification and reset");
    let bodies: Vec<String> =
        sqlx::query_scalar("SELECT body_text FROM email_outbox WHERE sent_at IS NOT NULL")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(bodies.len(), 2);
    for body in &bodies {
        assert!(!body.contains(&token), "{body}");
        assert!(body.contains("token=[redacted]"), "{body}");
    }
    // The link still works: only the stored copy was redacted.
    let reset = app
        .post(
            "/v1/auth/password/reset",
            None,
            json!({"token": token, "new_password": "Violet-Harbour-31"}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT, "{}", reset.text);
}
