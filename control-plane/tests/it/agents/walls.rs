//! The walls of the agent API, walked over EVERY `/v1/agent/…` route of the OpenAPI document
//! (so a route added later is walked too): agent B pointed at agent A's sub-customer answers
//! 404 and no list of B's shows A's customers; a sub-customer's and a direct customer's
//! tokens are refused (403) on every agent route. And on every customer list route, one
//! sub-customer never sees the agent's other customers or the agent's wholesale rate.

use axum::http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use super::*;
use crate::messages::{SAFARICOM, sent};

/// A valid body, so that the wall (not validation) answers.
fn body_for(method: &Method, path: &str) -> Option<Value> {
    match (method.as_str(), path) {
        ("POST", "/v1/agent/customers/{customer_id}/rates") => {
            Some(json!({"country": "KE", "rate": "1"}))
        }
        ("PUT" | "PATCH" | "POST", _) => Some(json!({})),
        _ => None,
    }
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn agents_sub_customers_and_direct_customers_are_walled_on_every_agent_route(db: PgPool) {
    let app = spawn_app(db);
    let a = agent(&app, "agent-a@example.com", "10").await;
    let sa = customer(&app, &a, "shop-a@example.com").await;
    let sa2 = customer(&app, &a, "shop-a2@example.com").await;
    let rate = retail_rate(&app, &a, sa.account_id, "1.25").await;
    assert_eq!(rate.status, StatusCode::CREATED, "{}", rate.text);
    sent(&app, &sa.access, json!({"to": [SAFARICOM], "text": "Hi"})).await;
    let b = agent(&app, "agent-b@example.com", "10").await;
    let sb = customer(&app, &b, "shop-b@example.com").await;
    let direct = app.verified("direct@example.com").await;
    let a_ids = [
        sa.account_id.to_string(),
        sa2.account_id.to_string(),
        "Shop of shop-a@example.com".to_owned(),
    ];

    let spec = app
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .json;
    let (mut walked_ids, mut walked_lists) = (0, 0);
    for (path, item) in spec["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/agent/") {
            continue;
        }
        for (method_name, op) in item.as_object().unwrap() {
            let Ok(method) = method_name.to_uppercase().parse::<Method>() else {
                continue;
            };
            let params: Vec<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            let mut uri = path.clone();
            for name in &params {
                assert_eq!(*name, "customer_id", "{path}: add a fixture for {{{name}}}");
                uri = uri.replace("{customer_id}", &sa.account_id.to_string());
            }
            // Not an agent: refused everywhere, whatever the id.
            for (who, token) in [("sub-customer", &sa.access), ("direct", &direct.access)] {
                let r = app
                    .call(method.clone(), &uri, Some(token), body_for(&method, path))
                    .await;
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{method} {uri} as {who}: {}",
                    r.text
                );
            }
            let r = app
                .call(
                    method.clone(),
                    &uri,
                    Some(&b.access),
                    body_for(&method, path),
                )
                .await;
            assert!(!r.status.is_server_error(), "{method} {uri}: {}", r.text);
            if params.is_empty() {
                if method == Method::GET {
                    for id in &a_ids {
                        assert!(
                            !r.text.contains(id.as_str()),
                            "{method} {uri} leaked {id}: {}",
                            r.text
                        );
                    }
                    walked_lists += 1;
                }
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::NOT_FOUND,
                    "{method} {uri} as agent B: {}",
                    r.text
                );
                walked_ids += 1;
                // Agent A reaches its own customer (reads only: the walk changes nothing).
                if method == Method::GET {
                    let own = app.call(method.clone(), &uri, Some(&a.access), None).await;
                    assert_eq!(
                        own.status,
                        StatusCode::OK,
                        "{method} {uri} as agent A: {}",
                        own.text
                    );
                }
            }
        }
    }
    assert!(walked_ids >= 8, "walked only {walked_ids} id routes");
    assert!(walked_lists >= 2, "walked only {walked_lists} list routes");

    // A sub-customer's own routes: never its siblings, another agent's customers, or the
    // wholesale rate; another tenant's message answers 404.
    let mut walked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        if path.starts_with("/v1/admin") || path.contains('{') || path == "/v1/auth/logout" {
            continue;
        }
        let Some(op) = item.get("get") else { continue };
        if op.get("security").is_none() {
            continue;
        }
        let r = app.get(path, &sa.access).await;
        assert!(!r.status.is_server_error(), "GET {path}: {}", r.text);
        for leak in [
            sa2.account_id.to_string(),
            sb.account_id.to_string(),
            a.account_id.to_string(),
            "0.500000".to_owned(),
            "agent_wholesale".to_owned(),
        ] {
            assert!(
                !r.text.contains(&leak),
                "GET {path} as a sub-customer leaked {leak}: {}",
                r.text
            );
        }
        walked += 1;
    }
    assert!(walked >= 10, "walked only {walked} customer routes");
    let theirs: Uuid = sqlx::query_scalar("SELECT id FROM messages WHERE account_id = $1")
        .bind(sa.account_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    for who in [&sa2, &sb] {
        let r = app
            .get(&format!("/v1/messages/{theirs}"), &who.access)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    }
}
