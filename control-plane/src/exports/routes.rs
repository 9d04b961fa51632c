//! Contact exports: a list's contacts, or any filter over the organisation's contacts, as
//! CSV or XLSX. The filter is the contacts' own ([`crate::contacts::filter`]), so an export
//! holds exactly the contacts the same filter lists.

use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api_keys::types::Scope;
use crate::contacts::filter::{ContactFilter, parse_status};
use crate::contacts::{lists, store};
use crate::error::{Error, Result};
use crate::exports::contacts;
use crate::exports::stream::FileFormat;
use crate::http::reply::found;
use crate::http::{Path, Query, with::With};
use crate::identity::principal::Principal;
use crate::identity::role::Role;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_contacts))
        .routes(routes!(export_list))
}

/// Export filters: the contact list's filters plus a format.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` (default) or `xlsx`.
    pub format: Option<FileFormat>,
    /// Only members of this list.
    pub list_id: Option<Uuid>,
    /// `valid` or `invalid`.
    pub status: Option<String>,
    /// Only contacts with this tag.
    pub tag: Option<String>,
    /// Only opted-out (`true`) or not opted-out (`false`) contacts.
    pub opted_out: Option<bool>,
    /// Name, phone or email contains this text.
    pub q: Option<String>,
}

/// Format of a list export.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `csv` (default) or `xlsx`.
    pub format: Option<FileFormat>,
}

/// The organisation's contacts (not in the trash) matching the filters, as CSV or XLSX.
#[utoipa::path(get, path = "/v1/contacts/export", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])), params(ExportQuery),
    responses(
        (status = 200, description = "The file (streamed)", content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    ))]
async fn export_contacts(
    With(state, who): With<Principal>,
    Query(q): Query<ExportQuery>,
) -> Result<Response> {
    who.require(Scope::ContactsRead, Role::Member)?;
    if let Some(list_id) = q.list_id
        && lists::get(&state.pool, who.scope(), list_id)
            .await?
            .is_none()
    {
        return Err(Error::field("list_id", "the organisation has no such list"));
    }
    let filter = ContactFilter {
        status: parse_status("status", q.status.as_deref())?,
        q: q.q,
        tag: q.tag,
        list_id: q.list_id,
        opted_out: q.opted_out,
    };
    let country = store::account_country(&state.pool, who.scope()).await?;
    let filter = filter.check("", &country)?;
    contacts::start(&state, q.format.unwrap_or_default(), who.scope(), filter).await
}

/// One list's contacts (not in the trash) as CSV or XLSX.
#[utoipa::path(get, path = "/v1/contact-lists/{list_id}/export", tag = "contacts",
    security(("bearer" = []), ("api_key" = []), ("bearer_api_key" = [])),
    params(("list_id" = Uuid, Path, description = "List id"), FormatQuery),
    responses(
        (status = 200, description = "The file (streamed)", content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    ))]
async fn export_list(
    With(state, who): With<Principal>,
    Path(list_id): Path<Uuid>,
    Query(q): Query<FormatQuery>,
) -> Result<Response> {
    who.require(Scope::ContactsRead, Role::Member)?;
    found(lists::get(&state.pool, who.scope(), list_id).await?)?;
    let filter = ContactFilter {
        list_id: Some(list_id),
        ..ContactFilter::default()
    }
    .check("", "")?;
    contacts::start(&state, q.format.unwrap_or_default(), who.scope(), filter).await
}
