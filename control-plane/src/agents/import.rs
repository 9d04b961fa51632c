//! Bulk creation of sub-customers from a CSV file (`POST /v1/agent/customers/import`): the
//! body is read as a stream through the contact imports' own reader
//! ([`crate::imports::pipeline::Records`]: byte-order mark, UTF-16, Windows-1252 fallback,
//! quoted fields, bounded records), the header names the columns (`name`, `owner_email`, and
//! optionally `country`, `timezone`), and every row is checked by the create endpoint's rules.
//! A dry run (`dry_run=true`) reports valid and rejected rows and creates nothing;
//! `rejected=csv` answers the rejected rows as a CSV file; otherwise every valid row is
//! created — with its owner's invitation — in one transaction, and the rejected ones are
//! reported.

use std::collections::HashSet;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::agents::customers::{self, NewCustomer, check_new};
use crate::agents::types::{CreateCustomer, ImportQuery, ImportReport, RejectedRow};
use crate::analytics::routes::answer;
use crate::analytics::types::RangeQuery;
use crate::contacts::store::account_country;
use crate::error::{Error, Problem, Result};
use crate::http::{Json, Query, with::With};
use crate::identity::agent::AgentUser;
use crate::identity::role::Role;
use crate::imports::decode::RequestedEncoding;
use crate::imports::pipeline::{Format, Records, decode_record};
use crate::imports::reader::Record;
use crate::state::AppState;

/// Largest file accepted (sub-customer lists are short).
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// Most data rows in one file.
pub const MAX_ROWS: u64 = 5_000;

/// Routes of the import.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import_customers))
}

fn file_error(message: impl Into<String>) -> Error {
    Error::Validation(vec![crate::error::FieldError::new("file", message)])
}

/// Columns of the file, by header name.
#[derive(Debug, Default)]
struct Columns {
    name: usize,
    owner_email: usize,
    country: Option<usize>,
    timezone: Option<usize>,
}

impl Columns {
    fn of(header: &[String]) -> Result<Columns> {
        let find = |want: &str| {
            header
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(want))
        };
        let (Some(name), Some(owner_email)) = (find("name"), find("owner_email")) else {
            return Err(file_error(
                "the header must name the columns name and owner_email (country and timezone are optional)",
            ));
        };
        Ok(Columns {
            name,
            owner_email,
            country: find("country"),
            timezone: find("timezone"),
        })
    }

    fn request(&self, fields: &[String]) -> CreateCustomer {
        let get = |i: usize| {
            fields
                .get(i)
                .map(|f| f.trim().to_owned())
                .unwrap_or_default()
        };
        let opt = |i: Option<usize>| i.map(get).filter(|v| !v.is_empty());
        CreateCustomer {
            name: get(self.name),
            owner_email: get(self.owner_email),
            country: opt(self.country),
            timezone: opt(self.timezone),
        }
    }
}

/// The file's rows, checked: the valid ones and the rejected ones.
#[derive(Default)]
struct Checked {
    columns: Option<Columns>,
    total: u64,
    valid: Vec<NewCustomer>,
    rejected: Vec<RejectedRow>,
    names: HashSet<String>,
}

impl Checked {
    fn record(&mut self, record: &Record, format: &Format, country: &str) -> Result<()> {
        if record.fields.as_ref().is_ok_and(|f| f.is_blank()) {
            return Ok(());
        }
        let mut fell_back = false;
        let decoded = decode_record(record, format, &mut fell_back);
        let Some(columns) = &self.columns else {
            let header = decoded.map_err(file_error)?;
            self.columns = Some(Columns::of(&header)?);
            return Ok(());
        };
        self.total += 1;
        if self.total > MAX_ROWS {
            return Err(file_error(format!(
                "the file has more than {MAX_ROWS} rows"
            )));
        }
        let fields = match decoded {
            Ok(fields) => fields,
            Err(reason) => {
                self.reject(record.number, reason, Vec::new());
                return Ok(());
            }
        };
        let req = columns.request(&fields);
        match check_new(&req, country) {
            Ok(new) if !self.names.insert(new.name.to_lowercase()) => {
                self.reject(
                    record.number,
                    "name: appears earlier in the file".into(),
                    fields,
                );
            }
            Ok(new) => self.valid.push(new),
            Err(errors) => {
                let reason = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                self.reject(record.number, reason, fields);
            }
        }
        Ok(())
    }

    fn reject(&mut self, row: u64, reason: String, fields: Vec<String>) {
        self.rejected.push(RejectedRow {
            row,
            reason,
            fields,
        });
    }
}

/// Reads and checks the body as it streams in.
async fn check_file(body: Body, country: &str) -> Result<Checked> {
    let mut stream = body.into_data_stream();
    let mut input: Option<Records> = None;
    let (mut checked, mut records, mut received) = (Checked::default(), Vec::new(), 0usize);
    loop {
        let chunk = match stream.next().await {
            Some(chunk) => chunk.map_err(|_| file_error("the upload was interrupted"))?,
            None => axum::body::Bytes::new(),
        };
        received += chunk.len();
        if received > MAX_BYTES {
            return Err(Error::PayloadTooLarge);
        }
        let reader = match &mut input {
            Some(reader) => reader,
            None if chunk.is_empty() => return Err(file_error("the file is empty")),
            None => {
                let (format, _) =
                    Format::detect(&chunk, RequestedEncoding::Auto, None).map_err(file_error)?;
                input.insert(Records::new(format))
            }
        };
        reader.feed(&chunk, &mut records);
        let format = *reader.format();
        for record in records.drain(..) {
            checked.record(&record, &format, country)?;
        }
        if chunk.is_empty() {
            break;
        }
    }
    if checked.columns.is_none() {
        return Err(file_error("the file is empty"));
    }
    Ok(checked)
}

/// Create sub-customers from a CSV file (admin or owner): header `name,owner_email` (and
/// optionally `country`, `timezone`). `dry_run=true` checks and creates nothing;
/// `rejected=csv` answers the rejected rows as CSV.
#[utoipa::path(post, path = "/v1/agent/customers/import", tag = "agent", security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "The CSV file"),
    responses(
        (status = 200, description = "What was (or would be) created and the rejected rows; CSV with rejected=csv", body = ImportReport, content(("application/json"), ("text/csv"))),
        (status = 403, description = "Not an agent's admin", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "File too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a CSV file, or no usable header", body = Problem, content_type = "application/problem+json"),
    ))]
async fn import_customers(
    With(state, agent): With<AgentUser>,
    Query(q): Query<ImportQuery>,
    body: Body,
) -> Result<Response> {
    agent.require(Role::Admin)?;
    let country = account_country(&state.pool, agent.scope()).await?;
    let checked = check_file(body, &country).await?;
    if let Some(format) = q.rejected {
        let rq = RangeQuery {
            format: Some(format),
            ..Default::default()
        };
        let rows: Vec<Vec<String>> = checked
            .rejected
            .iter()
            .map(|r| [vec![r.row.to_string(), r.reason.clone()], r.fields.clone()].concat())
            .collect();
        let header = ["row", "reason", "fields"];
        return answer(&rq, "rejected-customers", (), &header, rows);
    }
    let mut created = Vec::new();
    if !q.dry_run && !checked.valid.is_empty() {
        let base = &state.config.server.public_base_url;
        let mut tx = state.pool.begin().await?;
        for new in &checked.valid {
            created.push(customers::create(&mut tx, &agent, new, base).await?);
        }
        tx.commit().await?;
    }
    let report = ImportReport {
        dry_run: q.dry_run,
        total: checked.total,
        valid: checked.valid.len() as u64,
        created,
        rejected: checked.rejected,
    };
    Ok(Json(report).into_response())
}
