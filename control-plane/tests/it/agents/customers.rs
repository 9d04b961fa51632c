//! Sub-customers: created with their owner invited (the invitation makes them owner), the
//! list and the detail, retail rates with effective dates, deactivation (sends refused and
//! held, data kept) and reactivation, sender-ID status, and the CSV import with its dry run
//! and rejected rows.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use super::*;
use crate::messages::{SAFARICOM, sent};

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_sub_customer_is_created_invited_listed_and_priced(db: PgPool) {
    let app = spawn_app(db);
    let agent = agent(&app, "agent@example.com", "10").await;
    let r = create_customer(&app, &agent, "Duka Moja", "owner@duka.example").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["state"], "pending", "{}", r.text);
    assert_eq!(r.json["pending_owners"][0]["email"], "owner@duka.example");
    let id: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    let (kind, parent, billing): (String, Option<Uuid>, Uuid) = sqlx::query_as(
        "SELECT type::text, parent_agent_id, billing_account_id FROM accounts WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (kind.as_str(), parent, billing),
        ("agent_customer", Some(agent.account_id), agent.account_id)
    );
    // Bad input names the field.
    let bad = create_customer(&app, &agent, "", "not-an-email").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    // A direct customer (not an agent) may not.
    let direct = app.verified("direct@example.com").await;
    let r = create_customer(&app, &direct, "X", "x@example.com").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);

    let owner = join(&app, "owner@duka.example", id).await;
    let detail = app
        .get(&format!("/v1/agent/customers/{id}"), &agent.access)
        .await;
    assert_eq!(detail.json["state"], "active", "{}", detail.text);
    assert_eq!(detail.json["members"], 1);
    assert_eq!(detail.json["pending_owners"], json!([]));
    // The owner's team: they are its owner.
    let members = app.get("/v1/account/members", &owner.access).await;
    assert_eq!(members.json["data"][0]["role"], "owner", "{}", members.text);

    // The agent signs in like anyone and uses the agent API.
    let login = app.login("agent@example.com", PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    let token = login.json["tokens"]["access_token"].as_str().unwrap();
    assert_eq!(
        app.get("/v1/agent/customers", token).await.status,
        StatusCode::OK
    );

    // The agent's default retail list applies until the customer has a rate of its own.
    let r = app
        .post(
            "/v1/agent/rates",
            Some(&agent.access),
            json!({"country": "KE", "rate": "1.05"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["scope"], "agent_retail");
    let mine = app.get("/v1/agent/rates", &agent.access).await;
    assert_eq!(mine.json["history"][0]["rate"], "1.050000", "{}", mine.text);
    assert_eq!(
        mine.json["in_force"][0]["rate"], "0.500000",
        "{}",
        mine.text
    );
    let quote = app
        .post(
            "/v1/pricing/quote",
            Some(&owner.access),
            json!({"to": SAFARICOM, "text": "Hi"}),
        )
        .await;
    assert_eq!(quote.json["total"], "1.0500", "{}", quote.text);

    // Retail rates: now, and one from tomorrow; history keeps both, staff see them.
    let r = retail_rate(&app, &agent, id, "1.10").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["scope"], "account");
    let tomorrow = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let later = app
        .post(
            &format!("/v1/agent/customers/{id}/rates"),
            Some(&agent.access),
            json!({"country": "KE", "mno_id": "ke-safaricom", "rate": "1.30",
                   "effective_from": tomorrow.format(&time::format_description::well_known::Rfc3339).unwrap()}),
        )
        .await;
    assert_eq!(later.status, StatusCode::CREATED, "{}", later.text);
    let past = app
        .post(
            &format!("/v1/agent/customers/{id}/rates"),
            Some(&agent.access),
            json!({"country": "KE", "rate": "1", "effective_from": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        past.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        past.text
    );
    let rates = app
        .get(&format!("/v1/agent/customers/{id}/rates"), &agent.access)
        .await;
    assert_eq!(
        rates.json["history"].as_array().unwrap().len(),
        2,
        "{}",
        rates.text
    );
    let ke: Vec<&Value> = rates.json["in_force"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["mno_id"].is_null())
        .collect();
    assert_eq!(ke[0]["rate"], "1.100000", "{}", rates.text);
    let quote = app
        .post(
            "/v1/pricing/quote",
            Some(&owner.access),
            json!({"to": SAFARICOM, "text": "Hi"}),
        )
        .await;
    assert_eq!(quote.json["total"], "1.1000", "{}", quote.text);
    let staff = staff_token(&app, &[(Module::Pricing, Level::Read)]).await;
    let history = app
        .get(&format!("/v1/admin/pricing/rates?account_id={id}"), &staff)
        .await;
    assert_eq!(
        history.json["data"].as_array().map(Vec::len),
        Some(2),
        "{}",
        history.text
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_deactivated_sub_customer_cannot_send_and_keeps_its_data(db: PgPool) {
    let app = spawn_app(db);
    let agent = agent(&app, "agent@example.com", "10").await;
    let sub = customer(&app, &agent, "shop@example.com").await;
    let other = customer(&app, &agent, "other@example.com").await;
    let publisher = semalink_control_plane::messages::publisher::OutboxPublisher::new(
        app.app_pool.clone(),
        &app.state.bus,
        &semalink_control_plane::bus::Queues::of(None),
        Default::default(),
    )
    .unwrap();
    let _sub = app
        .state
        .bus
        .subscribe::<semalink_protocol::contracts::SubmitRequest>(
            &semalink_control_plane::bus::Queues::of(None).normal,
            100,
        )
        .unwrap();
    sent(
        &app,
        &sub.access,
        json!({"to": [SAFARICOM], "text": "Before"}),
    )
    .await;
    // A campaign queued before the deactivation.
    let list = crate::campaigns::list_of(&app, &sub, "List", 0, 2).await;
    let sender = app.get("/v1/sender-ids", &sub.access).await.json["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let campaign = crate::campaigns::queued(&app, &sub, &sender, &list, "Hi").await;
    let path = format!("/v1/agent/customers/{}", sub.account_id);
    let r = app
        .post(
            &format!("{path}/deactivate"),
            Some(&agent.access),
            json!({"reason": "Unpaid invoices"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["state"], "deactivated");
    assert_eq!(r.json["deactivated_reason"], "Unpaid invoices");
    let again = app
        .post(
            &format!("{path}/deactivate"),
            Some(&agent.access),
            json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let before = money(&app, agent.account_id).await;
    refused(
        &app,
        &sub,
        StatusCode::FORBIDDEN,
        "the organisation was deactivated by its agent: sending is not allowed",
    )
    .await;
    assert_eq!(money(&app, agent.account_id).await, before);
    // The dispatcher leaves its campaign alone.
    let dispatcher = crate::campaigns::dispatcher(&app, 10);
    assert_eq!(dispatcher.drain().await.unwrap(), 0);
    // What it had accepted is held; the other customer's goes out.
    sent(
        &app,
        &other.access,
        json!({"to": [SAFARICOM], "text": "Other"}),
    )
    .await;
    assert_eq!(publisher.drain_once().await.unwrap(), 1);
    // Its data is still there and readable by its users.
    let messages = app.get("/v1/messages", &sub.access).await;
    assert_eq!(messages.status, StatusCode::OK, "{}", messages.text);
    assert_eq!(messages.json["data"].as_array().unwrap().len(), 1);
    // Reactivated: the held message goes out, new sends are accepted.
    let r = app
        .post(
            &format!("{path}/reactivate"),
            Some(&agent.access),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["state"], "active");
    assert_eq!(publisher.drain_once().await.unwrap(), 1);
    assert_eq!(dispatcher.drain().await.unwrap(), 1);
    let k = crate::campaigns::campaign(&app, &sub, &campaign).await;
    assert_eq!(k["dispatched_count"], 2, "{k}");
    sent(
        &app,
        &sub.access,
        json!({"to": [SAFARICOM], "text": "After"}),
    )
    .await;
    let r = app
        .post(
            &format!("{path}/reactivate"),
            Some(&agent.access),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    // Sender IDs: read-only status.
    let ids = app.get(&format!("{path}/sender-ids"), &agent.access).await;
    assert_eq!(ids.json["data"][0]["status"], "approved", "{}", ids.text);
}

async fn import(app: &TestApp, agent: &User, query: &str, csv: &str) -> Resp {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/v1/agent/customers/import{query}"))
        .header("authorization", format!("Bearer {}", agent.access))
        .header("content-type", "text/csv")
        .body(Body::from(csv.to_owned()))
        .unwrap();
    app.send(request).await
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn sub_customers_are_imported_from_csv_with_rejected_rows(db: PgPool) {
    let app = spawn_app(db);
    let agent = agent(&app, "agent@example.com", "0").await;
    let csv = "\u{feff}name,owner_email,country\r\n\
               Duka Moja,one@example.com,KE\r\n\
               ,two@example.com,KE\r\n\
               \"Shop, Two\",not-an-email,KE\r\n\
               Duka Moja,three@example.com,KE\r\n\
               Kampala Traders,four@example.com,UG\r\n\
               Nowhere,five@example.com,XX\r\n\
               \r\n";
    let dry = import(&app, &agent, "?dry_run=true", csv).await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
    assert_eq!(dry.json["total"], 6, "{}", dry.text);
    assert_eq!(dry.json["valid"], 2);
    assert_eq!(dry.json["created"], json!([]));
    let rejected = dry.json["rejected"].as_array().unwrap();
    let rows: Vec<u64> = rejected
        .iter()
        .map(|r| r["row"].as_u64().unwrap())
        .collect();
    assert_eq!(rows, vec![3, 4, 5, 7], "{}", dry.text);
    assert!(rejected[0]["reason"].as_str().unwrap().starts_with("name:"));
    assert!(
        rejected[1]["reason"]
            .as_str()
            .unwrap()
            .contains("owner_email")
    );
    assert!(rejected[2]["reason"].as_str().unwrap().contains("earlier"));
    assert!(rejected[3]["reason"].as_str().unwrap().contains("country"));
    assert_eq!(rejected[1]["fields"][0], "Shop, Two");
    let list = app.get("/v1/agent/customers", &agent.access).await;
    assert_eq!(list.json["data"], json!([]), "a dry run creates nothing");

    let file = import(&app, &agent, "?rejected=csv", csv).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.text);
    assert!(file.text.contains("row,reason,fields"), "{}", file.text);
    assert!(file.text.contains("\"Shop, Two\""), "{}", file.text);

    let done = import(&app, &agent, "", csv).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(
        done.json["created"].as_array().unwrap().len(),
        2,
        "{}",
        done.text
    );
    let list = app.get("/v1/agent/customers", &agent.access).await;
    let names: Vec<&str> = list.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Kampala Traders", "Duka Moja"]);
    assert_eq!(list.json["data"][0]["country"], "UG");
    assert_eq!(app.email_count("four@example.com", "invitation").await, 1);

    let no_header = import(&app, &agent, "", "a,b\n1,2\n").await;
    assert_eq!(
        no_header.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        no_header.text
    );
    let binary = import(&app, &agent, "", "PK\u{3}\u{4}xxxx").await;
    assert_eq!(
        binary.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        binary.text
    );
}
