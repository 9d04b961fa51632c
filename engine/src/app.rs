//! Composition: [`Engine::start`] builds every part from a [`Config`] and runs the tasks;
//! [`EngineHandle`] is how the binary and the tests talk to the running engine.
//!
//! Tasks: the HTTP server (ingress, `/health`, `/ready`, `/metrics`), the dispatcher, one
//! event loop per upstream pool, the sweeper, and one task per segment in flight. With
//! `[amqp]`: the bus (`semalink-bus`: connection supervisor), the consumer of the submit
//! queues, a second dispatcher for its work, and the [`BusSink`](crate::amqp::BusSink)
//! instead of the in-process channel; the HTTP ingress stays. Shutdown ([`EngineHandle::shutdown`]) stops the
//! HTTP server and the consumers first (no new work), lets the dispatchers drain their queues
//! and the segment tasks finish, acks what they settled, then unbinds every pool, all under
//! `shutdown.deadline_ms`.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::{net::TcpListener, sync::Semaphore, sync::mpsc, task::JoinHandle, time::Instant};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::amqp::{self, Consumer, Link};
use crate::celcom::HttpUpstream;
use crate::config::{self, Config, UpstreamConfig};
use crate::correlation::AnyStore;
use crate::dispatch::{self, Pipeline};
use crate::error::{Error, Result};
use crate::health::{self, Health};
use crate::ingress::{self, IngressState, Readiness};
use crate::metrics::Metrics;
use crate::retry::RetryPolicy;
use crate::routing::Router;
use crate::sink::{self, BusSink, Published};
use crate::smpp::{self, Pool, SessionConfig};
use crate::throttle::Throttle;
use crate::tracker::Tracker;
use crate::upstream::Upstream;
use semalink_bus::memory::MemoryBus;
use semalink_bus::{BatchConfig, topology};

/// How long finished messages are remembered (duplicate requests and late receipts). Memory
/// grows with rate × this (about 400 bytes per message), so it is minutes, not hours; the
/// control plane is the long-term idempotency record.
const KEEP_FINISHED: Duration = Duration::from_secs(600);
/// How long a message that was sent but has no final receipt yet stays in the tracker; a
/// later receipt is still decided from the correlation store's record.
const KEEP_SENT: Duration = Duration::from_secs(3600);
/// Capacity of the embedded mode's event channel (items).
const SINK_CAPACITY: usize = 65_536;
/// Envelopes each in-process queue holds.
const QUEUE_ENVELOPES: usize = 1_024;
/// Housekeeping period.
const SWEEP_PERIOD: Duration = Duration::from_secs(1);
/// How long a stop waits, after the last segment went, for the receipts of the parts on
/// this process's own awaiting list (the in-process one: nothing reconciles them after a
/// restart). Within the shutdown deadline.
const RECEIPT_WAIT: Duration = Duration::from_secs(5);

/// The engine's pipeline: the configured store (in-process or Redis); the sink over the
/// in-process bus or RabbitMQ.
pub type EnginePipeline = Pipeline<AnyStore, BusSink>;

/// Builds and starts engines.
#[derive(Debug)]
pub struct Engine;

/// A running engine.
#[derive(Debug)]
pub struct EngineHandle {
    addr: SocketAddr,
    events: Option<mpsc::Receiver<Published>>,
    pipeline: Arc<EnginePipeline>,
    route_upstreams: Vec<usize>,
    health: Arc<Health>,
    cancel: CancellationToken,
    server: JoinHandle<()>,
    dispatcher: JoinHandle<()>,
    amqp: Option<AmqpTasks>,
    segments: TaskTracker,
    background: TaskTracker,
    deadline: Duration,
}

/// The RabbitMQ side of a running engine.
#[derive(Debug)]
struct AmqpTasks {
    /// The connection supervisor (consumer and settling).
    supervisor: JoinHandle<()>,
    /// The dispatcher of consumed work.
    dispatcher: JoinHandle<()>,
    /// Cancelled once the segments are done: publishes and settling give up.
    stop: CancellationToken,
}

impl Engine {
    /// Starts the pools (one per upstream; they bind in the background), the HTTP server on
    /// `config.http.listen` (port 0 picks one, see [`EngineHandle::local_addr`]) and the
    /// pipeline tasks. Must run inside a tokio runtime.
    pub async fn start(config: Config) -> Result<EngineHandle> {
        Engine::start_on(config, None).await
    }

    /// [`start`](Self::start), taking submit requests from and publishing status events and
    /// MO messages to `shared` when given (the one-process binary's in-process bus, shared
    /// with the control plane) instead of the bus `[amqp]` configures; the queue names and
    /// limits still come from `[amqp]` (its defaults without one).
    pub async fn start_on(
        config: Config,
        shared: Option<semalink_bus::Bus>,
    ) -> Result<EngineHandle> {
        config.validate()?;
        config.check_deployment()?;
        let metrics = Arc::new(Metrics::new());
        let tracker = Arc::new(Tracker::new(KEEP_FINISHED).keep_sent(KEEP_SENT));
        let router = Router::new(&config)?;
        let throttle = Throttle::new(&config, &router);
        let mut pools = Vec::new();
        let mut streams = Vec::new();
        for (i, upstream) in config.upstreams.iter().enumerate() {
            let (link, events) = match upstream.kind {
                config::UpstreamKind::Smpp => {
                    let (pool, events) = Pool::start(&upstream.name, session_configs(upstream))
                        .map_err(|e| Error::invalid(format!("upstreams[{i}]"), e.to_string()))?;
                    (Upstream::Smpp(pool), events)
                }
                config::UpstreamKind::CelcomHttp => {
                    let (http, events) = HttpUpstream::start(upstream);
                    (Upstream::Http(http), events)
                }
            };
            pools.push(link);
            streams.push(events);
        }
        let amqp_stop = CancellationToken::new();
        let link = match (shared, &config.amqp) {
            (Some(bus), amqp) => Some(Arc::new(Link::with_bus(
                bus,
                amqp.clone().unwrap_or_default(),
                amqp_stop.clone(),
            )?)),
            (None, Some(a)) => Some(Arc::new(Link::new(a, amqp_stop.clone()))),
            (None, None) => None,
        };
        let (sink, events) = match &link {
            Some(link) => (link.sink()?, None),
            None => {
                let (sink, events) = embedded_sink()?;
                (sink, Some(events))
            }
        };
        let windows: usize = config
            .upstreams
            .iter()
            .map(|u| u.window as usize * u.binds as usize)
            .sum();
        let prefetch = link
            .as_ref()
            .map(|l| amqp::consumer::prefetch(l.config(), windows));
        let permits: Vec<_> = config
            .upstreams
            .iter()
            .map(|u| {
                // Twice the windows: segments waiting for a token or a back-off do not leave
                // the windows idle. With RabbitMQ at least the prefetch: a segment keeps its
                // permit until its `sent` event is confirmed by the broker, and that round
                // trip must not leave the windows idle either.
                let window = u.window as usize * u.binds as usize;
                let permits = window.saturating_mul(2).max(1);
                let permits = permits.max(prefetch.map_or(0, usize::from));
                Arc::new(Semaphore::new(permits))
            })
            .collect();
        let mut route_upstreams: Vec<usize> = router.routes().iter().map(|r| r.upstream).collect();
        route_upstreams.sort_unstable();
        route_upstreams.dedup();
        let intents = crate::correlation::intents::Intents::from_config(&config)?;
        // With Redis, the parts awaiting a receipt are shared too (an engine's death does not
        // strand them): on the intents' connection and prefix.
        let awaiting = match intents.redis() {
            Some((conn, prefix)) => {
                dispatch::reconcile::Awaiting::on_redis(config.reconcile.clone(), conn, &prefix)
            }
            None => dispatch::reconcile::Awaiting::new(config.reconcile.clone()),
        };
        let pipeline = Arc::new(Pipeline {
            upstreams: config.upstreams.clone(),
            pools,
            router,
            throttle,
            retry: RetryPolicy::new(&config.retry),
            store: Arc::new(AnyStore::from_config(&config)?),
            sink: Arc::new(sink),
            tracker: Arc::clone(&tracker),
            metrics: Arc::clone(&metrics),
            awaiting,
            intents,
        });
        let listener = TcpListener::bind(config.http.listen)
            .await
            .map_err(|e| Error::invalid("http.listen", e.to_string()))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::invalid("http.listen", e.to_string()))?;
        let (queue_tx, queue_rx) = mpsc::channel(config.http.queue_capacity.max(1));
        let health = Arc::new(Health::new());
        // Not ready until the store's first probe answered and the broker is connected.
        health.set_store(config.redis.is_none());
        if link.is_some() {
            health.set_amqp(false);
        }
        let ready: Readiness = {
            let pipeline = Arc::clone(&pipeline);
            let needed = route_upstreams.clone();
            let health = Arc::clone(&health);
            Arc::new(move || health.is_ready() && needed.iter().all(|&u| pipeline.pools[u].is_up()))
        };
        let state = IngressState {
            queue: queue_tx,
            tracker,
            metrics,
            ready: Arc::clone(&ready),
            screen: dispatch::screen(&pipeline),
            max_batch: config.http.max_batch,
            max_body_bytes: config.http.max_body_bytes,
            token: config.http.token.as_ref().map(|t| Arc::from(t.expose())),
            callbacks: Arc::new(
                pipeline
                    .pools
                    .iter()
                    .zip(&config.upstreams)
                    .filter_map(|(pool, u)| match pool {
                        Upstream::Http(h) if u.dlr_callback_token.is_some() => {
                            Some((u.name.clone(), h.clone()))
                        }
                        _ => None,
                    })
                    .collect(),
            ),
        };
        let cancel = CancellationToken::new();
        let server = tokio::spawn({
            let cancel = cancel.clone();
            async move {
                let app = ingress::router(state);
                let stop = async move { cancel.cancelled().await };
                if let Err(e) = axum::serve(listener, app)
                    .with_graceful_shutdown(stop)
                    .await
                {
                    tracing::error!(error = %e, "HTTP server failed");
                }
            }
        });
        let segments = TaskTracker::new();
        let dispatcher = tokio::spawn(dispatch::run_dispatcher(
            Arc::clone(&pipeline),
            queue_rx,
            permits.clone(),
            segments.clone(),
        ));
        let amqp = link.zip(prefetch).map(|(link, prefetch)| {
            // Holds every message in flight: the consumer never waits on this queue.
            let (work_tx, work_rx) = mpsc::channel(usize::from(prefetch) + 1);
            let dispatcher = tokio::spawn(dispatch::run_dispatcher(
                Arc::clone(&pipeline),
                work_rx,
                permits,
                segments.clone(),
            ));
            let consumer = Consumer::new(
                Arc::clone(&link),
                Arc::clone(&pipeline),
                work_tx,
                ready,
                prefetch,
            );
            tokio::spawn(amqp::watch_health(
                link.bus().clone(),
                Arc::clone(&health),
                amqp_stop.clone(),
            ));
            let supervisor = tokio::spawn(consumer.run(cancel.clone()));
            AmqpTasks {
                supervisor,
                dispatcher,
                stop: amqp_stop,
            }
        });
        let background = TaskTracker::new();
        for (i, events) in streams.into_iter().enumerate() {
            background.spawn(dispatch::events::run(Arc::clone(&pipeline), i, events));
        }
        background.spawn(dispatch::sweeper::run(
            Arc::clone(&pipeline),
            SWEEP_PERIOD,
            cancel.clone(),
        ));
        background.spawn(dispatch::reconcile::run(
            Arc::clone(&pipeline),
            cancel.clone(),
        ));
        if config.redis.is_some() {
            background.spawn(health::watch_store(
                Arc::clone(&pipeline.store),
                Arc::clone(&health),
                cancel.clone(),
            ));
        }
        background.close();
        tracing::info!(%addr, upstreams = config.upstreams.len(), "engine started");
        Ok(EngineHandle {
            addr,
            events,
            pipeline,
            route_upstreams,
            health,
            cancel,
            server,
            dispatcher,
            amqp,
            segments,
            background,
            deadline: Duration::from_millis(config.shutdown.deadline_ms),
        })
    }
}

/// The embedded mode's sink: the in-process bus (batches of what queued up, no linger), its
/// `status` and `inbound` queues forwarded to the events channel.
fn embedded_sink() -> Result<(BusSink, mpsc::Receiver<Published>)> {
    let batch = BatchConfig {
        linger: Duration::ZERO,
        capacity: SINK_CAPACITY,
        ..BatchConfig::default()
    };
    let memory = MemoryBus::new(QUEUE_ENVELOPES, batch);
    let (status_q, inbound_q) = (topology::STATUS_QUEUE, topology::INBOUND_QUEUE);
    let bus_err = |e: semalink_bus::Error| Error::Sink(e.to_string());
    let sink = BusSink::new(
        &semalink_bus::Bus::Memory(memory.clone()),
        status_q,
        inbound_q,
    )?;
    let status = memory.subscribe(status_q).map_err(bus_err)?;
    let inbound = memory.subscribe(inbound_q).map_err(bus_err)?;
    let (tx, rx) = mpsc::channel(SINK_CAPACITY);
    let queues = (status_q.to_owned(), inbound_q.to_owned());
    tokio::spawn(sink::forward(memory, queues, status, inbound, tx));
    Ok((sink, rx))
}

/// The sessions of one upstream: `binds` transceivers, or `binds` transmitters plus `binds`
/// receivers.
pub fn session_configs(u: &UpstreamConfig) -> Vec<SessionConfig> {
    let (reconnect_min, reconnect_max) = u.reconnect_backoff();
    let base = SessionConfig {
        host: u.host.clone(),
        port: u.port,
        system_id: u.system_id.clone(),
        password: u.password.expose().to_owned(),
        system_type: u.system_type.clone(),
        window: u.window as usize,
        enquire_link_interval: u.enquire_link(),
        response_timeout: u.response_timeout(),
        reconnect_min,
        reconnect_max,
        ..SessionConfig::default()
    };
    let binds = u.binds as usize;
    let kinds: Vec<smpp::BindType> = match u.bind_type {
        config::BindType::Transceiver => vec![smpp::BindType::Transceiver; binds],
        config::BindType::TransmitterReceiver => {
            let mut v = vec![smpp::BindType::Transmitter; binds];
            v.extend(vec![smpp::BindType::Receiver; binds]);
            v
        }
    };
    kinds
        .into_iter()
        .map(|bind_type| SessionConfig {
            bind_type,
            ..base.clone()
        })
        .collect()
}

impl EngineHandle {
    /// Where the HTTP server listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The status events and MO messages (only once; `None` afterwards, and always `None` in
    /// the RabbitMQ mode, where they go to the broker). Read them promptly: a full channel
    /// slows the engine down.
    pub fn take_events(&mut self) -> Option<mpsc::Receiver<Published>> {
        self.events.take()
    }

    /// The pipeline (pools, tracker, metrics …), for inspection.
    pub fn pipeline(&self) -> &Arc<EnginePipeline> {
        &self.pipeline
    }

    /// The dependency flags (RabbitMQ connected, store healthy).
    pub fn health(&self) -> &Arc<Health> {
        &self.health
    }

    /// Whether every route's upstream has a bind that can submit and every configured
    /// dependency (RabbitMQ, Redis) is healthy.
    pub fn is_ready(&self) -> bool {
        self.health.is_ready()
            && self
                .route_upstreams
                .iter()
                .all(|&u| self.pipeline.pools[u].is_up())
    }

    /// Waits until [`is_ready`](Self::is_ready) or `limit` passes; returns whether ready.
    pub async fn wait_ready(&self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        for &u in &self.route_upstreams {
            let left = until.saturating_duration_since(Instant::now());
            if !self.pipeline.pools[u].wait_up(left).await {
                return false;
            }
        }
        let mut health = self.health.watch();
        let healthy = tokio::time::timeout_at(until, health.wait_for(|ready| *ready)).await;
        matches!(healthy, Ok(Ok(_))) && self.is_ready()
    }

    /// A token cancelled when shutdown starts.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Graceful shutdown: stop the HTTP server and the RabbitMQ consumers, drain the queues
    /// and the segments in flight, settle their deliveries, unbind every pool; anything left
    /// when `shutdown.deadline_ms` passes is abandoned (RabbitMQ redelivers it).
    pub async fn shutdown(self) {
        let until = Instant::now() + self.deadline;
        self.cancel.cancel();
        let left = || until.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left(), self.server).await.is_err() {
            tracing::warn!("HTTP server did not stop before the deadline");
        }
        // The server dropped the queue's sender: the dispatcher ends once the queue is empty.
        let mut dispatcher = self.dispatcher;
        if tokio::time::timeout(left(), &mut dispatcher).await.is_err() {
            tracing::warn!("dispatcher did not drain before the deadline");
            dispatcher.abort();
        }
        // The consumer closed its work queue when the token was cancelled.
        let mut amqp = self.amqp;
        if let Some(a) = &mut amqp
            && tokio::time::timeout(left(), &mut a.dispatcher)
                .await
                .is_err()
        {
            tracing::warn!("RabbitMQ dispatcher did not drain before the deadline");
            a.dispatcher.abort();
        }
        self.segments.close();
        if tokio::time::timeout(left(), self.segments.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                in_flight = self.segments.len(),
                "segments still in flight at the deadline"
            );
        }
        // The receipts of what was just sent: with the in-process awaiting list, one that
        // comes after the binds closed is lost, and its message would stay `sent`. (With Redis
        // the list is shared and this one is empty: whichever engine runs reconciles them.)
        let receipts = RECEIPT_WAIT.min(left());
        let waited = tokio::time::timeout(receipts, async {
            while !self.pipeline.awaiting.is_empty() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        if waited.await.is_err() {
            tracing::warn!(
                parts = self.pipeline.awaiting.len(),
                "receipts still awaited at shutdown (they will not be reconciled after a restart)"
            );
        }
        if let Some(mut a) = amqp {
            // Let the consumer ack what the segments settled, then close the connection.
            if tokio::time::timeout(left(), &mut a.supervisor)
                .await
                .is_err()
            {
                a.stop.cancel();
                let _ = tokio::time::timeout(Duration::from_secs(1), &mut a.supervisor).await;
            }
            a.stop.cancel();
        }
        let drain = left().max(Duration::from_millis(100));
        let mut stops = tokio::task::JoinSet::new();
        for pool in &self.pipeline.pools {
            let pool = pool.clone();
            stops.spawn(async move { pool.shutdown(drain).await });
        }
        while stops.join_next().await.is_some() {}
        // Event loops end when their sessions stop; the sweeper on the token.
        let _ = tokio::time::timeout(Duration::from_secs(1), self.background.wait()).await;
        tracing::info!("engine stopped");
    }
}
