//! The outbound HTTP client of webhooks: hyper-util's pooled HTTP/1.1 client over a
//! connector that resolves the host itself, keeps only the addresses the SSRF guard allows
//! and connects to those (so the address checked is the address used), with TLS by rustls
//! (webpki roots) for `https://`. One attempt ([`Client::post`]) has a connect deadline and a
//! whole-attempt deadline, and reads at most 1 KiB of the answer for the attempt log.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{self, pki_types::ServerName};

use super::config::WebhooksConfig;
use super::ssrf::Guard;

/// Largest part of an answer kept in the attempt log.
pub const EXCERPT_BYTES: usize = 1024;

/// What one attempt got.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    /// Time from start to the status (or to the failure).
    pub latency: Duration,
    /// Why there was no answer (refused by the guard, connect failure, timeout …).
    pub error: Option<String>,
    /// Up to [`EXCERPT_BYTES`] of the answer's body.
    pub excerpt: Option<String>,
}

/// The webhook client. Clone freely (one pool).
#[derive(Clone, Debug)]
pub struct Client {
    http: hyper_util::client::legacy::Client<Connector, Full<Bytes>>,
    timeout: Duration,
}

impl Client {
    /// A client with `config`'s timeouts and `guard`.
    pub fn new(config: &WebhooksConfig, guard: Guard) -> Client {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let connector = Connector {
            guard: Arc::new(guard),
            tls: TlsConnector::from(Arc::new(tls)),
            connect_timeout: Duration::from_millis(config.connect_timeout_ms),
        };
        let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(config.concurrency.max(1))
            .build(connector);
        Client {
            http,
            timeout: Duration::from_millis(config.timeout_ms),
        }
    }

    /// POSTs JSON `body` to `url` with `headers`; never fails, the outcome is in the answer.
    pub async fn post(&self, url: &str, headers: &[(&str, String)], body: Bytes) -> Answer {
        self.send("POST", url, "application/json", headers, body)
            .await
    }

    /// Sends `body` of `content_type` to `url` with `method` (`POST`, or `GET` without a
    /// body) and `headers`; never fails, the outcome is in the answer.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        content_type: &str,
        headers: &[(&str, String)],
        body: Bytes,
    ) -> Answer {
        let start = Instant::now();
        let failed = |error: String| Answer {
            status: None,
            latency: start.elapsed(),
            error: Some(error.chars().take(500).collect()),
            excerpt: None,
        };
        let mut request = if method == "GET" {
            hyper::Request::get(url)
        } else {
            hyper::Request::post(url).header(hyper::header::CONTENT_TYPE, content_type)
        }
        .header(hyper::header::USER_AGENT, "SemaLink-Webhooks/1.0");
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let request = match request.body(Full::new(body)) {
            Ok(r) => r,
            Err(e) => return failed(format!("invalid request: {e}")),
        };
        let exchange = async {
            let response = self.http.request(request).await.map_err(|e| {
                let mut text = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    text = format!("{text}: {s}");
                    source = s.source();
                }
                text
            })?;
            let status = response.status().as_u16();
            let latency = start.elapsed();
            let mut body = response.into_body();
            let mut excerpt = Vec::new();
            while excerpt.len() < EXCERPT_BYTES {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        if let Some(data) = frame.data_ref() {
                            excerpt.extend_from_slice(data);
                        }
                    }
                    _ => break,
                }
            }
            Ok::<_, String>((status, latency, excerpt))
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(Ok((status, latency, bytes))) => Answer {
                status: Some(status),
                latency,
                error: None,
                excerpt: (!bytes.is_empty()).then(|| excerpt(&bytes)),
            },
            Ok(Err(e)) => failed(e),
            Err(_) => failed(format!("timed out after {} ms", self.timeout.as_millis())),
        }
    }
}

/// At most [`EXCERPT_BYTES`] of `bytes` as text, cut at a character boundary.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(EXCERPT_BYTES)]);
    let mut end = text.len().min(EXCERPT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Resolves, guards and connects (TLS for https).
#[derive(Clone)]
struct Connector {
    guard: Arc<Guard>,
    tls: TlsConnector,
    connect_timeout: Duration,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector").finish_non_exhaustive()
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower::Service<Uri> for Connector {
    type Response = TokioIo<Stream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let (tls, host, port) = this.guard.parse(&uri)?;
            let host = host.to_owned();
            let connect = async {
                let addrs = this.guard.allowed_addrs(&host, port).await?;
                let mut last = None;
                for addr in addrs {
                    match TcpStream::connect(addr).await {
                        Ok(tcp) => {
                            tcp.set_nodelay(true)?;
                            return Ok::<_, BoxError>(tcp);
                        }
                        Err(e) => last = Some(e),
                    }
                }
                Err(last
                    .unwrap_or_else(|| io::Error::other("no address"))
                    .into())
            };
            let stream = tokio::time::timeout(this.connect_timeout, async {
                let tcp = connect.await?;
                if !tls {
                    return Ok::<_, BoxError>(Stream::Plain(tcp));
                }
                let name = ServerName::try_from(host.clone())?;
                Ok(Stream::Tls(Box::new(this.tls.connect(name, tcp).await?)))
            })
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
            Ok(TokioIo::new(stream))
        })
    }
}

/// A connection, plain or TLS.
pub enum Stream {
    /// `http://` (development only).
    Plain(TcpStream),
    /// `https://`.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
