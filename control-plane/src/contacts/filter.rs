//! The one contact filter: the query of the list endpoints, the filter of bulk actions and
//! of exports (and, next, of campaign audiences), checked into a [`SearchFilter`] and bound
//! into the one filtered SQL condition, [`crate::contacts::store::FILTER_SQL`]. Whoever
//! selects contacts by a filter goes through here, so a list, a bulk action and an export
//! with the same filter see the same contacts.

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::contacts::phone::{self, ContactStatus};
use crate::contacts::types::check_tag;
use crate::error::{Error, FieldError, Result};
use crate::http::reply::checked;

/// Filters shared by the list endpoint, the trash and bulk actions.
#[derive(Debug, Default, Clone, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContactFilter {
    /// Search in names, phone and email (case-insensitive substring; a phone number in any
    /// form also matches its E.164).
    pub q: Option<String>,
    /// Only contacts with this tag.
    pub tag: Option<String>,
    /// Only members of this list.
    pub list_id: Option<Uuid>,
    /// Only valid or only invalid numbers.
    pub status: Option<ContactStatus>,
    /// Only opted-out (true) or not opted-out (false) contacts.
    pub opted_out: Option<bool>,
}

/// A filter checked and prepared for SQL.
#[derive(Debug, Default, Clone)]
pub struct SearchFilter {
    /// Lower-cased search text with LIKE wildcards escaped.
    pub q_like: Option<String>,
    /// The search text as an E.164 number, when it is one.
    pub q_phone: Option<String>,
    /// Tag.
    pub tag: Option<String>,
    /// List.
    pub list_id: Option<Uuid>,
    /// Status.
    pub status: Option<ContactStatus>,
    /// Opt-out flag.
    pub opted_out: Option<bool>,
}

impl ContactFilter {
    /// Validates the filter (`prefix` names the fields, e.g. `filter.`).
    pub fn check(&self, prefix: &str, country: &str) -> Result<SearchFilter> {
        let mut errors = Vec::new();
        let q = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        if q.is_some_and(|q| q.chars().count() > 100) {
            errors.push(FieldError::new(
                format!("{prefix}q"),
                "must be at most 100 characters",
            ));
        }
        let tag = self.tag.as_deref().map(str::trim);
        if let Some(tag) = tag {
            check_tag(&format!("{prefix}tag"), tag, &mut errors);
        }
        checked((), errors)?;
        let q_phone = q
            .and_then(|q| phone::normalise(q, country))
            .filter(|n| n.country.is_some())
            .map(|n| n.phone);
        Ok(SearchFilter {
            q_like: q.map(|q| like_escape(&q.to_lowercase())),
            q_phone,
            tag: tag.map(str::to_owned),
            list_id: self.list_id,
            status: self.status,
            opted_out: self.opted_out,
        })
    }
}

/// Parses a status given as free text (the export query), naming `field` when it is neither
/// `valid` nor `invalid`.
pub fn parse_status(field: &str, status: Option<&str>) -> Result<Option<ContactStatus>> {
    match status {
        None => Ok(None),
        Some("valid") => Ok(Some(ContactStatus::Valid)),
        Some("invalid") => Ok(Some(ContactStatus::Invalid)),
        Some(_) => Err(Error::field(field, "must be valid or invalid")),
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern.
pub fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_escape("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
