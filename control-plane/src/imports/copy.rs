//! Staged rows in PostgreSQL's COPY text format, so the upload streams them into
//! `contact_import_rows` with `COPY … FROM STDIN` (one round trip per buffer, not per row).

use std::fmt::Write;

use uuid::Uuid;

use crate::imports::validate::Staged;

/// The COPY statement matching [`encode`]'s column order.
pub const STATEMENT: &str = "COPY contact_import_rows (import_id, row_no, contact_id, reason, \
    fields, phone, phone_raw, mno_id, country, first_name, last_name, email, tags, notes, \
    attributes, neutralised) FROM STDIN";

/// Appends one row (with its line end) to `out`.
pub fn encode(import_id: Uuid, row: &Staged, out: &mut String) {
    let _ = write!(out, "{import_id}\t{}\t", row.row_no);
    match row.reason {
        None => {
            let _ = write!(out, "{}", row.contact_id);
        }
        Some(_) => out.push_str("\\N"),
    }
    out.push('\t');
    opt(out, row.reason.as_deref());
    array(out, &row.fields);
    opt(out, row.phone.as_deref());
    opt(out, row.phone_raw.as_deref());
    opt(out, row.mno_id);
    opt(out, row.country);
    opt(out, row.first_name.as_deref());
    opt(out, row.last_name.as_deref());
    opt(out, row.email.as_deref());
    array(out, &row.tags);
    opt(out, row.notes.as_deref());
    let attributes = serde_json::Value::Object(row.attributes.clone()).to_string();
    escape(out, &attributes);
    out.push('\t');
    let _ = writeln!(out, "{}", row.neutralised);
}

fn opt(out: &mut String, value: Option<&str>) {
    match value {
        Some(v) => escape(out, v),
        None => out.push_str("\\N"),
    }
    out.push('\t');
}

/// A `text[]` literal (`{"a","b"}`), then COPY-escaped.
fn array(out: &mut String, items: &[String]) {
    let mut literal = String::from("{");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            literal.push(',');
        }
        literal.push('"');
        for c in item.chars() {
            if matches!(c, '"' | '\\') {
                literal.push('\\');
            }
            literal.push(c);
        }
        literal.push('"');
    }
    literal.push('}');
    escape(out, &literal);
    out.push('\t');
}

/// COPY text escaping: backslash, tab, newline and carriage return.
fn escape(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_fields_and_arrays() {
        let mut row = Staged::rejected(
            7,
            vec!["a\tb".into(), "q\"\\".into(), "x\ny".into()],
            "phone: empty".into(),
        );
        row.tags = vec!["vip".into()];
        let mut out = String::new();
        encode(Uuid::nil(), &row, &mut out);
        let cols: Vec<&str> = out.trim_end_matches('\n').split('\t').collect();
        assert_eq!(cols.len(), 16, "{out}");
        assert_eq!(cols[1], "7");
        assert_eq!(cols[2], "\\N");
        assert_eq!(cols[4], r#"{"a\tb","q\\"\\\\","x\ny"}"#);
        assert_eq!(cols[12], r#"{"vip"}"#);
        assert_eq!(cols[14], "{}");
    }
}
