//! Spreadsheet formula injection (OWASP "CSV Injection"): a cell that starts with `=`, `+`,
//! `-`, `@`, tab or carriage return is run as a formula by Excel, LibreOffice and Google
//! Sheets (`=cmd|' /C calc'!A0`, `=HYPERLINK(…)`). Such cells are made inert by a leading
//! apostrophe, which the spreadsheet reads as "this is text" and does not display.
//!
//! Plain signed numbers (`+254712345678`, `-12.5`) are left alone: they cannot call anything,
//! and E.164 phone numbers must survive an export and re-import unchanged.

use std::borrow::Cow;

/// Characters that make a spreadsheet evaluate a cell.
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// True when a spreadsheet would treat `cell` as a formula.
pub fn is_formula(cell: &str) -> bool {
    cell.starts_with(TRIGGERS) && !is_plain_number(cell)
}

/// `cell` as inert text: prefixed with `'` when it would otherwise be a formula.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if is_formula(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A sign followed by digits with at most one decimal point (spaces allowed, as in phone
/// numbers typed `+254 712 345 678`).
fn is_plain_number(cell: &str) -> bool {
    let Some(rest) = cell.strip_prefix(['+', '-']) else {
        return false;
    };
    let mut digits = 0;
    let mut points = 0;
    for c in rest.chars() {
        match c {
            '0'..='9' => digits += 1,
            '.' => points += 1,
            ' ' => {}
            _ => return false,
        }
    }
    digits > 0 && points <= 1 && rest.starts_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_get_an_apostrophe() {
        for cell in [
            "=cmd|' /C calc'!A0",
            "+HYPERLINK(\"http://x\")",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "+",
            "- 1a",
        ] {
            assert!(is_formula(cell), "{cell:?}");
            assert_eq!(neutralise(cell), format!("'{cell}"));
        }
    }

    #[test]
    fn text_and_signed_numbers_stay() {
        for cell in [
            "Wanjiru",
            "+254712345678",
            "+254 712 345 678",
            "-12.5",
            "",
            "a=b",
            "'=x",
        ] {
            assert!(!is_formula(cell), "{cell:?}");
            assert_eq!(neutralise(cell), cell);
        }
    }
}
