//! Credits: the ledger operations and their idempotency, prepaid/postpaid limits, the
//! customer endpoints (balance, history, threshold + low-credit notice), the staff endpoints
//! (top-up, adjustment, refund, billing settings, ledger view, audit). The concurrency test is
//! in `ledger_concurrency.rs`.

use axum::http::{Method, StatusCode};
use rust_decimal::Decimal;
use semalink_control_plane::admin::permissions::{Level, Module};
use semalink_control_plane::admin::types::StaffClaims;
use semalink_control_plane::auth::jwt::{ISSUER, STAFF_AUDIENCE, now_secs};
use semalink_control_plane::credits::ledger::{self, Entry};
use semalink_control_plane::credits::store;
use semalink_control_plane::credits::types::{Actor, Movement};
use semalink_control_plane::error::Error;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::*;

/// A staff access token with exactly `perms`, signed with the app's staff key.
pub fn staff_token(app: &TestApp, perms: &[(Module, Level)]) -> String {
    let now = now_secs();
    let claims = StaffClaims {
        sub: Uuid::now_v7(),
        sid: Uuid::now_v7(),
        perms: perms.iter().copied().collect(),
        pwc: false,
        iat: now,
        exp: now + 900,
        aud: STAFF_AUDIENCE.into(),
        iss: ISSUER.into(),
    };
    app.state.staff_keys.sign(&claims).unwrap()
}

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub fn entry(account_id: Uuid, reference: &str) -> Entry<'_> {
    Entry {
        account_id,
        reference,
        actor: Actor::System("test"),
        reason: None,
        metadata: json!({}),
        base_url: "http://app.test",
    }
}

/// Tops up `amount` through the ledger (as the status consumer or a provider would).
pub async fn fund(app: &TestApp, account_id: Uuid, reference: &str, amount: &str) -> Movement {
    let mut conn = app.app_pool.acquire().await.unwrap();
    ledger::topup(&mut conn, &entry(account_id, reference), d(amount))
        .await
        .unwrap()
}

pub async fn balances(app: &TestApp, account_id: Uuid) -> (Decimal, Decimal) {
    sqlx::query_as("SELECT balance, reserved_balance FROM credits WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn notices(app: &TestApp, account_id: Uuid) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM notifications WHERE account_id = $1 AND kind = 'credits.low'",
    )
    .bind(account_id)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn ledger_operations_settle_once_and_respect_limits(db: PgPool) {
    let app = spawn_app(db);
    let a = app.signup("ledger@example.com").await.account_id;
    let mut conn = app.app_pool.acquire().await.unwrap();
    let c = &mut *conn;

    // Prepaid: nothing to reserve yet.
    let err = ledger::reserve(c, &entry(a, "m1"), d("5"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InsufficientCredit(_)), "{err:?}");
    assert!(!fund(&app, a, "tx-1", "10").await.replayed);
    let again = fund(&app, a, "tx-1", "10").await;
    assert!(again.replayed);
    assert!(matches!(
        ledger::topup(c, &entry(a, "tx-1"), d("11")).await,
        Err(Error::Conflict(_))
    ));

    // Reserve 4, replay it, finalise at 3 (1 released), replay that.
    let r = ledger::reserve(c, &entry(a, "m1"), d("4")).await.unwrap();
    assert_eq!((r.transaction.amount, r.replayed), (d("-4"), false));
    assert!(
        ledger::reserve(c, &entry(a, "m1"), d("4"))
            .await
            .unwrap()
            .replayed
    );
    assert!(matches!(
        ledger::reserve(c, &entry(a, "m1"), d("5")).await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(balances(&app, a).await, (d("6"), d("4")));
    let f = ledger::finalise(c, &entry(a, "m1"), d("3")).await.unwrap();
    assert_eq!(
        (f.transaction.amount, f.transaction.reserved_delta),
        (d("1"), d("-4"))
    );
    assert!(
        ledger::finalise(c, &entry(a, "m1"), d("3"))
            .await
            .unwrap()
            .replayed
    );
    assert!(matches!(
        ledger::finalise(c, &entry(a, "m1"), d("2")).await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(balances(&app, a).await, (d("7"), d("0")));

    // Refund of the finalised reservation returns the charge, once.
    let back = ledger::refund(c, &entry(a, "m1")).await.unwrap();
    assert_eq!((back.transaction.amount, back.replayed), (d("3"), false));
    assert!(ledger::refund(c, &entry(a, "m1")).await.unwrap().replayed);
    assert_eq!(balances(&app, a).await, (d("10"), d("0")));

    // An open reservation refunded is released; it can no longer be finalised.
    ledger::reserve(c, &entry(a, "m2"), d("10")).await.unwrap();
    assert!(matches!(
        ledger::reserve(c, &entry(a, "m3"), d("0.0001")).await,
        Err(Error::InsufficientCredit(_))
    ));
    assert!(matches!(
        ledger::finalise(c, &entry(a, "m2"), d("11")).await,
        Err(Error::Validation(_))
    ));
    ledger::refund(c, &entry(a, "m2")).await.unwrap();
    assert!(matches!(
        ledger::finalise(c, &entry(a, "m2"), d("1")).await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        ledger::finalise(c, &entry(a, "nope"), d("1")).await,
        Err(Error::NotFound)
    ));
    // Bad input to the store functions is a field error, not a database error.
    assert!(matches!(
        ledger::reserve(c, &entry(a, ""), d("1")).await,
        Err(Error::Validation(_))
    ));
    assert!(matches!(
        ledger::reserve(c, &entry(a, "m9"), d("0.00001")).await,
        Err(Error::Validation(_))
    ));
    assert!(matches!(
        ledger::adjust(c, &entry(a, "adj"), d("-10.0001")).await,
        Err(Error::InsufficientCredit(_))
    ));

    // Postpaid with a limit of 5: may go down to -5, not beyond.
    sqlx::query(
        "UPDATE credits SET billing_mode = 'postpaid', credit_limit = 5 WHERE account_id = $1",
    )
    .bind(a)
    .execute(&app.db)
    .await
    .unwrap();
    ledger::reserve(c, &entry(a, "p1"), d("15")).await.unwrap();
    assert!(matches!(
        ledger::reserve(c, &entry(a, "p2"), d("0.01")).await,
        Err(Error::InsufficientCredit(_))
    ));
    assert_eq!(balances(&app, a).await, (d("-5"), d("15")));
    assert!(store::verify(&app.db, a).await.unwrap());

    // The service role cannot rewrite the ledger.
    let update = sqlx::query("UPDATE credit_transactions SET amount = 0")
        .execute(&app.app_pool)
        .await;
    assert!(update.is_err());
    let delete = sqlx::query("DELETE FROM credit_transactions")
        .execute(&app.app_pool)
        .await;
    assert!(delete.is_err());
}

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

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn staff_top_up_adjust_refund_limit_and_ledger_are_guarded_and_audited(db: PgPool) {
    let app = spawn_app(db);
    let a = app.signup("acme@example.com").await.account_id;
    let other = app.signup("other@example.com").await.account_id;
    let read = staff_token(&app, &[(Module::Billing, Level::Read)]);
    let admin = staff_token(&app, &[(Module::Billing, Level::Admin)]);
    let owner = staff_token(&app, &[(Module::Billing, Level::Owner)]);
    let crm = staff_token(&app, &[(Module::Crm, Level::Owner)]);
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
