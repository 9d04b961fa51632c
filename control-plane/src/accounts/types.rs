//! Request and response types for organisations and teams, with their validation.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::FieldError;
use crate::identity::role::Role;
use crate::types::CountryCode;

/// Kind of account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[sqlx(type_name = "account_type", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    /// Pays Sema Link directly.
    Direct,
    /// A reseller.
    Agent,
    /// A reseller's customer.
    AgentCustomer,
}

/// Lifecycle state of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[sqlx(type_name = "account_status", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Registered, awaiting activation.
    Pending,
    /// Operational.
    Active,
    /// Restricted by Sema Link staff.
    Suspended,
}

/// An organisation's business profile.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Account {
    /// Account id.
    pub id: Uuid,
    /// Business name.
    pub name: String,
    /// Kind of account.
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub account_type: AccountType,
    /// Lifecycle state.
    pub status: AccountStatus,
    /// IANA time zone, e.g. `Africa/Nairobi`.
    pub timezone: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Address line 1.
    pub address_line1: Option<String>,
    /// Address line 2.
    pub address_line2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State, county or region.
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// One of the caller's memberships.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Membership {
    /// Membership id.
    pub id: Uuid,
    /// The organisation.
    pub account_id: Uuid,
    /// Its name.
    pub account_name: String,
    /// The caller's role there.
    pub role: Role,
    /// When the caller joined.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A new organisation (the caller becomes its owner).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// Business name (1–200 characters).
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// IANA time zone (default `Africa/Nairobi`).
    pub timezone: Option<String>,
    /// ISO 3166-1 alpha-2 country (default `KE`).
    #[schema(pattern = "^[A-Z]{2}$")]
    pub country: Option<String>,
}

/// Business profile changes; absent fields stay as they are, empty strings clear address parts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    /// Business name.
    pub name: Option<String>,
    /// IANA time zone.
    pub timezone: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    #[schema(pattern = "^[A-Z]{2}$")]
    pub country: Option<String>,
    /// Address line 1.
    pub address_line1: Option<String>,
    /// Address line 2.
    pub address_line2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State, county or region.
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
}

/// Which organisation to act for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchAccount {
    /// An organisation the caller is a member of.
    pub account_id: Uuid,
}

/// Checks an organisation name.
pub fn check_account_name(field: &str, value: &str, errors: &mut Vec<FieldError>) {
    crate::types::BoundedText::<200>::check(field, value, errors);
}

/// Checks the shape of an IANA time zone name (`Area/Location` or `UTC`).
pub fn check_timezone(field: &str, value: &str, errors: &mut Vec<FieldError>) {
    let shaped = value == "UTC"
        || (value.len() <= 64
            && value.contains('/')
            && value.split('/').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-+".contains(c))
            }));
    if !shaped {
        errors.push(FieldError::new(
            field,
            "must be an IANA time zone such as Africa/Nairobi",
        ));
    }
}

/// Checks a new organisation's country (default `KE`) and time zone (default the country's,
/// else `UTC`); the country when it is one, and the zone.
pub fn check_place(
    country: Option<&str>,
    timezone: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> (Option<CountryCode>, String) {
    let country = CountryCode::check("country", country.unwrap_or("KE"), errors);
    let timezone = match (timezone, country) {
        (Some(zone), _) => zone.to_owned(),
        (None, Some(country)) => country.timezone().to_owned(),
        (None, None) => "UTC".to_owned(),
    };
    check_timezone("timezone", &timezone, errors);
    (country, timezone)
}

/// Checks an optional free-text address part.
pub fn check_address_part(field: &str, value: &str, errors: &mut Vec<FieldError>) {
    if value.chars().count() > 200 {
        errors.push(FieldError::new(field, "must be at most 200 characters"));
    }
}
