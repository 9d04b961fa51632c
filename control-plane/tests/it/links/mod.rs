//! Short links: `{link:…}` in a campaign text rendered per recipient at the short URL's
//! length (preview, content check, dispatcher), `GET /{code}` redirecting from the cache,
//! clicks recorded off the redirect's path and told apart from machines (HEAD, previewer
//! user agents, within a second of delivery), the campaign's click-through rate in analytics
//! and its report, its clicks listed; an unknown code is a 404 problem.

mod clicks;
mod segments;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::campaigns::{campaign, dispatcher, list_of, queued, sender_ready};
use crate::helpers::*;

/// A phone's browser.
pub const PHONE: &str = "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 \
    (KHTML, like Gecko) Chrome/119.0 Mobile Safari/537.36";

/// `method /{code}` with `user_agent`.
pub async fn follow(app: &TestApp, method: Method, code: &str, user_agent: &str) -> Resp {
    let request = Request::builder()
        .method(method)
        .uri(format!("/{code}"))
        .header("user-agent", user_agent)
        .body(Body::empty())
        .unwrap();
    app.send(request).await
}

/// The campaign's messages: (id, body), by destination.
pub async fn bodies(app: &TestApp, campaign: &str) -> Vec<(Uuid, String)> {
    sqlx::query_as(
        "SELECT id, body FROM messages WHERE campaign_id = $1::uuid ORDER BY destination",
    )
    .bind(campaign)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// The 7-character code after `https://sl.example/` in `body`.
pub fn code_in(body: &str) -> String {
    let at = body.find("https://sl.example/").expect("a short URL") + "https://sl.example/".len();
    body[at..at + 7].to_owned()
}

/// Writes the clicks waiting in the channel (the writer worker does this in the service).
pub async fn flush(app: &TestApp) -> u64 {
    app.state
        .links
        .clicks
        .flush(&app.app_pool, &app.state.config.links)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn an_unknown_code_is_a_404_problem(db: PgPool) {
    let app = spawn_app(db);
    for path in ["Zz9Zz9Z", "abc", "toolongcode1"] {
        let r = follow(&app, Method::GET, path, PHONE).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            r.headers["content-type"], "application/problem+json",
            "{path}"
        );
        assert_eq!(problem_type(&r), "not-found");
    }
    // Nothing was recorded for them.
    assert_eq!(flush(&app).await, 0);
}

/// An approved, dispatched campaign of 3 recipients with `message`: (owner, campaign id).
pub async fn dispatched(app: &TestApp, email: &str, message: &str) -> (User, String) {
    let (user, sender) = sender_ready(app, email).await;
    let list = list_of(app, &user, "Shoppers", 0, 3).await;
    let id = queued(app, &user, &sender, &list, message).await;
    dispatcher(app, 100).drain().await.unwrap();
    (user, id)
}

pub fn rows(v: &Value) -> &Vec<Value> {
    v["data"].as_array().unwrap()
}
