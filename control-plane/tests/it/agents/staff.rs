//! The staff agent manager (`agents` module): the permission matrix (none / read / admin /
//! owner × every route), what the list and the detail show, the audit rows of suspend and
//! reactivate, and an agent suspended by staff stopping every sub-customer's sending path.

use axum::http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use super::*;
use crate::campaigns::gate::refused_everywhere;
use crate::campaigns::{act, create, dispatcher, list_of};
use crate::messages::{SAFARICOM, sent};
use crate::staff_admin::{audit_rows, check_matrix, route, staff_id, tokens_per_level};

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn agent_manager_permission_matrix_and_audit(db: PgPool) {
    let app = spawn_app(db);
    let a = agent(&app, "agent@example.com", "10").await;
    let sub = customer(&app, &a, "shop@example.com").await;
    retail_rate(&app, &a, sub.account_id, "1.10").await;
    sent(&app, &sub.access, json!({"to": [SAFARICOM], "text": "Hi"})).await;
    let (agent_id, sub_id) = (a.account_id, sub.account_id);
    let tokens = tokens_per_level(&app, Module::Agents).await;
    let routes = [
        route(Method::GET, "/v1/admin/agents", None, Level::Read),
        route(
            Method::GET,
            format!("/v1/admin/agents/{agent_id}"),
            None,
            Level::Read,
        ),
        route(
            Method::GET,
            format!("/v1/admin/agents/{agent_id}/customers/{sub_id}"),
            None,
            Level::Read,
        ),
        route(
            Method::POST,
            format!("/v1/admin/agents/{agent_id}/suspend"),
            Some(json!({"reason": "matrix"})),
            Level::Admin,
        ),
        route(
            Method::POST,
            format!("/v1/admin/agents/{agent_id}/reactivate"),
            Some(json!({"note": "ok"})),
            Level::Admin,
        ),
    ];
    check_matrix(&app, &tokens, &routes).await;
    // A customer token never passes; a staff token never passes the agent API.
    let r = app.get("/v1/admin/agents", &a.access).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = app.get("/v1/agent/customers", &tokens[3].1).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);

    let read = &tokens[1].1;
    let list = app.get("/v1/admin/agents", read).await;
    let row = &list.json["data"][0];
    assert_eq!(row["id"], json!(agent_id), "{}", list.text);
    assert_eq!(row["customers"], 1);
    assert_eq!(row["messages_this_month"], 1);
    assert_eq!(row["balance"], "9.5000");
    let detail = app.get(&format!("/v1/admin/agents/{agent_id}"), read).await;
    let c = &detail.json["customers"][0];
    assert_eq!(c["id"], json!(sub_id), "{}", detail.text);
    assert_eq!(c["rates"][0]["rate"], "1.100000", "{}", detail.text);
    // Not an agent, or not this agent's customer: 404.
    let direct = app.verified("direct@example.com").await;
    let r = app
        .get(&format!("/v1/admin/agents/{}", direct.account_id), read)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let other = agent(&app, "other@example.com", "0").await;
    let r = app
        .get(
            &format!("/v1/admin/agents/{}/customers/{sub_id}", other.account_id),
            read,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = app
        .post(
            &format!("/v1/admin/agents/{}/suspend", direct.account_id),
            Some(&tokens[2].1),
            json!({"reason": "not an agent"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // Each mutation audited once (the owner's second attempt was a 409), by the admin.
    let admin = staff_id(&app, &tokens[2].1).await;
    for action in ["agent.suspend", "agent.reactivate"] {
        let rows = audit_rows(&app, action).await;
        assert_eq!(rows.len(), 1, "{action}: {rows:?}");
        let (staff, target_type, target_id, _) = &rows[0];
        assert_eq!(*staff, Some(admin));
        assert_eq!(target_type.as_deref(), Some("account"));
        assert_eq!(target_id.as_deref(), Some(agent_id.to_string().as_str()));
    }
    let module: String =
        sqlx::query_scalar("SELECT module::text FROM audit_log WHERE action = 'agent.suspend'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(module, "agents");
    let reason = audit_rows(&app, "agent.suspend").await[0].3["reason"].clone();
    assert_eq!(reason, "matrix");
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn an_agent_suspended_by_staff_blocks_all_its_sub_customers(db: PgPool) {
    let app = spawn_app(db);
    let a = agent(&app, "agent@example.com", "50").await;
    let sub = customer(&app, &a, "shop@example.com").await;
    let other = customer(&app, &a, "other@example.com").await;
    let key = crate::sender_ids::api_key(&app, &sub, json!(["messages:send"])).await;
    let list = list_of(&app, &sub, "List", 0, 3).await;
    let sender = app.get("/v1/sender-ids", &sub.access).await.json["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = create(
        &app,
        &sub,
        json!({"name": "Later", "sender_id": sender, "list_ids": [list], "message": "Hey"}),
    )
    .await;
    let draft = c["id"].as_str().unwrap().to_owned();
    let r = act(&app, &sub, &draft, "submit", json!({})).await;
    assert_eq!(r.json["status"], "approved", "{}", r.text);

    let staff = staff_token(&app, &[(Module::Agents, Level::Admin)]).await;
    let r = app
        .post(
            &format!("/v1/admin/agents/{}/suspend", a.account_id),
            Some(&staff),
            json!({"reason": "Chargebacks"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["status"], "suspended", "{}", r.text);
    assert_eq!(r.json["suspended_reason"], "Chargebacks");
    let reason = "the organisation's agent is suspended: sending is not allowed";
    refused_everywhere(&app, &sub, &key, &draft, reason).await;
    refused(&app, &other, StatusCode::FORBIDDEN, reason).await;
    assert_eq!(money(&app, a.account_id).await, (d("50"), d("0")));
    assert_eq!(dispatcher(&app, 10).drain().await.unwrap(), 0);

    let r = app
        .post(
            &format!("/v1/admin/agents/{}/reactivate", a.account_id),
            Some(&staff),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    sent(
        &app,
        &other.access,
        json!({"to": [SAFARICOM], "text": "Hi"}),
    )
    .await;
    let r = act(&app, &sub, &draft, "send", json!({})).await;
    assert_eq!(r.json["status"], "queued", "{}", r.text);
    assert!(dispatcher(&app, 10).drain().await.unwrap() > 0);
    assert_eq!(money(&app, a.account_id).await, (d("48"), d("2")));
    assert!(ledger_holds(&app, a.account_id).await);
}
