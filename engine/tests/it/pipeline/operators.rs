//! What an operator or an upstream's support desk sees first: sender address types on the
//! wire (and per-upstream overrides), receipts with or without echoed address types, the
//! request hints (`encoding`, `route.upstream`, pre-split bodies) as the simulator receives
//! them, and the ingress's refusals on a real socket.

use semalink_engine::config::Config;
use semalink_loadtest::sim::Behaviour;
use semalink_protocol::contracts::{Body, EncodingHint, RouteHints};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{TOKEN, config, engine, request, sim};

const RATE: &str = "rate = 1000.0\nburst = 100";

#[tokio::test]
async fn each_kind_of_sender_goes_out_with_its_ton_npi() {
    // Receipts echoing the address types, and the old 0/0 kind: both correlate.
    for echo in [true, false] {
        let mut behaviour = Behaviour::default();
        behaviour.receipts.echo_address_types = echo;
        let sim = sim(behaviour).await;
        let mut run = engine(config(&sim, "", RATE)).await;
        let mut msgs = Vec::new();
        for sender in ["SEMALINK", "22345", "+254700000001"] {
            let mut m = request("+254712345678", "typed");
            m.sender = sender.into();
            msgs.push(m);
        }
        run.submit(&msgs).await;
        let ids: Vec<_> = msgs.iter().map(|m| m.message_id).collect();
        run.until_final(&ids).await;
        run.assert_all_delivered(&ids);
        let types = sim.stats().per_source_type;
        for kind in ["5/0", "3/0", "1/1"] {
            assert_eq!(types.get(kind), Some(&1), "{kind} in {types:?}");
        }
        run.engine.shutdown().await;
    }
}

#[tokio::test]
async fn an_upstream_may_want_short_codes_typed_its_way() {
    let sim = sim(Behaviour::default()).await;
    let extra = "addressing.short_code = { ton = 0, npi = 1 }";
    let mut run = engine(config(&sim, extra, RATE)).await;
    let mut m = request("+254712345678", "short code");
    m.sender = "22345".into();
    run.submit(std::slice::from_ref(&m)).await;
    run.until_final(&[m.message_id]).await;
    let types = sim.stats().per_source_type;
    assert_eq!(types.get("0/1"), Some(&1), "{types:?}");
    run.engine.shutdown().await;
}

/// Two upstreams on two simulators; the default route uses `a`, no route uses `b` … except
/// the KE country rule.
fn two_upstreams(a: &semalink_loadtest::SimHandle, b: &semalink_loadtest::SimHandle) -> Config {
    let upstream = |name: &str, port: u16| {
        format!(
            "[[upstreams]]\nname = \"{name}\"\nhost = \"127.0.0.1\"\nport = {port}\nsystem_id = \"semalink\"\npassword = \"secret\"\nreconnect_min_ms = 50\n"
        )
    };
    let text = format!(
        "[http]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n{}{}\n[[routes]]\ncountry = \"NG\"\nupstream = \"b\"\nrate = 1000.0\nburst = 100\n[default_route]\nupstream = \"a\"\n{RATE}\n",
        upstream("a", a.smpp_addr.port()),
        upstream("b", b.smpp_addr.port()),
    );
    Config::from_toml(&text, std::iter::empty()).unwrap()
}

#[tokio::test]
async fn hints_and_pre_split_bodies_are_what_the_upstream_receives() {
    let (a, b) = (
        sim(Behaviour::default()).await,
        sim(Behaviour::default()).await,
    );
    let mut run = engine(two_upstreams(&a, &b)).await;
    // 100 GSM-7 characters: one part, two as UCS-2 (67 per part).
    let mut ucs2 = request("+254712345678", &"x".repeat(100));
    ucs2.encoding = EncodingHint::Ucs2;
    // Three given parts that would fit in one SMS: sent as three.
    let mut parts = request("+254712345678", "unused");
    parts.body = Body::Segments(vec!["one ".into(), "two ".into(), "three".into()]);
    // A Kenyan number sent on b because the request says so.
    let mut hinted = request("+254712345678", "via b");
    hinted.route = RouteHints {
        mno: None,
        upstream: Some("b".into()),
    };
    let msgs = [ucs2, parts, hinted];
    run.submit(&msgs).await;
    let ids: Vec<_> = msgs.iter().map(|m| m.message_id).collect();
    run.until_final(&ids).await;
    run.assert_all_delivered(&ids);
    assert_eq!(a.stats().submits, 2 + 3, "{:?}", a.stats());
    assert_eq!(b.stats().submits, 1, "{:?}", b.stats());
    run.engine.shutdown().await;
}

/// One raw request: `(status, body)`.
async fn raw(addr: std::net::SocketAddr, head: &str, body: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{head}\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8(response).unwrap();
    let status = text[9..12].parse().unwrap();
    (status, text.split_once("\r\n\r\n").unwrap().1.to_owned())
}

#[tokio::test]
async fn the_ingress_refuses_on_the_wire_and_sends_nothing() {
    let sim = sim(Behaviour::default()).await;
    let run = engine(config(&sim, "", RATE)).await;
    let addr = run.engine.local_addr();
    let auth = format!("Authorization: Bearer {TOKEN}");
    let good = serde_json::to_string(&request("+254712345678", "hi")).unwrap();
    let mut bad = request("+999123456789", "unassigned");
    bad.sender = "SEMALINK".into();
    let bad = serde_json::to_string(&[bad]).unwrap();
    let cases = [
        (
            format!("POST /v1/messages HTTP/1.1\r\n{auth}\r\nContent-Type: text/plain"),
            good.as_str(),
            415,
        ),
        (
            "POST /v1/messages HTTP/1.1\r\nContent-Type: application/json".to_owned(),
            good.as_str(),
            401,
        ),
        (
            format!("POST /v1/messages HTTP/1.1\r\n{auth}\r\nContent-Type: application/json"),
            bad.as_str(),
            422,
        ),
        ("GET /metrics HTTP/1.1\r\nX-Nothing: 1".to_owned(), "", 401),
        (format!("DELETE /v1/messages HTTP/1.1\r\n{auth}"), "", 405),
    ];
    for (head, body, status) in cases {
        let (got, text) = raw(addr, &head, body).await;
        assert_eq!(got, status, "{head}: {text}");
        assert!(
            text.contains("\"status\":") || text.contains("\"results\""),
            "{text}"
        );
    }
    assert_eq!(sim.stats().submits, 0);
    assert_eq!(
        run.engine
            .pipeline()
            .metrics
            .status_events
            .with_label_values(&["sent"])
            .get(),
        0
    );
    run.engine.shutdown().await;
}
