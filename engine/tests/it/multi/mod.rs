//! Several engines on one upstream account: the upstream's bind limit holds across engine
//! processes (each engine's `upstreams[].binds` is per process), and, on a private RabbitMQ
//! node, two engines consuming the same queues resume after the broker restarts.

mod binds;
mod broker;

use semalink_loadtest::{
    SimConfig, SimHandle, Simulator,
    sim::{Behaviour, config::Account},
};

/// A simulator whose `semalink` account allows `max_binds` binds in total, whoever opens them.
pub async fn sim_with_limit(behaviour: Behaviour, max_binds: u32) -> SimHandle {
    Simulator::start(SimConfig {
        smpp_addr: "127.0.0.1:0".parse().unwrap(),
        http_addr: "127.0.0.1:0".parse().unwrap(),
        accounts: vec![Account {
            system_id: "semalink".into(),
            password: "secret".into(),
            max_binds,
        }],
        behaviour,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_final_claim_is_not_a_publication_until_confirmed() {
    use semalink_engine::correlation::CorrelationStore;
    let prefix = crate::shared::prefix();
    let store = crate::shared::redis_store(
        &prefix,
        std::time::Duration::from_secs(60),
        std::time::Duration::from_secs(60),
    );
    let m = uuid::Uuid::now_v7();
    assert!(store.claim_final(m).await.unwrap());
    // Another engine asking meanwhile: claimed by someone, not published (it must not take
    // a duplicate receipt as done while the claimant may still die before publishing).
    assert!(!store.claim_final(m).await.unwrap());
    assert!(!store.final_published(m).await.unwrap());
    store.confirm_final(m).await.unwrap();
    assert!(store.final_published(m).await.unwrap());
    crate::shared::cleanup(&prefix).await;
}
