//! The whole service over real TCP: `ControlPlane::start` on `127.0.0.1:0` with every worker,
//! a request served, the email worker sending what it queued, and `shutdown()` waiting for
//! the workers before it returns.

use std::time::Duration;

use semalink_control_plane::service::ControlPlane;
use sqlx::ConnectOptions;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

/// The URL of the service's least-privilege login on the test database (as `spawn_app`).
fn service_login(db: &PgPool) -> secrecy::SecretString {
    let login = (*db.connect_options()).clone().username("semalink_api");
    login.to_url_lossy().to_string().into()
}

/// One HTTP/1.1 request over a fresh connection; the raw response text.
async fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn starts_on_port_zero_serves_and_shutdown_drains_the_workers(db: PgPool) {
    let mut config = test_config();
    config.database.url = service_login(&db);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = ControlPlane::start(config, listener, CancellationToken::new())
        .await
        .unwrap();
    let (addr, metrics_addr) = (handle.local_addr(), handle.metrics_addr());
    assert_ne!(addr.port(), 0);
    assert!(handle.ready().await);
    let workers = handle.workers();
    assert_eq!(
        workers.len(),
        9,
        "email outbox, login throttle sweep, trash purge, limiter pruning, idempotency purge, \
         campaign dispatcher, webhook sender, failure spike, link click writer (no message publisher and no status or inbound consumer without \
         [amqp]: no engine is on the in-process bus)"
    );

    let health = http(addr, "GET", "/health", "").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let metrics = http(handle.metrics_addr(), "GET", "/metrics", "").await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    let public_metrics = http(addr, "GET", "/metrics", "").await;
    assert!(
        public_metrics.starts_with("HTTP/1.1 404"),
        "{public_metrics}"
    );
    let signup = format!(
        r#"{{"email":"tcp@example.com","password":"{PASSWORD}","first_name":"T","last_name":"C","organisation_name":"TCP"}}"#
    );
    let created = http(addr, "POST", "/v1/auth/signup", &signup).await;
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");

    // The verification email is sent by the service's own outbox worker.
    let mut sent = false;
    for _ in 0..200 {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM email_outbox WHERE to_address = 'tcp@example.com'
                AND sent_at IS NOT NULL",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        if n > 0 {
            sent = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sent, "the email worker sent the verification email");

    handle.shutdown().await.unwrap();
    assert!(workers.is_closed());
    assert_eq!(
        workers.len(),
        0,
        "every worker ended before shutdown returned"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "nothing listens any more"
    );
    assert!(TcpStream::connect(metrics_addr).await.is_err());
}

#[sqlx::test(migrator = "semalink_control_plane::db::MIGRATOR")]
async fn workers_switched_off_by_config_do_not_run(db: PgPool) {
    let mut config = test_config();
    config.database.url = service_login(&db);
    config.workers.email_outbox = false;
    config.workers.trash_purge = false;
    config.workers.message_publisher = false;
    config.workers.idempotency_purge = false;
    config.workers.campaign_dispatcher = false;
    config.workers.webhook_sender = false;
    config.workers.failure_spike = false;
    config.workers.link_click_writer = false;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cancel = CancellationToken::new();
    let handle = ControlPlane::start(config, listener, cancel.clone())
        .await
        .unwrap();
    assert_eq!(
        handle.workers().len(),
        2,
        "only the limiter pruning and the login throttle sweep"
    );
    // Cancelling the token from outside (what `main` does on SIGTERM) stops it too.
    cancel.cancel();
    handle.shutdown().await.unwrap();
}
