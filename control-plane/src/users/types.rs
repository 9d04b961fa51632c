//! Request and response types of the user profile, with their validation.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::FieldError;

/// The signed-in user's profile.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Profile {
    /// User id.
    pub id: Uuid,
    /// Email address (the login).
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Phone number, international format.
    pub phone: Option<String>,
    /// Whether the email address has been verified.
    pub email_verified: bool,
    /// Whether TOTP two-factor authentication is on.
    pub mfa_enabled: bool,
    /// Last successful login.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<OffsetDateTime>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Profile changes; absent fields are left as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfile {
    /// Given name (1–100 characters).
    pub first_name: Option<String>,
    /// Family name (1–100 characters).
    pub last_name: Option<String>,
    /// Phone in E.164 (`+254712345678`); empty string clears it.
    #[schema(pattern = "^(\\+[0-9]{8,15})?$")]
    pub phone: Option<String>,
}

/// Password change for the signed-in user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    /// The current password.
    pub current_password: String,
    /// The new password (see the strength rule).
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// Checks a personal name field.
pub fn check_name(field: &str, value: &str, errors: &mut Vec<FieldError>) {
    crate::types::BoundedText::<100>::check(field, value, errors);
}

/// Checks an E.164 phone number.
pub fn check_phone(field: &str, value: &str, errors: &mut Vec<FieldError>) {
    let digits = value.strip_prefix('+').unwrap_or("");
    if !(8..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        errors.push(FieldError::new(
            field,
            "must be in international format, e.g. +254712345678",
        ));
    }
}

/// Checks and normalises an email address (trimmed, lower-cased domain).
pub fn parse_email(field: &str, value: &str, errors: &mut Vec<FieldError>) -> String {
    let value = value.trim();
    let ok = value.len() <= 254
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.len() <= 64
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && domain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                && !local
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '@')
        });
    if !ok {
        errors.push(FieldError::new(field, "must be a valid email address"));
        return value.to_owned();
    }
    let (local, domain) = value.split_once('@').unwrap_or((value, ""));
    format!("{local}@{}", domain.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_rule() {
        let mut e = Vec::new();
        assert_eq!(
            parse_email("email", " Jane@Example.COM ", &mut e),
            "Jane@example.com"
        );
        assert!(e.is_empty());
        for bad in ["", "no-at", "a@b", "@x.com", "a b@x.com", "a@x..", "a@-"] {
            let mut e = Vec::new();
            parse_email("email", bad, &mut e);
            assert_eq!(e.len(), 1, "{bad}");
        }
    }

    #[test]
    fn phone_rule() {
        let mut e = Vec::new();
        check_phone("phone", "+254712345678", &mut e);
        assert!(e.is_empty());
        check_phone("phone", "0712345678", &mut e);
        assert_eq!(e.len(), 1);
    }
}
