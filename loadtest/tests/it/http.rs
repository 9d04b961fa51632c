//! The HTTP control endpoint: /stats, /metrics, /config, /reset, /mo, /disconnect. Plain
//! HTTP/1.1 over a TcpStream keeps the test free of an HTTP client dependency.

use rusmpp::Pdu;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::common::*;

/// Sends one request; returns (status code, body).
async fn http(
    sim: &semalink_loadtest::SimHandle,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(sim.http_addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    within(s.read_to_string(&mut out)).await.unwrap();
    let code = out[9..12].parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (code, body)
}

#[tokio::test]
async fn stats_metrics_config_and_reset() {
    let sim = start(quick()).await;
    let (c, _e) = trx(&sim).await;
    c.submit_sm(sms("254712345678", "x")).await.unwrap();
    let (code, body) = http(&sim, "GET", "/stats", "").await;
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["submits"], 1);
    assert_eq!(v["responses"]["ESME_ROK"], 1);
    let (code, body) = http(&sim, "GET", "/metrics", "").await;
    assert_eq!(code, 200);
    assert!(body.contains("smsc_sim_submits_total 1"), "{body}");
    assert!(
        body.contains("smsc_sim_responses_total{status=\"ESME_ROK\"} 1"),
        "{body}"
    );

    let (code, body) = http(
        &sim,
        "POST",
        "/config",
        r#"{"flow":{"tps_per_bind":7},"message_id":"hex_lower"}"#,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let b = sim.behaviour();
    assert_eq!(b.flow.tps_per_bind, 7);
    assert_eq!(String::from(b.message_id), "hex_lower");
    assert!(b.receipts.enabled, "untouched keys keep their values");
    let (code, _) = http(&sim, "POST", "/config", r#"{"flow":{"syserr_rate":3}}"#).await;
    assert_eq!(code, 422);
    let (code, _) = http(&sim, "POST", "/config", r#"{"flow":{"no_such_knob":1}}"#).await;
    assert_eq!(code, 422);

    let (code, _) = http(&sim, "POST", "/reset", "").await;
    assert_eq!(code, 204);
    let s = sim.stats();
    assert_eq!(
        (s.submits, s.binds_current),
        (0, 1),
        "reset zeroes counters, keeps the gauge"
    );
    sim.shutdown();
}

#[tokio::test]
async fn mo_is_injected_to_a_receiver() {
    let sim = start(quick()).await;
    let (code, _) = http(
        &sim,
        "POST",
        "/mo",
        r#"{"from":"254712345678","to":"22345","text":"STOP","system_id":"semalink"}"#,
    )
    .await;
    assert_eq!(code, 409, "no receiver bound yet");
    let (c, mut ev) = trx(&sim).await;
    let (code, _) = http(
        &sim,
        "POST",
        "/mo",
        r#"{"from":"254712345678","to":"22345","text":"STOP","system_id":"semalink"}"#,
    )
    .await;
    assert_eq!(code, 202);
    let cmd = next_incoming(&mut ev).await;
    let Some(Pdu::DeliverSm(d)) = cmd.pdu() else {
        panic!("expected deliver_sm, got {cmd:?}")
    };
    assert_eq!(d.short_message().as_ref(), b"STOP");
    assert_eq!(d.source_addr.as_str(), "254712345678");
    assert_eq!(
        u8::from(d.esm_class) & 0x3C,
        0,
        "MO, not a receipt: {:?}",
        d.esm_class
    );
    c.deliver_sm_resp(
        cmd.sequence_number(),
        rusmpp::pdus::DeliverSmResp::default(),
    )
    .await
    .unwrap();
    assert_eq!(sim.stats().mo_sent, 1);
    sim.shutdown();
}

#[tokio::test]
async fn disconnect_drops_every_connection_and_binds_work_again() {
    let sim = start(quick()).await;
    let (a, _ea) = trx(&sim).await;
    let (b, _eb) = trx(&sim).await;
    let (code, _) = http(&sim, "POST", "/disconnect", "").await;
    assert_eq!(code, 204);
    within(a.closed()).await;
    within(b.closed()).await;
    wait_stats(&sim, "both dropped", |s| {
        s.disconnects_forced == 2 && s.binds_current == 0
    })
    .await;
    let (c, _ec) = trx(&sim).await;
    c.submit_sm(sms("254712345678", "after")).await.unwrap();
    sim.shutdown();
}
