//! `/metrics` is served on the internal listener only.

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn metrics_are_not_on_the_public_listener(db: PgPool) {
    let app = spawn_app(db);
    app.call(Method::GET, "/health", None, None).await;
    let public = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(public.status, StatusCode::NOT_FOUND, "{}", public.text);
    let internal = app.internal_get("/metrics").await;
    assert_eq!(internal.status, StatusCode::OK);
    assert!(
        internal.text.contains("semalink_api_http_requests_total"),
        "{}",
        internal.text
    );
    let spec = app
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .json;
    assert!(spec["paths"].get("/metrics").is_none());
}
