//! The RabbitMQ mode (`[amqp]`) on `semalink-bus`: submit requests are consumed from
//! `sms.priority` and `sms.normal` (bare or in batch envelopes), status events and MO
//! messages are published to `sms.status` / `sms.inbound` in batch envelopes.
//!
//! * The topology (queue names, retry queues `<queue>.retry.<delay>ms`, queue type) comes from
//!   the config through [`AmqpConfig::topology`] and is declared by the bus at every connect.
//! * [`Link`]: the bus (its connection supervisor reconnects with jittered back-off and the
//!   subscriptions resume by themselves), the publishers of the sink and of the retry queues.
//!   [`Health::set_amqp`] follows the bus's readiness ([`watch_health`]).
//! * [`consumer`]: one subscription per submit queue with a prefetch sized to the windows; an
//!   envelope is settled only when every message in it has its fate decided, deferred messages
//!   are republished to a retry queue with `attempt + 1` first, and after `max_attempts`
//!   deliveries a message fails with a status event.
//! * [`BusSink`]: publishes status events and MO messages through the batching publisher and
//!   returns only after the broker's confirm of the envelope carrying them.

pub mod consumer;
mod envelope;
mod settle;
mod sink;

use std::sync::Arc;
use std::time::Duration;

use semalink_bus::amqp::{AmqpBus, AmqpConfig as BusConfig};
use semalink_bus::{BatchConfig, Bus, Publisher, Topology, topology};
use semalink_protocol::contracts::SubmitRequest;
use tokio_util::sync::CancellationToken;

use crate::config::AmqpConfig;
use crate::error::{Error, Result};
use crate::health::Health;
pub use consumer::Consumer;
pub use sink::BusSink;

/// The bus settings of an `[amqp]` section.
pub fn bus_config(config: &AmqpConfig) -> BusConfig {
    BusConfig {
        url: config.url.expose().to_owned(),
        connection_name: "semalink-engine".into(),
        topology: config.topology(),
        batch: BatchConfig {
            max_items: config.batch_max_items,
            linger: Duration::from_millis(config.batch_linger_ms),
            max_in_flight: config.batch_in_flight,
            ..BatchConfig::default()
        },
        reconnect_min: Duration::from_millis(config.reconnect_min_ms),
        reconnect_max: Duration::from_millis(config.reconnect_max_ms),
    }
}

/// The RabbitMQ link of an engine: the bus and its publishers.
#[derive(Debug)]
pub struct Link {
    bus: Bus,
    topology: Topology,
    config: AmqpConfig,
    submits: Publisher<SubmitRequest>,
    stop: CancellationToken,
}

impl Link {
    /// Starts the bus for `config`; publishes give up once `stop` is cancelled (after the
    /// engine's segments have finished), which also closes the connection.
    pub fn new(config: &AmqpConfig, stop: CancellationToken) -> Link {
        let amqp = AmqpBus::start(bus_config(config), stop.clone());
        let topology = config.topology();
        let submits = amqp.publisher(&topology.normal);
        Link {
            bus: Bus::Amqp(amqp),
            topology,
            config: config.clone(),
            submits,
            stop,
        }
    }

    /// A link over a bus someone else owns (the one-process binary shares its in-process bus
    /// with the control plane): the queues of `config`, no connection of its own. Over the
    /// in-process bus the retry queues are emulated ([`semalink_bus::memory::MemoryBus::forward_delayed`]) until
    /// `stop`.
    pub fn with_bus(bus: Bus, config: AmqpConfig, stop: CancellationToken) -> Result<Link> {
        let topology = config.topology();
        if let Bus::Memory(memory) = &bus {
            for queue in [&topology.priority, &topology.normal] {
                for &delay in &topology.delays {
                    memory
                        .forward_delayed::<SubmitRequest>(
                            &topology::retry_queue(queue, delay),
                            queue,
                            delay,
                            stop.clone(),
                        )
                        .map_err(|e| Error::Sink(e.to_string()))?;
                }
            }
        }
        let submits = bus
            .publisher(&topology.normal)
            .map_err(|e| Error::Sink(e.to_string()))?;
        Ok(Link {
            bus,
            topology,
            config,
            submits,
            stop,
        })
    }

    /// The sink publishing status events and MO messages over this link.
    pub fn sink(&self) -> Result<BusSink> {
        BusSink::new(&self.bus, &self.topology.status, &self.topology.inbound)
    }

    /// The bus.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// The queue names.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The publisher of submit requests (the retry queues).
    pub fn submits(&self) -> &Publisher<SubmitRequest> {
        &self.submits
    }

    /// The config.
    pub fn config(&self) -> &AmqpConfig {
        &self.config
    }

    /// Cancelled once the engine's segments are done.
    pub fn stop(&self) -> &CancellationToken {
        &self.stop
    }
}

/// Keeps [`Health::set_amqp`] equal to the bus's readiness until `stop`.
pub async fn watch_health(bus: Bus, health: Arc<Health>, stop: CancellationToken) {
    let mut ready = bus.readiness();
    loop {
        let up = *ready.borrow_and_update();
        health.set_amqp(up);
        tokio::select! {
            changed = ready.changed() => if changed.is_err() { break },
            _ = stop.cancelled() => break,
        }
    }
    health.set_amqp(false);
}

fn sink_err(e: semalink_bus::Error) -> Error {
    Error::Sink(e.to_string())
}
