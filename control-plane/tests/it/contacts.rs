//! Contacts, lists, search, bulk actions, trash, opt-out and the suppression list, including
//! list counts under concurrent edits.

use axum::http::{Method, StatusCode};
use semalink_control_plane::contacts::{purge, suppression};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::*;

/// Adds a member (role `member`) to `owner`'s organisation; returns their handles.
async fn member_of(app: &TestApp, owner: &User, email: &str) -> User {
    let r = app
        .post(
            "/v1/account/invitations",
            Some(&owner.access),
            json!({"email": email, "role": "member"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let token = app.email_token(email, "invitation").await;
    let user = app.signup(email).await;
    let r = app
        .post(
            "/v1/invitations/accept",
            Some(&user.access),
            json!({"token": token}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let switched = app
        .post(
            "/v1/accounts/switch",
            Some(&user.access),
            json!({"account_id": owner.account_id}),
        )
        .await;
    assert_eq!(switched.json["role"], "member", "{}", switched.text);
    User {
        access: switched.json["access_token"].as_str().unwrap().to_owned(),
        account_id: owner.account_id,
        ..user
    }
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post("/v1/contacts", Some(token), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json
}

async fn new_list(app: &TestApp, token: &str, name: &str) -> String {
    let r = app
        .post("/v1/contact-lists", Some(token), json!({"name": name}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json["id"].as_str().unwrap().to_owned()
}

async fn counts(app: &TestApp, token: &str, list: &str) -> (i64, i64, i64) {
    let r = app.get(&format!("/v1/contact-lists/{list}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let n = |k: &str| r.json[k].as_i64().unwrap();
    (n("total_count"), n("valid_count"), n("invalid_count"))
}

/// The real counts of a list, computed from the rows.
async fn real_counts(db: &PgPool, list: &str) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE c.status = 'valid'),
                count(*) FILTER (WHERE c.status = 'invalid')
         FROM contact_list_memberships m JOIN contacts c ON c.id = m.contact_id
         WHERE m.list_id = $1::uuid AND c.deleted_at IS NULL",
    )
    .bind(list)
    .fetch_one(db)
    .await
    .unwrap()
}

fn field_of(r: &Resp) -> String {
    r.json["errors"][0]["field"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

fn ids_of(r: &Resp) -> Vec<String> {
    r.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

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
        ("cursor=zz", "cursor"),
        (&format!("q={}", "a".repeat(101)), "q"),
    ] {
        let r = app.get(&format!("/v1/contacts?{query}"), t).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(field_of(&r), field);
    }
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
async fn opt_out_suppressions_and_sendable_contacts(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;
    let t = owner.access.as_str();
    let list = new_list(&app, t, "Campaign").await;
    let mut ids = Vec::new();
    for phone in [
        "0712000001",
        "0712000002",
        "0712000003",
        "0712000004",
        "0712000005",
    ] {
        let c = create(&app, t, json!({"phone": phone, "list_ids": [list]})).await;
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    let invalid = create(
        &app,
        t,
        json!({"phone": "nope", "allow_invalid": true, "list_ids": [list]}),
    )
    .await;
    assert_eq!(counts(&app, t, &list).await, (6, 5, 1));
    // 1: opted out in the app; 2: STOP reply; 3: manually suppressed; 4: trashed; 5 sendable.
    let r = app
        .post(
            &format!("/v1/contacts/{}/opt-out", ids[0]),
            Some(t),
            json!({}),
        )
        .await;
    assert_eq!(r.json["is_opted_out"], true, "{}", r.text);
    assert!(r.json["opted_out_at"].is_string());
    let mut tx = app.app_pool.begin().await.unwrap();
    let marked = suppression::opt_out_number(
        &mut tx,
        owner.account_id,
        "+254712000002",
        suppression::SuppressionSource::Stop,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(marked, 1);
    let mut tx = app.app_pool.begin().await.unwrap();
    let again = suppression::opt_out_number(
        &mut tx,
        owner.account_id,
        "+254712000002",
        suppression::SuppressionSource::Stop,
    )
    .await
    .unwrap();
    assert_eq!(again, 0);
    drop(tx);
    let r = app
        .post(
            "/v1/suppressions",
            Some(t),
            json!({"phone": "0712 000 003", "reason": "asked by phone"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["source"], "manual");
    let manual_id = r.json["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            "/v1/suppressions",
            Some(t),
            json!({"phone": "+254712000003"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .post("/v1/suppressions", Some(t), json!({"phone": "x"}))
        .await;
    assert_eq!(field_of(&r), "phone");
    app.call(
        Method::DELETE,
        &format!("/v1/contacts/{}", ids[3]),
        Some(t),
        None,
    )
    .await;

    let list_id: Uuid = list.parse().unwrap();
    let sendable = suppression::sendable_contacts(&app.app_pool, owner.account_id, list_id)
        .await
        .unwrap();
    let phones: Vec<&str> = sendable.iter().map(|c| c.phone.as_str()).collect();
    assert_eq!(phones, vec!["+254712000005"]);
    assert!(!phones.contains(&invalid["phone"].as_str().unwrap()));

    let r = app.get("/v1/suppressions", t).await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 2, "{}", r.text);
    let r = app.get("/v1/suppressions?phone=0712000002", t).await;
    assert_eq!(r.json["data"][0]["source"], "stop", "{}", r.text);
    // Opting the STOP number back in lifts its STOP suppression.
    let r = app
        .post(
            &format!("/v1/contacts/{}/opt-in", ids[1]),
            Some(t),
            json!({}),
        )
        .await;
    assert_eq!(r.json["is_opted_out"], false, "{}", r.text);
    assert_eq!(
        app.get("/v1/suppressions?phone=0712000002", t).await.json["data"],
        json!([])
    );
    // Removing a suppression needs admin.
    let member = member_of(&app, &owner, "member@example.com").await;
    let uri = format!("/v1/suppressions/{manual_id}");
    assert_eq!(
        app.call(Method::DELETE, &uri, Some(&member.access), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call(Method::DELETE, &uri, Some(t), None).await.status,
        StatusCode::NO_CONTENT
    );
    let sendable = suppression::sendable_contacts(&app.app_pool, owner.account_id, list_id)
        .await
        .unwrap();
    assert_eq!(sendable.len(), 3);
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
