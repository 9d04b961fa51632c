//! `query_sm`, `cancel_sm`, `replace_sm` (SMPP 3.4 §4.8–4.10) against the simulator's own
//! message state, and receipts that echo the submit's address types swapped. Raw PDUs built
//! and read with rusmpp (rusmppc has no calls for these three).

use std::{str::FromStr, time::Duration};

use rusmpp::{
    Command, CommandId, CommandStatus, Pdu,
    pdus::{CancelSm, QuerySm, ReplaceSm, SubmitSm},
    types::{COctetString, OctetString},
    values::{EsmClass, MessageState, Npi, RegisteredDelivery, Ton},
};
use tokio::{io::AsyncWriteExt, net::tcp::OwnedWriteHalf};

use crate::common::*;
use crate::faults::{Reader, next, pdu_bytes, raw_bound};

fn cstr<const MIN: usize, const MAX: usize>(s: &str) -> COctetString<MIN, MAX> {
    COctetString::from_str(s).unwrap()
}

/// Sends `pdu` with `seq` and returns the first response to it, answering (and keeping) the
/// `deliver_sm`s that arrive meanwhile.
async fn call(
    rd: &mut Reader,
    wr: &mut OwnedWriteHalf,
    seq: u32,
    pdu: Pdu,
    delivered: &mut Vec<Command>,
) -> Command {
    let command = Command::new(CommandStatus::EsmeRok, seq, pdu);
    wr.write_all(&pdu_bytes(&command)).await.unwrap();
    loop {
        let c = next(rd).await;
        if c.id() == CommandId::DeliverSm {
            ack(wr, &c).await;
            delivered.push(c);
        } else if c.sequence_number() == seq {
            return c;
        }
    }
}

async fn ack(wr: &mut OwnedWriteHalf, deliver: &Command) {
    let resp = Command::new(
        CommandStatus::EsmeRok,
        deliver.sequence_number(),
        Pdu::DeliverSmResp(Default::default()),
    );
    wr.write_all(&pdu_bytes(&resp)).await.unwrap();
}

fn submit(source: &str, ton: u8, npi: u8, text: &str) -> Pdu {
    Pdu::SubmitSm(
        SubmitSm::builder()
            .source_addr_ton(Ton::from(ton))
            .source_addr_npi(Npi::from(npi))
            .source_addr(cstr(source))
            .dest_addr_ton(Ton::International)
            .dest_addr_npi(Npi::Isdn)
            .destination_addr(cstr("254712345678"))
            .esm_class(EsmClass::from(0x00))
            .registered_delivery(RegisteredDelivery::request_all())
            .short_message(OctetString::from_str(text).unwrap())
            .build(),
    )
}

fn message_id(resp: &Command) -> String {
    match resp.pdu() {
        Some(Pdu::SubmitSmResp(r)) => r.message_id().as_str().to_owned(),
        other => panic!("{other:?}"),
    }
}

fn query(id: &str, source: &str) -> Pdu {
    Pdu::QuerySm(QuerySm::new(
        cstr(id),
        Ton::Alphanumeric,
        Npi::Unknown,
        cstr(source),
    ))
}

/// `(status, message_state, final_date, error_code)` of a `query_sm_resp`.
fn answer(resp: &Command) -> (CommandStatus, MessageState, String, u8) {
    match resp.pdu() {
        Some(Pdu::QuerySmResp(r)) => (
            resp.status(),
            r.message_state,
            String::from_utf8_lossy(r.final_date.as_ref())
                .trim_end_matches('\0')
                .to_owned(),
            r.error_code,
        ),
        _ => (resp.status(), MessageState::Unknown, String::new(), 0),
    }
}

/// Receipts in 300 ms: long enough to query, cancel or replace first.
fn slow() -> semalink_loadtest::sim::Behaviour {
    let mut b = quick();
    b.receipts.delay = "fixed:300".parse().unwrap();
    b.receipts.mix.delivrd = 0.0;
    b.receipts.mix.undeliv = 1.0;
    b
}

#[tokio::test]
async fn query_sm_answers_state_final_date_and_error() {
    let sim = start(slow()).await;
    let (mut rd, mut wr) = raw_bound(&sim).await;
    let mut delivered = Vec::new();
    let resp = call(
        &mut rd,
        &mut wr,
        2,
        submit("SEMALINK", 5, 0, "query me"),
        &mut delivered,
    )
    .await;
    let id = message_id(&resp);
    let q = call(&mut rd, &mut wr, 3, query(&id, "SEMALINK"), &mut delivered).await;
    assert_eq!(q.id(), CommandId::QuerySmResp);
    assert_eq!(
        answer(&q),
        (
            CommandStatus::EsmeRok,
            MessageState::Enroute,
            String::new(),
            0
        )
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let q = call(&mut rd, &mut wr, 4, query(&id, "SEMALINK"), &mut delivered).await;
    let (status, state, final_date, error) = answer(&q);
    assert_eq!(
        (status, state, error),
        (CommandStatus::EsmeRok, MessageState::Undeliverable, 1)
    );
    assert_eq!(final_date.len(), 16, "absolute time: {final_date}");
    assert!(final_date.ends_with("000+"), "{final_date}");
    // Unknown id, or another sender's message: refused, never a generic_nack.
    for (seq, (id, source)) in [(5, ("999999999", "SEMALINK")), (6, (id.as_str(), "OTHER"))] {
        let q = call(&mut rd, &mut wr, seq, query(id, source), &mut delivered).await;
        assert_eq!(
            (q.id(), q.status()),
            (CommandId::QuerySmResp, CommandStatus::EsmeRqueryfail)
        );
    }
    assert_eq!(sim.stats().generic_nacks_sent, 0);
    assert_eq!(sim.stats().queries, 4);
}

#[tokio::test]
async fn cancel_sm_deletes_a_pending_message_and_its_receipt() {
    let sim = start(slow()).await;
    let (mut rd, mut wr) = raw_bound(&sim).await;
    let mut delivered = Vec::new();
    let kept = message_id(
        &call(
            &mut rd,
            &mut wr,
            2,
            submit("SEMALINK", 5, 0, "kept"),
            &mut delivered,
        )
        .await,
    );
    let gone = message_id(
        &call(
            &mut rd,
            &mut wr,
            3,
            submit("SEMALINK", 5, 0, "gone"),
            &mut delivered,
        )
        .await,
    );
    let cancel = |id: &str| {
        Pdu::CancelSm(
            CancelSm::builder()
                .message_id(cstr(id))
                .source_addr(cstr("SEMALINK"))
                .destination_addr(cstr("254712345678"))
                .build(),
        )
    };
    let c = call(&mut rd, &mut wr, 4, cancel(&gone), &mut delivered).await;
    assert_eq!(
        (c.id(), c.status()),
        (CommandId::CancelSmResp, CommandStatus::EsmeRok)
    );
    let q = call(
        &mut rd,
        &mut wr,
        5,
        query(&gone, "SEMALINK"),
        &mut delivered,
    )
    .await;
    assert_eq!(answer(&q).1, MessageState::Deleted);
    let c = call(&mut rd, &mut wr, 6, cancel("999999999"), &mut delivered).await;
    assert_eq!(c.status(), CommandStatus::EsmeRinvmsgid);
    // Only the kept message's receipt comes; once final, it cannot be cancelled.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let c = call(&mut rd, &mut wr, 7, cancel(&kept), &mut delivered).await;
    assert_eq!(c.status(), CommandStatus::EsmeRcancelfail);
    let texts: Vec<String> = delivered.iter().map(receipt_text).collect();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains(&format!("id:{kept} ")), "{texts:?}");
}

fn receipt_text(c: &Command) -> String {
    match c.pdu() {
        Some(Pdu::DeliverSm(d)) => String::from_utf8_lossy(d.short_message().as_ref()).into_owned(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn replace_sm_changes_the_text_of_a_pending_message() {
    let sim = start(slow()).await;
    let (mut rd, mut wr) = raw_bound(&sim).await;
    let mut delivered = Vec::new();
    let id = message_id(
        &call(
            &mut rd,
            &mut wr,
            2,
            submit("SEMALINK", 5, 0, "old text"),
            &mut delivered,
        )
        .await,
    );
    let replace = Pdu::ReplaceSm(
        ReplaceSm::builder()
            .message_id(cstr(&id))
            .source_addr(cstr("SEMALINK"))
            .registered_delivery(RegisteredDelivery::request_all())
            .short_message(OctetString::from_str("new text").unwrap())
            .build(),
    );
    let r = call(&mut rd, &mut wr, 3, replace.clone(), &mut delivered).await;
    assert_eq!(
        (r.id(), r.status()),
        (CommandId::ReplaceSmResp, CommandStatus::EsmeRok)
    );
    // One receipt, for the new text; then the message is final and cannot be replaced.
    while delivered.is_empty() {
        let c = next(&mut rd).await;
        if c.id() == CommandId::DeliverSm {
            ack(&mut wr, &c).await;
            delivered.push(c);
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let r = call(&mut rd, &mut wr, 4, replace, &mut delivered).await;
    assert_eq!(r.status(), CommandStatus::EsmeRreplacefail);
    let texts: Vec<String> = delivered.iter().map(receipt_text).collect();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].ends_with("text:new text"), "{texts:?}");
    assert_eq!(sim.stats().replaces, 2);
}

#[tokio::test]
async fn receipts_echo_the_submit_address_types_swapped() {
    for (echo, expected) in [(true, ((1, 1), (5, 0))), (false, ((0, 0), (0, 0)))] {
        let mut b = quick();
        b.receipts.echo_address_types = echo;
        let sim = start(b).await;
        let (mut rd, mut wr) = raw_bound(&sim).await;
        let mut delivered = Vec::new();
        call(
            &mut rd,
            &mut wr,
            2,
            submit("SEMALINK", 5, 0, "types"),
            &mut delivered,
        )
        .await;
        while delivered.is_empty() {
            let c = next(&mut rd).await;
            if c.id() == CommandId::DeliverSm {
                ack(&mut wr, &c).await;
                delivered.push(c);
            }
        }
        let Some(Pdu::DeliverSm(d)) = delivered[0].pdu() else {
            panic!()
        };
        let source = (u8::from(d.source_addr_ton), u8::from(d.source_addr_npi));
        let dest = (u8::from(d.dest_addr_ton), u8::from(d.dest_addr_npi));
        assert_eq!((source, dest), expected, "echo {echo}");
        assert_eq!(d.source_addr.as_str(), "254712345678");
        assert_eq!(d.destination_addr.as_str(), "SEMALINK");
        assert_eq!(sim.stats().per_source_type.get("5/0"), Some(&1));
    }
}
