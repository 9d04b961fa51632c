//! The ledger under concurrency: many parallel reservations, finalisations, refunds and
//! top-ups on one account (tokio tasks on the real pool, every operation issued twice with the
//! same reference) keep `balance = sum(ledger)`, `reserved = sum(reserved_delta)`, no negative
//! prepaid balance and one movement per (type, reference). Also the throughput measurement
//! behind docs/performance.md.

use std::collections::HashMap;

use rust_decimal::Decimal;
use semalink_control_plane::credits::ledger;
use semalink_control_plane::credits::store;
use semalink_control_plane::credits::types::{Movement, TxType};
use semalink_control_plane::error::Error;
use sqlx::PgPool;
use uuid::Uuid;

use crate::credits::{balances, d, entry, fund};
use crate::helpers::*;

/// Runs `tasks` workers on one prepaid account: each tops up, reserves, and settles its
/// reservations (finalise at a lower cost or refund), every operation issued twice from two
/// tasks with the same reference. Returns (operations, movements that were not replays).
async fn hammer(
    app: &TestApp,
    account_id: Uuid,
    round: &str,
    tasks: usize,
    per_task: usize,
) -> (usize, Vec<Movement>) {
    let mut handles = Vec::new();
    for t in 0..tasks {
        // Two tasks share each reference set: task t and t ^ 1 issue the same operations.
        let pair = format!("{round}-{}", t / 2);
        let pool = app.app_pool.clone();
        handles.push(tokio::spawn(async move {
            let mut done = Vec::new();
            let mut ops = 0;
            for i in 0..per_task {
                let mut conn = pool.acquire().await.unwrap();
                let reference = format!("p{pair}-m{i}");
                let e = entry(account_id, &reference);
                ops += 1;
                if i % 4 == 0 {
                    let top = format!("p{pair}-top{i}");
                    done.push(ledger::topup(&mut conn, &entry(account_id, &top), d("3")).await);
                    continue;
                }
                let reserved = ledger::reserve(&mut conn, &e, d("2.5")).await;
                let ok = reserved.is_ok();
                done.push(reserved);
                if !ok {
                    continue; // Insufficient credit: nothing to settle.
                }
                ops += 1;
                done.push(if i % 2 == 0 {
                    ledger::finalise(&mut conn, &e, d("1.75")).await
                } else {
                    ledger::refund(&mut conn, &e).await
                });
            }
            (ops, done)
        }));
    }
    let mut ops = 0;
    let mut moved = Vec::new();
    for h in handles {
        let (n, results) = h.await.unwrap();
        ops += n;
        for r in results {
            match r {
                Ok(m) if !m.replayed => moved.push(m),
                Ok(_) | Err(Error::InsufficientCredit(_)) => {}
                // The twin task may see the reservation refunded or not yet made.
                Err(Error::Conflict(_) | Error::NotFound) => {}
                Err(e) => panic!("unexpected error {e:?}"),
            }
        }
    }
    (ops, moved)
}

/// Checks the ledger after [`hammer`]: invariant, no negative prepaid balance, one movement
/// per (type, reference), balance equal to the applied movements.
async fn check_after_hammer(app: &TestApp, account_id: Uuid, start: Decimal, moved: &[Movement]) {
    assert!(store::verify(&app.db, account_id).await.unwrap());
    let (balance, reserved) = balances(app, account_id).await;
    let applied: Decimal = moved.iter().map(|m| m.transaction.amount).sum();
    assert_eq!(balance, start + applied);
    let outstanding: Decimal = moved.iter().map(|m| m.transaction.reserved_delta).sum();
    assert_eq!(reserved, outstanding);
    let negative: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM credit_transactions WHERE account_id = $1 AND (balance_after < 0 OR reserved_after < 0)",
    )
    .bind(account_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(negative, 0);
    let mut seen = HashMap::new();
    for m in moved {
        let key = (m.transaction.kind, m.transaction.reference.clone());
        assert!(
            seen.insert(key, ()).is_none(),
            "settled twice: {:?}",
            m.transaction
        );
    }
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM credit_transactions WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(rows as usize, moved.len() + 1);
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn parallel_operations_keep_the_ledger_consistent(db: PgPool) {
    let app = spawn_app(db);
    let a = app.signup("busy@example.com").await.account_id;
    // Little starting credit, so that some reservations hit the prepaid floor.
    fund(&app, a, "seed", "10").await;
    let (_, moved) = hammer(&app, a, "r", 8, 24).await;
    check_after_hammer(&app, a, d("10"), &moved).await;
    assert!(
        moved
            .iter()
            .any(|m| m.transaction.kind == TxType::Finalisation)
    );
}

/// Throughput of the ledger under contention on one account (figures for
/// docs/performance.md): `cargo test -p semalink-control-plane --test it
/// ledger_concurrency::ledger_throughput -- --ignored --nocapture` (the figure is bound by
/// PostgreSQL round trips and the row lock, so the test profile measures it fairly).
#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
#[ignore = "measurement; run with --ignored --nocapture"]
async fn ledger_throughput(db: PgPool) {
    let mut config = test_config();
    config.database.max_connections = 16;
    let app = spawn_app_with(db, config);
    let a = app.signup("perf@example.com").await.account_id;
    fund(&app, a, "seed", "100000").await;
    for (tasks, per_task) in [(1, 400), (8, 200), (16, 200)] {
        let started = std::time::Instant::now();
        let round = format!("{tasks}x{per_task}");
        let (ops, moved) = hammer(&app, a, &round, tasks, per_task).await;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "ledger one account: {tasks} tasks x {per_task}: {ops} operations ({} applied, rest replays) in {secs:.2} s = {:.0} ops/s",
            moved.len(),
            ops as f64 / secs
        );
        assert!(store::verify(&app.db, a).await.unwrap());
    }
}
