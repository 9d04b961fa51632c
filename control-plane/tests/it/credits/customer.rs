//! The customer side: balance, history, low-credit threshold and notice.

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn customer_balance_history_and_low_credit_notice(db: PgPool) {
    let app = spawn_app(db);
    let owner = app.verified("owner@example.com").await;
    let a = owner.account_id;
    fund(&app, a, "t1", "100").await;

    let r = app.get("/v1/credits", &owner.access).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["balance"], "100.0000");
    assert_eq!(r.json["reserved"], "0.0000");
    assert_eq!(r.json["credit_limit"], "0.0000");
    assert_eq!(r.json["available"], "100.0000");
    assert_eq!(r.json["billing_mode"], "prepaid");
    assert_eq!(r.json["currency"], "KES");
    assert!(r.json["low_credit_threshold"].is_null());

    // Threshold: validation, role, then the notice fires once per downward crossing.
    for (bad, status) in [
        (
            json!({"low_credit_threshold": "-1"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"low_credit_threshold": "1.23456"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"low_credit_threshold": 50}), StatusCode::BAD_REQUEST),
        (json!({"threshold": "5"}), StatusCode::BAD_REQUEST),
        (json!({}), StatusCode::BAD_REQUEST),
    ] {
        let r = app
            .call(
                Method::PUT,
                "/v1/credits/threshold",
                Some(&owner.access),
                Some(bad.clone()),
            )
            .await;
        assert_eq!(r.status, status, "{bad}: {}", r.text);
        assert!(r.text.contains("threshold"), "{}", r.text);
    }
    let set = app
        .call(
            Method::PUT,
            "/v1/credits/threshold",
            Some(&owner.access),
            Some(json!({"low_credit_threshold": "50"})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);
    assert_eq!(set.json["low_credit_threshold"], "50.0000");

    let mut conn = app.app_pool.acquire().await.unwrap();
    ledger::reserve(&mut conn, &entry(a, "m1"), d("30"))
        .await
        .unwrap();
    assert_eq!(notices(&app, a).await, 0);
    ledger::reserve(&mut conn, &entry(a, "m2"), d("30"))
        .await
        .unwrap(); // 40 < 50
    ledger::reserve(&mut conn, &entry(a, "m3"), d("10"))
        .await
        .unwrap(); // still below
    assert_eq!(notices(&app, a).await, 1);
    let emails: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM email_outbox WHERE to_address = 'owner@example.com' AND body_text LIKE '%below your alert threshold%'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(emails, 1);
    ledger::refund(&mut conn, &entry(a, "m2")).await.unwrap(); // 60: re-armed
    assert!(app.get("/v1/credits", &owner.access).await.json["low_credit_notified_at"].is_null());
    ledger::finalise(&mut conn, &entry(a, "m1"), d("30"))
        .await
        .unwrap();
    ledger::reserve(&mut conn, &entry(a, "m4"), d("15"))
        .await
        .unwrap(); // 45 < 50 again
    assert_eq!(notices(&app, a).await, 2);

    // History: newest first, filters, pagination, validation.
    let all = app.get("/v1/credits/transactions", &owner.access).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    let rows = all.json["data"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[0]["reference"], "m4");
    assert_eq!(rows[0]["type"], "reservation");
    assert_eq!(rows[0]["amount"], "-15.0000");
    let only = app
        .get(
            "/v1/credits/transactions?type=reservation&limit=2",
            &owner.access,
        )
        .await;
    assert_eq!(only.json["data"].as_array().unwrap().len(), 2);
    let cursor = only.json["next_cursor"].as_str().unwrap();
    let next = app
        .get(
            &format!("/v1/credits/transactions?type=reservation&limit=2&cursor={cursor}"),
            &owner.access,
        )
        .await;
    assert_eq!(next.json["data"].as_array().unwrap().len(), 2);
    assert!(next.json["next_cursor"].is_null());
    let future = app
        .get(
            "/v1/credits/transactions?from=2999-01-01T00:00:00Z",
            &owner.access,
        )
        .await;
    assert_eq!(future.json["data"].as_array().unwrap().len(), 0);
    let past = app
        .get(
            "/v1/credits/transactions?to=2000-01-01T00:00:00Z",
            &owner.access,
        )
        .await;
    assert_eq!(past.json["data"].as_array().unwrap().len(), 0);
    let backwards = app
        .get(
            "/v1/credits/transactions?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z",
            &owner.access,
        )
        .await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(backwards.json["errors"][0]["field"], "to");
    for bad in ["type=gift", "from=yesterday", "account_id=x"] {
        let r = app
            .get(&format!("/v1/credits/transactions?{bad}"), &owner.access)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
    }

    // A member reads but may not set the threshold; API keys need billing:read.
    app.post(
        "/v1/account/invitations",
        Some(&owner.access),
        json!({"email": "member@example.com", "role": "member"}),
    )
    .await;
    let token = app.email_token("member@example.com", "invitation").await;
    let member = app.signup("member@example.com").await;
    let accepted = app
        .post(
            "/v1/invitations/accept",
            Some(&member.access),
            json!({"token": token}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    let switched = app
        .post(
            "/v1/accounts/switch",
            Some(&member.access),
            json!({"account_id": a}),
        )
        .await;
    let member_access = switched.json["access_token"].as_str().unwrap().to_owned();
    let as_member = app.get("/v1/credits", &member_access).await;
    assert_eq!(as_member.status, StatusCode::OK, "{}", as_member.text);
    assert_eq!(as_member.json["account_id"], a.to_string());
    let forbidden = app
        .call(
            Method::PUT,
            "/v1/credits/threshold",
            Some(&member_access),
            Some(json!({"low_credit_threshold": null})),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    for (scopes, status) in [
        (json!(["contacts:read"]), StatusCode::FORBIDDEN),
        (json!(["billing:read"]), StatusCode::OK),
    ] {
        let key = app
            .post(
                "/v1/api-keys",
                Some(&owner.access),
                json!({"name": "k", "scopes": scopes}),
            )
            .await;
        let secret = key.json["secret"].as_str().unwrap();
        assert_eq!(app.get("/v1/credits", secret).await.status, status);
        assert_eq!(
            app.get("/v1/credits/transactions", secret).await.status,
            status
        );
    }
    assert_eq!(
        app.call(Method::GET, "/v1/credits", None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}
