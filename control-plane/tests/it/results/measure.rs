//! The status consumer's events/s and the overview's latency (a measurement, ignored).

use super::*;

/// Measurement, not a check (ignored; run in release):
/// `cargo test --release -p semalink-control-plane --test it -- --ignored --nocapture results::measure`.
/// 100,000 messages (half of them a campaign's) get `sent` and a final receipt — 200,000
/// events applied and settled in batches of 5,000 as the consumer takes them — then the
/// overview is asked over a year of rollups standing for 10,000,000 messages. Two appliers
/// take the batches, as the two status consumers of the default `[results] consumers` do.
#[ignore = "measurement; run in release with --ignored --nocapture"]
#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn measure_status_consumer_throughput_and_overview_latency(db: PgPool) {
    use semalink_control_plane::credits::ledger;
    const N: i64 = 100_000;
    let app = spawn_app(db);
    let user = ready(&app, "measure@example.com", "1000000").await;
    let mut conn = app.app_pool.acquire().await.unwrap();
    ledger::reserve(
        &mut conn,
        &crate::credits::entry(user.account_id, "measure"),
        d("0.8") * Decimal::from(N),
    )
    .await
    .unwrap();
    drop(conn);
    let campaign = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO campaigns (id, account_id, name, message, status, total_recipients,
                                dispatched_count)
         VALUES ($1, $2, 'Measure', 'x', 'sending', $3, $3)",
    )
    .bind(campaign)
    .bind(user.account_id)
    .bind(i32::try_from(N / 2).unwrap())
    .execute(&app.db)
    .await
    .unwrap();
    let ids: Vec<Uuid> = (0..N).map(|_| Uuid::now_v7()).collect();
    sqlx::query(
        "INSERT INTO messages (id, account_id, campaign_id, sender, destination, country, mno_id,
                               body, encoding, parts, unit_price, cost, status, reservation)
         SELECT u.id, $2, CASE WHEN u.n % 2 = 0 THEN $3 END, 'AcmeCorp',
                '+2547' || lpad(u.n::text, 8, '0'), 'KE',
                CASE WHEN u.n % 3 = 0 THEN 'ke-airtel' ELSE 'ke-safaricom' END,
                'x', 'gsm7', 1, 0.8, 0.8, 'queued', 'measure'
         FROM unnest($1::uuid[]) WITH ORDINALITY AS u (id, n)",
    )
    .bind(&ids)
    .bind(user.account_id)
    .bind(campaign)
    .execute(&app.db)
    .await
    .unwrap();
    let mut events = Vec::with_capacity(ids.len() * 2);
    for (i, id) in ids.iter().enumerate() {
        let at = i64::try_from(i).unwrap();
        events.push(event(*id, DeliveryState::Sent, at));
    }
    for (i, id) in ids.iter().enumerate() {
        let at = i64::try_from(i).unwrap();
        let fin = if i % 10 == 0 {
            DeliveryState::Failed
        } else {
            DeliveryState::Delivered
        };
        events.push(event(*id, fin, 5_000 + at));
    }
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    let chunks: Vec<Vec<StatusEvent>> = events.chunks(5_000).map(<[StatusEvent]>::to_vec).collect();
    let shared = std::sync::Arc::new(std::sync::Mutex::new(chunks.into_iter()));
    for _ in 0..2 {
        let pool = app.app_pool.clone();
        let shared = shared.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let next = shared.lock().unwrap().next();
                let Some(chunk) = next else { break };
                loop {
                    match apply_batch(&pool, &chunk, &ResultsConfig::default(), BASE).await {
                        Ok(_) => break,
                        Err(e) if format!("{e}").contains("deadlock") => continue,
                        Err(e) => panic!("{e}"),
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let took = started.elapsed();
    let per_s = events.len() as f64 / took.as_secs_f64();
    println!(
        "status consumer (2 appliers): {} events ({} messages settled) in {:.2} s = {:.0} events/s",
        events.len(),
        N,
        took.as_secs_f64(),
        per_s
    );
    assert!(
        credits_store::verify(&app.db, user.account_id)
            .await
            .unwrap()
    );
    let done: String = sqlx::query_scalar("SELECT status::text FROM campaigns WHERE id = $1")
        .bind(campaign)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(done, "completed");

    // A year of rollups standing for 10,000,000 messages: 365 days × 30 campaigns × 3
    // operators, 304 messages each.
    let other = ready(&app, "year@example.com", "0").await;
    sqlx::query(
        "INSERT INTO message_rollups (account_id, day, campaign_id, country, mno_id, sent,
                                      delivered, failed, cost, refunded, deliver_seconds, timed)
         SELECT $1, current_date - d, c, 'KE', m, 304, 290, 14, 232.0, 11.2, 870.0, 290
         FROM generate_series(0, 364) d,
              (SELECT gen_random_uuid() AS c FROM generate_series(1, 30)) cs,
              unnest(ARRAY['ke-safaricom', 'ke-airtel', 'ke-telkom']) m",
    )
    .bind(other.account_id)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("ANALYZE message_rollups")
        .execute(&app.db)
        .await
        .unwrap();
    let from = (OffsetDateTime::now_utc().date() - time::Duration::days(364)).to_string();
    let uri = format!("/v1/analytics/overview?from={from}");
    let mut times = Vec::new();
    for _ in 0..50 {
        let t = std::time::Instant::now();
        let r = app.get(&uri, &other.access).await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(r.json["sent"], 365 * 30 * 3 * 304, "{}", r.text);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "overview over 10,000,000 messages (33,000 rollup rows): p50 {:.1} ms, max of 50 {:.1} ms",
        times[25], times[49]
    );
}
