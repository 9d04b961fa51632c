//! The tenant wall: walks EVERY customer route in the OpenAPI document with a second
//! account's credentials, pointing path parameters at the first account's resources. Each
//! must answer 404, and no list may leak the first account's ids. The route list is the
//! OpenAPI document itself, so routes added by later modules are walked automatically; a new
//! path parameter must be given a fixture in `resource_for` or the test fails. The agent API
//! (`/v1/agent/…`) is walked with a second agent's credentials against the first agent's
//! sub-customer (the agents tests walk it with sub-customer and direct tokens too).

use std::collections::HashMap;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::*;

/// Account A's resources, by the path parameter name that addresses them.
struct Fixtures {
    ids: HashMap<&'static str, String>,
}

impl Fixtures {
    fn resource_for(&self, param: &str) -> &str {
        self.ids.get(param).unwrap_or_else(|| {
            panic!("tenant walk: no fixture for path parameter {{{param}}}; add one")
        })
    }
}

/// A valid body for operations that need one, so that the wall (not validation) answers.
fn body_for(method: &Method, path: &str) -> Option<Value> {
    match (method.as_str(), path) {
        ("PATCH", "/v1/account/members/{user_id}") => Some(json!({"role": "member"})),
        ("POST", "/v1/agent/customers/{customer_id}/rates") => {
            Some(json!({"country": "KE", "rate": "1"}))
        }
        ("PUT" | "PATCH" | "POST", _) => Some(json!({})),
        _ => None,
    }
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn another_accounts_resources_answer_404_on_every_route(db: PgPool) {
    let app = spawn_app(db);
    // Account A: owner, a second member, a pending invitation, an API key, a second session.
    let a = app.verified("alpha@example.com").await;
    app.post(
        "/v1/account/invitations",
        Some(&a.access),
        json!({"email": "alpha2@example.com", "role": "member"}),
    )
    .await;
    let token = app.email_token("alpha2@example.com", "invitation").await;
    let a2 = app.signup("alpha2@example.com").await;
    assert_eq!(
        app.post(
            "/v1/invitations/accept",
            Some(&a2.access),
            json!({"token": token})
        )
        .await
        .status,
        StatusCode::OK
    );
    let pending = app
        .post(
            "/v1/account/invitations",
            Some(&a.access),
            json!({"email": "alpha3@example.com", "role": "member"}),
        )
        .await;
    let invitation_id = pending.json["id"].as_str().unwrap().to_owned();
    let key = app
        .post(
            "/v1/api-keys",
            Some(&a.access),
            json!({"name": "a-key", "scopes": ["contacts:read"]}),
        )
        .await;
    let key_id = key.json["key"]["id"].as_str().unwrap().to_owned();
    let a_secret = key.json["secret"].as_str().unwrap().to_owned();
    let sessions = app.get("/v1/auth/sessions", &a.access).await;
    let session_id = sessions.json["data"][0]["id"].as_str().unwrap().to_owned();
    let notification_id = notify(&app, a.account_id, "test.wall").await.to_string();
    let sender = app
        .post(
            "/v1/sender-ids",
            Some(&a.access),
            json!({"name": "AlphaCo", "country": "KE", "use_case": "Order updates for customers", "traffic_type": "transactional"}),
        )
        .await;
    assert_eq!(sender.status, StatusCode::CREATED, "{}", sender.text);
    let sender_id_id = sender.json["id"].as_str().unwrap().to_owned();
    // Contacts: a list, a contact in it, a suppressed number.
    let list = app
        .post(
            "/v1/contact-lists",
            Some(&a.access),
            json!({"name": "A list"}),
        )
        .await;
    let list_id = list.json["id"].as_str().unwrap().to_owned();
    let contact = app
        .post(
            "/v1/contacts",
            Some(&a.access),
            json!({"phone": "0712345678", "list_ids": [list_id]}),
        )
        .await;
    let contact_id = contact.json["id"].as_str().unwrap().to_owned();
    let suppression = app
        .post(
            "/v1/suppressions",
            Some(&a.access),
            json!({"phone": "0712000000"}),
        )
        .await;
    let suppression_id = suppression.json["id"].as_str().unwrap().to_owned();
    let credit_tx_id = crate::credits::fund(&app, a.account_id, "wall-topup", "10")
        .await
        .transaction
        .id
        .to_string();
    // A committed contact import (and the list it created).
    let (import, import_list_id) = crate::imports::import_into_new_list(
        &app,
        &a.access,
        "phone,first_name\n+254712000900,Alpha\n",
        "Alpha list",
    )
    .await;
    let import_id = import["id"].as_str().unwrap().to_owned();
    // A message (its sender ID approved as the default, a rate, credits).
    let sent = crate::messages::ready_to_send(&app, &a).await;
    let message_id = crate::messages::sent(
        &app,
        &a.access,
        json!({"to": ["+254712345678"], "text": "hello"}),
    )
    .await[0]
        .to_string();
    // A reply to that message.
    let inbound = semalink_protocol::contracts::InboundMessage {
        version: semalink_protocol::contracts::VERSION,
        id: uuid::Uuid::now_v7(),
        from: "254712345678".into(),
        to: "AcmeCorp".into(),
        text: "Asante".into(),
        received_at: time::OffsetDateTime::now_utc(),
        upstream: "celcom-1".into(),
        segments: 1,
        numbering: None,
    };
    semalink_control_plane::inbound::store::apply_batch(
        &app.app_pool,
        std::slice::from_ref(&inbound),
        &Default::default(),
        "http://localhost:3000",
    )
    .await
    .unwrap();
    let inbound_id = inbound.id.to_string();
    // A campaign to A's list.
    let campaign = app
        .post(
            "/v1/campaigns",
            Some(&a.access),
            json!({"name": "A campaign", "list_ids": [list_id], "message": "hi"}),
        )
        .await;
    assert_eq!(campaign.status, StatusCode::CREATED, "{}", campaign.text);
    let campaign_id = campaign.json["id"].as_str().unwrap().to_owned();
    // A webhook endpoint and a delivery to it.
    let (endpoint, _) =
        crate::webhooks::endpoint(&app, &a, "http://127.0.0.1:9/hook", &["message.sent"]).await;
    let endpoint_id = endpoint.to_string();
    let delivery_id = crate::webhooks::test_fire(&app, &a, endpoint, "message.sent").await;
    // A's adapter-callback secret, and a short link of A's campaign with a click on it.
    let a_callbacks = app
        .post(
            "/v1/webhooks/callbacks/rotate-secret",
            Some(&a.access),
            json!({}),
        )
        .await;
    assert_eq!(a_callbacks.status, StatusCode::OK, "{}", a_callbacks.text);
    let a_callback_secret = a_callbacks.json["secret"].as_str().unwrap().to_owned();
    let click_id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "WITH l AS (
            INSERT INTO short_links (code, account_id, campaign_id, message_id, position, url)
            VALUES ('Wall001', $1, $2::uuid, $3::uuid, 0, 'https://alpha.example/')
            RETURNING code)
         INSERT INTO link_clicks (id, code, account_id, campaign_id, message_id, clicked_at,
                                  method)
         SELECT $4::uuid, code, $1, $2::uuid, $3::uuid, now(), 'GET' FROM l",
    )
    .bind(a.account_id)
    .bind(&campaign_id)
    .bind(&message_id)
    .bind(&click_id)
    .execute(&app.db)
    .await
    .unwrap();

    // An agent with a sub-customer, and a second agent for the agent routes.
    let agent_a = crate::agents::agent(&app, "agent-a@example.com", "10").await;
    let sub_a = crate::agents::customer(&app, &agent_a, "shop-a@example.com").await;
    let agent_b = crate::agents::agent(&app, "agent-b@example.com", "0").await;

    // Account B: an owner with a verified email, so neither role nor verification is the reason.
    let b = app.verified("bravo@example.com").await;
    let b_key = app
        .post(
            "/v1/api-keys",
            Some(&b.access),
            json!({"name": "b-key", "scopes": ["contacts:read", "contacts:write", "sender_ids:read", "sender_ids:write", "billing:read", "messages:send", "reports:read"]}),
        )
        .await;
    let b_secret = b_key.json["secret"].as_str().unwrap().to_owned();

    let fixtures = Fixtures {
        ids: HashMap::from([
            ("user_id", a2.user_id.to_string()),
            ("invitation_id", invitation_id.clone()),
            ("key_id", key_id.clone()),
            ("session_id", session_id.clone()),
            ("notification_id", notification_id.clone()),
            ("sender_id_id", sender_id_id.clone()),
            ("contact_id", contact_id.clone()),
            ("list_id", list_id.clone()),
            ("suppression_id", suppression_id.clone()),
            ("import_id", import_id.clone()),
            ("message_id", message_id.clone()),
            ("inbound_id", inbound_id.clone()),
            ("campaign_id", campaign_id.clone()),
            ("endpoint_id", endpoint_id.clone()),
            ("delivery_id", delivery_id.clone()),
            ("customer_id", sub_a.account_id.to_string()),
        ]),
    };
    let a_ids = [
        a.account_id.to_string(),
        a.user_id.to_string(),
        a2.user_id.to_string(),
        invitation_id.clone(),
        key_id.clone(),
        session_id.clone(),
        notification_id.clone(),
        sender_id_id.clone(),
        contact_id.clone(),
        list_id.clone(),
        suppression_id.clone(),
        credit_tx_id.clone(),
        import_id.clone(),
        import_list_id.clone(),
        message_id.clone(),
        inbound_id.clone(),
        sent.clone(),
        campaign_id.clone(),
        endpoint_id.clone(),
        delivery_id.clone(),
        sub_a.account_id.to_string(),
        click_id.clone(),
        a_callback_secret.clone(),
    ];

    let spec = app
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .json;
    let mut walked_with_params = 0;
    let mut walked_lists = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        if path.starts_with("/v1/admin") {
            continue; // Staff routes are not tenant-scoped; covered by the staff tests.
        }
        if path == "/v1/auth/logout" {
            continue; // Ends B's own session (and so B's token): acts on no other account.
        }
        for (method_name, op) in item.as_object().unwrap() {
            let Ok(method) = method_name.to_uppercase().parse::<Method>() else {
                continue;
            };
            if op.get("security").is_none() {
                continue; // Public routes act on no account's resources.
            }
            let mut uri = path.clone();
            let mut has_params = false;
            for param in op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
            {
                let name = param["name"].as_str().unwrap();
                uri = uri.replace(&format!("{{{name}}}"), fixtures.resource_for(name));
                has_params = true;
            }
            let uses_key = op["security"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s.get("api_key").is_some());
            let credential = if path.starts_with("/v1/agent/") {
                agent_b.access.as_str()
            } else if uses_key {
                b_secret.as_str()
            } else {
                b.access.as_str()
            };
            let r = app
                .call(
                    method.clone(),
                    &uri,
                    Some(credential),
                    body_for(&method, path),
                )
                .await;
            assert!(!r.status.is_server_error(), "{method} {uri}: {}", r.status);
            if has_params {
                assert_eq!(
                    r.status,
                    StatusCode::NOT_FOUND,
                    "{method} {uri} with another account's id: {}",
                    r.text
                );
                walked_with_params += 1;
            } else if method == Method::GET {
                for id in &a_ids {
                    assert!(
                        !r.text.contains(id.as_str()),
                        "{method} {uri} leaked {id}: {}",
                        r.text
                    );
                }
                walked_lists += 1;
            }
        }
    }
    assert!(
        walked_with_params >= 5,
        "walked only {walked_with_params} id routes"
    );
    assert!(walked_lists >= 6, "walked only {walked_lists} list routes");

    // Account A is untouched.
    assert_eq!(
        app.get("/v1/api-keys/current", &a_secret).await.status,
        StatusCode::OK
    );
    let members = app.get("/v1/account/members", &a.access).await;
    assert_eq!(members.json["data"].as_array().unwrap().len(), 2);
    let import = app
        .get(&format!("/v1/contacts/imports/{import_id}"), &a.access)
        .await;
    assert_eq!(import.json["status"], "completed", "{}", import.text);
    let invitations = app.get("/v1/account/invitations", &a.access).await;
    assert_eq!(invitations.json["data"].as_array().unwrap().len(), 1);
    let revoked: Option<time::OffsetDateTime> =
        sqlx::query_scalar("SELECT revoked_at FROM sessions WHERE id = $1::uuid")
            .bind(&session_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(revoked.is_none());
    let sender = app
        .get(&format!("/v1/sender-ids/{sender_id_id}"), &a.access)
        .await;
    assert_eq!(sender.json["status"], "pending", "{}", sender.text);
    let contact = app
        .get(&format!("/v1/contacts/{contact_id}"), &a.access)
        .await;
    assert_eq!(contact.json["deleted_at"], Value::Null, "{}", contact.text);
    assert_eq!(contact.json["list_ids"], json!([list_id]));
    let list = app
        .get(&format!("/v1/contact-lists/{list_id}"), &a.access)
        .await;
    assert_eq!(list.json["total_count"], 1);
    let suppressions = app.get("/v1/suppressions", &a.access).await;
    assert_eq!(suppressions.json["data"][0]["id"], json!(suppression_id));
    // B's callback secret is B's own; A's clicks are A's to read.
    let secret: String = sqlx::query_scalar(
        "SELECT secret FROM webhook_endpoints WHERE account_id = $1 AND kind = 'callbacks'",
    )
    .bind(a.account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(secret, a_callback_secret);
    let clicks = app
        .get(&format!("/v1/campaigns/{campaign_id}/clicks"), &a.access)
        .await;
    assert_eq!(
        clicks.json["data"][0]["id"],
        json!(click_id),
        "{}",
        clicks.text
    );
}
