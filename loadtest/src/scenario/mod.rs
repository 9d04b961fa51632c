//! Scripted scenarios that drive a whole deployment as separate processes (engines, a private
//! broker and Redis) around the in-process simulator, so anyone can repeat them:
//! [`fault`] is the fault run of issue 5 and, without faults, the RabbitMQ + Redis
//! throughput run (`loadgen fault`, `loadtest/scenarios/fault-run.sh`).

pub mod engines;
pub mod fault;
pub mod logs;
pub mod procs;
pub mod services;
pub mod status;
