//! Binds of each type, credentials, max binds, enquire_link and unbind.

use rusmpp::CommandStatus;
use rusmppc::error::Error;

use crate::common::*;

fn refused_status(err: Error) -> CommandStatus {
    match err {
        Error::UnexpectedResponse { response } => response.status(),
        other => panic!("expected a refusal, got {other}"),
    }
}

#[tokio::test]
async fn each_bind_type_is_accepted_and_counted() {
    let sim = start(quick()).await;
    let (tx, _e1) = connect(&sim).await;
    tx.bind_transmitter(transmitter(SYSTEM_ID, PASSWORD))
        .await
        .unwrap();
    let (rx, _e2) = connect(&sim).await;
    rx.bind_receiver(receiver(SYSTEM_ID, PASSWORD))
        .await
        .unwrap();
    let (trx, _e3) = connect(&sim).await;
    let resp = trx
        .bind_transceiver(transceiver(SYSTEM_ID, PASSWORD))
        .await
        .unwrap();
    assert_eq!(resp.system_id.as_str(), "SMSCSIM");
    let s = sim.stats();
    assert_eq!(
        (s.binds_transmitter, s.binds_receiver, s.binds_transceiver),
        (1, 1, 1)
    );
    assert_eq!(s.binds_current, 3);
    trx.unbind().await.unwrap();
    wait_stats(&sim, "unbind", |s| {
        s.binds_current == 2 && s.unbinds_received == 1
    })
    .await;
    sim.shutdown();
}

#[tokio::test]
async fn bad_credentials_are_refused() {
    let sim = start(quick()).await;
    let (c, _e) = connect(&sim).await;
    let err = c
        .bind_transmitter(transmitter("nobody", PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(refused_status(err), CommandStatus::EsmeRinvsysid);
    let err = c
        .bind_transceiver(transceiver(SYSTEM_ID, "wrong"))
        .await
        .unwrap_err();
    assert_eq!(refused_status(err), CommandStatus::EsmeRinvpaswd);
    // Refusals leave the connection open and unbound: a good bind still works.
    c.bind_transceiver(transceiver(SYSTEM_ID, PASSWORD))
        .await
        .unwrap();
    let s = sim.stats();
    assert_eq!((s.binds_rejected, s.binds_transceiver), (2, 1));
    sim.shutdown();
}

#[tokio::test]
async fn max_binds_per_system_id_is_enforced() {
    let sim = start(quick()).await;
    let mut clients = Vec::new();
    for _ in 0..8 {
        let (c, e) = connect(&sim).await;
        c.bind_transmitter(transmitter(SYSTEM_ID, PASSWORD))
            .await
            .unwrap();
        clients.push((c, e));
    }
    let (c, _e) = connect(&sim).await;
    let err = c
        .bind_transmitter(transmitter(SYSTEM_ID, PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(refused_status(err), CommandStatus::EsmeRbindfail);
    // Freeing one slot lets the next bind in.
    clients[0].0.unbind().await.unwrap();
    wait_stats(&sim, "slot freed", |s| s.binds_current == 7).await;
    c.bind_transmitter(transmitter(SYSTEM_ID, PASSWORD))
        .await
        .unwrap();
    sim.shutdown();
}

#[tokio::test]
async fn second_bind_on_one_connection_is_already_bound() {
    let sim = start(quick()).await;
    let (c, _e) = trx(&sim).await;
    let err = c
        .bind_transmitter(transmitter(SYSTEM_ID, PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(refused_status(err), CommandStatus::EsmeRalybnd);
    sim.shutdown();
}

#[tokio::test]
async fn enquire_link_is_answered() {
    let sim = start(quick()).await;
    let (c, _e) = trx(&sim).await;
    c.enquire_link().await.unwrap();
    c.enquire_link().await.unwrap();
    assert_eq!(sim.stats().enquire_links, 2);
    sim.shutdown();
}

#[tokio::test]
async fn receiver_cannot_submit() {
    let sim = start(quick()).await;
    let (c, _e) = connect(&sim).await;
    c.bind_receiver(receiver(SYSTEM_ID, PASSWORD))
        .await
        .unwrap();
    let err = c.submit_sm(sms("254712345678", "hi")).await.unwrap_err();
    assert_eq!(refused_status(err), CommandStatus::EsmeRinvbndsts);
    sim.shutdown();
}
