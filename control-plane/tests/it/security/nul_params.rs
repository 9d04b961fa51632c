//! NUL characters in query strings and path parameters are 400 problems naming the field,
//! on every route (they used to reach PostgreSQL and come back as 500s).

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn nul_in_query_and_path_is_a_400_naming_the_field(db: PgPool) {
    let app = spawn_app(db);
    let user = app.verified("nul@example.com").await;
    let list = app
        .post(
            "/v1/contact-lists",
            Some(&user.access),
            json!({"name": "Nul list"}),
        )
        .await;
    assert_eq!(list.status, StatusCode::CREATED, "{}", list.text);
    let list_id = list.json["id"].as_str().unwrap();
    let members = format!("/v1/contact-lists/{list_id}/members?q=%00");
    for uri in [
        "/v1/contacts?q=%00",
        "/v1/contact-lists?q=%00",
        "/v1/contacts/trash?q=a%00b",
        members.as_str(),
        "/v1/contacts/export?format=csv&q=%00",
    ] {
        let r = app.get(uri, &user.access).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.text);
        assert_eq!(problem_type(&r), "malformed-request", "{uri}");
        assert_eq!(r.json["errors"][0]["field"], "q", "{uri}: {}", r.text);
    }

    let upload = Request::builder()
        .method(Method::POST)
        .uri("/v1/contacts/imports?filename=a%00b.csv")
        .header("authorization", format!("Bearer {}", user.access))
        .header("content-type", "text/csv")
        .body(Body::from("phone\n0712000001\n"))
        .unwrap();
    let r = app.send(upload).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.json["errors"][0]["field"], "filename", "{}", r.text);

    // A path parameter: NUL and plain garbage both name it.
    for id in ["%00", "not-a-uuid"] {
        let r = app
            .get(&format!("/v1/contact-lists/{id}"), &user.access)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{id}: {}", r.text);
        assert_eq!(r.json["errors"][0]["field"], "list_id", "{id}: {}", r.text);
    }
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn query_errors_name_the_field(db: PgPool) {
    let app = spawn_app(db);
    let user = app.signup("qfield@example.com").await;
    let mistyped = app.get("/v1/accounts?limit=abc", &user.access).await;
    assert_eq!(mistyped.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        mistyped.json["errors"][0]["field"], "limit",
        "{}",
        mistyped.text
    );
    let unknown = app.get("/v1/accounts?colour=red", &user.access).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        unknown.json["errors"][0]["field"], "colour",
        "{}",
        unknown.text
    );
}
