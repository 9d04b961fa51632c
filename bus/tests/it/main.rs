//! Integration tests of the bus: the same behaviours ([`behaviour`]) against RabbitMQ
//! ([`amqp`]: the shared broker on 127.0.0.1:5672 with unique queue names, classic and quorum,
//! and a private node for the broker restart) and against the in-process bus ([`memory`]).

mod amqp;
mod behaviour;
mod memory;
