//! Campaigns: drafts and their tenant walls, the content check's reasons, the transitions
//! (409 naming the status), scheduling in the organisation's time zone, the preview; the
//! dispatcher ([`dispatch`]: tokens, batches, two dispatchers at once, a dispatcher killed
//! mid-campaign, an empty audience) and the money side ([`money`]: cancel with refunds equal
//! to the ledger, budget and credit pauses, the kill switch) and the send gate ([`gate`]: a
//! suspended organisation or agent stops every sending path).

mod dispatch;
pub mod gate;
mod money;
mod parallel;

use axum::http::{Method, StatusCode};
use semalink_control_plane::campaigns::dispatch::{Dispatcher, DispatcherConfig};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::*;
use crate::messages::ready_to_send;

/// An organisation able to send (approved default sender `AcmeCorp`, KE at 0.80 a part, 100
/// credits) and its sender ID's id.
pub async fn sender_ready(app: &TestApp, email: &str) -> (User, String) {
    let user = app.verified(email).await;
    let sender = ready_to_send(app, &user).await;
    (user, sender)
}

/// A list of `n` Safaricom contacts (`+25471xxxxxxx` from `first`); even ones have a first
/// name `Name<i>` and every one a `city` attribute `Town<i>`.
pub async fn list_of(app: &TestApp, user: &User, name: &str, first: u32, n: u32) -> String {
    let r = app
        .post(
            "/v1/contact-lists",
            Some(&user.access),
            json!({"name": name}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let list: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    sqlx::query(
        "WITH c AS (
            INSERT INTO contacts (id, account_id, phone, phone_raw, status, country, first_name,
                                  attributes)
            SELECT gen_random_uuid(), $1, '+2547' || lpad((10000000 + i)::text, 8, '0'),
                   '+2547' || lpad((10000000 + i)::text, 8, '0'), 'valid', 'KE',
                   CASE WHEN i % 2 = 0 THEN 'Name' || i END,
                   jsonb_build_object('city', 'Town' || i)
            FROM generate_series($3::int, $3::int + $4::int - 1) AS i
            ON CONFLICT (account_id, phone) DO UPDATE SET updated_at = now()
            RETURNING id
         )
         INSERT INTO contact_list_memberships (list_id, contact_id, account_id)
         SELECT $2, id, $1 FROM c",
    )
    .bind(user.account_id)
    .bind(list)
    .bind(first as i32)
    .bind(n as i32)
    .execute(&app.db)
    .await
    .unwrap();
    list.to_string()
}

/// Creates a campaign; its JSON.
pub async fn create(app: &TestApp, user: &User, body: Value) -> Value {
    let r = app.post("/v1/campaigns", Some(&user.access), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json
}

/// `POST /v1/campaigns/{id}/{action}`.
pub async fn act(app: &TestApp, user: &User, id: &str, action: &str, body: Value) -> Resp {
    app.post(
        &format!("/v1/campaigns/{id}/{action}"),
        Some(&user.access),
        body,
    )
    .await
}

/// A campaign to `list` with `message`, submitted for the content check; its id and the
/// submit's answer.
pub async fn submitted(
    app: &TestApp,
    user: &User,
    sender: &str,
    list: &str,
    message: &str,
) -> (String, Resp) {
    let c = create(
        app,
        user,
        json!({"name": "Promo", "sender_id": sender, "list_ids": [list], "message": message}),
    )
    .await;
    let id = c["id"].as_str().unwrap().to_owned();
    let r = act(app, user, &id, "submit", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    (id, r)
}

/// A campaign to `list` with `message`, approved and sent now (queued); its id.
pub async fn queued(app: &TestApp, user: &User, sender: &str, list: &str, message: &str) -> String {
    let (id, r) = submitted(app, user, sender, list, message).await;
    assert_eq!(r.json["status"], "approved", "{}", r.text);
    let r = act(app, user, &id, "send", json!({})).await;
    assert_eq!(r.json["status"], "queued", "{}", r.text);
    id
}

/// A dispatcher over the app's pool writing `batch` recipients per transaction.
pub fn dispatcher(app: &TestApp, batch: i64) -> Dispatcher {
    Dispatcher::new(&app.state).with_config(DispatcherConfig {
        batch,
        poll_interval_ms: 10,
    })
}

/// The campaign as its owner reads it.
pub async fn campaign(app: &TestApp, user: &User, id: &str) -> Value {
    let r = app.get(&format!("/v1/campaigns/{id}"), &user.access).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json
}

fn fields(r: &Resp) -> Vec<String> {
    r.json["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn drafts_are_created_edited_listed_duplicated_and_deleted(db: PgPool) {
    let app = spawn_app(db);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let list = list_of(&app, &a, "Customers", 0, 3).await;
    let c = create(
        &app,
        &a,
        json!({"name": "Launch", "sender_id": sender, "list_ids": [list, list],
               "audience_filter": {"tag": "vip"}, "message": "Hi {first_name|there}",
               "quiet_hours": true}),
    )
    .await;
    let id = c["id"].as_str().unwrap().to_owned();
    assert_eq!(c["status"], "draft");
    assert_eq!(c["list_ids"], json!([list]));
    assert_eq!(c["audience_filter"], json!({"tag": "vip"}));
    assert_eq!(c["quiet_hours"], true);

    // Edit: clear the filter, rename; other fields stay.
    let r = app
        .call(
            Method::PATCH,
            &format!("/v1/campaigns/{id}"),
            Some(&a.access),
            Some(json!({"name": "Launch 2", "audience_filter": null})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["name"], "Launch 2");
    assert_eq!(r.json["audience_filter"], Value::Null);
    assert_eq!(r.json["message"], "Hi {first_name|there}");

    // Bad fields are named.
    let r = app
        .post(
            "/v1/campaigns",
            Some(&a.access),
            json!({"name": " ", "timezone": "Mars", "send_at": "soon", "audience_filter": {"colour": 1}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(
        fields(&r),
        ["name", "audience_filter", "send_at", "timezone"]
    );
    let r = app
        .post(
            "/v1/campaigns",
            Some(&a.access),
            json!({"name": "x", "timezone": "Africa/Atlantis"}),
        )
        .await;
    assert_eq!(fields(&r), ["timezone"], "{}", r.text);

    // Another organisation's list and sender ID are named, not used.
    let (b, b_sender) = sender_ready(&app, "b@example.com").await;
    let b_list = list_of(&app, &b, "B list", 100, 1).await;
    let r = app
        .post(
            "/v1/campaigns",
            Some(&a.access),
            json!({"name": "x", "sender_id": b_sender, "list_ids": [list, b_list]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(fields(&r), ["sender_id", "list_ids[1]"]);

    // Duplicate, list with the status filter and cursor pages.
    let r = act(&app, &a, &id, "duplicate", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["name"], "Launch 2 (copy)");
    assert_eq!(r.json["list_ids"], json!([list]));
    let copy = r.json["id"].as_str().unwrap().to_owned();
    let page = app.get("/v1/campaigns?limit=1", &a.access).await;
    assert_eq!(page.json["data"][0]["id"], copy.as_str());
    let cursor = page.json["next_cursor"].as_str().unwrap();
    let next = app
        .get(&format!("/v1/campaigns?limit=1&cursor={cursor}"), &a.access)
        .await;
    assert_eq!(next.json["data"][0]["id"], id.as_str());
    let r = act(&app, &a, &id, "submit", json!({})).await;
    assert_eq!(r.json["status"], "approved", "{}", r.text);
    let approved = app.get("/v1/campaigns?status=approved", &a.access).await;
    assert_eq!(approved.json["data"].as_array().unwrap().len(), 1);
    assert_eq!(approved.json["data"][0]["id"], id.as_str());

    // Tenant wall: B sees none of A's campaigns.
    for (method, uri) in [
        (Method::GET, format!("/v1/campaigns/{id}")),
        (Method::PATCH, format!("/v1/campaigns/{id}")),
        (Method::DELETE, format!("/v1/campaigns/{id}")),
        (Method::POST, format!("/v1/campaigns/{id}/send")),
        (Method::POST, format!("/v1/campaigns/{id}/cancel")),
        (Method::POST, format!("/v1/campaigns/{id}/preview")),
    ] {
        let r = app
            .call(method.clone(), &uri, Some(&b.access), Some(json!({})))
            .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {uri}: {}",
            r.text
        );
    }
    let theirs = app.get("/v1/campaigns", &b.access).await;
    assert_eq!(theirs.json["data"], json!([]));

    // Only drafts (and rejected ones) are deleted; an approved one is a 409 naming it.
    let r = app
        .call(
            Method::DELETE,
            &format!("/v1/campaigns/{id}"),
            Some(&a.access),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.json["detail"].as_str().unwrap().contains("approved"),
        "{}",
        r.text
    );
    let r = app
        .call(
            Method::DELETE,
            &format!("/v1/campaigns/{copy}"),
            Some(&a.access),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app.get(&format!("/v1/campaigns/{copy}"), &a.access).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn the_content_check_names_each_problem(db: PgPool) {
    let mut config = test_config();
    config.campaigns.blocked_words = vec!["Casino".into()];
    config.campaigns.blocked_domains = vec!["scam.example".into()];
    let app = spawn_app_with(db, config);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let list = list_of(&app, &a, "Customers", 0, 2).await;

    // Empty text, no sender, no audience.
    let c = create(&app, &a, json!({"name": "Empty"})).await;
    let id = c["id"].as_str().unwrap();
    let r = act(&app, &a, id, "submit", json!({})).await;
    assert_eq!(r.json["status"], "rejected", "{}", r.text);
    let reason = r.json["rejection_reason"].as_str().unwrap();
    assert!(reason.contains("text is empty"), "{reason}");
    assert!(reason.contains("no sender ID"), "{reason}");
    assert!(reason.contains("no audience"), "{reason}");

    // Unknown and malformed tokens, blocked words and domains, too many parts.
    let long = "word ".repeat(200);
    let c = create(
        &app,
        &a,
        json!({"name": "Bad", "sender_id": sender, "list_ids": [list],
               "message": format!("{{first_name}} {{loyalty_tier}} Casino at https://win.scam.example/x {long}")}),
    )
    .await;
    let id = c["id"].as_str().unwrap();
    let r = act(&app, &a, id, "submit", json!({})).await;
    let reason = r.json["rejection_reason"].as_str().unwrap();
    let lines: Vec<&str> = reason.lines().collect();
    assert_eq!(lines.len(), 4, "{reason}");
    assert!(lines[0].contains("{loyalty_tier}"), "{reason}");
    assert!(lines[1].contains("over the limit of 6"), "{reason}");
    assert!(lines[2].contains("Casino"), "{reason}");
    assert!(lines[3].contains("scam.example"), "{reason}");
    let r = app
        .call(
            Method::PATCH,
            &format!("/v1/campaigns/{id}"),
            Some(&a.access),
            Some(json!({"message": "Hi {first_name"})),
        )
        .await;
    assert_eq!(
        r.json["status"], "draft",
        "editing a rejected campaign makes it a draft again"
    );
    let r = act(&app, &a, id, "submit", json!({})).await;
    assert!(
        r.json["rejection_reason"]
            .as_str()
            .unwrap()
            .contains("malformed token at character 4"),
        "{}",
        r.text
    );

    // A promotional sender needs opt-out text; a suspended one is named.
    let promo: Uuid = sqlx::query_scalar(
        "UPDATE sender_ids SET traffic_type = 'promotional' WHERE id = $1::uuid RETURNING id",
    )
    .bind(&sender)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let c = create(
        &app,
        &a,
        json!({"name": "Promo", "sender_id": promo, "list_ids": [list], "message": "Hi {city}, 20% off"}),
    )
    .await;
    let id = c["id"].as_str().unwrap();
    let r = act(&app, &a, id, "submit", json!({})).await;
    assert_eq!(
        r.json["rejection_reason"].as_str().unwrap(),
        "a promotional sender ID needs opt-out text (e.g. \"Reply STOP to opt out\")"
    );
    app.call(
        Method::PATCH,
        &format!("/v1/campaigns/{id}"),
        Some(&a.access),
        Some(json!({"message": "Hi {city}, 20% off. Reply STOP to opt out"})),
    )
    .await;
    let r = act(&app, &a, id, "submit", json!({})).await;
    assert_eq!(r.json["status"], "approved", "{}", r.text);
    sqlx::query("UPDATE sender_ids SET status = 'suspended', is_default = false WHERE id = $1")
        .bind(promo)
        .execute(&app.db)
        .await
        .unwrap();
    app.call(
        Method::PATCH,
        &format!("/v1/campaigns/{id}"),
        Some(&a.access),
        Some(json!({"name": "Promo again"})),
    )
    .await;
    let r = act(&app, &a, id, "submit", json!({})).await;
    assert!(
        r.json["rejection_reason"]
            .as_str()
            .unwrap()
            .contains("AcmeCorp is suspended"),
        "{}",
        r.text
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn illegal_transitions_are_409_naming_the_status(db: PgPool) {
    let app = spawn_app(db);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let list = list_of(&app, &a, "Customers", 0, 1).await;
    let c = create(
        &app,
        &a,
        json!({"name": "x", "sender_id": sender, "list_ids": [list], "message": "hi"}),
    )
    .await;
    let id = c["id"].as_str().unwrap();
    for action in ["send", "schedule", "pause", "resume"] {
        let r = act(&app, &a, id, action, json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{action}: {}", r.text);
        assert_eq!(r.json["detail"], "not allowed: the campaign is draft");
    }
    let id = queued(&app, &a, &sender, &list, "hi").await;
    let r = act(&app, &a, &id, "submit", json!({})).await;
    assert_eq!(r.json["detail"], "not allowed: the campaign is queued");
    dispatcher(&app, 10).drain().await.unwrap();
    sqlx::query("UPDATE campaigns SET status = 'completed' WHERE id = $1::uuid")
        .bind(&id)
        .execute(&app.db)
        .await
        .unwrap();
    for action in ["resume", "pause", "cancel", "send"] {
        let r = act(&app, &a, &id, action, json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{action}: {}", r.text);
        assert_eq!(r.json["detail"], "not allowed: the campaign is completed");
    }
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_local_send_time_is_in_the_organisations_time_zone(db: PgPool) {
    let app = spawn_app(db);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let list = list_of(&app, &a, "Customers", 0, 2).await;
    let year = time::OffsetDateTime::now_utc().year();
    let c = create(
        &app,
        &a,
        json!({"name": "Later", "sender_id": sender, "list_ids": [list], "message": "hi",
               "send_at": format!("{year}-01-15T09:00")}),
    )
    .await;
    // Africa/Nairobi (the organisation's zone) is UTC+3.
    assert_eq!(c["send_at"], format!("{year}-01-15T06:00:00Z"));
    assert_eq!(c["timezone"], "Africa/Nairobi");
    let id = c["id"].as_str().unwrap();
    act(&app, &a, id, "submit", json!({})).await;
    // A past send time cannot be scheduled.
    let r = act(
        &app,
        &a,
        id,
        "schedule",
        json!({"send_at": format!("{}-01-15T09:00", year - 1)}),
    )
    .await;
    assert_eq!(fields(&r), ["send_at"], "{}", r.text);
    // Tomorrow 09:00 in Lagos (UTC+1) is 08:00 UTC.
    let tomorrow = time::OffsetDateTime::now_utc().date().next_day().unwrap();
    let r = act(
        &app,
        &a,
        id,
        "schedule",
        json!({"send_at": format!("{tomorrow}T09:00"), "timezone": "Africa/Lagos"}),
    )
    .await;
    assert_eq!(r.json["status"], "scheduled", "{}", r.text);
    assert_eq!(r.json["send_at"], format!("{tomorrow}T08:00:00Z"));
    assert_eq!(r.json["timezone"], "Africa/Lagos");
    // Not due yet: the dispatcher leaves it.
    assert_eq!(dispatcher(&app, 10).drain().await.unwrap(), 0);
    assert_eq!(campaign(&app, &a, id).await["status"], "scheduled");
    // Once due, it is dispatched.
    sqlx::query("UPDATE campaigns SET send_at = now() - interval '1 second' WHERE id = $1::uuid")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(dispatcher(&app, 10).drain().await.unwrap(), 1);
    let c = campaign(&app, &a, id).await;
    assert_eq!(c["status"], "sending");
    assert_eq!(c["dispatched_count"], 2);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn the_preview_renders_counts_exclusions_and_prices(db: PgPool) {
    let app = spawn_app(db);
    let (a, sender) = sender_ready(&app, "a@example.com").await;
    let one = list_of(&app, &a, "One", 0, 4).await;
    let two = list_of(&app, &a, "Two", 2, 4).await; // 2 and 3 are in both lists.
    sqlx::query(
        "UPDATE contacts SET is_opted_out = true, opted_out_at = now()
         WHERE account_id = $1 AND phone = '+254710000001'",
    )
    .bind(a.account_id)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO suppressions (id, account_id, phone, source) VALUES ($1, $2, '+254710000004', 'manual')",
    )
    .bind(Uuid::now_v7())
    .bind(a.account_id)
    .execute(&app.db)
    .await
    .unwrap();
    let c = create(
        &app,
        &a,
        json!({"name": "P", "sender_id": sender, "list_ids": [one, two],
               "message": "Habari {first_name|rafiki} – karibu {city}"}),
    )
    .await;
    let id = c["id"].as_str().unwrap();
    let contact: Uuid = sqlx::query_scalar(
        "SELECT id FROM contacts WHERE account_id = $1 AND phone = '+254710000002'",
    )
    .bind(a.account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let r = act(&app, &a, id, "preview", json!({"contact_id": contact})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let p = &r.json;
    assert_eq!(p["text"], "Habari Name2 – karibu Town2");
    assert_eq!(p["encoding"], "ucs2");
    assert_eq!(p["forcing_ucs2"][0]["char"], "–");
    assert_eq!(p["transliterated"]["text"], "Habari Name2 - karibu Town2");
    assert_eq!(p["transliterated"]["encoding"], "gsm7");
    assert_eq!(p["audience"], 6);
    assert_eq!(p["excluded"]["opted_out"], 1);
    assert_eq!(p["excluded"]["suppressed"], 1);
    assert_eq!(p["excluded"]["duplicates"], 2);
    assert_eq!(p["recipients"], 4);
    assert_eq!(p["by_operator"][0]["country"], "KE");
    assert_eq!(p["by_operator"][0]["recipients"], 4);
    assert_eq!(p["total_cost"], "3.2000");
    assert_eq!(campaign(&app, &a, id).await["estimated_cost"], "3.2000");
    // Without a contact: the first recipient (an odd one has no first name: the fallback).
    let r = act(&app, &a, id, "preview", json!({})).await;
    assert!(
        r.json["text"].as_str().unwrap().starts_with("Habari "),
        "{}",
        r.text
    );
    // Another organisation's contact is named.
    let (b, _) = sender_ready(&app, "b@example.com").await;
    let b_list = list_of(&app, &b, "B", 50, 1).await;
    let _ = b_list;
    let b_contact: Uuid = sqlx::query_scalar("SELECT id FROM contacts WHERE account_id = $1")
        .bind(b.account_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let r = act(&app, &a, id, "preview", json!({"contact_id": b_contact})).await;
    assert_eq!(fields(&r), ["contact_id"], "{}", r.text);
}
