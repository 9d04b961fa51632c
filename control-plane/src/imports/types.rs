//! Request and response types of the import API.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::imports::decode::RequestedEncoding;
use crate::imports::mapping::Mapping;

/// Query parameters of the upload (the body is the CSV file itself).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The file's name, for the import list (up to 255 characters).
    pub filename: Option<String>,
    /// `,` `;` `tab` or `|`; detected from the first lines when absent.
    pub delimiter: Option<String>,
    /// Whether the first row is a header; detected when absent.
    pub header: Option<bool>,
    /// `auto` (default), `utf-8` or `windows-1252`. UTF-16 is recognised by its byte-order mark.
    pub encoding: Option<RequestedEncoding>,
    /// ISO 3166-1 alpha-2 country for national numbers; the organisation's country by default.
    pub default_country: Option<String>,
    /// Phone column: header name or 1-based number; detected when absent.
    pub phone_column: Option<String>,
    /// First-name column: header name or 1-based number.
    pub first_name_column: Option<String>,
    /// Last-name column.
    pub last_name_column: Option<String>,
    /// Email column.
    pub email_column: Option<String>,
    /// Tags column (tags separated by `;`, `|` or `,`).
    pub tags_column: Option<String>,
    /// Notes column.
    pub notes_column: Option<String>,
}

/// Where an import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum ImportStatus {
    /// The file is streaming in; rows are validated as they arrive.
    Validating,
    /// Rows staged; duplicates being counted.
    Uploaded,
    /// The dry-run report is ready; the import can be committed.
    Validated,
    /// The commit is running.
    Importing,
    /// Committed.
    Completed,
    /// The upload failed (see `error`).
    Failed,
    /// Cancelled; its staged rows are gone.
    Cancelled,
}

/// Row counts of an import.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ImportCounts {
    /// Data rows read (the header not counted).
    pub total: i32,
    /// Rows that can be imported (including in-file duplicates and existing contacts).
    pub valid: i32,
    /// Rows that cannot be imported; each has a reason (see the rejected-rows download).
    pub invalid: i32,
    /// Valid rows repeating the number of an earlier row: skipped.
    pub duplicate_in_file: i32,
    /// Numbers the organisation already has: added to the list, not created again.
    pub existing: i32,
    /// Of those, contacts in the trash: left there and not added to the list.
    pub in_trash: i32,
    /// New contacts the commit creates (or created).
    pub new: i32,
    /// Cells that looked like spreadsheet formulas, stored with a leading `'`.
    pub neutralised_cells: i32,
}

/// An import.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Import {
    /// Import id.
    pub id: Uuid,
    /// Status.
    pub status: ImportStatus,
    /// The uploaded file's name.
    pub filename: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Encoding the file was read with (`utf-8`, `utf-16le`, `utf-16be`, `windows-1252`).
    pub encoding: String,
    /// The field delimiter.
    pub delimiter: String,
    /// Whether the first row was a header.
    pub has_header: bool,
    /// The header's names (empty without a header).
    pub columns: Vec<String>,
    /// Which column filled which field.
    #[sqlx(json)]
    pub mapping: Mapping,
    /// Country for national numbers.
    pub default_country: String,
    /// Bytes of the file received so far.
    pub bytes_received: i64,
    /// Upload percentage while validating (when the size is known), 100 afterwards.
    pub progress: Option<i32>,
    /// Row counts.
    #[sqlx(flatten)]
    pub counts: ImportCounts,
    /// The list it was committed into.
    pub list_id: Option<Uuid>,
    /// Contacts added to the list by the commit (new and existing).
    pub linked_contacts: i32,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// When the commit finished.
    #[serde(with = "time::serde::rfc3339::option")]
    pub committed_at: Option<OffsetDateTime>,
}

/// A row that will not be imported.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct RejectedRow {
    /// 1-based row number in the file.
    #[sqlx(rename = "row_no")]
    pub row: i32,
    /// Why.
    pub reason: String,
    /// The row's fields as read.
    pub fields: Vec<String>,
}

/// A row as it will be imported.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct PreviewRow {
    /// 1-based row number in the file.
    pub row: i32,
    /// E.164 number.
    pub phone: String,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Operator route key, when known.
    pub mno_id: Option<String>,
}

/// The dry run: what a commit would do, without doing it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DryRun {
    /// The import with fresh counts (existing contacts are re-checked on every call).
    pub import: Import,
    /// The first rows that would be imported.
    pub sample: Vec<PreviewRow>,
    /// The first rejected rows with their reasons (all of them: the rejected-rows download).
    pub rejected_sample: Vec<RejectedRow>,
}

/// Where to commit: an existing list or a new one (exactly one).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitImport {
    /// An existing list of the organisation.
    pub list_id: Option<Uuid>,
    /// Name of a new list (1–100 characters, unique in the organisation).
    pub list_name: Option<String>,
}

/// Filters of the import list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Only imports in this status.
    pub status: Option<ImportStatus>,
}
