//! Request and response types of the contact endpoints, and their validation.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::contacts::phone::{self, ContactStatus, NormalisedPhone};
use crate::error::{Error, FieldError, Result};
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
fn check_text(
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

impl ContactFields {
    /// Checks the fields common to create and update.
    #[allow(clippy::too_many_arguments)]
    fn check(
        phone: Option<(&str, bool)>,
        country: &str,
        first_name: Option<&str>,
        last_name: Option<&str>,
        email: Option<&str>,
        tags: Option<&[String]>,
        notes: Option<&str>,
        consent: (Option<&str>, Option<OffsetDateTime>, Option<&str>),
        attributes: Option<&Value>,
    ) -> Result<ContactFields> {
        let mut errors = Vec::new();
        let fields = ContactFields {
            phone: phone.and_then(|(p, allow)| check_phone(p, allow, country, &mut errors)),
            first_name: check_text("first_name", first_name, 100, &mut errors),
            last_name: check_text("last_name", last_name, 100, &mut errors),
            email: email.map(|e| match e.trim() {
                "" => String::new(),
                e => parse_email("email", e, &mut errors),
            }),
            tags: tags.map(|t| check_tags("tags", t, &mut errors)),
            notes: check_text("notes", notes, 4000, &mut errors),
            consent_source: check_text("consent_source", consent.0, 200, &mut errors),
            consent_at: consent.1,
            consent_note: check_text("consent_note", consent.2, 2000, &mut errors),
            attributes: check_attributes(attributes, &mut errors),
        };
        if errors.is_empty() {
            Ok(fields)
        } else {
            Err(Error::Validation(errors))
        }
    }
}

impl CreateContact {
    /// Validates a new contact with the organisation's `country` for national numbers.
    pub fn check(&self, country: &str) -> Result<ContactFields> {
        let mut list_errors = Vec::new();
        if self.list_ids.as_ref().is_some_and(|l| l.len() > 100) {
            list_errors.push(FieldError::new("list_ids", "at most 100 lists"));
        }
        let fields = ContactFields::check(
            Some((&self.phone, self.allow_invalid.unwrap_or(false))),
            country,
            self.first_name.as_deref(),
            self.last_name.as_deref(),
            self.email.as_deref(),
            self.tags.as_deref(),
            self.notes.as_deref(),
            (
                self.consent_source.as_deref(),
                self.consent_at,
                self.consent_note.as_deref(),
            ),
            self.attributes.as_ref(),
        );
        match (fields, list_errors.is_empty()) {
            (Ok(f), true) => Ok(f),
            (Ok(_), false) => Err(Error::Validation(list_errors)),
            (Err(Error::Validation(mut e)), _) => {
                e.append(&mut list_errors);
                Err(Error::Validation(e))
            }
            (Err(e), _) => Err(e),
        }
    }
}

impl UpdateContact {
    /// Validates the changes with the organisation's `country` for national numbers.
    pub fn check(&self, country: &str) -> Result<ContactFields> {
        ContactFields::check(
            self.phone
                .as_deref()
                .map(|p| (p, self.allow_invalid.unwrap_or(false))),
            country,
            self.first_name.as_deref(),
            self.last_name.as_deref(),
            self.email.as_deref(),
            self.tags.as_deref(),
            self.notes.as_deref(),
            (
                self.consent_source.as_deref(),
                self.consent_at,
                self.consent_note.as_deref(),
            ),
            self.attributes.as_ref(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
