//! Child processes of a scenario: spawned with their output in a log file, stopped with
//! SIGKILL (a crash) or SIGTERM (an orderly stop), and killed when dropped so a failed run
//! leaves nothing behind. Also the two probes every service needs: "does the port accept"
//! and a bare HTTP/1.1 GET (no client library).

use std::{
    fs::File,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::Instant,
};

use crate::Error;

/// A running child process.
#[derive(Debug)]
pub struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    /// Starts `cmd` with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> Result<Proc, Error> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| Error::Scenario(format!("{}: {e}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(|e| Error::Scenario(format!("{}: {e}", log.display())))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| Error::Scenario(format!("starting {name} ({cmd:?}): {e}")))?;
        tracing::info!(name, pid = child.id(), log = %log.display(), "started");
        Ok(Proc {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Where its output goes.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Whether it has exited.
    pub fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL, then reaps it: what a crash or the OOM killer does.
    pub fn kill(&mut self) {
        if !self.exited() {
            let _ = self.child.kill();
            tracing::info!(name = %self.name, "killed (SIGKILL)");
        }
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits up to `grace` for it to exit before SIGKILL.
    pub async fn terminate(&mut self, grace: Duration) {
        signal(self.pid(), "TERM");
        let until = Instant::now() + grace;
        while !self.exited() && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.kill();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends `SIG<sig>` to `pid` with kill(1) (the crate forbids `unsafe`, so no libc call).
pub fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Waits until `addr` accepts TCP connections.
pub async fn wait_port(addr: SocketAddr, limit: Duration) -> Result<(), Error> {
    let until = Instant::now() + limit;
    loop {
        if TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if Instant::now() >= until {
            return Err(Error::Scenario(format!(
                "{addr} did not open within {limit:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `GET path` over HTTP/1.1 with the scenario's engine token
/// ([`super::engines::TOKEN`]): (status code, body), or `None` when nothing answers.
pub async fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let request = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        let token = super::engines::TOKEN;
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.ok()?;
        let text = String::from_utf8_lossy(&response);
        let status = text.get(9..12)?.parse().ok()?;
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
        Some((status, body))
    };
    tokio::time::timeout(Duration::from_secs(5), request)
        .await
        .ok()
        .flatten()
}

/// The sum of every sample of `name` (any labels) in a Prometheus text exposition.
pub fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let rest = l.strip_prefix(name)?;
            let value = match rest.chars().next()? {
                '{' => rest.rsplit_once(' ')?.1,
                ' ' => rest.trim(),
                _ => return None,
            };
            value.parse::<f64>().ok()
        })
        .sum()
}

/// A free TCP port on loopback (bound, then released: good enough for a scripted run).
pub fn free_port() -> Result<u16, Error> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::Scenario(format!("no free port: {e}")))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::Scenario(format!("no free port: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_sum_adds_labelled_samples_and_ignores_prefixes() {
        let text =
            "# HELP a x\na_total{b=\"1\"} 2\na_total{b=\"2\"} 3.5\na_total_other 9\na_total 1\n";
        assert_eq!(metric_sum(text, "a_total"), 6.5);
        assert_eq!(metric_sum(text, "missing"), 0.0);
    }
}
