//! Money edges: a credit limit below the debt, blank references, and the order of the ledger.

use rust_decimal::Decimal;
use semalink_control_plane::admin::permissions::{Level, Module};
use semalink_control_plane::credits::ledger;

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn credit_limit_below_the_debt_and_blank_references_are_refused(db: PgPool) {
    let app = spawn_app(db);
    let account = app.signup("debtor@example.com").await.account_id;
    let owner = crate::credits::staff_token(&app, &[(Module::Billing, Level::Owner)]).await;
    let base = format!("/v1/admin/billing/accounts/{account}");
    let set = |limit: &str| json!({"billing_mode": "postpaid", "credit_limit": limit});
    let r = app
        .call(
            Method::PUT,
            &format!("{base}/billing"),
            Some(&owner),
            Some(set("100")),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Spend into debt: -60.
    let mut conn = app.app_pool.acquire().await.unwrap();
    ledger::adjust(
        &mut conn,
        &crate::credits::entry(account, "usage-1"),
        Decimal::from(-60),
    )
    .await
    .unwrap();
    drop(conn);
    let below = app
        .call(
            Method::PUT,
            &format!("{base}/billing"),
            Some(&owner),
            Some(set("50")),
        )
        .await;
    assert_eq!(
        below.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        below.text
    );
    assert_eq!(below.json["errors"][0]["field"], "credit_limit");
    assert!(below.text.contains("60"), "{}", below.text);
    let at_debt = app
        .call(
            Method::PUT,
            &format!("{base}/billing"),
            Some(&owner),
            Some(set("60")),
        )
        .await;
    assert_eq!(at_debt.status, StatusCode::OK, "{}", at_debt.text);

    for reference in [" ", "   ", "\u{a0}", " bank-1", "bank-1 "] {
        let r = app
            .post(
                &format!("{base}/topups"),
                Some(&owner),
                json!({"amount": "5", "reference": reference, "reason": "wire"}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{reference:?}: {}",
            r.text
        );
        assert_eq!(r.json["errors"][0]["field"], "reference", "{reference:?}");
    }
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn ledger_rows_are_listed_in_the_order_they_were_applied(db: PgPool) {
    let app = spawn_app(db);
    let user = app.signup("ordered@example.com").await;
    let account = user.account_id;
    // A starts first (earlier created_at) but waits for B's row lock, so it applies second.
    let mut a = app.app_pool.begin().await.unwrap();
    sqlx::query("SELECT 1").execute(&mut *a).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mut b = app.app_pool.begin().await.unwrap();
    ledger::topup(
        &mut b,
        &crate::credits::entry(account, "b"),
        Decimal::from(2),
    )
    .await
    .unwrap();
    let waiter = tokio::spawn(async move {
        ledger::topup(
            &mut a,
            &crate::credits::entry(account, "a"),
            Decimal::from(1),
        )
        .await
        .unwrap();
        a.commit().await.unwrap();
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    b.commit().await.unwrap();
    waiter.await.unwrap();

    let page = app.get("/v1/credits/transactions", &user.access).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let items = page.json["data"].as_array().unwrap();
    let refs: Vec<&str> = items
        .iter()
        .map(|t| t["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["a", "b"], "newest applied first");
    let seqs: Vec<i64> = items.iter().map(|t| t["seq"].as_i64().unwrap()).collect();
    assert!(seqs[0] > seqs[1], "{seqs:?}");
    // created_at disagrees with the order of application: that is why seq exists.
    assert!(items[0]["created_at"].as_str() < items[1]["created_at"].as_str());
    // Page through with a cursor: the second page starts after the first row.
    let one = app
        .get("/v1/credits/transactions?limit=1", &user.access)
        .await;
    let cursor = one.json["next_cursor"].as_str().expect("a next page");
    let next = app
        .get(
            &format!("/v1/credits/transactions?limit=1&cursor={cursor}"),
            &user.access,
        )
        .await;
    assert_eq!(next.json["data"][0]["reference"], "b", "{}", next.text);
}
