//! Kannel's `GET /cgi-bin/sendsms`: Kannel's answers for a send, a deferred send and every
//! refusal, and nothing sent when refused.

use axum::http::StatusCode;
use sqlx::PgPool;

use super::*;
use crate::sender_ids::api_key;

pub async fn sendsms(app: &TestApp, query: &str) -> Resp {
    let request = Request::builder()
        .uri(format!("/cgi-bin/sendsms?{query}"))
        .body(Body::empty())
        .unwrap();
    app.send(request).await
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn kannel_clients_send_with_an_api_key_as_password(db: PgPool) {
    let app = spawn_app(db);
    let owner = ready(&app, "owner@example.com", "10").await;
    let key = api_key(&app, &owner, json!(["messages:send"])).await;
    let r = sendsms(
        &app,
        &format!("username=shop&password={key}&to=%2B254712345678+0722000111&text=Hello+there&dlr-mask=31&dlr-url=http%3A%2F%2Fexample.com%2Fdlr"),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.text, "0: Accepted for delivery");
    assert_eq!(count(&app, "messages", owner.account_id).await, 2);
    let r = sendsms(
        &app,
        &format!(
            "username=shop&password={key}&to=254712345678&text=Later&deferred=30&from=AcmeCorp"
        ),
    )
    .await;
    assert_eq!(r.text, "3: Queued for later delivery");
    let send_at: Option<time::OffsetDateTime> =
        sqlx::query_scalar("SELECT send_at FROM messages WHERE account_id = $1 AND body = 'Later'")
            .bind(owner.account_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(send_at.is_some());
    assert_eq!(count(&app, "messages", owner.account_id).await, 3);

    // Refusals, each in Kannel's words, none sending anything.
    let reader = api_key(&app, &owner, json!(["reports:read"])).await;
    for (query, status, answer) in [
        (
            "username=shop&password=sl_live_nope&to=254712345678&text=x".to_owned(),
            403,
            "Authorization failed for sendsms",
        ),
        (
            format!("username=shop&password={reader}&to=254712345678&text=x"),
            403,
            "Authorization failed for sendsms",
        ),
        (
            format!("password={key}&to=254712345678&text=x"),
            403,
            "Authorization failed for sendsms",
        ),
        (
            format!("username=shop&password={key}&text=x"),
            400,
            "Wrong sendsms args, rejected",
        ),
        (
            format!("username=shop&password={key}&to=+&text=x"),
            400,
            "Empty receiver number not allowed, rejected",
        ),
        (
            format!("username=shop&password={key}&to=254712345678&text=x&coding=1"),
            400,
            "Wrong sendsms args, rejected",
        ),
        (
            format!("username=shop&password={key}&to=254712345678&text=x&dlr-mask=abc"),
            400,
            "Wrong sendsms args, rejected",
        ),
        (
            format!("username=shop&password={key}&to=12+34&text=x"),
            403,
            "Number(s) has/have been denied by white- and/or black-lists.",
        ),
        (
            format!("username=shop&password={key}&to=254712345678&text=x&from=Other"),
            403,
            "Authorization failed for sendsms",
        ),
    ] {
        let r = sendsms(&app, &query).await;
        assert_eq!(r.status.as_u16(), status, "{query}: {}", r.text);
        assert_eq!(r.text, answer, "{query}");
    }
    assert_eq!(count(&app, "messages", owner.account_id).await, 3);
    // Not enough credit for 30 more.
    let many: Vec<String> = (0..30).map(|i| format!("2547120000{i:02}")).collect();
    let r = sendsms(
        &app,
        &format!("username=shop&password={key}&to={}&text=x", many.join("+")),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{}", r.text);
    assert_eq!(count(&app, "messages", owner.account_id).await, 3);
}
