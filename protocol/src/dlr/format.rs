//! Writes a receipt as canonical SMPP 3.4 Appendix B text:
//! `id:… sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000 text:…`
//!
//! Fields keep the Appendix B order and spelling; `sub`/`dlvrd` are zero-padded to three
//! digits; absent fields are left out rather than invented. The `network_error_code` TLV is not
//! part of the text. Whatever this writes, [`super::parse_text`] reads back to the same receipt
//! (property-tested), as long as the id and `err` contain no whitespace.

use std::fmt::{self, Display, Formatter};

use super::Receipt;

impl Display for Receipt {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "id:{}", self.id)?;
        if let Some(n) = self.submitted {
            write!(f, " sub:{n:03}")?;
        }
        if let Some(n) = self.delivered {
            write!(f, " dlvrd:{n:03}")?;
        }
        if let Some(d) = &self.submit_date {
            write!(f, " submit date:{d}")?;
        }
        if let Some(d) = &self.done_date {
            write!(f, " done date:{d}")?;
        }
        write!(f, " stat:{}", self.stat)?;
        if let Some(err) = &self.err {
            write!(f, " err:{err}")?;
        }
        if let Some(text) = &self.text {
            write!(f, " text:{text}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::dlr::{ReceiptDate, Stat, parse_text};

    use super::*;

    #[test]
    fn writes_the_appendix_b_layout() {
        let r = Receipt {
            id: "1234567890".into(),
            submitted: Some(1),
            delivered: Some(1),
            submit_date: ReceiptDate::parse("2301311459"),
            done_date: ReceiptDate::parse("230131150012"),
            stat: Stat::Delivered,
            err: Some("000".into()),
            text: Some("Hello".into()),
            network_error: None,
            handset: None,
        };
        let text = r.to_text();
        assert_eq!(
            text,
            "id:1234567890 sub:001 dlvrd:001 submit date:2301311459 \
             done date:230131150012 stat:DELIVRD err:000 text:Hello"
        );
        assert_eq!(parse_text(&text).unwrap(), r);
    }

    #[test]
    fn leaves_out_absent_fields() {
        let r = Receipt::new("a", Stat::Rejected);
        assert_eq!(r.to_text(), "id:a stat:REJECTD");
        let r = Receipt {
            err: Some("011".into()),
            ..Receipt::new("b", Stat::Expired)
        };
        assert_eq!(r.to_text(), "id:b stat:EXPIRED err:011");
    }
}
