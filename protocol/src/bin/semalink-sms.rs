//! `semalink-sms`: the protocol crate's command-line tool (being written).

fn main() {}
