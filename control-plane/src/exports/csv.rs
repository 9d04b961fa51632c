//! Formula-safe CSV output (RFC 4180, CRLF line ends, a UTF-8 byte-order mark so Excel reads
//! the file as UTF-8). Every cell goes through [`cells::neutralise`] first.

use crate::exports::cells;

/// The UTF-8 byte-order mark that starts every exported CSV file.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Appends one record to `out`.
pub fn write_record<'a>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = &'a str>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let field = cells::neutralise(field);
        let needs_quotes = field.contains([',', '"', '\n', '\r', ';', '\t'])
            || field.starts_with(' ')
            || field.ends_with(' ');
        if needs_quotes {
            out.push(b'"');
            for b in field.bytes() {
                if b == b'"' {
                    out.push(b'"');
                }
                out.push(b);
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(field.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(fields: &[&str]) -> String {
        let mut out = Vec::new();
        write_record(&mut out, fields.iter().copied());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn quoting_and_formulas() {
        assert_eq!(line(&["+254712345678", "Ann"]), "+254712345678,Ann\r\n");
        assert_eq!(
            line(&["a,b", "say \"hi\"", "x\ny"]),
            "\"a,b\",\"say \"\"hi\"\"\",\"x\ny\"\r\n"
        );
        assert_eq!(
            line(&["=cmd|' /C calc'!A0", "@x"]),
            "'=cmd|' /C calc'!A0,'@x\r\n"
        );
        assert_eq!(line(&["=1,2"]), "\"'=1,2\"\r\n");
    }
}
