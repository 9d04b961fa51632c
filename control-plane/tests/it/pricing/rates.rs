//! Rates: scopes, effective dates, quotes and their validation.

use super::*;
use semalink_control_plane::identity::scope::AccountScope;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn scopes_effective_dates_and_quotes(db: PgPool) {
    let app = spawn_app(db);
    let owner = staff_token(&app, &[(Module::Pricing, Level::Owner)]).await;
    let acme = app.verified("acme@example.com").await;
    let plain = app.signup("plain@example.com").await.account_id;
    let agent = app.signup("agent@example.com").await.account_id;
    let sub = app.signup("sub@example.com").await.account_id;
    make_agent(&app, agent, sub).await;
    let tomorrow = OffsetDateTime::now_utc() + Duration::days(1);

    set_ok(
        &app,
        &owner,
        json!({"scope": "platform", "country": "KE", "rate": "1.00"}),
    )
    .await;
    set_ok(
        &app,
        &owner,
        json!({"scope": "platform", "country": "ke", "mno_id": "ke-safaricom", "rate": "0.80"}),
    )
    .await;
    set_ok(&app, &owner, json!({"scope": "platform", "country": "KE", "mno_id": "ke-safaricom", "rate": "0.50",
        "effective_from": tomorrow.format(&time::format_description::well_known::Rfc3339).unwrap()})).await;

    let mut conn = app.app_pool.acquire().await.unwrap();
    let plain_scope = AccountScope::trusted(plain);
    let now = OffsetDateTime::now_utc();
    let q = quote::quote(&mut conn, plain_scope, SAFARICOM, Content::Segments(1), now)
        .await
        .unwrap();
    assert_eq!(
        (q.rate, q.scope, q.mno_id.as_deref()),
        (d("0.8"), RateScope::Platform, Some("ke-safaricom"))
    );
    // The future rate applies from its date, not before.
    let later = quote::quote(
        &mut conn,
        plain_scope,
        SAFARICOM,
        Content::Segments(1),
        now + Duration::days(2),
    )
    .await
    .unwrap();
    assert_eq!(later.rate, d("0.5"));
    // An operator without its own rate gets the country default; national input uses KE.
    let airtel = quote::quote(
        &mut conn,
        plain_scope,
        "0733 123 456",
        Content::Segments(3),
        now,
    )
    .await
    .unwrap();
    assert_eq!(
        (airtel.to.as_str(), airtel.rate, airtel.total),
        (AIRTEL, d("1"), d("3"))
    );

    // An account's country override beats the platform's operator rate (scope first).
    set_ok(
        &app,
        &owner,
        json!({"scope": "account", "account_id": acme.account_id, "country": "KE", "rate": "0.60"}),
    )
    .await;
    let now = OffsetDateTime::now_utc();
    let q = quote::quote(
        &mut conn,
        AccountScope::trusted(acme.account_id),
        SAFARICOM,
        Content::Segments(2),
        now,
    )
    .await
    .unwrap();
    assert_eq!(
        (q.rate, q.total, q.scope),
        (d("0.6"), d("1.2"), RateScope::Account)
    );
    let q = quote::quote(&mut conn, plain_scope, SAFARICOM, Content::Segments(2), now)
        .await
        .unwrap();
    assert_eq!(q.scope, RateScope::Platform);

    // Agents: retail list for their customers, wholesale list for themselves.
    let not_agent = set_rate(
        &app,
        &owner,
        json!({"scope": "agent_wholesale", "account_id": plain, "country": "KE", "rate": "0.3"}),
    )
    .await;
    assert_eq!(not_agent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(not_agent.json["errors"][0]["field"], "account_id");
    set_ok(
        &app,
        &owner,
        json!({"scope": "agent_wholesale", "account_id": agent, "country": "KE", "rate": "0.30"}),
    )
    .await;
    set_ok(&app, &owner, json!({"scope": "agent_retail", "account_id": agent, "country": "KE", "mno_id": "ke-safaricom", "rate": "0.90"})).await;
    let now = OffsetDateTime::now_utc();
    let q = quote::quote(
        &mut conn,
        AccountScope::trusted(agent),
        SAFARICOM,
        Content::Segments(1),
        now,
    )
    .await
    .unwrap();
    assert_eq!((q.rate, q.scope), (d("0.3"), RateScope::AgentWholesale));
    let q = quote::quote(
        &mut conn,
        AccountScope::trusted(sub),
        SAFARICOM,
        Content::Segments(1),
        now,
    )
    .await
    .unwrap();
    assert_eq!((q.rate, q.scope), (d("0.9"), RateScope::AgentRetail));
    let q = quote::quote(
        &mut conn,
        AccountScope::trusted(sub),
        AIRTEL,
        Content::Segments(1),
        now,
    )
    .await
    .unwrap();
    assert_eq!((q.rate, q.scope), (d("1"), RateScope::Platform));

    // Bulk: one query for many numbers, unpriced destinations reported per line.
    let numbers: Vec<Msisdn> = [SAFARICOM, AIRTEL, "+447911123456", "+254722000111"]
        .iter()
        .map(|n| Msisdn::parse(n, None).unwrap())
        .collect();
    let bulk = quote::quote_many(
        &mut conn,
        AccountScope::trusted(acme.account_id),
        &numbers,
        Content::Text("hello"),
        now,
    )
    .await
    .unwrap();
    assert_eq!(bulk.segments, 1);
    assert_eq!(bulk.total, d("1.8"));
    // (+44 7911 is Guernsey in libphonenumber's plan; no rate either way.)
    assert!(
        bulk.lines[2]
            .as_ref()
            .is_err_and(|e| e.starts_with("no rate")),
        "{:?}",
        bulk.lines
    );
    assert_eq!(bulk.lines[3].as_ref().unwrap().rate, d("0.6"));

    // Quote endpoint: GSM-7 160/153 and UCS-2 70/67 boundaries, priced at the account's rate.
    for (text, encoding, segments) in [
        ("a".repeat(160), "gsm7", 1),
        ("a".repeat(161), "gsm7", 2),
        ("a".repeat(306), "gsm7", 2),
        ("a".repeat(307), "gsm7", 3),
        ("é".repeat(10) + &"ж".repeat(60), "ucs2", 1),
        ("ж".repeat(71), "ucs2", 2),
        ("ж".repeat(134), "ucs2", 2),
        ("ж".repeat(135), "ucs2", 3),
    ] {
        let r = app
            .post(
                "/v1/pricing/quote",
                Some(&acme.access),
                json!({"to": SAFARICOM, "text": text}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json["encoding"], encoding);
        assert_eq!(
            r.json["segments"],
            segments,
            "{} chars",
            text.chars().count()
        );
        assert_eq!(r.json["rate"], "0.600000");
        let total = d("0.6") * rust_decimal::Decimal::from(segments);
        assert_eq!(
            r.json["total"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap(),
            total
        );
        assert_eq!(r.json["operator"], "Safaricom");
        assert_eq!(r.json["scope"], "account");
    }

    // The organisation's own rates show what prices it, per destination.
    let mine = app.get("/v1/pricing/rates", &acme.access).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    let rows = mine.json.as_array().unwrap();
    assert!(
        rows.iter()
            .all(|r| r["rate"] == "0.600000" && r["scope"] == "account"),
        "{rows:?}"
    );
    let plain_rates = app.get("/v1/pricing/rates?country=ke", &acme.access).await;
    assert_eq!(plain_rates.status, StatusCode::OK);

    // The public table: platform rates in force only (no overrides, no future rows).
    let public = app
        .call(axum::http::Method::GET, "/v1/pricing", None, None)
        .await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.text);
    assert_eq!(
        public.json,
        json!([
            {"country": "KE", "mno_id": null, "operator": null, "rate": "1.000000", "scope": "platform",
             "operator_specific": false, "effective_from": public.json[0]["effective_from"]},
            {"country": "KE", "mno_id": "ke-safaricom", "operator": "Safaricom", "rate": "0.800000",
             "scope": "platform", "operator_specific": true, "effective_from": public.json[1]["effective_from"]},
        ])
    );
    let tz = app
        .call(
            axum::http::Method::GET,
            "/v1/pricing?country=TZ",
            None,
            None,
        )
        .await;
    assert_eq!(tz.json, json!([]));
    let bad = app
        .call(
            axum::http::Method::GET,
            "/v1/pricing?country=Kenya",
            None,
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn quote_validation_and_access(db: PgPool) {
    let app = spawn_app(db);
    let owner = staff_token(&app, &[(Module::Pricing, Level::Owner)]).await;
    let user = app.verified("quote@example.com").await;
    set_ok(
        &app,
        &owner,
        json!({"scope": "platform", "country": "KE", "rate": "0.75"}),
    )
    .await;

    for (body, status, field) in [
        (
            json!({"to": "12", "text": "hi"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "to",
        ),
        (
            json!({"to": "+254202012345", "text": "hi"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "to",
        ),
        (
            json!({"to": "+447911123456", "text": "hi"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "to",
        ),
        (
            json!({"to": SAFARICOM}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "text",
        ),
        (
            json!({"to": SAFARICOM, "text": "hi", "segments": 2}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "text",
        ),
        (
            json!({"to": SAFARICOM, "segments": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "segments",
        ),
        (
            json!({"to": SAFARICOM, "segments": -1}),
            StatusCode::BAD_REQUEST,
            "segments",
        ),
        (
            json!({"to": SAFARICOM, "text": "hi", "from": "x"}),
            StatusCode::BAD_REQUEST,
            "from",
        ),
    ] {
        let r = app
            .post("/v1/pricing/quote", Some(&user.access), body.clone())
            .await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert!(r.text.contains(field), "{body}: {}", r.text);
    }
    let ok = app
        .post(
            "/v1/pricing/quote",
            Some(&user.access),
            json!({"to": SAFARICOM, "segments": 4}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.json["total"], "3.0000");
    assert!(ok.json["encoding"].is_null());

    // API keys: billing:read or messages:send may quote; others may not.
    for (scopes, status) in [
        (json!(["contacts:read"]), StatusCode::FORBIDDEN),
        (json!(["messages:send"]), StatusCode::OK),
        (json!(["billing:read"]), StatusCode::OK),
    ] {
        let key = app
            .post(
                "/v1/api-keys",
                Some(&user.access),
                json!({"name": "k", "scopes": scopes}),
            )
            .await;
        let secret = key.json["secret"].as_str().unwrap();
        let r = app
            .post(
                "/v1/pricing/quote",
                Some(secret),
                json!({"to": SAFARICOM, "text": "hi"}),
            )
            .await;
        assert_eq!(r.status, status, "{scopes}: {}", r.text);
    }
    let anonymous = app
        .post(
            "/v1/pricing/quote",
            None,
            json!({"to": SAFARICOM, "text": "hi"}),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}
