//! One CSV row → one staged row: the phone normalised by [`contacts::phone::normalise`] (the
//! same rules as the contacts API), the other fields checked against the contacts table's
//! limits, formula cells neutralised, unmapped columns kept as attributes. Pure; the upload
//! calls it per row and COPYs the result.
//!
//! [`contacts::phone::normalise`]: crate::contacts::phone::normalise

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::contacts::phone::{self, ContactStatus};
use crate::exports::cells;
use crate::exports::contacts::COLUMNS as EXPORT_COLUMNS;
use crate::imports::mapping::Mapping;

/// Longest first or last name (the contacts table's limit).
const MAX_NAME: usize = 100;
/// Longest email (RFC 5321 path limit, the contacts table's limit).
const MAX_EMAIL: usize = 254;
/// Longest notes.
const MAX_NOTES: usize = 4000;
/// Longest tag and most tags per contact.
const MAX_TAG: usize = 50;
const MAX_TAGS: usize = 20;
/// Extra columns kept as attributes, and their key/value limits.
const MAX_ATTRIBUTES: usize = 20;
const MAX_ATTRIBUTE_KEY: usize = 50;
const MAX_ATTRIBUTE_VALUE: usize = 500;

/// A row ready for the staging table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Staged {
    /// 1-based record number in the file.
    pub row_no: i64,
    /// The id the contact gets if this row creates one.
    pub contact_id: Uuid,
    /// `None` when the row can be imported, else why not.
    pub reason: Option<String>,
    /// The original fields (decoded), for the rejected-rows download.
    pub fields: Vec<String>,
    /// E.164 when valid (else the trimmed input, or nothing).
    pub phone: Option<String>,
    /// What was typed.
    pub phone_raw: Option<String>,
    /// Operator route key.
    pub mno_id: Option<&'static str>,
    /// ISO alpha-2 country of the number.
    pub country: Option<&'static str>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Unmapped columns by header name.
    pub attributes: Map<String, Value>,
    /// Cells that looked like spreadsheet formulas and were stored with a leading `'`.
    pub neutralised: u32,
}

impl Staged {
    /// A row rejected before its fields could be read (too long, not UTF-8 …).
    pub fn rejected(row_no: i64, fields: Vec<String>, reason: String) -> Staged {
        Staged {
            row_no,
            reason: Some(reason),
            fields,
            ..Staged::default()
        }
    }
}

/// What every row of one import shares.
#[derive(Debug, Clone)]
pub struct Rules<'a> {
    /// The column mapping.
    pub mapping: &'a Mapping,
    /// Header names (for attributes); empty without a header row.
    pub header: &'a [String],
    /// Country for national numbers.
    pub default_country: &'a str,
}

fn cell(fields: &[String], column: Option<usize>) -> Option<&str> {
    column
        .and_then(|c| fields.get(c - 1))
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

/// Validates and normalises one row's decoded `fields`.
pub fn stage(row_no: i64, fields: Vec<String>, rules: &Rules<'_>) -> Staged {
    let mut row = Staged::rejected(row_no, Vec::new(), String::new());
    row.reason = check(&fields, rules, &mut row).err();
    if row.reason.is_none() {
        row.contact_id = Uuid::now_v7();
    }
    row.fields = fields;
    row
}

fn check(fields: &[String], rules: &Rules<'_>, row: &mut Staged) -> Result<(), String> {
    let m = rules.mapping;
    // A leading apostrophe is a spreadsheet's "this is text" marker, not part of the number.
    let raw = cell(fields, Some(m.phone)).map(|p| p.trim_start_matches('\''));
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Err("phone: the phone number is empty".into());
    };
    let Some(number) = phone::normalise(raw, rules.default_country) else {
        return Err(format!(
            "phone: longer than {} characters",
            phone::MAX_RAW_LEN
        ));
    };
    row.phone_raw = Some(raw.trim().to_owned());
    row.phone = Some(number.phone);
    row.mno_id = number.mno_id;
    row.country = number.country;
    if number.status == ContactStatus::Invalid {
        let reason = number.reason.unwrap_or_else(|| "invalid number".into());
        return Err(format!("phone: {reason}"));
    }
    row.first_name = text(fields, m.first_name, "first_name", MAX_NAME, row)?;
    row.last_name = text(fields, m.last_name, "last_name", MAX_NAME, row)?;
    row.notes = text(fields, m.notes, "notes", MAX_NOTES, row)?;
    if let Some(email) = cell(fields, m.email) {
        if !plausible_email(email) {
            return Err(format!("email: {email:?} is not an email address"));
        }
        row.email = Some(email.to_lowercase());
    }
    if let Some(tags) = cell(fields, m.tags) {
        row.tags = split_tags(tags, row)?;
    }
    row.attributes = attributes(fields, rules, row);
    Ok(())
}

/// An optional text field within `max` characters, neutralised if it is a formula.
fn text(
    fields: &[String],
    column: Option<usize>,
    name: &str,
    max: usize,
    row: &mut Staged,
) -> Result<Option<String>, String> {
    let Some(value) = cell(fields, column) else {
        return Ok(None);
    };
    // Counted after neutralising: the stored value (with its `'`) must fit the column.
    let value = safe(value, row);
    if value.chars().count() > max {
        return Err(format!("{name}: longer than {max} characters"));
    }
    Ok(Some(value))
}

fn safe(value: &str, row: &mut Staged) -> String {
    if cells::is_formula(value) {
        row.neutralised += 1;
    }
    cells::neutralise(value).into_owned()
}

/// `local@domain.tld` without spaces: enough to catch a column mix-up, not RFC 5322.
fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= MAX_EMAIL
        && !local.is_empty()
        && local.starts_with(|c: char| c.is_alphanumeric())
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.contains(|c: char| c.is_whitespace() || c == ',' || c == ';')
        && !domain.contains('@')
}

fn split_tags(value: &str, row: &mut Staged) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in value.split([';', '|', ',']).map(str::trim) {
        if tag.is_empty() {
            continue;
        }
        if tag.chars().count() > MAX_TAG {
            return Err(format!("tags: {tag:?} is longer than {MAX_TAG} characters"));
        }
        let tag = safe(tag, row);
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(format!("tags: more than {MAX_TAGS} tags"));
    }
    Ok(tags)
}

/// Columns an export writes that are not attributes: the contact's state, not its data
/// (`status` … `created_at`, after the six data columns).
const NOT_ATTRIBUTES: &[&str] = EXPORT_COLUMNS.split_at(6).1;

/// Unmapped, non-empty columns under their header name (only with a header row). The state
/// columns of an export are skipped, so an exported file re-imports as the same contacts.
fn attributes(fields: &[String], rules: &Rules<'_>, row: &mut Staged) -> Map<String, Value> {
    let m = rules.mapping;
    let mapped = [
        Some(m.phone),
        m.first_name,
        m.last_name,
        m.email,
        m.tags,
        m.notes,
    ];
    let mut out = Map::new();
    for (i, name) in rules.header.iter().enumerate() {
        let key: String = name.trim().chars().take(MAX_ATTRIBUTE_KEY).collect();
        let skip = key.is_empty()
            || mapped.contains(&Some(i + 1))
            || NOT_ATTRIBUTES.contains(&key.as_str())
            || out.len() >= MAX_ATTRIBUTES;
        if skip {
            continue;
        }
        if let Some(value) = cell(fields, Some(i + 1)) {
            let value: String = value.chars().take(MAX_ATTRIBUTE_VALUE).collect();
            out.insert(key, Value::String(safe(&value, row)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| (*c).to_owned()).collect()
    }

    fn rules_for<'a>(mapping: &'a Mapping, header: &'a [String]) -> Rules<'a> {
        Rules {
            mapping,
            header,
            default_country: "KE",
        }
    }

    #[test]
    fn a_good_row() {
        let mapping = Mapping {
            phone: 1,
            first_name: Some(2),
            email: Some(3),
            tags: Some(4),
            ..Mapping::default()
        };
        let header = fields(&["phone", "name", "email", "tags", "City"]);
        let row = stage(
            2,
            fields(&[
                "0712 345 678",
                "Wanjiru",
                "W@Example.com",
                "vip; nairobi;vip",
                "Nakuru",
            ]),
            &rules_for(&mapping, &header),
        );
        assert_eq!(row.reason, None);
        assert_eq!(row.phone.as_deref(), Some("+254712345678"));
        assert_eq!(row.email.as_deref(), Some("w@example.com"));
        assert_eq!(row.tags, ["vip", "nairobi"]);
        assert_eq!(row.attributes["City"], "Nakuru");
        assert_ne!(row.contact_id, Uuid::nil());
    }

    #[test]
    fn rejections_name_the_field() {
        let mapping = Mapping {
            phone: 1,
            email: Some(2),
            ..Mapping::default()
        };
        let r = rules_for(&mapping, &[]);
        for (cells, field) in [
            (["", "a@b.co"], "phone:"),
            (["07x2", "a@b.co"], "phone:"),
            (["020 2222222", ""], "phone:"),
            (["0712345678", "not-an-email"], "email:"),
        ] {
            let row = stage(5, fields(&cells), &r);
            assert!(row.reason.as_deref().unwrap().starts_with(field), "{row:?}");
            assert_eq!(row.fields, fields(&cells));
        }
    }

    #[test]
    fn formulas_are_neutralised() {
        let mapping = Mapping {
            phone: 1,
            first_name: Some(2),
            notes: Some(3),
            ..Mapping::default()
        };
        let row = stage(
            2,
            fields(&["'+254712345678", "=cmd|' /C calc'!A0", "@SUM(A1)"]),
            &rules_for(&mapping, &[]),
        );
        assert_eq!(row.reason, None);
        assert_eq!(row.phone.as_deref(), Some("+254712345678"));
        assert_eq!(row.first_name.as_deref(), Some("'=cmd|' /C calc'!A0"));
        assert_eq!(row.notes.as_deref(), Some("'@SUM(A1)"));
        assert_eq!(row.neutralised, 2);
        // The apostrophe counts towards the column's limit.
        let long = format!("={}", "x".repeat(99));
        let row = stage(
            3,
            fields(&["0712345678", &long, ""]),
            &rules_for(&mapping, &[]),
        );
        assert!(
            row.reason
                .unwrap()
                .starts_with("first_name: longer than 100")
        );
    }
}
