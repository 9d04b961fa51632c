//! Kannel's `GET /cgi-bin/sendsms` onto the messages service, so an application written for a
//! Kannel smsbox sends through Sema Link by changing only the host: `password` is an API key
//! with `messages:send`, and the answers are Kannel's plain-text ones.

pub mod routes;
pub mod types;
