//! Reading messages: one, the list with each filter and its cursor, the timeline; another
//! organisation's message is a 404 (the tenant walk covers every route too).

use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use super::*;

fn ids_of(r: &Resp) -> Vec<String> {
    r.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn one_message_the_filtered_list_and_the_timeline(db: PgPool) {
    let app = spawn_app(db);
    let owner = ready(&app, "owner@example.com", "100").await;
    let first = sent(
        &app,
        &owner.access,
        json!({"to": [SAFARICOM], "text": "one", "client_reference": "ref-1"}),
    )
    .await;
    let second = sent(
        &app,
        &owner.access,
        json!({"to": [SAFARICOM_2, SAFARICOM], "text": "two ሰላም", "priority": "high"}),
    )
    .await;

    let one = app
        .get(&format!("/v1/messages/{}", first[0]), &owner.access)
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(one.json["to"], SAFARICOM);
    assert_eq!(one.json["from"], "AcmeCorp");
    assert_eq!(one.json["status"], "submitted");
    assert_eq!(one.json["client_reference"], "ref-1");
    assert_eq!(one.json["unit_price"], "0.800000");
    assert_eq!(one.json["mno_id"], "ke-safaricom");
    let euro = app
        .get(&format!("/v1/messages/{}", second[0]), &owner.access)
        .await;
    assert_eq!(euro.json["encoding"], "ucs2");
    assert_eq!(euro.json["priority"], "high");

    let all = app.get("/v1/messages", &owner.access).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    let newest_first: Vec<String> = second
        .iter()
        .rev()
        .chain(first.iter())
        .map(ToString::to_string)
        .collect();
    assert_eq!(ids_of(&all), newest_first);
    let page = app.get("/v1/messages?limit=2", &owner.access).await;
    assert_eq!(ids_of(&page).len(), 2);
    let cursor = page.json["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/v1/messages?limit=2&cursor={cursor}"),
            &owner.access,
        )
        .await;
    assert_eq!(ids_of(&rest), [first[0].to_string()]);
    let by_ref = app
        .get("/v1/messages?client_reference=ref-1", &owner.access)
        .await;
    assert_eq!(ids_of(&by_ref), [first[0].to_string()]);
    // The recipient filter takes the national form too.
    let by_to = app.get("/v1/messages?to=0722000111", &owner.access).await;
    assert_eq!(ids_of(&by_to), [second[0].to_string()]);
    let queued = app.get("/v1/messages?status=queued", &owner.access).await;
    assert_eq!(ids_of(&queued).len(), 0);
    let future = app
        .get("/v1/messages?from=2999-01-01T00:00:00Z", &owner.access)
        .await;
    assert_eq!(ids_of(&future).len(), 0);
    let past = app
        .get(
            "/v1/messages?from=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z",
            &owner.access,
        )
        .await;
    assert_eq!(ids_of(&past).len(), 3);
    let backwards = app
        .get(
            "/v1/messages?from=2999-01-01T00:00:00Z&until=2000-01-01T00:00:00Z",
            &owner.access,
        )
        .await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = app.get("/v1/messages?status=lost", &owner.access).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad_to = app.get("/v1/messages?to=12", &owner.access).await;
    assert_eq!(bad_to.status, StatusCode::UNPROCESSABLE_ENTITY);

    let events = app
        .get(&format!("/v1/messages/{}/events", first[0]), &owner.access)
        .await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.text);
    assert_eq!(events.json["data"][0]["status"], "submitted");
    assert_eq!(events.json["data"][0]["parts"], 1);

    // Another organisation sees none of it.
    let other = ready(&app, "other@example.com", "0").await;
    for path in [
        format!("/v1/messages/{}", first[0]),
        format!("/v1/messages/{}/events", first[0]),
        format!("/v1/messages/{}", uuid::Uuid::now_v7()),
    ] {
        assert_eq!(
            app.get(&path, &other.access).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        ids_of(&app.get("/v1/messages", &other.access).await).len(),
        0
    );
}
