//! Every message-id format of the simulator correlates under the matching id policy.

use semalink_loadtest::sim::{Behaviour, idfmt::IdFormat};

use super::{config, engine, request, sim};

async fn delivered_with(message_id: &str, receipt_id: Option<&str>, policy: &str) {
    let behaviour = Behaviour {
        message_id: message_id.parse::<IdFormat>().unwrap(),
        receipt_id: receipt_id.map(|f| f.parse().unwrap()),
        ..Behaviour::default()
    };
    let sim = sim(behaviour).await;
    let extra = format!("id_policy = \"{policy}\"");
    let mut run = engine(config(&sim, &extra, "rate = 1000.0\nburst = 100")).await;
    let msgs: Vec<_> = (0..20)
        .map(|i| request(&format!("+2547123456{i:02}"), "id check"))
        .collect();
    run.submit(&msgs).await;
    let ids: Vec<_> = msgs.iter().map(|m| m.message_id).collect();
    run.until_final(&ids).await;
    run.assert_all_delivered(&ids);
    let stats = run.engine.pipeline().metrics.unmatched_receipts.get();
    assert_eq!(stats, 0, "{message_id}/{receipt_id:?}");
    run.engine.shutdown().await;
}

#[tokio::test]
async fn decimal_ids_correlate() {
    delivered_with("decimal", None, "auto").await;
}

#[tokio::test]
async fn zero_padded_decimal_and_hex_ids_correlate() {
    delivered_with("decimal:12", Some("decimal"), "auto").await;
    delivered_with("hex_lower:10", Some("hex_upper"), "case_insensitive").await;
}

#[tokio::test]
async fn hex_ids_correlate_in_either_case() {
    delivered_with("hex_upper", None, "auto").await;
    delivered_with("hex_lower", None, "auto").await;
}

#[tokio::test]
async fn uuid_ids_correlate() {
    delivered_with("uuid", None, "auto").await;
}

#[tokio::test]
async fn hex_in_the_response_and_decimal_in_the_receipt_correlate_with_hex_to_decimal() {
    delivered_with("hex_upper", Some("decimal"), "hex_to_decimal").await;
}
