//! The staff side: top-ups, adjustments, refunds, credit limits, the ledger view, audit.

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn staff_top_up_adjust_refund_limit_and_ledger_are_guarded_and_audited(db: PgPool) {
    let app = spawn_app(db);
    let a = app.signup("acme@example.com").await.account_id;
    let other = app.signup("other@example.com").await.account_id;
    let read = staff_token(&app, &[(Module::Billing, Level::Read)]).await;
    let admin = staff_token(&app, &[(Module::Billing, Level::Admin)]).await;
    let owner = staff_token(&app, &[(Module::Billing, Level::Owner)]).await;
    let crm = staff_token(&app, &[(Module::Crm, Level::Owner)]).await;
    let base = format!("/v1/admin/billing/accounts/{a}");
    let topup = json!({"amount": "250.50", "reference": "bank-77", "reason": "wire received"});

    // Permissions.
    for token in [&read, &crm] {
        let r = app
            .post(&format!("{base}/topups"), Some(token), topup.clone())
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(
        app.get(&format!("{base}/credits"), &crm).await.status,
        StatusCode::FORBIDDEN
    );

    // Top-up: created, then replayed; the reference cannot carry another amount.
    let r = app
        .post(&format!("{base}/topups"), Some(&admin), topup.clone())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["transaction"]["amount"], "250.5000");
    assert_eq!(r.json["transaction"]["actor_type"], "staff");
    assert_eq!(r.json["transaction"]["metadata"]["provider"], "manual");
    let again = app
        .post(&format!("{base}/topups"), Some(&admin), topup.clone())
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.json["replayed"].as_bool().unwrap());
    let other_amount = json!({"amount": "1", "reference": "bank-77", "reason": "x"});
    let r = app
        .post(&format!("{base}/topups"), Some(&admin), other_amount)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // Validation names the field.
    for (body, status, field) in [
        (
            json!({"amount": 5, "reference": "r", "reason": "x"}),
            StatusCode::BAD_REQUEST,
            "amount",
        ),
        (
            json!({"amount": "5.00001", "reference": "r", "reason": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "amount",
        ),
        (
            json!({"amount": "-5", "reference": "r", "reason": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "amount",
        ),
        (
            json!({"amount": "5", "reference": "", "reason": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "reference",
        ),
        (
            json!({"amount": "5", "reference": "r", "reason": "  "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason",
        ),
        (
            json!({"amount": "5", "reference": "r"}),
            StatusCode::BAD_REQUEST,
            "reason",
        ),
    ] {
        let r = app
            .post(&format!("{base}/topups"), Some(&admin), body.clone())
            .await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert!(r.text.contains(field), "{body}: {}", r.text);
    }
    let missing = app
        .post(
            &format!("/v1/admin/billing/accounts/{}/topups", Uuid::now_v7()),
            Some(&admin),
            topup.clone(),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Adjustment: a decrease beyond the prepaid balance is refused with 402.
    let too_much = json!({"amount": "-300", "reference": "adj-1", "reason": "fix"});
    let r = app
        .post(&format!("{base}/adjustments"), Some(&admin), too_much)
        .await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{}", r.text);
    assert_eq!(problem_type(&r), "insufficient-credit");
    let fix = json!({"amount": "-0.50", "reference": "adj-1", "reason": "fix"});
    let r = app
        .post(&format!("{base}/adjustments"), Some(&admin), fix)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // Refund of a reservation made by the dispatcher.
    let mut conn = app.app_pool.acquire().await.unwrap();
    ledger::reserve(&mut conn, &entry(a, "campaign-1"), d("50"))
        .await
        .unwrap();
    let refund = json!({"reference": "campaign-1", "reason": "campaign cancelled"});
    let r = app
        .post(&format!("{base}/refunds"), Some(&admin), refund.clone())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["transaction"]["amount"], "50.0000");
    let r = app
        .post(&format!("{base}/refunds"), Some(&admin), refund)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let unknown = json!({"reference": "never-reserved", "reason": "x"});
    let r = app
        .post(&format!("{base}/refunds"), Some(&admin), unknown)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Billing settings need owner; a negative balance cannot become prepaid.
    let postpaid = json!({"billing_mode": "postpaid", "credit_limit": "1000"});
    let r = app
        .call(
            Method::PUT,
            &format!("{base}/billing"),
            Some(&admin),
            Some(postpaid.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .call(
            Method::PUT,
            &format!("{base}/billing"),
            Some(&owner),
            Some(postpaid),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["available"], "1250.0000");
    let r = app
        .call(
            Method::PUT,
            &format!("{base}/billing"),
            Some(&owner),
            Some(json!({"billing_mode": "postpaid", "credit_limit": "-1"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json["errors"][0]["field"], "credit_limit");
    let down = json!({"amount": "-1000", "reference": "adj-2", "reason": "usage billed"});
    let r = app
        .post(&format!("{base}/adjustments"), Some(&admin), down)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let prepaid = json!({"billing_mode": "prepaid", "credit_limit": "0"});
    let r = app
        .call(
            Method::PUT,
            &format!("{base}/billing"),
            Some(&owner),
            Some(prepaid),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // Balance and the all-accounts ledger (read level is enough).
    fund(&app, other, "o-1", "7").await;
    let r = app.get(&format!("{base}/credits"), &read).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["balance"], "-750.0000");
    let all = app.get("/v1/admin/billing/transactions", &read).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.json["data"].as_array().unwrap().len(), 6);
    let mine = app
        .get(
            &format!("/v1/admin/billing/transactions?account_id={a}&type=adjustment"),
            &read,
        )
        .await;
    assert_eq!(mine.json["data"].as_array().unwrap().len(), 2);
    assert!(store::verify(&app.db, a).await.unwrap());
    assert!(store::verify(&app.db, other).await.unwrap());

    // Every staff change is audited with the acting staff member.
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE module = 'billing' ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        actions,
        [
            "credits.topup",
            "credits.topup",
            "credits.adjust",
            "credits.refund",
            "credits.refund",
            "credits.billing_settings",
            "credits.adjust",
        ]
    );
}
