//! What the consumer needs from the pipeline, behind an object-safe [`Settle`] (so the
//! consumer is not generic).

use std::sync::Arc;

use semalink_protocol::contracts::DeliveryState;
use uuid::Uuid;

use crate::correlation::CorrelationStore;
use crate::dispatch::Pipeline;
use crate::sink::StatusSink;
use crate::tracker::Begin;

/// What the consumer needs from the pipeline (object-safe, so the consumer is not generic):
/// the tracker's view of a message and the `failed` / `rejected` events it publishes itself.
pub(super) trait Settle: Send + Sync {
    /// Claims `id` in the tracker: true when the message must be processed, false when it
    /// was decided before (sent or final).
    fn claim(&self, id: Uuid) -> bool;
    /// Fails (or rejects) the message with `state` and `text`; true when the event was
    /// published.
    fn fail(
        &self,
        id: Uuid,
        state: DeliveryState,
        text: String,
    ) -> futures::future::BoxFuture<'static, bool>;
    /// Counts an `amqp_total` event.
    fn count(&self, event: &str);
}

pub(super) struct PipelineSettle<S, K>(pub(super) Arc<Pipeline<S, K>>);

impl<S: CorrelationStore, K: StatusSink> Settle for PipelineSettle<S, K> {
    fn claim(&self, id: Uuid) -> bool {
        let tracker = &self.0.tracker;
        tracker.begin(id, 1) == Begin::New || tracker.state(id) == Some(DeliveryState::Accepted)
    }

    fn fail(
        &self,
        id: Uuid,
        state: DeliveryState,
        text: String,
    ) -> futures::future::BoxFuture<'static, bool> {
        let p = Arc::clone(&self.0);
        Box::pin(async move {
            let t = p.tracker.finish(id, state, None, &text);
            p.publish(t).await
        })
    }

    fn count(&self, event: &str) {
        self.0.metrics.amqp.with_label_values(&[event]).inc();
    }
}
