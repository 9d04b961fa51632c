//! Africa's Talking's `POST /version1/messaging`: their form, `apiKey` header and
//! `SMSMessageData` answer with per-recipient status codes; refusals send nothing.

use axum::http::StatusCode;
use sqlx::PgPool;

use super::*;
use crate::sender_ids::api_key;

pub async fn messaging(app: &TestApp, key: &str, form: &str) -> Resp {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/version1/messaging")
        .header("apiKey", key)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap();
    app.send(request).await
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn their_sdks_send_by_changing_the_base_url(db: PgPool) {
    let app = spawn_app(db);
    let owner = ready(&app, "owner@example.com", "1").await;
    sqlx::query("INSERT INTO suppressions (id, account_id, phone, source) VALUES ($1, $2, '+254711000002', 'manual')")
        .bind(uuid::Uuid::now_v7())
        .bind(owner.account_id)
        .execute(&app.db)
        .await
        .unwrap();
    let key = api_key(&app, &owner, json!(["messages:send"])).await;
    let r = messaging(
        &app,
        &key,
        "username=sandbox&to=%2B254712345678%2C12%2C%2B254711000002&message=Hello&from=AcmeCorp&enqueue=1&bulkSMSMode=1",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let data = &r.json["SMSMessageData"];
    assert_eq!(data["Message"], "Sent to 1/3 Total Cost: KES 0.8000");
    let codes: Vec<u64> = data["Recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["statusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [101, 403, 406]);
    let ok = &data["Recipients"][0];
    assert_eq!(ok["number"], SAFARICOM);
    assert_eq!(ok["status"], "Success");
    assert_eq!(ok["cost"], "KES 0.8000");
    let id: uuid::Uuid = ok["messageId"].as_str().unwrap().parse().unwrap();
    assert_eq!(timeline(&app, id).await, ["submitted"]);
    assert_eq!(data["Recipients"][1]["messageId"], "None");
    assert_eq!(data["Recipients"][2]["status"], "UserInBlacklist");

    // Not enough credit for two more: 405 for each, nothing sent.
    let r = messaging(
        &app,
        &key,
        "username=sandbox&to=%2B254712345678,%2B254722000111&message=Hi",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["SMSMessageData"]["Recipients"][1]["statusCode"], 405);
    assert_eq!(
        r.json["SMSMessageData"]["Recipients"][1]["status"],
        "InsufficientBalance"
    );
    // An unapproved sender ID: 402 InvalidSenderId.
    let r = messaging(
        &app,
        &key,
        "username=sandbox&to=%2B254712345678&message=Hi&from=Other",
    )
    .await;
    assert_eq!(r.json["SMSMessageData"]["Recipients"][0]["statusCode"], 402);
    // Bad input: named, nothing sent.
    for (form, field) in [
        ("to=%2B254712345678&message=Hi", "username"),
        ("username=sandbox&message=Hi", "to"),
        ("username=sandbox&to=%2B254712345678", "message"),
    ] {
        let r = messaging(&app, &key, form).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{form}");
        assert!(r.text.contains(&format!("'{field}'")), "{form}: {}", r.text);
    }
    let r = messaging(&app, &key, "username=sandbox&to=1&message=Hi&colour=red").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("colour"), "{}", r.text);
    let reader = api_key(&app, &owner, json!(["reports:read"])).await;
    let r = messaging(
        &app,
        &reader,
        "username=sandbox&to=%2B254712345678&message=Hi",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.text, "The supplied authentication is invalid");
    assert_eq!(count(&app, "messages", owner.account_id).await, 1);
}
