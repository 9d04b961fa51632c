//! Ledger operations: reserve, finalise, refund, top-up, idempotency and limits.

use super::*;

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
