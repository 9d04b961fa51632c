//! Redis going away and coming back, on a private `redis-server` (never the shared one):
//! readiness drops, nothing is submitted meanwhile, and the engine resumes by itself.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use semalink_engine::sink::Published;
use semalink_loadtest::sim::{Behaviour, latency::Latency};
use semalink_protocol::contracts::DeliveryState;

use super::redis_config;
use crate::pipeline::{TIMEOUT, config, engine, get, request, sim};

/// A `redis-server` on `port` with no persistence, its files in `dir`.
fn redis_server(port: u16, dir: &Path) -> Child {
    Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server is installed")
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `f` until it is true or [`TIMEOUT`] passes.
async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !f() {
        assert!(tokio::time::Instant::now() < deadline, "never {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_redis_restart_makes_the_engine_unready_then_it_resumes() {
    let dir = std::env::temp_dir().join(format!("sl-redis-{:x}", fastrand::u64(..)));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let mut server = Server(redis_server(port, &dir));
    // Receipts come two seconds after the response: the first message's arrives while Redis
    // is down.
    let mut behaviour = Behaviour::default();
    behaviour.receipts.delay = Latency::Fixed(2000);
    let sim = sim(behaviour).await;
    let mut c = config(&sim, "", "rate = 1000.0\nburst = 100");
    let url = format!("redis://127.0.0.1:{port}");
    c.redis = Some(redis_config(&url, "sl:", Duration::from_secs(600)));
    let mut run = engine(c).await;

    let first = request("+254712345678", "before the restart");
    run.submit(std::slice::from_ref(&first)).await;
    let sent = tokio::time::timeout(TIMEOUT, async {
        loop {
            match run.events.recv().await {
                Some(Published::Status(e)) if e.message_id == first.message_id => return e,
                Some(_) => {}
                None => panic!("event stream closed"),
            }
        }
    })
    .await
    .expect("no sent event");
    assert_eq!(sent.state, DeliveryState::Sent);

    server.0.kill().unwrap();
    server.0.wait().unwrap();
    until("unready", || !run.engine.is_ready()).await;
    let (status, _) = get(run.engine.local_addr(), "/ready").await;
    assert_eq!(status, 503);
    // Its receipt cannot be correlated now: answered "retry later", not acknowledged.
    let deferred = || {
        run.engine
            .pipeline()
            .metrics
            .receipts_deferred
            .with_label_values(&["store"])
            .get()
    };
    until("a receipt deferred", || deferred() > 0).await;
    // Taken by the HTTP ingress, but not submitted while its receipts could not be matched.
    let during = request("+254712345679", "during the outage");
    run.submit(std::slice::from_ref(&during)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sim.stats().submits,
        1,
        "nothing submitted without the store"
    );

    server = Server(redis_server(port, &dir));
    until("ready again", || run.engine.is_ready()).await;
    let after = request("+254712345670", "after the restart");
    run.submit(std::slice::from_ref(&after)).await;
    let ids = [during.message_id, after.message_id];
    run.until_final(&ids).await;
    run.assert_all_delivered(&ids);
    // The simulator does not redeliver a refused receipt (a real SMSC does): no final event.
    assert_eq!(run.final_state(first.message_id), None);
    assert_eq!(sim.stats().submits, 3);
    run.engine.shutdown().await;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
