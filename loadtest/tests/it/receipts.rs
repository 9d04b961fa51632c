//! Delivery receipts: text and TLVs, text only, id formats, outcome mix, intermediate,
//! duplicates, before the response, routing to a receiver bind, redelivery of unanswered ones.

use rusmpp::{Command, Pdu, tlvs::TlvValue, values::MessageState};
use rusmppc::Client;
use semalink_loadtest::sim::idfmt::IdFormat;

use crate::common::*;

/// The next deliver_sm (answered), as (short_message text, receipted_message_id TLV,
/// message_state TLV, esm_class).
async fn next_deliver(
    client: &Client,
    events: &mut Events,
) -> (String, Option<String>, Option<MessageState>, u8) {
    loop {
        let c: Command = next_incoming(events).await;
        let seq = c.sequence_number();
        if let Some(Pdu::DeliverSm(d)) = c.pdu() {
            client
                .deliver_sm_resp(seq, rusmpp::pdus::DeliverSmResp::default())
                .await
                .unwrap();
            let text = String::from_utf8(d.short_message().as_ref().to_vec()).unwrap();
            let mut id = None;
            let mut state = None;
            for t in d.tlvs() {
                match t.value() {
                    Some(TlvValue::ReceiptedMessageId(s)) => id = Some(s.as_str().to_owned()),
                    Some(TlvValue::MessageState(s)) => state = Some(*s),
                    _ => {}
                }
            }
            return (text, id, state, u8::from(d.esm_class));
        }
    }
}

fn field<'a>(text: &'a str, name: &str) -> &'a str {
    let at = text
        .find(name)
        .unwrap_or_else(|| panic!("{name} missing in {text}"))
        + name.len();
    text[at..].split(' ').next().unwrap()
}

#[tokio::test]
async fn receipt_with_text_and_tlvs() {
    let sim = start(quick()).await;
    let (c, mut ev) = trx(&sim).await;
    let resp = c
        .submit_sm(sms("254712345678", "Hello receipts"))
        .await
        .unwrap();
    let (text, id, state, esm) = next_deliver(&c, &mut ev).await;
    assert_eq!(esm & 0x3C, 0x04, "esm_class must mark a receipt");
    let msg_id = resp.message_id().as_str();
    assert_eq!(field(&text, "id:"), msg_id);
    assert_eq!(field(&text, "stat:"), "DELIVRD");
    assert_eq!(field(&text, "sub:"), "001");
    assert_eq!(field(&text, "err:"), "000");
    assert_eq!(field(&text, "submit date:").len(), 10);
    assert!(text.ends_with("text:Hello receipts"), "{text}");
    assert_eq!(id.as_deref(), Some(msg_id));
    assert_eq!(state, Some(MessageState::Delivered));
    wait_stats(&sim, "receipt resp", |s| {
        s.receipts["DELIVRD"] == 1 && s.deliver_sm_resp_received == 1
    })
    .await;
    sim.shutdown();
}

#[tokio::test]
async fn receipt_text_only_and_in_another_id_format() {
    let mut b = quick();
    b.receipts.tlvs = false;
    b.message_id = "hex_upper".parse().unwrap();
    b.receipt_id = Some("decimal:12".parse().unwrap());
    let sim = start(b).await;
    let (c, mut ev) = trx(&sim).await;
    let resp = c.submit_sm(sms("254712345678", "x")).await.unwrap();
    let (text, id, state, _) = next_deliver(&c, &mut ev).await;
    assert_eq!(
        (id, state),
        (None, None),
        "text-only receipts carry no TLVs"
    );
    let hex: IdFormat = "hex_upper".parse().unwrap();
    let dec: IdFormat = "decimal:12".parse().unwrap();
    let receipt_id = field(&text, "id:");
    assert_eq!(receipt_id.len(), 12);
    assert_eq!(dec.parse(receipt_id), hex.parse(resp.message_id().as_str()));
    assert_ne!(receipt_id, resp.message_id().as_str());
    sim.shutdown();
}

#[tokio::test]
async fn outcome_mix_intermediate_and_duplicates() {
    let mut b = quick();
    b.receipts.mix.delivrd = 0.0;
    b.receipts.mix.undeliv = 1.0;
    b.receipts.enroute_first = true;
    b.receipts.duplicate_rate = 1.0;
    b.receipts.delay = "fixed:30".parse().unwrap();
    let sim = start(b).await;
    let (c, mut ev) = trx(&sim).await;
    c.submit_sm(sms("254712345678", "x")).await.unwrap();
    let mut stats = Vec::new();
    for _ in 0..3 {
        let (text, _, state, _) = next_deliver(&c, &mut ev).await;
        stats.push((field(&text, "stat:").to_owned(), state));
    }
    assert_eq!(stats[0], ("ENROUTE".into(), Some(MessageState::Enroute)));
    assert_eq!(
        stats[1],
        ("UNDELIV".into(), Some(MessageState::Undeliverable))
    );
    assert_eq!(
        stats[2], stats[1],
        "the duplicate repeats the final receipt"
    );
    let s = wait_stats(&sim, "dup counted", |s| s.receipt_duplicates_sent == 1).await;
    assert_eq!(s.receipts["UNDELIV"], 2);
    assert_eq!(s.receipts["ENROUTE"], 1);
    sim.shutdown();
}

#[tokio::test]
async fn receipt_before_response_on_a_transceiver() {
    let mut b = quick();
    b.receipts.before_resp_rate = 1.0;
    // A receipt on the normal path would take a minute: the one that arrives is the early one.
    b.receipts.delay = "fixed:60000".parse().unwrap();
    let sim = start(b).await;
    let (c, mut ev) = trx(&sim).await;
    let resp = c.submit_sm(sms("254712345678", "x")).await.unwrap();
    let (text, _, _, _) = next_deliver(&c, &mut ev).await;
    assert_eq!(field(&text, "id:"), resp.message_id().as_str());
    assert_eq!(sim.stats().receipts_before_resp, 1);
    sim.shutdown();
}

#[tokio::test]
async fn receipts_go_to_a_receiver_bind_of_the_same_system_id() {
    let mut b = quick();
    b.receipts.before_resp_rate = 1.0;
    let sim = start(b).await;
    let (tx, _tx_events) = connect(&sim).await;
    tx.bind_transmitter(transmitter(SYSTEM_ID, PASSWORD))
        .await
        .unwrap();
    let (rx, mut rx_events) = connect(&sim).await;
    rx.bind_receiver(receiver(SYSTEM_ID, PASSWORD))
        .await
        .unwrap();
    let resp = tx.submit_sm(sms("254712345678", "x")).await.unwrap();
    let (text, _, _, _) = next_deliver(&rx, &mut rx_events).await;
    assert_eq!(field(&text, "id:"), resp.message_id().as_str());
    sim.shutdown();
}

#[tokio::test]
async fn receipts_wait_for_a_receiver_when_none_is_bound() {
    let sim = start(quick()).await;
    let (tx, _e) = connect(&sim).await;
    tx.bind_transmitter(transmitter(SYSTEM_ID, PASSWORD))
        .await
        .unwrap();
    let resp = tx.submit_sm(sms("254712345678", "x")).await.unwrap();
    wait_stats(&sim, "parked", |s| s.receipts_parked == 1).await;
    let (rx, mut rx_events) = connect(&sim).await;
    rx.bind_receiver(receiver(SYSTEM_ID, PASSWORD))
        .await
        .unwrap();
    let (text, _, _, _) = next_deliver(&rx, &mut rx_events).await;
    assert_eq!(field(&text, "id:"), resp.message_id().as_str());
    assert_eq!(sim.stats().receipts_parked, 0);
    sim.shutdown();
}

#[tokio::test]
async fn an_unanswered_receipt_is_sent_again_to_the_next_receiver() {
    let sim = start(quick()).await;
    let (tx, _tx_events) = connect(&sim).await;
    tx.bind_transmitter(transmitter(SYSTEM_ID, PASSWORD))
        .await
        .unwrap();
    let (rx, mut rx_events) = connect(&sim).await;
    rx.bind_receiver(receiver(SYSTEM_ID, PASSWORD))
        .await
        .unwrap();
    let resp = tx.submit_sm(sms("254712345678", "x")).await.unwrap();
    // The first receiver reads the receipt and dies without deliver_sm_resp.
    let first = loop {
        if let Some(Pdu::DeliverSm(d)) = next_incoming(&mut rx_events).await.pdu() {
            break String::from_utf8(d.short_message().as_ref().to_vec()).unwrap();
        }
    };
    assert_eq!(field(&first, "id:"), resp.message_id().as_str());
    rx.close().await.unwrap();
    drop(rx_events);
    wait_stats(&sim, "receiver gone", |s| s.binds_current == 1).await;
    let (rx2, mut rx2_events) = connect(&sim).await;
    rx2.bind_receiver(receiver(SYSTEM_ID, PASSWORD))
        .await
        .unwrap();
    let (text, _, _, _) = next_deliver(&rx2, &mut rx2_events).await;
    assert_eq!(text, first, "the same receipt, again");
    let s = wait_stats(&sim, "answered", |s| s.deliver_sm_resp_received == 1).await;
    assert_eq!((s.deliver_sm_redelivered, s.receipts_sent), (1, 1));
    sim.shutdown();
}
