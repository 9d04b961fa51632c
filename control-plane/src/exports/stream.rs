//! File downloads produced by a background task and streamed through a bounded channel: the
//! task reads rows from the database and sends ~64 KiB chunks; when the client goes away the
//! channel closes and the task stops. An error after the first byte cannot become a problem
//! document any more, so it ends the body with an error (the client sees a cut download)
//! and is logged.

use std::future::Future;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::SinkExt;
use futures::channel::mpsc;

use crate::error::Error;
use crate::exports::{csv, xlsx};

/// Chunk size sent to the client.
pub const CHUNK: usize = 64 * 1024;

/// An export's file format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// Comma-separated values (UTF-8 with a byte-order mark).
    #[default]
    Csv,
    /// An Excel workbook with one sheet.
    Xlsx,
}

/// Rows in either format.
pub enum Writer {
    /// CSV bytes pending.
    Csv(Vec<u8>),
    /// The workbook.
    Xlsx(Box<xlsx::Xlsx>),
}

impl Writer {
    /// A writer for `format`.
    pub fn new(format: FileFormat) -> Writer {
        match format {
            FileFormat::Csv => Writer::Csv(csv::BOM.to_vec()),
            FileFormat::Xlsx => Writer::Xlsx(Box::default()),
        }
    }

    /// Appends a row.
    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) {
        match self {
            Writer::Csv(out) => csv::write_record(out, cells),
            Writer::Xlsx(x) => x.row(cells),
        }
    }

    /// Bytes ready to send once at least [`CHUNK`] are pending.
    pub fn ready(&mut self) -> Option<Vec<u8>> {
        match self {
            Writer::Csv(out) if out.len() >= CHUNK => Some(std::mem::take(out)),
            Writer::Csv(_) => None,
            Writer::Xlsx(x) => {
                let bytes = x.take();
                (!bytes.is_empty()).then_some(bytes)
            }
        }
    }

    /// The last bytes.
    pub fn finish(self) -> Vec<u8> {
        match self {
            Writer::Csv(out) => out,
            Writer::Xlsx(x) => x.finish(),
        }
    }
}

/// Where the producing task sends its chunks.
pub struct Sink(mpsc::Sender<Result<Bytes, std::io::Error>>);

impl Sink {
    /// Sends a chunk; `false` when the client has gone.
    pub async fn send(&mut self, bytes: Vec<u8>) -> bool {
        if bytes.is_empty() {
            return true;
        }
        self.0.send(Ok(Bytes::from(bytes))).await.is_ok()
    }
}

/// A streamed file download: `produce` runs as its own task and writes into the sink.
pub fn download<F, Fut>(format: FileFormat, filename: &str, produce: F) -> Response
where
    F: FnOnce(Sink) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), Error>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(4);
    let mut failed = tx.clone();
    tokio::spawn(async move {
        if let Err(error) = produce(Sink(tx)).await {
            tracing::error!(%error, "export failed after the response started");
            let _ = failed
                .send(Err(std::io::Error::other("export failed")))
                .await;
        }
    });
    let (content_type, extension) = match format {
        FileFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        FileFormat::Xlsx => (xlsx::CONTENT_TYPE, "xlsx"),
    };
    let disposition = format!("attachment; filename=\"{filename}.{extension}\"");
    let mut response = Body::from_stream(rx).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
