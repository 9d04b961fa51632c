//! Staff pricing endpoints: permissions, validation, margins, audit.

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn staff_pricing_permissions_validation_margins_and_audit(db: PgPool) {
    let app = spawn_app(db);
    let owner = staff_token(&app, &[(Module::Pricing, Level::Owner)]).await;
    let admin = staff_token(&app, &[(Module::Pricing, Level::Admin)]).await;
    let read = staff_token(&app, &[(Module::Pricing, Level::Read)]).await;
    let billing = staff_token(&app, &[(Module::Billing, Level::Owner)]).await;
    let acme = app.signup("acme@example.com").await.account_id;
    let rate =
        json!({"scope": "platform", "country": "KE", "mno_id": "ke-safaricom", "rate": "0.80"});

    // Setting rates needs pricing owner; costs need admin; reading needs read.
    for token in [&admin, &read, &billing] {
        assert_eq!(
            set_rate(&app, token, rate.clone()).await.status,
            StatusCode::FORBIDDEN
        );
    }
    let cost = json!({"country": "KE", "mno_id": "ke-safaricom", "cost": "0.35"});
    for token in [&read, &billing] {
        let r = app
            .post("/v1/admin/pricing/costs", Some(token), cost.clone())
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(
        app.get("/v1/admin/pricing/rates", &billing).await.status,
        StatusCode::FORBIDDEN
    );

    let created = set_ok(&app, &owner, rate.clone()).await;
    assert_eq!(created["rate"], "0.800000");
    set_ok(
        &app,
        &owner,
        json!({"scope": "platform", "country": "KE", "rate": "1.00", "note": "default"}),
    )
    .await;
    let r = app
        .post("/v1/admin/pricing/costs", Some(&admin), cost)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["upstream"], "celcom");

    // Validation names the field.
    let past = (OffsetDateTime::now_utc() - Duration::days(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    for (body, status, field) in [
        (
            json!({"scope": "platform", "country": "Kenya", "rate": "1"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "country",
        ),
        (
            json!({"scope": "platform", "country": "KE", "mno_id": "ke-nope", "rate": "1"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "mno_id",
        ),
        (
            json!({"scope": "platform", "country": "TZ", "mno_id": "ke-safaricom", "rate": "1"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "mno_id",
        ),
        (
            json!({"scope": "platform", "country": "KE", "rate": "0.1234567"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "rate",
        ),
        (
            json!({"scope": "platform", "country": "KE", "rate": "-1"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "rate",
        ),
        (
            json!({"scope": "platform", "country": "KE", "rate": 0.8}),
            StatusCode::BAD_REQUEST,
            "rate",
        ),
        (
            json!({"scope": "platform", "country": "KE", "rate": "1", "effective_from": past}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "effective_from",
        ),
        (
            json!({"scope": "platform", "account_id": acme, "country": "KE", "rate": "1"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "account_id",
        ),
        (
            json!({"scope": "account", "country": "KE", "rate": "1"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "account_id",
        ),
        (
            json!({"scope": "account", "account_id": Uuid::now_v7(), "country": "KE", "rate": "1"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "account_id",
        ),
        (
            json!({"scope": "global", "country": "KE", "rate": "1"}),
            StatusCode::BAD_REQUEST,
            "scope",
        ),
    ] {
        let r = set_rate(&app, &owner, body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert!(r.text.contains(field), "{body}: {}", r.text);
    }
    let bad_cost = app
        .post(
            "/v1/admin/pricing/costs",
            Some(&admin),
            json!({"upstream": "Cel Com", "country": "KE", "cost": "1"}),
        )
        .await;
    assert_eq!(bad_cost.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_cost.json["errors"][0]["field"], "upstream");

    // Two rows for the same list, destination and moment conflict.
    let when = (OffsetDateTime::now_utc() + Duration::days(3))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let dated = json!({"scope": "account", "account_id": acme, "country": "KE", "rate": "0.7", "effective_from": when});
    set_ok(&app, &owner, dated.clone()).await;
    assert_eq!(
        set_rate(&app, &owner, dated).await.status,
        StatusCode::CONFLICT
    );

    // History (future rows included) with filters and pagination.
    let all = app.get("/v1/admin/pricing/rates", &read).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.json["data"].as_array().unwrap().len(), 3);
    let scoped = app
        .get(
            &format!("/v1/admin/pricing/rates?scope=account&account_id={acme}&limit=1"),
            &read,
        )
        .await;
    assert_eq!(scoped.json["data"][0]["rate"], "0.700000");
    assert!(scoped.json["next_cursor"].is_null());
    let costs = app.get("/v1/admin/pricing/costs", &read).await;
    assert_eq!(costs.json["data"].as_array().unwrap().len(), 1);

    // Margins: platform list against the recorded cost.
    let m = app.get("/v1/admin/pricing/margins", &read).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text);
    let lines = m.json.as_array().unwrap();
    let saf = lines
        .iter()
        .find(|l| l["mno_id"] == "ke-safaricom")
        .unwrap();
    assert_eq!(saf["cost"], "0.350000");
    assert_eq!(saf["margin"], "0.450000");
    assert_eq!(saf["margin_percent"], "56.25");
    let country = lines.iter().find(|l| l["mno_id"].is_null()).unwrap();
    assert!(country["cost"].is_null());
    let for_acme = app
        .get(
            &format!("/v1/admin/pricing/margins?account_id={acme}"),
            &read,
        )
        .await;
    assert_eq!(for_acme.status, StatusCode::OK);
    let unknown = app
        .get(
            &format!("/v1/admin/pricing/margins?account_id={}", Uuid::now_v7()),
            &read,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE module = 'pricing' ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        actions,
        [
            "pricing.rate_set",
            "pricing.rate_set",
            "pricing.cost_recorded",
            "pricing.rate_set"
        ]
    );
    // Rate rows are history: the service role cannot change them.
    assert!(
        sqlx::query("UPDATE pricing_rates SET rate = 0")
            .execute(&app.app_pool)
            .await
            .is_err()
    );
}
