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
