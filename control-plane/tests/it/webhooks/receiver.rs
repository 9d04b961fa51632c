//! A real HTTP receiver on 127.0.0.1 for webhook tests: records every request (headers,
//! body) and answers from a script (then 200).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use tokio::net::TcpListener;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> String {
        self.headers[name].to_str().unwrap().to_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// What to answer.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status(u16),
    /// Answer 200 after this long (longer than the sender's timeout: a timeout).
    Slow(Duration),
}

#[derive(Default)]
struct Inner {
    got: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Reply>>,
    count: AtomicUsize,
    record: bool,
}

/// The receiver. Stops when dropped.
pub struct Receiver {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    /// A receiver on a new port, recording every request.
    pub async fn start() -> Receiver {
        Receiver::on(TcpListener::bind("127.0.0.1:0").await.unwrap(), true).await
    }

    /// A receiver on `listener`; `record`: keep every request (false: only count them).
    pub async fn on(listener: TcpListener, record: bool) -> Receiver {
        let inner = Arc::new(Inner {
            record,
            ..Default::default()
        });
        let addr = listener.local_addr().unwrap();
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { addr, inner, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The next answers, in order (then 200).
    pub fn script(&self, replies: &[Reply]) {
        self.inner
            .script
            .lock()
            .unwrap()
            .extend(replies.iter().copied());
    }

    pub fn got(&self) -> Vec<Received> {
        self.inner.got.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.inner.count.load(Ordering::Relaxed)
    }
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let reply = inner.script.lock().unwrap().pop_front();
    if inner.record {
        inner.got.lock().unwrap().push(Received {
            method,
            uri,
            headers,
            body,
        });
    }
    inner.count.fetch_add(1, Ordering::Relaxed);
    match reply {
        Some(Reply::Status(s)) => (StatusCode::from_u16(s).unwrap(), format!("answer {s}")),
        Some(Reply::Slow(d)) => {
            tokio::time::sleep(d).await;
            (StatusCode::OK, "late".into())
        }
        None => (StatusCode::OK, "ok".into()),
    }
}
