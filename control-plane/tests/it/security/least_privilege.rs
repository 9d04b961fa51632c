//! The service logs in as `semalink_api` itself: no superuser session to `RESET ROLE` back
//! to, no schema changes, the audit log insert-only; and a dropped bulk request's statement is
//! cancelled (a login can cancel its own backends, which a SET ROLE on a superuser login could
//! not).

use std::time::Duration;

use semalink_control_plane::db;

use super::*;

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn the_service_login_has_only_its_grants(db: PgPool) {
    let app = spawn_app(db);
    let mut conn = app.app_pool.acquire().await.unwrap();
    sqlx::query("RESET ROLE").execute(&mut *conn).await.unwrap();
    let (session, current, superuser): (String, String, bool) = sqlx::query_as(
        "SELECT session_user::text, current_user::text,
                (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(
        (session.as_str(), current.as_str()),
        ("semalink_api", "semalink_api")
    );
    assert!(!superuser);
    for forbidden in [
        "CREATE TABLE sneaky (id int)",
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM credit_transactions",
        "SELECT * FROM _sqlx_migrations",
        "SET ROLE postgres",
    ] {
        let err = sqlx::query(sqlx::AssertSqlSafe(forbidden))
            .execute(&mut *conn)
            .await
            .expect_err(forbidden);
        let code = err.as_database_error().and_then(|e| e.code());
        assert_eq!(code.as_deref(), Some("42501"), "{forbidden}: {err}");
    }
}

async fn sleepers(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
          WHERE query = 'SELECT pg_sleep(30)' AND state = 'active' AND datname = current_database()",
    )
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn a_dropped_bulk_request_cancels_its_statement(db: PgPool) {
    let app = spawn_app(db);
    let pool = app.app_pool.clone();
    let request = tokio::spawn(async move {
        let (mut tx, _guard) = db::begin_bulk(&pool, 60_000).await.unwrap();
        let _ = sqlx::query("SELECT pg_sleep(30)").execute(&mut *tx).await;
    });
    let mut started = false;
    for _ in 0..100 {
        if sleepers(&app).await == 1 {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(started, "the statement never started");
    // What the request timeout (or a client going away) does to the handler future.
    request.abort();
    let mut cancelled = false;
    for _ in 0..200 {
        if sleepers(&app).await == 0 {
            cancelled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        cancelled,
        "the statement kept running after its request was dropped"
    );
}
