//! File downloads produced by a background task and streamed through a bounded channel: the
//! task reads rows from the database and sends ~64 KiB chunks; when the client goes away the
//! channel closes and the task stops. The response does not start until the first chunk is
//! ready (so the queries have run and returned rows): a failure before that is an ordinary
//! problem document. An error after the first byte cannot become one any more, so it aborts
//! the chunked body (the client sees an error, never a silently short 200) and is logged.

use std::future::Future;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};

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

/// Where the producing task sends its chunks (or, at the end, its error).
pub struct Sink(mpsc::Sender<Result<Bytes, Error>>);

impl Sink {
    /// Sends a chunk; `false` when the client has gone.
    pub async fn send(&mut self, bytes: Vec<u8>) -> bool {
        if bytes.is_empty() {
            return true;
        }
        self.0.send(Ok(Bytes::from(bytes))).await.is_ok()
    }
}

/// A streamed file download: `produce` runs as its own task and writes into the sink. Waits
/// for the first chunk: if `produce` fails before sending one, that error is the answer.
pub async fn download<F, Fut>(
    format: FileFormat,
    filename: &str,
    produce: F,
) -> Result<Response, Error>
where
    F: FnOnce(Sink) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), Error>> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel(4);
    let mut failed = tx.clone();
    tokio::spawn(async move {
        if let Err(error) = produce(Sink(tx)).await {
            // Nobody may be listening any more (client gone): then there is nothing to tell.
            let _ = failed.send(Err(error)).await;
        }
    });
    let first = match rx.next().await {
        Some(Ok(bytes)) => Some(bytes),
        Some(Err(error)) => return Err(error),
        None => None,
    };
    let rest = rx.map(|item| {
        item.map_err(|error| {
            tracing::error!(%error, "export failed after the response started; body aborted");
            std::io::Error::other("export failed")
        })
    });
    let body = futures::stream::iter(first.map(Ok)).chain(rest);
    let (content_type, extension) = match format {
        FileFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        FileFormat::Xlsx => (xlsx::CONTENT_TYPE, "xlsx"),
    };
    let disposition = format!("attachment; filename=\"{filename}.{extension}\"");
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn a_failure_before_the_first_chunk_is_a_problem_not_a_200() {
        let result = download(FileFormat::Csv, "x", |_sink| async {
            Err(Error::internal("first query failed"))
        })
        .await;
        let response = result.expect_err("no response may start");
        assert_eq!(
            response.into_response().status(),
            axum::http::StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[tokio::test]
    async fn a_failure_midway_aborts_the_body() {
        let response = download(FileFormat::Csv, "x", |mut sink| async move {
            sink.send(b"phone\n0712000001\n".to_vec()).await;
            Err(Error::internal("connection lost"))
        })
        .await
        .unwrap();
        assert_eq!(response.status(), axum::http::StatusCode::OK);
        assert!(
            response.into_body().collect().await.is_err(),
            "a cut download must end in an error, not a clean end of body"
        );
    }

    #[tokio::test]
    async fn a_complete_export_ends_cleanly() {
        let response = download(FileFormat::Csv, "x", |mut sink| async move {
            sink.send(b"phone\n".to_vec()).await;
            sink.send(b"0712000001\n".to_vec()).await;
            Ok(())
        })
        .await
        .unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"phone\n0712000001\n");
    }
}
