//! The RabbitMQ backend of the batching publisher: a batch of one goes out as the bare
//! message (what every older reader understands), a larger one as a batch envelope
//! (`contracts::join_batch`); persistent, on the session's confirm-mode channel. A nack or a
//! lost connection is retried every 100 ms on the current (or next) connection until the
//! broker confirms or the bus stops; only then are the items' confirms resolved.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use lapin::options::BasicPublishOptions;
use lapin::{BasicProperties, Confirmation};
use semalink_protocol::contracts;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::Session;
use crate::error::{Error, Result};
use crate::publisher::{Flush, Payload, Pending};

/// AMQP `delivery_mode` 2: the broker writes the message to disk.
const PERSISTENT: u8 = 2;
/// Pause between attempts after a nack or a failed publish.
const RETRY: Duration = Duration::from_millis(100);
/// A confirm that has not come by then is given up and the envelope published again (the
/// broker answers in milliseconds; a confirm can be lost with its connection, and one stuck
/// envelope would otherwise hold a batching slot for good). Consumers de-duplicate.
const CONFIRM_LIMIT: Duration = Duration::from_secs(10);

pub(crate) struct AmqpFlush {
    session: watch::Receiver<Option<Session>>,
    stop: CancellationToken,
}

impl AmqpFlush {
    pub fn new(session: watch::Receiver<Option<Session>>, stop: CancellationToken) -> Self {
        AmqpFlush { session, stop }
    }
}

impl<T: Send + 'static> Flush<T> for AmqpFlush {
    fn flush(&mut self, queue: Arc<str>, items: Vec<Pending<T>>) -> BoxFuture<'static, ()> {
        let mut session = self.session.clone();
        let stop = self.stop.clone();
        Box::pin(async move {
            let mut bodies = Vec::with_capacity(items.len());
            let mut done = Vec::with_capacity(items.len());
            for p in items {
                if let Payload::Json(b) = p.payload {
                    bodies.push(b);
                    done.push(p.done);
                }
            }
            let body = match bodies.len() {
                1 => bodies.pop().unwrap_or_default(),
                _ => contracts::join_batch(&bodies),
            };
            let result = publish(&mut session, &stop, &queue, &body).await;
            for d in done {
                let _ = d.send(match &result {
                    Ok(()) => Ok(()),
                    Err(_) => Err(Error::Stopped(queue.to_string())),
                });
            }
        })
    }
}

async fn publish(
    session: &mut watch::Receiver<Option<Session>>,
    stop: &CancellationToken,
    queue: &str,
    body: &[u8],
) -> Result<()> {
    loop {
        let current = tokio::select! {
            s = session.wait_for(|s| s.as_ref().is_some_and(Session::live)) => match s {
                Ok(s) => s.clone(),
                Err(_) => return Err(Error::Stopped(queue.to_owned())),
            },
            _ = stop.cancelled() => return Err(Error::Stopped(queue.to_owned())),
        };
        if let Some(s) = current {
            // Given up when the connection is replaced or withdrawn, or after CONFIRM_LIMIT.
            let mut watch = session.clone();
            let replaced = watch.wait_for(|now| now.as_ref().map(|n| n.epoch) != Some(s.epoch));
            tokio::select! {
                r = once(&s, queue, body) => match r {
                    Ok(true) => return Ok(()),
                    Ok(false) => tracing::warn!(queue, "broker nacked a publish; retrying"),
                    Err(e) => tracing::debug!(error = %e, queue, "publish failed; retrying"),
                },
                _ = replaced => tracing::debug!(queue, "connection replaced before the confirm; retrying"),
                _ = tokio::time::sleep(CONFIRM_LIMIT) => tracing::warn!(queue, "no confirm in time; retrying"),
                _ = stop.cancelled() => return Err(Error::Stopped(queue.to_owned())),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(RETRY) => {}
            _ = stop.cancelled() => return Err(Error::Stopped(queue.to_owned())),
        }
    }
}

/// One persistent publish; `Ok(false)` when the broker nacked it.
async fn once(s: &Session, queue: &str, body: &[u8]) -> Result<bool> {
    let props = BasicProperties::default()
        .with_delivery_mode(PERSISTENT)
        .with_content_type("application/json".into());
    let confirm = s
        .publish
        .basic_publish(
            "".into(),
            queue.into(),
            BasicPublishOptions::default(),
            body,
            props,
        )
        .await
        .map_err(Error::amqp("basic.publish"))?;
    match confirm.await.map_err(Error::amqp("publisher confirm"))? {
        Confirmation::Nack(_) => Ok(false),
        _ => Ok(true),
    }
}
