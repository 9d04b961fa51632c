//! The SSRF guard: inward URLs refused at registration, and at connect time for an endpoint
//! registered while they were allowed.

use sqlx::PgPool;

use super::receiver::Receiver;
use super::*;

fn strict() -> Config {
    let mut config = quick();
    config.webhooks.allowed_networks.clear();
    config
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn inward_urls_are_refused_at_registration(db: PgPool) {
    let app = spawn_app_with(db, strict());
    let user = app.verified("ssrf@example.com").await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/hook",
        "http://localhost:8080/hook",
        "http://[::ffff:192.168.0.1]/hook",
        "https://172.16.0.1/hook",
        "ftp://93.184.215.14/hook",
        "https://user:pw@93.184.215.14/hook",
    ] {
        let r = app
            .post(
                "/v1/webhooks/endpoints",
                Some(&user.access),
                json!({"url": url, "event_types": ["message.delivered"]}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url}: {}",
            r.text
        );
        assert!(r.text.contains("\"url\""), "{url}: {}", r.text);
    }
    // A public address is accepted (an IP literal: no resolver needed).
    let r = app
        .post(
            "/v1/webhooks/endpoints",
            Some(&user.access),
            json!({"url": "https://93.184.215.14/hook", "event_types": ["message.delivered"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // http:// is refused where it is not allowed.
    let mut no_http = strict();
    no_http.webhooks.allow_http = false;
    let app2 = spawn_app_with(app.db.clone(), no_http);
    let r = app2
        .post(
            "/v1/webhooks/endpoints",
            Some(&user.access),
            json!({"url": "http://93.184.215.14/hook", "event_types": ["message.delivered"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn inward_addresses_are_refused_at_connect_time(db: PgPool) {
    // Registered while loopback was allowed; the sender's guard no longer allows it (as when
    // a name is re-pointed at an inward address after registration).
    let app = spawn_app_with(db, quick());
    let user = app.verified("rebind@example.com").await;
    let rx = Receiver::start().await;
    let by_name = format!("http://localhost:{}/hook", rx.addr.port());
    let (id, _) = endpoint(&app, &user, &by_name, &["message.delivered"]).await;
    let delivery_id = test_fire(&app, &user, id, "message.delivered").await;
    let s = sender(&app, &strict());
    s.run_once().await.unwrap();
    assert_eq!(rx.count(), 0, "nothing reached the inward address");
    let d = delivery(&app, &user, &delivery_id).await;
    let error = d["attempts_log"][0]["error"].as_str().unwrap();
    assert!(error.contains("forbidden address"), "{error}");
    assert_eq!(
        d["state"], "pending",
        "retried: the guard may be relaxed by the operator"
    );
}
