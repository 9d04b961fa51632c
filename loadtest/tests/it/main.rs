//! Integration tests of the SMSC simulator and the load generator. The simulator runs
//! in-process on port 0 and is driven by `rusmppc`, an SMPP client that is not ours, or by raw
//! bytes on a `TcpStream` where the point is to send what no client would. `amqp` drives
//! `loadgen amqp` against the real RabbitMQ.

mod amqp;
mod binds;
mod chart;
mod common;
mod faults;
mod http;
mod loadgen;
mod query;
mod receipts;
mod submit;
