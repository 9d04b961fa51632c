//! Request and response types of the contact endpoints, and their validation.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::contacts::phone::{self, ContactStatus, NormalisedPhone};
use crate::error::{FieldError, Result};
use crate::http::reply::checked;
use crate::users::types::parse_email;

/// Most tags on one contact.
pub const MAX_TAGS: usize = 50;
/// Most custom attributes on one contact.
pub const MAX_ATTRIBUTES: usize = 50;

/// A contact.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Contact {
    /// Id (time-ordered).
    pub id: Uuid,
    /// E.164 (`+254712345678`) when the number parses, otherwise the number as given.
    pub phone: String,
    /// The number as it was typed or imported.
    pub phone_raw: String,
    /// Whether the number can be sent to.
    pub status: ContactStatus,
    /// Why the number is invalid; null when valid.
    pub invalid_reason: Option<String>,
    /// Operator route key, e.g. `ke-safaricom`, where known.
    pub mno_id: Option<String>,
    /// ISO 3166-1 alpha-2 country of the number.
    pub country: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// Internal notes.
    pub notes: Option<String>,
    /// How consent was obtained (e.g. `opt-in form`).
    pub consent_source: Option<String>,
    /// When consent was given.
    #[serde(with = "time::serde::rfc3339::option")]
    pub consent_at: Option<OffsetDateTime>,
    /// Note for auditors about the consent.
    pub consent_note: Option<String>,
    /// Opted out: excluded from every send.
    pub is_opted_out: bool,
    /// When the contact opted out.
    #[serde(with = "time::serde::rfc3339::option")]
    pub opted_out_at: Option<OffsetDateTime>,
    /// Custom attributes (string values), e.g. from imported columns.
    #[schema(value_type = Object)]
    pub attributes: Value,
    /// Lists the contact belongs to.
    pub list_ids: Vec<Uuid>,
    /// When the contact was moved to the trash; null when active.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A new contact.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContact {
    /// Phone number in any common form; national forms use the organisation's country.
    #[schema(min_length = 1, max_length = 64)]
    pub phone: String,
    /// Store the contact even when the number is invalid (as `status: invalid`). Default
    /// false: an invalid number is rejected naming `phone`.
    pub allow_invalid: Option<bool>,
    /// First name (at most 100 characters).
    #[schema(max_length = 100)]
    pub first_name: Option<String>,
    /// Last name (at most 100 characters).
    #[schema(max_length = 100)]
    pub last_name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Tags (at most 50, each 1–50 characters).
    #[schema(max_items = 50)]
    pub tags: Option<Vec<String>>,
    /// Notes (at most 4000 characters).
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
    /// How consent was obtained (at most 200 characters).
    #[schema(max_length = 200)]
    pub consent_source: Option<String>,
    /// When consent was given (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub consent_at: Option<OffsetDateTime>,
    /// Note about the consent (at most 2000 characters).
    #[schema(max_length = 2000)]
    pub consent_note: Option<String>,
    /// Custom attributes: at most 50 keys (1–64 characters), string values (≤ 1000).
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Value>,
    /// Lists to add the contact to (at most 100).
    #[schema(max_items = 100)]
    pub list_ids: Option<Vec<Uuid>>,
}

/// Changes to a contact; absent fields stay, an empty string clears a text field.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateContact {
    /// New phone number (re-validated).
    pub phone: Option<String>,
    /// Accept an invalid new number (stored as `status: invalid`).
    pub allow_invalid: Option<bool>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Replaces the tags.
    pub tags: Option<Vec<String>>,
    /// Notes.
    pub notes: Option<String>,
    /// How consent was obtained.
    pub consent_source: Option<String>,
    /// When consent was given (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub consent_at: Option<OffsetDateTime>,
    /// Note about the consent.
    pub consent_note: Option<String>,
    /// Replaces the custom attributes.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Value>,
}

/// Checks one tag.
pub fn check_tag(field: &str, tag: &str, errors: &mut Vec<FieldError>) {
    let len = tag.chars().count();
    if len == 0 || len > 50 || tag.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            "must be 1 to 50 characters without control characters",
        ));
    }
}

/// Checks and normalises tags: trimmed, duplicates removed, at most [`MAX_TAGS`].
pub fn check_tags(field: &str, tags: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    if tags.len() > MAX_TAGS {
        errors.push(FieldError::new(field, "at most 50 tags"));
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for (i, tag) in tags.iter().enumerate() {
        let tag = tag.trim();
        check_tag(&format!("{field}[{i}]"), tag, errors);
        if !out.iter().any(|t| t == tag) {
            out.push(tag.to_owned());
        }
    }
    out
}

/// Checks an optional text's length; returns it trimmed, `None` for absent, `Some("")` to
/// clear.
pub fn check_text(
    field: &str,
    value: Option<&str>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = value?.trim();
    if value.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Some(value.to_owned())
}

/// Checks custom attributes: an object of at most 50 string values.
fn check_attributes(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<Value> {
    let value = value?;
    let Some(map) = value.as_object() else {
        errors.push(FieldError::new("attributes", "must be an object"));
        return None;
    };
    if map.len() > MAX_ATTRIBUTES {
        errors.push(FieldError::new("attributes", "at most 50 attributes"));
    }
    for (key, v) in map {
        let field = format!("attributes.{key}");
        if key.is_empty() || key.chars().count() > 64 {
            errors.push(FieldError::new(&field, "names must be 1 to 64 characters"));
        }
        match v.as_str() {
            Some(s) if s.chars().count() <= 1000 => {}
            _ => errors.push(FieldError::new(
                &field,
                "must be a string of at most 1000 characters",
            )),
        }
    }
    Some(value.clone())
}

/// Normalises a phone input, rejecting invalid numbers unless `allow_invalid`.
fn check_phone(
    value: &str,
    allow_invalid: bool,
    country: &str,
    errors: &mut Vec<FieldError>,
) -> Option<(NormalisedPhone, String)> {
    let Some(normalised) = phone::normalise(value, country) else {
        errors.push(FieldError::new("phone", "must be 1 to 64 characters"));
        return None;
    };
    if normalised.status == ContactStatus::Invalid && !allow_invalid {
        let reason = normalised.reason.clone().unwrap_or_default();
        errors.push(FieldError::new("phone", reason));
        return None;
    }
    Some((normalised, value.trim().to_owned()))
}

/// Contact fields checked and ready to store. Text fields: `None` = unchanged (update) or
/// absent, `Some("")` = cleared.
#[derive(Debug, Default)]
pub struct ContactFields {
    /// Normalised phone and the raw input.
    pub phone: Option<(NormalisedPhone, String)>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email, normalised.
    pub email: Option<String>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// Notes.
    pub notes: Option<String>,
    /// Consent source.
    pub consent_source: Option<String>,
    /// Consent time.
    pub consent_at: Option<OffsetDateTime>,
    /// Consent note.
    pub consent_note: Option<String>,
    /// Attributes.
    pub attributes: Option<Value>,
}

/// Checks the fields create and update share: `$req` is a [`CreateContact`] or an
/// [`UpdateContact`] (the same field names), `$phone` its number and whether an invalid one
/// is accepted, `$country` the organisation's country for national numbers. Gives the
/// checked fields and the errors found.
macro_rules! check_fields {
    ($req:expr, $phone:expr, $country:expr) => {{
        let req = $req;
        let mut errors = Vec::new();
        let errs = &mut errors;
        let fields = ContactFields {
            phone: $phone.and_then(|(p, allow)| check_phone(p, allow, $country, errs)),
            first_name: check_text("first_name", req.first_name.as_deref(), 100, errs),
            last_name: check_text("last_name", req.last_name.as_deref(), 100, errs),
            email: req.email.as_deref().map(|e| match e.trim() {
                "" => String::new(),
                e => parse_email("email", e, errs),
            }),
            tags: req.tags.as_deref().map(|t| check_tags("tags", t, errs)),
            notes: check_text("notes", req.notes.as_deref(), 4000, errs),
            consent_source: check_text("consent_source", req.consent_source.as_deref(), 200, errs),
            consent_at: req.consent_at,
            consent_note: check_text("consent_note", req.consent_note.as_deref(), 2000, errs),
            attributes: check_attributes(req.attributes.as_ref(), errs),
        };
        (fields, errors)
    }};
}

impl CreateContact {
    /// Validates a new contact with the organisation's `country` for national numbers.
    pub fn check(&self, country: &str) -> Result<ContactFields> {
        let phone = Some((self.phone.as_str(), self.allow_invalid.unwrap_or(false)));
        let (fields, mut errors) = check_fields!(self, phone, country);
        if self.list_ids.as_ref().is_some_and(|l| l.len() > 100) {
            errors.push(FieldError::new("list_ids", "at most 100 lists"));
        }
        checked(fields, errors)
    }
}

impl UpdateContact {
    /// Validates the changes with the organisation's `country` for national numbers.
    pub fn check(&self, country: &str) -> Result<ContactFields> {
        let phone = self.phone.as_deref();
        let phone = phone.map(|p| (p, self.allow_invalid.unwrap_or(false)));
        let (fields, errors) = check_fields!(self, phone, country);
        checked(fields, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn invalid_phone_is_rejected_naming_the_field_unless_allowed() {
        let bad = CreateContact {
            phone: "12ab".into(),
            ..CreateContact::default()
        };
        let Err(Error::Validation(errors)) = bad.check("KE") else {
            panic!("expected a validation error");
        };
        assert_eq!(errors[0].field, "phone");
        let allowed = CreateContact {
            allow_invalid: Some(true),
            ..bad
        };
        let fields = allowed.check("KE").unwrap();
        assert_eq!(fields.phone.unwrap().0.status, ContactStatus::Invalid);
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated() {
        let mut errors = Vec::new();
        let tags = check_tags("tags", &[" vip ".into(), "vip".into()], &mut errors);
        assert_eq!(tags, vec!["vip".to_owned()]);
        assert!(errors.is_empty());
        check_tags("tags", &["".into()], &mut errors);
        assert_eq!(errors[0].field, "tags[0]");
    }
}
