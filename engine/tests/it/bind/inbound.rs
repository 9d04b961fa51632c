//! `deliver_sm` as events with deferred acknowledgement, and robustness against malformed
//! PDUs (with a raw TCP fake, since the simulator only sends well-formed ones).

use std::time::Duration;

use bytes::{BufMut, BytesMut};
use rusmpp::{CommandId, CommandStatus};
use semalink_engine::smpp::{BindType, SessionEvent};
use semalink_protocol::{
    dlr,
    smpp::{Frame, SmppCodec, put_enquire_link, put_header},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::mpsc,
};
use tokio_util::codec::Decoder;

use super::*;

async fn next_deliver(
    events: &mut mpsc::Receiver<SessionEvent>,
) -> (
    semalink_engine::smpp::InboundSm,
    semalink_engine::smpp::DeliverAck,
) {
    loop {
        match tokio::time::timeout(TIMEOUT, events.recv())
            .await
            .unwrap()
            .unwrap()
        {
            SessionEvent::Deliver { sm, ack, .. } => return (sm, ack),
            _ => continue,
        }
    }
}

#[tokio::test]
async fn receipts_arrive_as_events_and_are_acknowledged_only_when_asked() {
    let mut behaviour = Behaviour::default();
    behaviour.receipts.delay = "fixed:0".parse().unwrap();
    let sim = sim(behaviour).await;
    let (session, mut events) = bound(config(&sim, BindType::Transceiver)).await;
    let mut req = request("254712345678", "with receipt");
    req.registered_delivery = 1;
    let outcome = session.submit(&req).await.unwrap();
    let (sm, ack) = next_deliver(&mut events).await;
    assert!(sm.is_receipt(), "{sm:?}");
    let receipt = dlr::from_deliver_sm(&sm.receipt_parts()).unwrap();
    assert_eq!(Some(receipt.id.as_str()), outcome.message_id.as_deref());
    assert_eq!(receipt.stat, dlr::Stat::Delivered);
    // Not answered yet: the SMSC has seen no deliver_sm_resp.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sim.stats().deliver_sm_resp_received, 0);
    ack.ack();
    eventually("deliver_sm_resp", || {
        sim.stats().deliver_sm_resp_received == 1
    })
    .await;
    assert_eq!(session.counters().delivers, 1);
    session.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_dropped_event_is_still_answered_and_receivers_get_mo() {
    let sim = sim(no_receipts()).await;
    let (session, mut events) = bound(config(&sim, BindType::Receiver)).await;
    assert!(sim.inject_mo(Some(SYSTEM_ID), "254711000111", "22333", b"STOP"));
    let (sm, ack) = next_deliver(&mut events).await;
    assert!(!sm.is_receipt());
    assert_eq!(&sm.short_message[..], b"STOP");
    assert_eq!(sm.source_addr, "254711000111");
    drop(ack);
    eventually("deliver_sm_resp for the dropped ack", || {
        sim.stats().deliver_sm_resp_received == 1
    })
    .await;
    assert!(session.is_bound());
    session.shutdown(Duration::from_secs(5)).await;
}

fn pdu(id: CommandId, status: u32, seq: u32, body: &[u8]) -> BytesMut {
    let mut b = BytesMut::new();
    put_header(&mut b, 16 + body.len() as u32, id, status, seq);
    b.put_slice(body);
    b
}

/// Reads PDUs from `stream` until `want` of them arrived.
async fn read_frames(
    stream: &mut TcpStream,
    rbuf: &mut BytesMut,
    want: usize,
) -> Vec<rusmpp::Command> {
    let mut codec = SmppCodec::new();
    let mut out = Vec::new();
    while out.len() < want {
        while let Some(frame) = codec.decode(rbuf).unwrap() {
            match frame {
                Frame::Pdu(c) => out.push(c),
                Frame::Malformed(m) => panic!("engine sent malformed {m:?}"),
            }
        }
        if out.len() >= want {
            break;
        }
        let n = tokio::time::timeout(TIMEOUT, stream.read_buf(rbuf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "engine closed the connection");
    }
    out
}

#[tokio::test]
async fn malformed_pdus_get_generic_nack_and_the_session_stays_up() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let cfg = SessionConfig {
        host: "127.0.0.1".into(),
        port,
        system_id: "fake".into(),
        password: "pw".into(),
        ..SessionConfig::default()
    };
    let (session, _events) = Session::start(id(0), cfg).unwrap();
    let (mut stream, _) = tokio::time::timeout(TIMEOUT, listener.accept())
        .await
        .unwrap()
        .unwrap();
    let mut rbuf = BytesMut::new();
    let bind = read_frames(&mut stream, &mut rbuf, 1).await.remove(0);
    assert_eq!(bind.id(), CommandId::BindTransceiver);
    let resp = pdu(
        CommandId::BindTransceiverResp,
        0,
        bind.sequence_number(),
        b"FAKE\0",
    );
    stream.write_all(&resp).await.unwrap();
    wait_state(&session, BindState::is_bound).await;

    // An unknown command id, a deliver_sm whose body is garbage, then a valid enquire_link.
    let mut garbage = BytesMut::new();
    put_header(&mut garbage, 20, CommandId::Other(0x0000_0077), 0, 41);
    garbage.put_u32(0xDEAD_BEEF);
    garbage.extend_from_slice(&pdu(CommandId::DeliverSm, 0, 42, &[0xFF; 3]));
    put_enquire_link(&mut garbage, 43);
    stream.write_all(&garbage).await.unwrap();

    let answers = read_frames(&mut stream, &mut rbuf, 3).await;
    let summary: Vec<(CommandId, CommandStatus, u32)> = answers
        .iter()
        .map(|c| (c.id(), c.status(), c.sequence_number()))
        .collect();
    assert_eq!(
        summary,
        [
            (CommandId::GenericNack, CommandStatus::EsmeRinvcmdid, 41),
            (CommandId::GenericNack, CommandStatus::EsmeRinvcmdlen, 42),
            (CommandId::EnquireLinkResp, CommandStatus::EsmeRok, 43),
        ]
    );
    assert!(session.is_bound());
    assert_eq!(session.counters().generic_nacks_sent, 2);
    assert_eq!(session.counters().reconnects, 0);
}

#[tokio::test]
async fn a_stalled_event_consumer_does_not_block_shutdown() {
    let sim = sim(no_receipts()).await;
    // Room for one event, and nobody reading.
    let (tx, _unread) = mpsc::channel(1);
    let session =
        Session::start_with_events(id(0), config(&sim, BindType::Receiver), Some(tx)).unwrap();
    wait_state(&session, BindState::is_bound).await;
    for text in [&b"one"[..], b"two", b"three"] {
        assert!(sim.inject_mo(Some(SYSTEM_ID), "254711000111", "22333", text));
    }
    // The first MO waits for room behind the unread state events; reading stops there.
    eventually("the session to receive an MO", || {
        session.counters().delivers >= 1
    })
    .await;
    tokio::time::timeout(TIMEOUT, session.shutdown(Duration::from_millis(200)))
        .await
        .expect("shutdown finishes despite the stalled consumer");
    assert_eq!(session.state(), BindState::Stopped);
}
