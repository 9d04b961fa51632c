//! Opt-out, the suppression list and `sendable_contacts`.

use super::*;
use semalink_control_plane::identity::scope::AccountScope;

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
    let scope = AccountScope::trusted(owner.account_id);
    let mut tx = app.app_pool.begin().await.unwrap();
    let marked = suppression::opt_out_number(
        &mut tx,
        scope,
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
        scope,
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
    let sendable = suppression::sendable_contacts(&app.app_pool, scope, list_id)
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
    let sendable = suppression::sendable_contacts(&app.app_pool, scope, list_id)
        .await
        .unwrap();
    assert_eq!(sendable.len(), 3);
}
