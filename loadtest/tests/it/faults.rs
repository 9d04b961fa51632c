//! Malformed input and disconnects. Raw bytes on a TcpStream (no client would send them);
//! responses are read with rusmpp's own `CommandCodec`, not ours.

use std::time::Duration;

use bytes::{BufMut, BytesMut};
use futures::StreamExt;
use rusmpp::{
    Command, CommandId, CommandStatus, Pdu,
    encode::{Length, owned::Encode},
    tokio_codec::CommandCodec,
};
use tokio::{
    io::AsyncWriteExt,
    net::{TcpStream, tcp::OwnedWriteHalf},
};
use tokio_util::codec::FramedRead;

use crate::common::*;

pub(crate) type Reader = FramedRead<tokio::net::tcp::OwnedReadHalf, CommandCodec>;

pub(crate) fn pdu_bytes(command: &Command) -> BytesMut {
    let mut b = BytesMut::new();
    b.put_u32(4 + command.length() as u32);
    command.encode(&mut b);
    b
}

fn header(buf: &mut BytesMut, len: u32, id: u32, seq: u32) {
    buf.put_u32(len);
    buf.put_u32(id);
    buf.put_u32(0);
    buf.put_u32(seq);
}

/// A raw connection bound as a transceiver.
pub(crate) async fn raw_bound(sim: &semalink_loadtest::SimHandle) -> (Reader, OwnedWriteHalf) {
    let stream = TcpStream::connect(sim.smpp_addr).await.unwrap();
    let (rd, mut wr) = stream.into_split();
    let mut reader = FramedRead::new(rd, CommandCodec::new());
    let bind = Command::new(
        CommandStatus::EsmeRok,
        1,
        Pdu::BindTransceiver(transceiver(SYSTEM_ID, PASSWORD)),
    );
    wr.write_all(&pdu_bytes(&bind)).await.unwrap();
    let resp = next(&mut reader).await;
    assert_eq!(
        (resp.id(), resp.status()),
        (CommandId::BindTransceiverResp, CommandStatus::EsmeRok)
    );
    (reader, wr)
}

pub(crate) async fn next(reader: &mut Reader) -> Command {
    within(reader.next())
        .await
        .expect("connection closed")
        .expect("decode")
}

#[tokio::test]
async fn garbage_pdu_gets_generic_nack_and_the_connection_stays_up() {
    let sim = start(quick()).await;
    let (mut rd, mut wr) = raw_bound(&sim).await;
    let mut buf = BytesMut::new();
    // submit_sm whose 12-byte body has no NUL anywhere: undecodable.
    header(&mut buf, 28, 0x04, 77);
    buf.put_slice(&[0xEE; 12]);
    buf.extend_from_slice(&pdu_bytes(&Command::new(
        CommandStatus::EsmeRok,
        78,
        Pdu::EnquireLink,
    )));
    wr.write_all(&buf).await.unwrap();
    let nack = next(&mut rd).await;
    assert_eq!(
        (nack.id(), nack.sequence_number()),
        (CommandId::GenericNack, 77)
    );
    assert_eq!(nack.status(), CommandStatus::EsmeRinvcmdlen);
    let pong = next(&mut rd).await;
    assert_eq!(
        (pong.id(), pong.sequence_number()),
        (CommandId::EnquireLinkResp, 78)
    );
    let s = sim.stats();
    assert_eq!(
        (s.malformed_received, s.generic_nacks_sent, s.binds_current),
        (1, 1, 1)
    );
    sim.shutdown();
}

#[tokio::test]
async fn unknown_command_gets_generic_nack_invalid_command_id() {
    let sim = start(quick()).await;
    let (mut rd, mut wr) = raw_bound(&sim).await;
    let mut buf = BytesMut::new();
    header(&mut buf, 16, 0x0000_0777, 5);
    buf.extend_from_slice(&pdu_bytes(&Command::new(
        CommandStatus::EsmeRok,
        6,
        Pdu::EnquireLink,
    )));
    wr.write_all(&buf).await.unwrap();
    let nack = next(&mut rd).await;
    assert_eq!(
        (nack.id(), nack.status(), nack.sequence_number()),
        (CommandId::GenericNack, CommandStatus::EsmeRinvcmdid, 5)
    );
    assert_eq!(next(&mut rd).await.id(), CommandId::EnquireLinkResp);
    sim.shutdown();
}

#[tokio::test]
async fn impossible_length_is_nacked_then_closed() {
    let sim = start(quick()).await;
    let (mut rd, mut wr) = raw_bound(&sim).await;
    let mut buf = BytesMut::new();
    header(&mut buf, 0x00FF_FFFF, 0x04, 9);
    wr.write_all(&buf).await.unwrap();
    let nack = next(&mut rd).await;
    assert_eq!(
        (nack.id(), nack.status(), nack.sequence_number()),
        (CommandId::GenericNack, CommandStatus::EsmeRinvcmdlen, 9)
    );
    assert!(
        within(rd.next()).await.is_none(),
        "connection must close: no resync possible"
    );
    sim.shutdown();
}

#[tokio::test]
async fn random_disconnect_drops_the_connection_after_answering() {
    let mut b = quick();
    b.flow.disconnect_rate = 1.0;
    b.receipts.enabled = false;
    let sim = start(b).await;
    let (c, _e) = trx(&sim).await;
    c.submit_sm(sms("254712345678", "bye")).await.unwrap();
    within(c.closed()).await;
    wait_stats(&sim, "forced disconnect", |s| {
        s.disconnects_forced == 1 && s.binds_current == 0
    })
    .await;
    sim.shutdown();
}

#[tokio::test]
async fn scheduled_disconnect_unbinds_first() {
    let mut b = quick();
    b.flow.disconnect_every_secs = 1;
    b.flow.unbind_before_disconnect = true;
    let sim = start(b).await;
    let (mut rd, mut wr) = raw_bound(&sim).await;
    let unbind = next(&mut rd).await;
    assert_eq!(unbind.id(), CommandId::Unbind);
    let resp = Command::new(
        CommandStatus::EsmeRok,
        unbind.sequence_number(),
        Pdu::UnbindResp,
    );
    wr.write_all(&pdu_bytes(&resp)).await.unwrap();
    assert!(
        within(rd.next()).await.is_none(),
        "closed after unbind_resp"
    );
    wait_stats(&sim, "forced disconnect", |s| {
        s.disconnects_forced == 1 && s.binds_current == 0
    })
    .await;
    let _ = Duration::ZERO;
    sim.shutdown();
}
