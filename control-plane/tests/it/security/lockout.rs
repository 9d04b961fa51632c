//! Login throttling is neither a denial of service nor an oracle: failures from one IP delay
//! that IP only, unknown and real addresses answer alike, and an attack from many IPs still
//! locks the account and tells its owner.

use super::*;

fn app_behind_proxy(db: PgPool) -> TestApp {
    let mut config = test_config();
    config.server.trust_forwarded_for = true;
    spawn_app_with(db, config)
}

async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> Resp {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/auth/login")
        .header("content-type", "application/json")
        .header("x-forwarded-for", ip)
        .body(Body::from(
            json!({"email": email, "password": password}).to_string(),
        ))
        .unwrap();
    app.send(request).await
}

fn retry_after(r: &Resp) -> u64 {
    r.headers["retry-after"].to_str().unwrap().parse().unwrap()
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn failures_from_one_ip_do_not_lock_the_owner_out_elsewhere(db: PgPool) {
    let app = app_behind_proxy(db);
    let email = "victim@example.com";
    app.signup(email).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            login_from(&app, "203.0.113.9", email, "Wrong-Guess-00")
                .await
                .status,
        );
    }
    let s = StatusCode::UNAUTHORIZED;
    let l = StatusCode::LOCKED;
    assert_eq!(statuses, [s, s, s, s, l, l]);
    // The owner, from their own network, is not affected.
    let owner = login_from(&app, "198.51.100.7", email, PASSWORD).await;
    assert_eq!(owner.status, StatusCode::OK, "{}", owner.text);
    // The attacker's delay grows: once it passes, the next failure waits twice as long.
    let first = login_from(&app, "203.0.113.9", email, PASSWORD).await;
    assert_eq!(
        first.status,
        StatusCode::LOCKED,
        "no password is checked while delayed"
    );
    assert!((1..=30).contains(&retry_after(&first)));
    sqlx::query("UPDATE login_throttle SET blocked_until = now() WHERE ip = '203.0.113.9'")
        .execute(&app.db)
        .await
        .unwrap();
    let next = login_from(&app, "203.0.113.9", email, "Wrong-Guess-00").await;
    assert_eq!(next.status, StatusCode::LOCKED);
    assert!(
        (31..=60).contains(&retry_after(&next)),
        "{}",
        retry_after(&next)
    );
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn unknown_and_real_addresses_answer_alike(db: PgPool) {
    let app = app_behind_proxy(db);
    app.signup("real@example.com").await;
    let mut answers = Vec::new();
    for email in ["real@example.com", "ghost@example.com"] {
        let mut seen = Vec::new();
        for _ in 0..7 {
            let r = login_from(&app, "192.0.2.1", email, "Wrong-Guess-00").await;
            seen.push((r.status, problem_type(&r)));
        }
        answers.push(seen);
    }
    assert_eq!(answers[0], answers[1]);
    assert!(answers[0].iter().any(|(s, _)| *s == StatusCode::LOCKED));
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn an_attack_from_many_ips_locks_the_account_and_tells_the_owner(db: PgPool) {
    let app = app_behind_proxy(db);
    let email = "target@example.com";
    app.signup(email).await;
    // 20 failures (the account threshold), 2 per IP: no single IP reaches its own limit.
    for i in 0..20 {
        let ip = format!("10.0.{}.1", i / 2);
        let r = login_from(&app, &ip, email, "Wrong-Guess-00").await;
        let expected = if i == 19 {
            StatusCode::LOCKED
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(r.status, expected, "attempt {i}");
    }
    let owner = login_from(&app, "198.51.100.7", email, PASSWORD).await;
    assert_eq!(owner.status, StatusCode::LOCKED);
    assert!(retry_after(&owner) > 800);
    let told: String = sqlx::query_scalar(
        "SELECT subject FROM email_outbox WHERE to_address = $1 AND template = 'notification'",
    )
    .bind(email)
    .fetch_one(&app.db)
    .await
    .expect("the owner is told, once");
    assert!(told.contains("paused"), "{told}");
}
