//! The upload: reads the request body as a stream, decides the format and the mapping from its
//! first 64 KiB, creates the import, then runs every chunk through the [`Pipeline`] on the
//! blocking pool and COPYs the staged rows into the database as they come — one transaction,
//! so a failed or cancelled upload leaves no rows behind. Memory stays bounded by the chunk
//! size and one COPY buffer, whatever the file size.

use axum::body::{Body, Bytes};
use futures::StreamExt;
use semalink_protocol::msisdn::{Msisdn, MsisdnError};
use std::time::{Duration, Instant};
use uuid::Uuid;

use crate::db;
use crate::error::{Error, Result};
use crate::identity::scope::AccountScope;
use crate::imports::decode::{Encoding, RequestedEncoding};
use crate::imports::mapping::{self, Requested};
use crate::imports::pipeline::{Format, Pipeline, decode_record};
use crate::imports::reader::{Fields, RecordReader};
use crate::imports::store::{self, NewImport, UploadCounts};
use crate::imports::types::{Import, UploadParams};
use crate::imports::{MAX_FILE_BYTES, MAX_ROWS, copy};
use crate::state::AppState;

/// Bytes read before deciding encoding, delimiter, header and mapping.
const HEAD_BYTES: usize = 64 * 1024;
/// COPY buffer flushed at this size.
const COPY_BUFFER: usize = 512 * 1024;
/// How often the progress is written while the file streams in.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// Who uploads.
#[derive(Debug, Clone, Copy)]
pub struct Uploader {
    /// The account.
    pub account_id: Uuid,
    /// The same account as the scope of the uploader's queries.
    pub scope: AccountScope,
    /// The user, when a user.
    pub user_id: Option<Uuid>,
    /// The API key, when a key.
    pub api_key_id: Option<Uuid>,
}

fn file_error(message: impl Into<String>) -> Error {
    Error::Validation(vec![crate::error::FieldError::new("file", message)])
}

/// Streams `body` into a new import; returns it validated (the dry-run counts filled in).
pub async fn upload(
    state: &AppState,
    who: Uploader,
    params: UploadParams,
    content_length: Option<i64>,
    body: Body,
) -> Result<Import> {
    let settings = Settings::parse(state, who.scope, &params).await?;
    let mut stream = body.into_data_stream();
    let mut head = Vec::new();
    let mut received = 0usize;
    let mut ended = false;
    while head.len() < HEAD_BYTES {
        match next_chunk(&mut stream, &mut received).await? {
            Some(chunk) => head.extend_from_slice(&chunk),
            None => {
                ended = true;
                break;
            }
        }
    }
    // A body can arrive as one big chunk: decide from its first 64 KiB only.
    let sniff_len = head.len().min(HEAD_BYTES);
    let plan = plan(
        &head[..sniff_len],
        ended && sniff_len == head.len(),
        &params,
        &settings,
    )?;
    let filename = params.filename.as_deref().map(str::trim);
    let import_id = store::create(
        &state.pool,
        &NewImport {
            account_id: who.account_id,
            created_by: who.user_id,
            api_key_id: who.api_key_id,
            filename,
            encoding: plan.format.encoding.as_str(),
            delimiter: char::from(plan.format.delimiter),
            has_header: plan.has_header,
            columns: &plan.header,
            mapping: &plan.mapping,
            default_country: &settings.country,
            content_length,
        },
    )
    .await?;
    let pipeline = Pipeline::new(
        import_id,
        plan.format,
        plan.mapping,
        plan.header,
        plan.has_header,
        settings.country,
    );
    let staged = stage(state, import_id, pipeline, head, ended, stream, received).await;
    if let Err(err) = &staged {
        let message = match err {
            Error::Validation(fields) => fields
                .first()
                .map_or("invalid file".to_owned(), |f| f.message.clone()),
            Error::PayloadTooLarge => format!("the file is larger than {MAX_FILE_BYTES} bytes"),
            Error::Conflict(why) => (*why).to_owned(),
            Error::MalformedRequest { detail, .. } => detail.clone(),
            _ => "the upload failed".to_owned(),
        };
        store::fail(&state.pool, import_id, &message).await?;
    }
    staged?;
    let (mut tx, guard) = db::begin_bulk(&state.pool, bulk_ms(state)).await?;
    store::analyse_rows(&mut *tx).await?;
    store::analyse(&mut *tx, who.scope, import_id).await?;
    tx.commit().await?;
    guard.disarm();
    crate::http::reply::found(store::get(&state.pool, who.scope, import_id).await?)
}

/// Validated request parameters.
struct Settings {
    requested: RequestedEncoding,
    delimiter: Option<u8>,
    country: String,
}

impl Settings {
    async fn parse(
        state: &AppState,
        scope: AccountScope,
        params: &UploadParams,
    ) -> Result<Settings> {
        if params
            .filename
            .as_deref()
            .is_some_and(|f| f.trim().chars().count() > 255)
        {
            return Err(Error::field("filename", "must be at most 255 characters"));
        }
        let delimiter = match params.delimiter.as_deref() {
            None => None,
            Some(",") => Some(b','),
            Some(";") => Some(b';'),
            Some("|") => Some(b'|'),
            Some("tab" | "\t") => Some(b'\t'),
            Some(_) => return Err(Error::field("delimiter", "must be one of , ; | tab")),
        };
        let country = match &params.default_country {
            Some(c) => c.trim().to_ascii_uppercase(),
            None => crate::contacts::store::account_country(&state.pool, scope).await?,
        };
        // Any valid number tells whether libphonenumber knows the region.
        if let Err(MsisdnError::UnknownCountry(_)) = Msisdn::parse("+254712345678", Some(&country))
        {
            return Err(Error::field(
                "default_country",
                "must be an ISO 3166-1 alpha-2 country code such as KE",
            ));
        }
        Ok(Settings {
            requested: params.encoding.unwrap_or_default(),
            delimiter,
            country,
        })
    }
}

/// What the first bytes decide.
struct Plan {
    format: Format,
    has_header: bool,
    header: Vec<String>,
    mapping: mapping::Mapping,
}

fn plan(head: &[u8], ended: bool, params: &UploadParams, settings: &Settings) -> Result<Plan> {
    if head.iter().all(u8::is_ascii_whitespace) {
        return Err(file_error("the file is empty"));
    }
    let (format, text) =
        Format::detect(head, settings.requested, settings.delimiter).map_err(file_error)?;
    let delimiter = format.delimiter;
    let mut records = Vec::new();
    let mut reader = RecordReader::new(delimiter);
    reader.feed(&text, &mut records);
    if ended {
        reader.feed(b"", &mut records);
    }
    let mut fell_back = false;
    let non_blank = records
        .iter()
        .filter(|r| !r.fields.as_ref().is_ok_and(Fields::is_blank))
        .count();
    let rows: Vec<Vec<String>> = records
        .iter()
        .filter(|r| !r.fields.as_ref().is_ok_and(Fields::is_blank))
        .take(50)
        .filter_map(|r| decode_record(r, &format, &mut fell_back).ok())
        .collect();
    let Some((first, rest)) = rows.split_first() else {
        return Err(file_error(if ended {
            "the file has no rows"
        } else {
            "no complete row in the first 64 KiB: this is not a contact CSV file"
        }));
    };
    let has_header = params
        .header
        .unwrap_or_else(|| mapping::is_header(first, rest));
    if has_header && non_blank == 1 && ended {
        return Err(file_error("the file has a header but no data rows"));
    }
    let (header, sample) = if has_header {
        (first.clone(), rest)
    } else {
        (Vec::new(), &rows[..])
    };
    let requested = Requested {
        columns: [
            params.phone_column.as_deref(),
            params.first_name_column.as_deref(),
            params.last_name_column.as_deref(),
            params.email_column.as_deref(),
            params.tags_column.as_deref(),
            params.notes_column.as_deref(),
        ],
    };
    let header_ref = has_header.then_some(&header[..]);
    let mapping = mapping::resolve(&requested, header_ref, sample).map_err(Error::Validation)?;
    Ok(Plan {
        format,
        has_header,
        header,
        mapping,
    })
}

async fn next_chunk(
    stream: &mut axum::body::BodyDataStream,
    received: &mut usize,
) -> Result<Option<Bytes>> {
    match stream.next().await {
        None => Ok(None),
        Some(Ok(chunk)) => {
            *received += chunk.len();
            if *received > MAX_FILE_BYTES {
                return Err(Error::PayloadTooLarge);
            }
            Ok(Some(chunk))
        }
        Some(Err(_)) => Err(Error::MalformedRequest {
            detail: "the upload was interrupted".into(),
            field: None,
        }),
    }
}

/// Runs one chunk through the pipeline on the blocking pool.
async fn run(mut pipeline: Pipeline, chunk: Bytes) -> Result<(Pipeline, String)> {
    tokio::task::spawn_blocking(move || {
        let mut out = String::with_capacity(chunk.len() * 2);
        pipeline.feed(&chunk, &mut out);
        (pipeline, out)
    })
    .await
    .map_err(Error::internal)
}

async fn stage(
    state: &AppState,
    import_id: Uuid,
    mut pipeline: Pipeline,
    head: Vec<u8>,
    mut ended: bool,
    mut stream: axum::body::BodyDataStream,
    mut received: usize,
) -> Result<()> {
    // One COPY lasts as long as the upload: the bulk timeout, cancelled if the request drops.
    let (mut tx, guard) = db::begin_bulk(&state.pool, bulk_ms(state)).await?;
    let mut copy_in = tx.copy_in_raw(copy::STATEMENT).await?;
    let mut buffer = String::new();
    let mut next = Some(Bytes::from(head));
    let mut last_progress = Instant::now();
    loop {
        let chunk = match next.take() {
            Some(chunk) => chunk,
            None if ended => Bytes::new(),
            None => match next_chunk(&mut stream, &mut received).await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => {
                    ended = true;
                    Bytes::new()
                }
                Err(err) => {
                    copy_in.abort("upload failed").await.ok();
                    return Err(err);
                }
            },
        };
        let last = chunk.is_empty();
        let (p, out) = run(pipeline, chunk).await?;
        pipeline = p;
        buffer.push_str(&out);
        if pipeline.counts.total > MAX_ROWS {
            copy_in.abort("too many rows").await.ok();
            return Err(file_error(format!(
                "the file has more than {MAX_ROWS} rows"
            )));
        }
        if buffer.len() >= COPY_BUFFER || last {
            copy_in.send(buffer.as_bytes()).await?;
            buffer.clear();
        }
        if last {
            break;
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            let rows = i32::try_from(pipeline.counts.total).unwrap_or(i32::MAX);
            if !store::progress(&state.pool, import_id, received as i64, rows).await? {
                copy_in.abort("cancelled").await.ok();
                return Err(Error::Conflict("the import was cancelled"));
            }
        }
    }
    copy_in.finish().await?;
    if pipeline.counts.total == 0 {
        return Err(file_error("the file has no data rows"));
    }
    let counts = UploadCounts {
        bytes: received as i64,
        total: pipeline.counts.total as i32,
        valid: pipeline.counts.valid as i32,
        neutralised: i32::try_from(pipeline.counts.neutralised).unwrap_or(i32::MAX),
    };
    let encoding = if pipeline.fell_back {
        Encoding::Windows1252
    } else {
        pipeline.encoding()
    };
    if !store::uploaded(&mut *tx, import_id, counts, encoding.as_str()).await? {
        return Err(Error::Conflict("the import was cancelled"));
    }
    tx.commit().await?;
    guard.disarm();
    Ok(())
}

/// The statement timeout of the bulk request class.
pub fn bulk_ms(state: &AppState) -> u64 {
    state.config.database.bulk_statement_timeout_ms
}
