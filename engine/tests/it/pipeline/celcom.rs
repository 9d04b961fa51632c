//! Celcom's HTTP API as an upstream (`kind = "celcom_http"`), against the simulator's own
//! HTTP API: submits and pulled receipts end in the same status events as SMPP, the API's
//! codes fall in the right retry class (the misspelt `respose-code` included), and an SMPP
//! upstream with no bind up falls back to it.

use std::time::Duration;

use semalink_engine::{Engine, config::Config};
use semalink_loadtest::{SimHandle, sim::Behaviour};
use semalink_protocol::contracts::{DeliveryState, ErrorKind};

use super::{Running, TIMEOUT, TOKEN, request, sim};

fn http_upstream(sim: &SimHandle, name: &str) -> String {
    format!(
        "[[upstreams]]\nname = \"{name}\"\nkind = \"celcom_http\"\nurl = \"http://{}/api/services/\"\napi_key = \"secret\"\npartner_id = \"semalink\"\nwindow = 4\ndlr_poll_ms = 50\nresponse_timeout_ms = 5000\n",
        sim.http_addr
    )
}

fn config_text(upstreams: &str, default_upstream: &str) -> Config {
    let text = format!(
        "[http]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n{upstreams}\n[default_route]\nupstream = \"{default_upstream}\"\nrate = 1000.0\nburst = 100\n[retry]\nmax_attempts = 3\nbackoff_min_ms = 20\nbackoff_max_ms = 200\n[shutdown]\ndeadline_ms = 3000\n"
    );
    Config::from_toml(&text, std::iter::empty()).unwrap()
}

async fn start(config: Config, ready: bool) -> Running {
    let mut engine = Engine::start(config).await.unwrap();
    if ready {
        assert!(engine.wait_ready(TIMEOUT).await, "HTTP upstream never up");
    }
    let events = engine.take_events().unwrap();
    Running {
        engine,
        events,
        seen: Default::default(),
    }
}

#[tokio::test]
async fn messages_go_by_http_and_their_receipts_are_pulled() {
    let sim = sim(Behaviour::default()).await;
    let mut run = start(config_text(&http_upstream(&sim, "celcom"), "celcom"), true).await;
    let mut msgs: Vec<_> = (0..4)
        .map(|i| request(&format!("+25471{i:07}"), "by http"))
        .collect();
    // A long text is one request: the API splits it itself.
    msgs.push(request("+254712345678", &"long ".repeat(60)));
    run.submit(&msgs).await;
    let ids: Vec<_> = msgs.iter().map(|m| m.message_id).collect();
    run.until_final(&ids).await;
    run.assert_all_delivered(&ids);
    for id in &ids {
        assert_eq!(
            run.states(*id),
            [DeliveryState::Sent, DeliveryState::Delivered]
        );
        let sent = &run.seen.all(*id)[0];
        assert_eq!(sent.upstream.as_deref(), Some("celcom"));
        assert!(sent.smsc_message_id.is_some());
    }
    let stats = sim.stats();
    assert_eq!((stats.http_submits, stats.submits), (5, 0));
    assert!(stats.http_dlr_queries >= 5, "{stats:?}");
    run.engine.shutdown().await;
}

#[tokio::test]
async fn api_codes_are_permanent_throttled_or_transient() {
    let mut behaviour = Behaviour::default();
    behaviour.http_api.respose_quirk = true;
    behaviour.http_api.force_code = 1003;
    let sim = sim(behaviour.clone()).await;
    let mut run = start(config_text(&http_upstream(&sim, "celcom"), "celcom"), true).await;
    // 1003 invalid mobile: failed at once with the SMPP equivalent, not retried.
    let bad = request("+254712345678", "invalid mobile");
    run.submit(std::slice::from_ref(&bad)).await;
    run.until_final(&[bad.message_id]).await;
    let last = run.final_state(bad.message_id).unwrap().clone();
    assert_eq!(last.state, DeliveryState::Failed);
    let error = last.error.unwrap();
    assert_eq!((error.kind, error.code), (ErrorKind::CommandStatus, 0x0B));
    let retries = |reason: &str| {
        run.engine
            .pipeline()
            .metrics
            .retries
            .with_label_values(&["default", reason])
            .get()
    };
    assert_eq!(retries("transient"), 0);
    // 4090 try again later: retried as throttled until the API takes it.
    behaviour.http_api.force_code = 4090;
    sim.set_behaviour(behaviour.clone()).unwrap();
    let later = request("+254712345678", "try again later");
    run.submit(std::slice::from_ref(&later)).await;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while retries("throttled") < 2 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    behaviour.http_api.force_code = 0;
    sim.set_behaviour(behaviour).unwrap();
    run.until_final(&[later.message_id]).await;
    run.assert_all_delivered(&[later.message_id]);
    run.engine.shutdown().await;
}

#[tokio::test]
async fn an_smpp_upstream_without_binds_falls_back_to_http() {
    let sim = sim(Behaviour::default()).await;
    // The SMPP upstream's password is wrong: it never binds.
    let smpp = format!(
        "[[upstreams]]\nname = \"smpp\"\nhost = \"127.0.0.1\"\nport = {}\nsystem_id = \"semalink\"\npassword = \"wrong\"\nreconnect_min_ms = 50\nreconnect_max_ms = 200\nfallback = \"celcom\"\n",
        sim.smpp_addr.port()
    );
    let upstreams = format!("{smpp}{}", http_upstream(&sim, "celcom"));
    let mut run = start(config_text(&upstreams, "smpp"), false).await;
    let http = &run.engine.pipeline().pools[1];
    assert!(http.wait_up(TIMEOUT).await);
    assert!(!run.engine.pipeline().pools[0].is_up());
    let msg = request("+254712345678", "via the fallback");
    run.submit(std::slice::from_ref(&msg)).await;
    run.until_final(&[msg.message_id]).await;
    run.assert_all_delivered(&[msg.message_id]);
    assert_eq!(
        run.seen.all(msg.message_id)[0].upstream.as_deref(),
        Some("celcom")
    );
    assert_eq!((sim.stats().http_submits, sim.stats().submits), (1, 0));
    run.engine.shutdown().await;
}

#[tokio::test]
async fn pushed_reports_decide_messages_and_nothing_is_polled() {
    const CALLBACK: &str = "callback-token-0123456789";
    let mut behaviour = Behaviour::default();
    behaviour.receipts.mix.delivrd = 0.0;
    behaviour.receipts.mix.undeliv = 1.0;
    let sim = sim(behaviour.clone()).await;
    let upstream = format!(
        "{}dlr_callback_token = \"{CALLBACK}\"\n",
        http_upstream(&sim, "celcom")
    );
    let mut run = start(config_text(&upstream, "celcom"), true).await;
    let addr = run.engine.local_addr();
    // Refused at the door: a wrong token, an upstream without a callback, a body that is no
    // report — each a JSON problem, nothing handled.
    for (path, body, status) in [
        (
            "/v1/upstreams/celcom/dlr?token=wrong-token-000000000",
            "{}",
            401,
        ),
        ("/v1/upstreams/nowhere/dlr?token=x", "{}", 404),
        (
            &format!("/v1/upstreams/celcom/dlr?token={CALLBACK}") as &str,
            "{\"delivery-description\":\"Delivered\"}",
            400,
        ),
    ] {
        let (got, json) = super::post(addr, path, body.as_bytes()).await;
        assert_eq!(
            (got, &json["status"]),
            (status, &serde_json::json!(status)),
            "{path}"
        );
    }
    // The simulator pushes every report to the engine's callback.
    behaviour.http_api.dlr_callback_url =
        format!("http://{addr}/v1/upstreams/celcom/dlr?token={CALLBACK}");
    sim.set_behaviour(behaviour).unwrap();
    let msgs: Vec<_> = (0..3)
        .map(|i| request(&format!("+25471{i:07}"), "pushed back"))
        .collect();
    run.submit(&msgs).await;
    let ids: Vec<_> = msgs.iter().map(|m| m.message_id).collect();
    run.until_final(&ids).await;
    for id in &ids {
        let last = run.final_state(*id).unwrap();
        assert_eq!(last.state, DeliveryState::Failed, "{last:?}");
        assert_eq!(last.upstream.as_deref(), Some("celcom"));
    }
    // The simulator counts a push once it read the engine's 200, just after the event.
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while sim.stats().http_dlr_pushed < 3 {
        assert!(tokio::time::Instant::now() < deadline, "{:?}", sim.stats());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = sim.stats();
    assert_eq!(stats.http_dlr_pushed, 3, "{stats:?}");
    assert_eq!(stats.http_dlr_queries, 0, "nothing polled: {stats:?}");
    run.engine.shutdown().await;
}

#[tokio::test]
async fn parts_the_poller_never_asks_for_are_reconciled_with_getdlr() {
    let sim = sim(Behaviour::default()).await;
    // The poller's first round is before anything is sent, the next an hour away (as if its
    // list had died with another engine): only the reconciler can learn the outcome.
    let upstream =
        http_upstream(&sim, "celcom").replace("dlr_poll_ms = 50", "dlr_poll_ms = 3600000");
    let reconcile = "[reconcile]\nwait_secs = 1\nperiod_ms = 50\nrate = 100.0\nrecheck_secs = 0\nmax_queries = 3\n";
    let mut run = start(
        config_text(&format!("{upstream}{reconcile}"), "celcom"),
        true,
    )
    .await;
    let msgs: Vec<_> = (0..2)
        .map(|i| request(&format!("+25471{i:07}"), "asked for later"))
        .collect();
    run.submit(&msgs).await;
    let ids: Vec<_> = msgs.iter().map(|m| m.message_id).collect();
    run.until_final(&ids).await;
    run.assert_all_delivered(&ids);
    let metrics = &run.engine.pipeline().metrics;
    assert_eq!(
        metrics
            .reconciled
            .with_label_values(&["celcom", "final"])
            .get(),
        2
    );
    assert_eq!(
        metrics
            .expired_without_receipt
            .with_label_values(&["celcom"])
            .get(),
        0
    );
    assert_eq!(sim.stats().http_dlr_queries, 2, "{:?}", sim.stats());
    run.engine.shutdown().await;
}
