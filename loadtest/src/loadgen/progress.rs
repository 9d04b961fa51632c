//! The live progress line: rewritten in place on a terminal, one plain line per second
//! otherwise (CI logs).

use std::{
    io::{IsTerminal, Write},
    sync::{Arc, atomic::Ordering::Relaxed},
    time::Duration,
};

use super::Run;

/// Where and how progress is shown.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// Nothing (tests).
    Off,
    /// On stderr; in place when it is a terminal.
    Stderr,
}

impl Progress {
    /// Prints a line per second until aborted.
    pub async fn run(self, run: Arc<Run>) {
        if matches!(self, Progress::Off) {
            return;
        }
        let tty = std::io::stderr().is_terminal();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        let mut prev = 0;
        loop {
            tick.tick().await;
            let responses = run.responses.load(Relaxed);
            let sent = run.sent.load(Relaxed);
            let line = format!(
                "{:>5}s sent {sent:>10} resp {responses:>10} ({:>7}/s) in flight {:>6} receipts {:>10}",
                run.now_us() / 1_000_000,
                responses - prev,
                sent.saturating_sub(responses),
                run.tracker.terminal()
            );
            prev = responses;
            let mut err = std::io::stderr().lock();
            let _ = if tty {
                write!(err, "\r{line}")
            } else {
                writeln!(err, "{line}")
            };
            let _ = err.flush();
        }
    }
}
