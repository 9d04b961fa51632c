//! Statement timeouts per request class, and fresh statistics for staged import rows.

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn api_statements_time_out_and_bulk_ones_may_run_longer(db: PgPool) {
    let mut config = test_config();
    config.database.statement_timeout_ms = 200;
    config.database.bulk_statement_timeout_ms = 5_000;
    let app = spawn_app_with(db, config);
    let err = sqlx::query("SELECT pg_sleep(1)")
        .execute(&app.app_pool)
        .await
        .expect_err("an API statement must not run for a second");
    let code = err.as_database_error().and_then(|e| e.code());
    assert_eq!(code.as_deref(), Some("57014"), "{err}");

    let (mut tx, guard) = semalink_control_plane::db::begin_bulk(&app.app_pool, 5_000)
        .await
        .unwrap();
    sqlx::query("SELECT pg_sleep(0.5)")
        .execute(&mut *tx)
        .await
        .expect("a bulk statement may run longer");
    tx.commit().await.unwrap();
    guard.disarm();
    // SET LOCAL: the pooled connection is back on the API timeout.
    let timeout: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(&app.app_pool)
        .await
        .unwrap();
    assert_eq!(timeout, "200ms");
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn staged_rows_are_analysed_before_the_set_based_statements(db: PgPool) {
    let app = spawn_app(db);
    let user = app.verified("analyse@example.com").await;
    let csv: String = std::iter::once("phone\n".to_owned())
        .chain((0..200).map(|i| format!("0712{i:06}\n")))
        .collect();
    let r = crate::imports::upload(&app, &user.access, "", csv).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let columns: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_stats WHERE tablename = 'contact_import_rows'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(columns > 0, "no statistics on the staged rows");
}
