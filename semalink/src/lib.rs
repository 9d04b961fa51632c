//! `semalink`: the whole product in one process (the composition root; neither service crate
//! depends on the other, this one depends on both — docs/adr/0003-one-process-binary.md).
//!
//! * [`system`] — `semalink up`: simulator + engine + control plane over one in-process bus,
//!   the flags that switch a part to the real thing, the ordered shutdown.
//! * [`seed`] — the demo organisation seeded on first start.
//! * [`numbers`] — realistic African numbers for the demo list.
//! * [`client`] — a small JSON client of the public API (the demo and the tests).
//! * [`demo`] — `semalink demo`: a campaign to the demo list, its live progress over SSE,
//!   the report; [`chart`] — the PNG chart of the run.
//! * [`pipeline`] — `semalink pipeline`: a timed campaign end to end through RabbitMQ and
//!   separate engine processes, or the in-process bus, optionally with faults, then checked.

pub mod chart;
pub mod client;
pub mod demo;
pub mod numbers;
pub mod pipeline;
pub mod seed;
pub mod system;
