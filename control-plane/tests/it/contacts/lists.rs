//! Lists, their members and counts, including counts under concurrent edits.

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn lists_members_and_counts(db: PgPool) {
    let app = spawn_app(db.clone());
    let owner = app.verified("owner@example.com").await;
    let t = owner.access.as_str();
    let list = new_list(&app, t, "Nairobi").await;
    let r = app
        .post("/v1/contact-lists", Some(t), json!({"name": "nairobi"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = app
        .post("/v1/contact-lists", Some(t), json!({"description": "x"}))
        .await;
    assert_eq!(field_of(&r), "name");
    let a = create(&app, t, json!({"phone": "0712000001"})).await;
    let b = create(&app, t, json!({"phone": "0712000002"})).await;
    let x = create(&app, t, json!({"phone": "bad", "allow_invalid": true})).await;
    let id = |c: &Value| c["id"].as_str().unwrap().to_owned();
    let members = format!("/v1/contact-lists/{list}/members");
    let r = app
        .post(
            &members,
            Some(t),
            json!({"contact_ids": [id(&a), id(&b), id(&x)]}),
        )
        .await;
    assert_eq!(r.json["affected"], 3, "{}", r.text);
    let r = app
        .post(&members, Some(t), json!({"contact_ids": [id(&a)]}))
        .await;
    assert_eq!(r.json["affected"], 0);
    assert_eq!(counts(&app, t, &list).await, (3, 2, 1));
    let r = app
        .post(&members, Some(t), json!({"contact_ids": []}))
        .await;
    assert_eq!(field_of(&r), "contact_ids");

    // Trash and restore move the counts; so does a status change.
    app.call(
        Method::DELETE,
        &format!("/v1/contacts/{}", id(&a)),
        Some(t),
        None,
    )
    .await;
    assert_eq!(counts(&app, t, &list).await, (2, 1, 1));
    app.post(
        &format!("/v1/contacts/{}/restore", id(&a)),
        Some(t),
        json!({}),
    )
    .await;
    assert_eq!(counts(&app, t, &list).await, (3, 2, 1));
    let r = app
        .call(
            Method::PATCH,
            &format!("/v1/contacts/{}", id(&x)),
            Some(t),
            Some(json!({"phone": "0799000000"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(counts(&app, t, &list).await, (3, 3, 0));
    assert_eq!(
        app.get(&members, t).await.json["data"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Remove one, then several.
    let r = app
        .call(
            Method::DELETE,
            &format!("{members}/{}", id(&b)),
            Some(t),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .post(
            &format!("{members}/remove"),
            Some(t),
            json!({"contact_ids": [id(&a), id(&b)]}),
        )
        .await;
    assert_eq!(r.json["affected"], 1);
    assert_eq!(counts(&app, t, &list).await, (1, 1, 0));
    assert_eq!(real_counts(&db, &list).await, (1, 1, 0));

    // Rename, then delete: the contacts stay.
    let r = app
        .call(
            Method::PATCH,
            &format!("/v1/contact-lists/{list}"),
            Some(t),
            Some(json!({"name": "Nairobi CBD", "description": "walk-ins"})),
        )
        .await;
    assert_eq!(r.json["name"], "Nairobi CBD", "{}", r.text);
    let r = app
        .call(
            Method::DELETE,
            &format!("/v1/contact-lists/{list}"),
            Some(t),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/v1/contact-lists/{list}"), t)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/v1/contacts", t).await.json["data"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

/// Many parallel adds, removes, trashes, restores and status changes on shared contacts and
/// lists (and a list deleted while members are added to it): no request fails with a 5xx
/// (no deadlock), and afterwards every list's counts equal the real numbers.
#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn list_counts_stay_right_under_concurrent_edits(db: PgPool) {
    let app = spawn_app(db.clone());
    let owner = app.verified("owner@example.com").await;
    let t = owner.access.clone();
    let lists = [
        new_list(&app, &t, "L1").await,
        new_list(&app, &t, "L2").await,
        new_list(&app, &t, "L3").await,
    ];
    let mut ids = Vec::new();
    for i in 0..24 {
        let c = create(&app, &t, json!({"phone": format!("07120001{i:02}")})).await;
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    let doomed = new_list(&app, &t, "Doomed").await;
    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..60usize {
        let router = app.router.clone();
        let t = t.clone();
        let list = lists[round % 3].clone();
        let other = lists[(round + 1) % 3].clone();
        let some: Vec<String> = (0..6)
            .map(|k| ids[(round * 5 + k * 7) % ids.len()].clone())
            .collect();
        let one = some[0].clone();
        let doomed = doomed.clone();
        tasks.spawn(async move {
            let app = TestAppRef { router };
            let (method, uri, body) = match round % 6 {
                // A list deleted while members are being added to it.
                _ if round == 33 => (Method::DELETE, format!("/v1/contact-lists/{doomed}"), None),
                _ if round % 10 == 3 => (
                    Method::POST,
                    format!("/v1/contact-lists/{doomed}/members"),
                    Some(json!({"contact_ids": some})),
                ),
                0 => (
                    Method::POST,
                    format!("/v1/contact-lists/{list}/members"),
                    Some(json!({"contact_ids": some})),
                ),
                1 => (
                    Method::POST,
                    format!("/v1/contact-lists/{list}/members/remove"),
                    Some(json!({"contact_ids": some})),
                ),
                2 => (
                    Method::POST,
                    "/v1/contacts/bulk".to_owned(),
                    Some(json!({"action": "delete", "ids": some[..3]})),
                ),
                3 => (
                    Method::POST,
                    "/v1/contacts/bulk".to_owned(),
                    Some(json!({"action": "add_to_list", "ids": some, "list_id": other})),
                ),
                4 => (
                    Method::POST,
                    format!("/v1/contacts/{one}/restore"),
                    Some(json!({})),
                ),
                _ => {
                    let phone = if round % 12 == 5 {
                        format!("bad-{round}")
                    } else {
                        format!("0713{round:06}")
                    };
                    (
                        Method::PATCH,
                        format!("/v1/contacts/{one}"),
                        Some(json!({"phone": phone, "allow_invalid": true})),
                    )
                }
            };
            let status = app.call(method.clone(), &uri, &t, body).await;
            assert!(!status.is_server_error(), "{method} {uri}: {status}");
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    for list in &lists {
        assert_eq!(
            counts(&app, &t, list).await,
            real_counts(&db, list).await,
            "{list}"
        );
    }
    let (total, _, _) = real_counts(&db, &lists[0]).await;
    assert!(total > 0, "the test should leave members to count");
}

/// A cheap handle for spawned requests (the router is `Clone`; `TestApp` is not `'static`).
struct TestAppRef {
    router: axum::Router,
}

impl TestAppRef {
    async fn call(
        &self,
        method: Method,
        uri: &str,
        token: &str,
        body: Option<Value>,
    ) -> StatusCode {
        use tower::ServiceExt;
        let mut builder = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"));
        let body = match body {
            Some(v) => {
                builder = builder.header("content-type", "application/json");
                axum::body::Body::from(serde_json::to_vec(&v).unwrap())
            }
            None => axum::body::Body::empty(),
        };
        self.router
            .clone()
            .oneshot(builder.body(body).unwrap())
            .await
            .unwrap()
            .status()
    }
}
