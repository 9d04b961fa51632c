//! The load generator against the in-process simulator: counts, correlation, loss detection.

use std::time::Duration;

use semalink_loadtest::loadgen::{self, BlastOptions, SmppTarget, Target, progress::Progress};

use crate::common::*;

fn target(sim: &semalink_loadtest::SimHandle) -> Target {
    Target::Smpp(SmppTarget {
        addr: sim.smpp_addr,
        system_id: SYSTEM_ID.into(),
        password: PASSWORD.into(),
    })
}

#[tokio::test]
async fn blast_delivers_everything_and_reports_it() {
    let mut b = quick();
    b.message_id = "hex_upper".parse().unwrap();
    b.receipt_id = Some("decimal:10".parse().unwrap());
    b.receipts.before_resp_rate = 0.1;
    b.receipts.duplicate_rate = 0.1;
    let sim = start(b).await;
    let opts = BlastOptions {
        messages: Some(3000),
        binds: 2,
        window: 200,
        resp_id: "hex_upper".parse().unwrap(),
        receipt_id: "decimal".parse().unwrap(),
        destinations: vec!["254712000001".into(), "254733000002".into()],
        ..BlastOptions::default()
    };
    let report = within(loadgen::blast(&target(&sim), opts, Progress::Off))
        .await
        .unwrap();
    assert_eq!(
        (report.sent, report.responses, report.accepted),
        (3000, 3000, 3000)
    );
    assert_eq!(report.delivered, 3000, "{report:#?}");
    assert_eq!(report.lost, 0);
    assert_eq!(report.unmatched_receipts, 0);
    assert!(!report.lost_anything());
    let s = sim.stats();
    assert_eq!(s.submits, 3000);
    // A receipt in flight while a bind unbinds goes again to the other bind (the simulator
    // redelivers unanswered deliver_sm), which the load generator sees as a duplicate too.
    assert!(
        (s.receipt_duplicates_sent..=s.receipt_duplicates_sent + s.deliver_sm_redelivered)
            .contains(&report.duplicated_receipts),
        "{report:#?} {s:#?}"
    );
    assert_eq!(s.duplicates_received, 0, "every blast message is distinct");
    assert_eq!(s.per_mno["254712"] + s.per_mno["254733"], 3000);
    assert_eq!(report.throughput.iter().map(|x| x.sent).sum::<u64>(), 3000);
    assert_eq!(report.latency_ms.submit_resp.count, 3000);
    sim.shutdown();
}

#[tokio::test]
async fn blast_reports_lost_messages() {
    let mut b = quick();
    b.receipts.enabled = false;
    let sim = start(b).await;
    let opts = BlastOptions {
        messages: Some(200),
        receipt_wait: Duration::from_millis(300),
        ..BlastOptions::default()
    };
    let report = within(loadgen::blast(&target(&sim), opts, Progress::Off))
        .await
        .unwrap();
    assert_eq!(report.accepted, 200);
    assert_eq!(report.lost, 200);
    assert!(report.lost_anything());
    sim.shutdown();
}

#[tokio::test]
async fn blast_counts_rejections_and_unanswered() {
    let mut b = quick();
    b.receipts.enabled = false;
    b.flow.syserr_rate = 1.0;
    let sim = start(b).await;
    let opts = BlastOptions {
        messages: Some(100),
        receipts: false,
        ..BlastOptions::default()
    };
    let report = within(loadgen::blast(&target(&sim), opts, Progress::Off))
        .await
        .unwrap();
    assert_eq!(report.statuses["EsmeRsyserr"], 100);
    assert_eq!(report.accepted, 0);
    assert!(!report.lost_anything());

    let mut b = quick();
    b.flow.silent = true;
    sim.set_behaviour(b).unwrap();
    // More messages than the window: the sender must notice the stall and stop.
    let opts = BlastOptions {
        messages: Some(500),
        window: 100,
        receipts: false,
        drain: Duration::from_millis(500),
        ..BlastOptions::default()
    };
    let report = within(loadgen::blast(&target(&sim), opts, Progress::Off))
        .await
        .unwrap();
    assert_eq!((report.sent, report.no_response), (100, 100));
    assert!(report.lost_anything());
    sim.shutdown();
}
