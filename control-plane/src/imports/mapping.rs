//! Which column holds what: header detection, the common header names (`phone`, `msisdn`,
//! `mobile`, `first_name` …), and the explicit mapping a client may send instead.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

/// Column numbers (1-based, as a spreadsheet user counts) for each contact field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Mapping {
    /// The phone number column (required).
    pub phone: usize,
    /// First name (or full name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<usize>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<usize>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<usize>,
    /// Tags, separated by `;` or `|` (or `,` inside a quoted cell).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<usize>,
    /// Notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<usize>,
}

/// Explicit column choices from the request: a header name or a 1-based column number each.
#[derive(Debug, Clone, Default)]
pub struct Requested<'a> {
    /// The value per field, in [`PARAMS`] order.
    pub columns: [Option<&'a str>; 6],
}

/// The query parameters that choose a column, in field order: phone, first name, last name,
/// email, tags, notes.
pub const PARAMS: [&str; 6] = [
    "phone_column",
    "first_name_column",
    "last_name_column",
    "email_column",
    "tags_column",
    "notes_column",
];

/// Header names (lowercase, without spaces, `_`, `-` or `.`) recognised per field.
const ALIASES: [&[&str]; 6] = [
    &[
        "phone",
        "phonenumber",
        "phoneno",
        "msisdn",
        "mobile",
        "mobilenumber",
        "mobileno",
        "number",
        "cell",
        "cellphone",
        "tel",
        "telephone",
        "simu",
        "nambari",
    ],
    &[
        "firstname",
        "first",
        "givenname",
        "fname",
        "name",
        "fullname",
        "jina",
    ],
    &["lastname", "last", "surname", "familyname", "lname"],
    &["email", "emailaddress", "mail"],
    &["tags", "tag", "labels", "label", "groups", "group"],
    &["notes", "note", "comment", "comments", "remarks"],
];

fn normalise(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{FEFF}')
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The field (index into [`PARAMS`]) a header name stands for.
fn field_of(header: &str) -> Option<usize> {
    let name = normalise(header);
    ALIASES
        .iter()
        .position(|names| names.contains(&name.as_str()))
}

/// Looks like a phone number: 7–15 digits, an optional leading `+` and separators only.
pub fn phone_like(cell: &str) -> bool {
    let cell = cell.trim().trim_start_matches('\'');
    let cell = cell.strip_prefix('+').unwrap_or(cell);
    let mut digits = 0;
    for c in cell.chars() {
        match c {
            '0'..='9' => digits += 1,
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return false,
        }
    }
    (7..=15).contains(&digits)
}

/// Whether the first row is a header: it names a known column, or it holds no phone number
/// where the next rows do.
pub fn is_header(first: &[String], rest: &[Vec<String>]) -> bool {
    if first.iter().any(|cell| field_of(cell).is_some()) {
        return true;
    }
    let first_has_phone = first.iter().any(|c| phone_like(c));
    let rest_has_phone = rest.iter().any(|row| row.iter().any(|c| phone_like(c)));
    !first_has_phone && rest_has_phone
}

/// The column (0-based) where most sample rows hold a phone number.
fn phone_column(sample: &[Vec<String>]) -> Option<usize> {
    let width = sample.iter().map(Vec::len).max()?;
    (0..width)
        .map(|col| {
            let hits = sample
                .iter()
                .filter(|row| row.get(col).is_some_and(|c| phone_like(c)))
                .count();
            (col, hits)
        })
        .filter(|&(_, hits)| hits * 2 > sample.len())
        .max_by_key(|&(col, hits)| (hits, std::cmp::Reverse(col)))
        .map(|(col, _)| col)
}

/// Builds the mapping: explicit choices first, then header names, then (for the phone) the
/// column that looks like phone numbers. `header` is the header row when there is one;
/// `sample` holds the first data rows.
pub fn resolve(
    requested: &Requested<'_>,
    header: Option<&[String]>,
    sample: &[Vec<String>],
) -> Result<Mapping, Vec<FieldError>> {
    let width = header
        .map(<[String]>::len)
        .into_iter()
        .chain(sample.iter().map(Vec::len))
        .max()
        .unwrap_or(0);
    let mut chosen: [Option<usize>; 6] = [None; 6];
    let mut errors = Vec::new();
    for (i, value) in requested.columns.iter().enumerate() {
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        let by_number = value
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=width).contains(n));
        let by_name = header
            .and_then(|h| h.iter().position(|c| c.trim().eq_ignore_ascii_case(value)))
            .map(|c| c + 1);
        match by_name.or(by_number) {
            Some(col) => chosen[i] = Some(col),
            None => errors.push(FieldError::new(
                PARAMS[i],
                format!(
                    "no column {value:?}: give a header name or a column number from 1 to {width}"
                ),
            )),
        }
    }
    if let Some(header) = header {
        for (col, name) in header.iter().enumerate() {
            if let Some(field) = field_of(name) {
                let taken = chosen.contains(&Some(col + 1));
                if chosen[field].is_none() && !taken && requested.columns[field].is_none() {
                    chosen[field] = Some(col + 1);
                }
            }
        }
    }
    if chosen[0].is_none() {
        chosen[0] = phone_column(sample).map(|c| c + 1);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(phone) = chosen[0] else {
        return Err(vec![FieldError::new(
            "phone_column",
            "no phone number column found: name it phone, msisdn or mobile, or set phone_column",
        )]);
    };
    Ok(Mapping {
        phone,
        first_name: chosen[1],
        last_name: chosen[2],
        email: chosen[3],
        tags: chosen[4],
        notes: chosen[5],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| (*c).to_owned()).collect()
    }

    fn none() -> Requested<'static> {
        Requested::default()
    }

    #[test]
    fn header_names_map() {
        let header = row(&["Mobile Number", "First Name", "Surname", "E-mail", "x"]);
        let sample = [row(&["0712345678", "A", "B", "a@b.c", "y"])];
        assert!(is_header(&header, &sample));
        let m = resolve(&none(), Some(&header), &sample).unwrap();
        assert_eq!(
            m,
            Mapping {
                phone: 1,
                first_name: Some(2),
                last_name: Some(3),
                email: Some(4),
                tags: None,
                notes: None
            }
        );
    }

    #[test]
    fn headerless_files_find_the_phone_column() {
        let first = row(&["Wanjiru", "+254712345678"]);
        let rest = [row(&["Otieno", "0712 345 679"])];
        assert!(!is_header(&first, &rest));
        let sample = [first, rest[0].clone()];
        assert_eq!(resolve(&none(), None, &sample).unwrap().phone, 2);
        // An unknown header above phone numbers is still a header.
        assert!(is_header(&row(&["Kontakt"]), &[row(&["0712345678"])]));
    }

    #[test]
    fn explicit_columns_by_name_or_number() {
        let header = row(&["Kontakt", "Jina"]);
        let mut req = none();
        req.columns[0] = Some("kontakt");
        req.columns[1] = Some("2");
        let m = resolve(&req, Some(&header), &[]).unwrap();
        assert_eq!((m.phone, m.first_name), (1, Some(2)));
        req.columns[3] = Some("Email");
        let err = resolve(&req, Some(&header), &[]).unwrap_err();
        assert_eq!(err[0].field, "email_column");
    }

    #[test]
    fn no_phone_column_names_the_parameter() {
        let err = resolve(&none(), Some(&row(&["a", "b"])), &[row(&["x", "y"])]).unwrap_err();
        assert_eq!(err[0].field, "phone_column");
    }
}
