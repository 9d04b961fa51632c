//! Contacts themselves: CRUD and validation, trash, search, filters, bulk actions, API key scopes.

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn crud_validation_trash_restore_and_purge(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;
    let t = owner.access.as_str();
    let c = create(
        &app,
        t,
        json!({"phone": "0712 345 678", "first_name": "Amina", "email": "Amina@Example.COM",
               "tags": ["vip", " vip "], "consent_source": "opt-in form",
               "consent_at": "2026-01-02T03:04:05Z", "attributes": {"city": "Nakuru"}}),
    )
    .await;
    assert_eq!(c["phone"], "+254712345678");
    assert_eq!(c["phone_raw"], "0712 345 678");
    assert_eq!(c["status"], "valid");
    assert_eq!(c["mno_id"], "ke-safaricom");
    assert_eq!(c["country"], "KE");
    assert_eq!(c["email"], "Amina@example.com");
    assert_eq!(c["tags"], json!(["vip"]));
    let id = c["id"].as_str().unwrap().to_owned();

    // The same number in another form is a duplicate.
    let dup = app
        .post("/v1/contacts", Some(t), json!({"phone": "+254 712 345678"}))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.text);
    // Validation names the field.
    for (body, field) in [
        (json!({"phone": "0712x"}), "phone"),
        (json!({"phone": "   "}), "phone"),
        (json!({"phone": "0722000001", "email": "nope"}), "email"),
        (json!({"phone": "0722000001", "tags": [""]}), "tags[0]"),
        (
            json!({"phone": "0722000001", "attributes": {"n": 1}}),
            "attributes.n",
        ),
        (
            json!({"phone": "0722000001", "first_name": "x".repeat(101)}),
            "first_name",
        ),
        (
            json!({"phone": "0722000001", "list_ids": [Uuid::now_v7()]}),
            "list_ids",
        ),
    ] {
        let r = app.post("/v1/contacts", Some(t), body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(field_of(&r), field, "{}", r.text);
    }
    let r = app
        .post(
            "/v1/contacts",
            Some(t),
            json!({"phone": "0722000001", "bogus": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    // An invalid number is stored only when asked for.
    let bad = create(&app, t, json!({"phone": "12ab", "allow_invalid": true})).await;
    assert_eq!(bad["status"], "invalid");
    assert!(
        bad["invalid_reason"]
            .as_str()
            .unwrap()
            .contains("character")
    );

    // Update: change, clear with "", re-validate the phone.
    let r = app
        .call(
            Method::PATCH,
            &format!("/v1/contacts/{id}"),
            Some(t),
            Some(json!({"last_name": "Otieno", "email": "", "phone": "+254 733 000 111"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["last_name"], "Otieno");
    assert_eq!(r.json["email"], Value::Null);
    assert_eq!(r.json["phone"], "+254733000111");
    assert_eq!(r.json["first_name"], "Amina");
    let r = app
        .call(
            Method::PATCH,
            &format!("/v1/contacts/{id}"),
            Some(t),
            Some(json!({"phone": "12ab", "allow_invalid": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    // Trash, restore, purge.
    let uri = format!("/v1/contacts/{id}");
    assert_eq!(
        app.call(Method::DELETE, &uri, Some(t), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.call(Method::DELETE, &uri, Some(t), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(!ids_of(&app.get("/v1/contacts", t).await).contains(&id));
    assert_eq!(
        ids_of(&app.get("/v1/contacts/trash", t).await),
        vec![id.clone()]
    );
    assert!(app.get(&uri, t).await.json["deleted_at"].is_string());
    let r = app
        .post(&format!("{uri}/restore"), Some(t), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["deleted_at"], Value::Null);
    assert!(app.get("/v1/contacts/trash", t).await.json["data"] == json!([]));

    // Purging needs admin; a member may trash but not purge.
    let member = member_of(&app, &owner, "member@example.com").await;
    assert_eq!(
        app.call(Method::DELETE, &uri, Some(&member.access), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let purge_uri = format!("/v1/contacts/trash/{id}");
    let r = app
        .call(Method::DELETE, &purge_uri, Some(&member.access), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(
        app.call(Method::DELETE, &purge_uri, Some(t), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get(&uri, t).await.status, StatusCode::NOT_FOUND);
    // The number is free again.
    create(&app, t, json!({"phone": "+254733000111"})).await;
    // Empty the trash.
    let bad_id = bad["id"].as_str().unwrap();
    app.call(
        Method::DELETE,
        &format!("/v1/contacts/{bad_id}"),
        Some(t),
        None,
    )
    .await;
    let r = app
        .post("/v1/contacts/trash/empty", Some(t), json!({}))
        .await;
    assert_eq!(r.json["affected"], 1, "{}", r.text);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn search_filters_and_pagination(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;
    let t = owner.access.as_str();
    let list = new_list(&app, t, "Customers").await;
    let amina = create(
        &app,
        t,
        json!({"phone": "0712000001", "first_name": "Amina", "last_name": "Wanjiru",
               "tags": ["vip"], "list_ids": [list]}),
    )
    .await;
    let brian = create(
        &app,
        t,
        json!({"phone": "0712000002", "first_name": "Brian", "email": "brian@shop.co.ke"}),
    )
    .await;
    let bad = create(
        &app,
        t,
        json!({"phone": "50% off", "first_name": "Promo", "allow_invalid": true}),
    )
    .await;
    let ids = |v: &[&Value]| {
        v.iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    for (query, want) in [
        ("q=amina", ids(&[&amina])),
        ("q=WANJ", ids(&[&amina])),
        ("q=shop.co", ids(&[&brian])),
        ("q=0712%20000%20002", ids(&[&brian])),
        ("q=%2B2547120000", ids(&[&brian, &amina])),
        ("q=50%25", ids(&[&bad])),
        ("q=%25", ids(&[&bad])),
        ("tag=vip", ids(&[&amina])),
        (&format!("list_id={list}"), ids(&[&amina])),
        ("status=invalid", ids(&[&bad])),
        ("opted_out=false&status=valid", ids(&[&brian, &amina])),
    ] {
        let r = app.get(&format!("/v1/contacts?{query}"), t).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
        assert_eq!(ids_of(&r), want, "{query}");
    }
    for (query, field) in [
        ("limit=0", "limit"),
        (&format!("q={}", "a".repeat(101)), "q"),
    ] {
        let r = app.get(&format!("/v1/contacts?{query}"), t).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(field_of(&r), field);
    }
    // A cursor the API never gave out is a malformed request (issue 11: 400 naming it).
    let r = app.get("/v1/contacts?cursor=zz", t).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(field_of(&r), "cursor");
    assert_eq!(
        app.get("/v1/contacts?status=maybe", t).await.status,
        StatusCode::BAD_REQUEST
    );
    // Cursor pagination walks everything once, newest first.
    let mut seen = Vec::new();
    let mut uri = "/v1/contacts?limit=2".to_owned();
    loop {
        let r = app.get(&uri, t).await;
        seen.extend(ids_of(&r));
        match r.json["next_cursor"].as_str() {
            Some(c) => uri = format!("/v1/contacts?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ids(&[&bad, &brian, &amina]));
    // List members and list search.
    let r = app
        .get(&format!("/v1/contact-lists/{list}/members?q=amina"), t)
        .await;
    assert_eq!(ids_of(&r), ids(&[&amina]));
    let r = app.get("/v1/contact-lists?q=custom", t).await;
    assert_eq!(ids_of(&r), vec![list]);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn bulk_actions_by_ids_and_filter(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;
    let t = owner.access.as_str();
    let list = new_list(&app, t, "Bulk").await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let c = create(&app, t, json!({"phone": format!("07120000{i:02}")})).await;
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    let bulk = |body: Value| app.post("/v1/contacts/bulk", Some(t), body);
    let r = bulk(json!({"action": "tag", "ids": [ids[0], ids[1]], "tags": ["a", "b"]})).await;
    assert_eq!(r.json, json!({"matched": 2, "affected": 2}), "{}", r.text);
    let r = bulk(json!({"action": "untag", "filter": {"tag": "a"}, "tags": ["b"]})).await;
    assert_eq!(r.json["affected"], 2, "{}", r.text);
    assert_eq!(
        app.get(&format!("/v1/contacts/{}", ids[0]), t).await.json["tags"],
        json!(["a"])
    );
    let r = bulk(json!({"action": "add_to_list", "filter": {"tag": "a"}, "list_id": list})).await;
    assert_eq!(r.json["affected"], 2, "{}", r.text);
    let r = bulk(json!({"action": "add_to_list", "ids": ids, "list_id": list})).await;
    assert_eq!(r.json, json!({"matched": 4, "affected": 2}));
    let r = bulk(json!({"action": "remove_from_list", "ids": [ids[3]], "list_id": list})).await;
    assert_eq!(r.json["affected"], 1);
    let r = bulk(json!({"action": "delete", "filter": {"q": "0712000000"}})).await;
    assert_eq!(r.json["affected"], 1, "{}", r.text);
    assert_eq!(counts(&app, t, &list).await, (2, 2, 0));

    for (body, field) in [
        (json!({"action": "delete"}), "ids"),
        (json!({"action": "delete", "ids": [], }), "ids"),
        (
            json!({"action": "delete", "ids": [ids[0]], "filter": {}}),
            "ids",
        ),
        (json!({"action": "tag", "ids": [ids[0]]}), "tags"),
        (json!({"action": "add_to_list", "ids": [ids[0]]}), "list_id"),
        (
            json!({"action": "add_to_list", "ids": [ids[0]], "list_id": Uuid::now_v7()}),
            "list_id",
        ),
        (
            json!({"action": "delete", "filter": {"tag": ""}}),
            "filter.tag",
        ),
    ] {
        let r = bulk(body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text
        );
        assert_eq!(field_of(&r), field, "{body}");
    }
    assert_eq!(
        bulk(json!({"action": "explode", "ids": [ids[0]]}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn api_key_scopes_and_expired_trash_purge(db: PgPool) {
    let app = spawn_app(db.clone());
    let owner = app.verified("owner@example.com").await;
    let key = |scopes: Value| {
        let app = &app;
        let owner = &owner;
        async move {
            let r = app
                .post(
                    "/v1/api-keys",
                    Some(&owner.access),
                    json!({"name": "k", "scopes": scopes}),
                )
                .await;
            r.json["secret"].as_str().unwrap().to_owned()
        }
    };
    let reader = key(json!(["contacts:read"])).await;
    let writer = key(json!(["contacts:write"])).await;
    let r = app
        .post(
            "/v1/contacts",
            Some(&reader),
            json!({"phone": "0712000001"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let c = create(&app, &writer, json!({"phone": "0712000001"})).await;
    let old = create(&app, &writer, json!({"phone": "0712000002"})).await;
    assert_eq!(
        app.get("/v1/contacts", &reader).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/v1/contacts", &writer).await.status,
        StatusCode::FORBIDDEN
    );

    // Trashed 91 days ago → purged; trashed now → kept.
    for (contact, age) in [(&c, "0 days"), (&old, "91 days")] {
        sqlx::query("UPDATE contacts SET deleted_at = now() - $2::interval WHERE id = $1::uuid")
            .bind(contact["id"].as_str().unwrap())
            .bind(age)
            .execute(&db)
            .await
            .unwrap();
    }
    let purged = purge::purge_expired(&app.app_pool, purge::RETENTION_DAYS)
        .await
        .unwrap();
    assert_eq!(purged, 1);
    let trash = app.get("/v1/contacts/trash", &reader).await;
    assert_eq!(ids_of(&trash), vec![c["id"].as_str().unwrap().to_owned()]);
}
