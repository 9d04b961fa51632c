//! [`BusSink`]: status events to `sms.status`, MO messages to `sms.inbound`, through the bus's
//! batching publishers (RabbitMQ: persistent batch envelopes with publisher confirms;
//! in-process: the embedded mode's queues).
//!
//! `publish_*` returns `Ok` only after the envelope carrying the item is confirmed, so a
//! receipt's `deliver_sm_resp` (sent after the sink took its event) and a delivery's ack (sent
//! after its segments' events) both wait for the broker. Many segment tasks publish at once:
//! their events share envelopes (up to `batch_max_items`, after at most `batch_linger_ms`),
//! so the broker's per-message cost is paid once per envelope. While the connection is down,
//! publishes wait for the next one; they fail only when the engine stops.

use semalink_bus::{Bus, Publisher};
use semalink_protocol::contracts::{InboundMessage, StatusEvent};

use super::sink_err;
use crate::error::Result;
use crate::sink::StatusSink;

/// The status sink over a bus.
#[derive(Debug, Clone)]
pub struct BusSink {
    status: Publisher<StatusEvent>,
    inbound: Publisher<InboundMessage>,
}

impl BusSink {
    /// Publishers to `status_queue` and `inbound_queue` of `bus`.
    pub fn new(bus: &Bus, status_queue: &str, inbound_queue: &str) -> Result<BusSink> {
        Ok(BusSink {
            status: bus.publisher(status_queue).map_err(sink_err)?,
            inbound: bus.publisher(inbound_queue).map_err(sink_err)?,
        })
    }
}

impl StatusSink for BusSink {
    async fn publish_status(&self, event: StatusEvent) -> Result<()> {
        self.status.publish(event).await.map_err(sink_err)
    }

    async fn publish_inbound(&self, message: InboundMessage) -> Result<()> {
        self.inbound.publish(message).await.map_err(sink_err)
    }
}
