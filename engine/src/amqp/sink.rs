//! [`AmqpSink`]: status events to `sms.status`, MO messages to `sms.inbound`, as persistent
//! JSON (`contracts::encode`, `message_id` property set) with publisher confirms.
//!
//! `publish_*` returns `Ok` only after the broker acked the message, so a receipt's
//! `deliver_sm_resp` (sent after the sink took its event) and a delivery's ack (sent after its
//! segments' events) both wait for the broker. Many segment tasks publish at once on the one
//! channel: their confirms are pipelined (the broker acks several with `multiple`), so the
//! round trip is paid once per batch in flight, not once per event. While the connection is
//! down, publishes wait for the next one; they fail only when the engine stops.

use semalink_protocol::contracts::{self, InboundMessage, StatusEvent};

use super::Publisher;
use crate::error::{Error, Result};
use crate::sink::StatusSink;

/// The RabbitMQ status sink.
#[derive(Debug, Clone)]
pub struct AmqpSink {
    publisher: Publisher,
    status_queue: String,
    inbound_queue: String,
}

impl AmqpSink {
    pub(super) fn new(publisher: Publisher, status_queue: &str, inbound_queue: &str) -> AmqpSink {
        AmqpSink {
            publisher,
            status_queue: status_queue.to_owned(),
            inbound_queue: inbound_queue.to_owned(),
        }
    }
}

fn encoded<T: contracts::Contract>(message: &T) -> Result<Vec<u8>> {
    contracts::encode(message).map_err(|e| Error::Sink(e.to_string()))
}

impl StatusSink for AmqpSink {
    async fn publish_status(&self, event: StatusEvent) -> Result<()> {
        let body = encoded(&event)?;
        let id = event.message_id.to_string();
        self.publisher.publish(&self.status_queue, &body, &id).await
    }

    async fn publish_inbound(&self, message: InboundMessage) -> Result<()> {
        let body = encoded(&message)?;
        let id = message.id.to_string();
        self.publisher
            .publish(&self.inbound_queue, &body, &id)
            .await
    }
}
