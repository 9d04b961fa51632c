//! The synchronous heart of the upload: bytes in (any chunking), COPY text out. Transcodes
//! UTF-16, splits records, decodes fields, skips the header and blank rows, validates each row
//! and encodes it for COPY. Owned and `Send`, so the upload runs each chunk on the blocking
//! pool (phone parsing is CPU work) and the async runtime stays free.

use uuid::Uuid;

use crate::imports::copy;
use crate::imports::decode::{self, Encoding, Field, FieldEncoding, RequestedEncoding, Utf16};
use crate::imports::mapping::Mapping;
use crate::imports::reader::{
    Fields, MAX_FIELDS, MAX_RECORD_BYTES, Record, RecordError, RecordReader,
};
use crate::imports::validate::{self, Rules, Staged};

/// The file's text format, decided from its first bytes.
#[derive(Debug, Clone, Copy)]
pub struct Format {
    /// The encoding read with.
    pub encoding: Encoding,
    /// What the client asked for.
    pub requested: RequestedEncoding,
    /// Byte-order mark length to skip.
    pub bom_len: usize,
    /// Field delimiter.
    pub delimiter: u8,
}

impl Format {
    /// Decides the format from the file's first bytes: encoding and byte-order mark
    /// ([`decode::sniff`]), the delimiter (`delimiter`, else detected); with the head as text
    /// after the byte-order mark (UTF-16 transcoded). The error says what the file is instead.
    pub fn detect(
        head: &[u8],
        requested: RequestedEncoding,
        delimiter: Option<u8>,
    ) -> Result<(Format, Vec<u8>), String> {
        let sniffed = decode::sniff(head, requested)?;
        let mut format = Format {
            encoding: sniffed.encoding,
            requested,
            bom_len: sniffed.bom_len,
            delimiter: b',',
        };
        let mut text = head[sniffed.bom_len..].to_vec();
        if let Some(mut utf16) = format.utf16() {
            let mut out = Vec::new();
            utf16.feed(&text, &mut out);
            text = out;
        }
        format.delimiter =
            delimiter.unwrap_or_else(|| crate::imports::reader::detect_delimiter(&text));
        Ok((format, text))
    }

    /// A fresh transcoder for the format (UTF-16 only).
    fn utf16(&self) -> Option<Utf16> {
        match self.encoding {
            Encoding::Utf16le => Some(Utf16::new(false)),
            Encoding::Utf16be => Some(Utf16::new(true)),
            _ => None,
        }
    }
}

/// Decodes a record's fields; the error is the row's rejection reason.
pub fn decode_record(
    record: &Record,
    format: &Format,
    fell_back: &mut bool,
) -> Result<Vec<String>, String> {
    let fields: &Fields = match &record.fields {
        Ok(fields) => fields,
        Err(RecordError::TooLong) => {
            return Err(format!(
                "row: longer than {} KiB (the rest of the row was skipped)",
                MAX_RECORD_BYTES / 1024
            ));
        }
        Err(RecordError::TooManyFields) => {
            return Err(format!("row: more than {MAX_FIELDS} columns"));
        }
    };
    fields
        .iter()
        .map(
            |bytes| match decode::decode_field(bytes, format.encoding, format.requested) {
                Field::Text(text, how) => {
                    *fell_back |= how == FieldEncoding::Windows1252;
                    Ok(text)
                }
                Field::NotUtf8 => Err(
                    "row: not valid UTF-8 (upload with encoding=windows-1252 for Latin-1 files)"
                        .to_owned(),
                ),
            },
        )
        .collect()
}

/// Row counts so far.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Data rows (not the header, not blank rows).
    pub total: u64,
    /// Rows without a reason.
    pub valid: u64,
    /// Formula cells neutralised.
    pub neutralised: u64,
}

/// Bytes in (any chunking), CSV records out: the byte-order mark skipped, UTF-16 transcoded,
/// records split. The part of the upload any CSV import shares (contacts here, an agent's
/// sub-customers in `crate::agents::import`).
pub struct Records {
    format: Format,
    utf16: Option<Utf16>,
    reader: RecordReader,
    bom_left: usize,
    scratch: Vec<u8>,
}

impl Records {
    /// A reader for a file of `format`.
    pub fn new(format: Format) -> Records {
        Records {
            utf16: format.utf16(),
            reader: RecordReader::new(format.delimiter),
            bom_left: format.bom_len,
            format,
            scratch: Vec::new(),
        }
    }

    /// The format read with.
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// Feeds the next chunk of the file (empty at the end), appending complete records.
    pub fn feed(&mut self, mut chunk: &[u8], records: &mut Vec<Record>) {
        let eof = chunk.is_empty();
        if self.bom_left > 0 {
            let skip = self.bom_left.min(chunk.len());
            chunk = &chunk[skip..];
            self.bom_left -= skip;
            if chunk.is_empty() && !eof {
                return;
            }
        }
        match &mut self.utf16 {
            Some(utf16) => {
                self.scratch.clear();
                if eof {
                    utf16.finish(&mut self.scratch);
                    self.reader.feed(&self.scratch, records);
                } else {
                    utf16.feed(chunk, &mut self.scratch);
                    if !self.scratch.is_empty() {
                        self.reader.feed(&self.scratch, records);
                    }
                }
            }
            None => self.reader.feed(chunk, records),
        }
        if eof {
            self.reader.feed(b"", records);
        }
    }
}

/// One upload's parsing state.
pub struct Pipeline {
    import_id: Uuid,
    input: Records,
    skip_header: bool,
    mapping: Mapping,
    header: Vec<String>,
    country: String,
    records: Vec<Record>,
    /// Counts so far.
    pub counts: Counts,
    /// Whether a field needed the Windows-1252 fallback.
    pub fell_back: bool,
}

impl Pipeline {
    /// A pipeline for one import. `header` is the header row (empty without one).
    pub fn new(
        import_id: Uuid,
        format: Format,
        mapping: Mapping,
        header: Vec<String>,
        has_header: bool,
        country: String,
    ) -> Pipeline {
        Pipeline {
            import_id,
            input: Records::new(format),
            skip_header: has_header,
            mapping,
            header,
            country,
            records: Vec::new(),
            counts: Counts::default(),
            fell_back: false,
        }
    }

    /// The encoding the file is read with.
    pub fn encoding(&self) -> Encoding {
        self.input.format.encoding
    }

    /// Feeds the next chunk of the file (empty at the end), appending COPY rows to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut String) {
        let mut records = std::mem::take(&mut self.records);
        self.input.feed(chunk, &mut records);
        for record in records.drain(..) {
            self.row(&record, out);
        }
        self.records = records;
    }

    fn row(&mut self, record: &Record, out: &mut String) {
        if record.fields.as_ref().is_ok_and(Fields::is_blank) {
            return;
        }
        if std::mem::take(&mut self.skip_header) {
            return;
        }
        let row_no = i64::try_from(record.number).unwrap_or(i64::MAX);
        let staged = match decode_record(record, &self.input.format, &mut self.fell_back) {
            Ok(fields) => validate::stage(
                row_no,
                fields,
                &Rules {
                    mapping: &self.mapping,
                    header: &self.header,
                    default_country: &self.country,
                },
            ),
            Err(reason) => Staged::rejected(row_no, Vec::new(), reason),
        };
        self.counts.total += 1;
        if staged.reason.is_none() {
            self.counts.valid += 1;
        }
        self.counts.neutralised += u64::from(staged.neutralised);
        copy::encode(self.import_id, &staged, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8], format: Format, has_header: bool, chunk: usize) -> (Counts, String) {
        let mapping = Mapping {
            phone: 1,
            first_name: Some(2),
            ..Mapping::default()
        };
        let mut p = Pipeline::new(
            Uuid::nil(),
            format,
            mapping,
            vec![],
            has_header,
            "KE".into(),
        );
        let mut out = String::new();
        for part in bytes.chunks(chunk) {
            p.feed(part, &mut out);
        }
        p.feed(b"", &mut out);
        (p.counts, out)
    }

    #[test]
    fn utf16_with_bom_and_header() {
        let text = "phone,name\n0712345678,Zoë\n\n,,\nnot a number,X\n";
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let format = Format {
            encoding: Encoding::Utf16le,
            requested: RequestedEncoding::Auto,
            bom_len: 2,
            delimiter: b',',
        };
        for chunk in [1, 5, 1000] {
            let (counts, out) = run(&bytes, format, true, chunk);
            assert_eq!((counts.total, counts.valid), (2, 1));
            assert!(
                out.contains("+254712345678") && out.contains("Zoë"),
                "{out}"
            );
        }
    }

    #[test]
    fn latin1_fields_fall_back() {
        let format = Format {
            encoding: Encoding::Utf8,
            requested: RequestedEncoding::Auto,
            bom_len: 0,
            delimiter: b';',
        };
        let mut p = Pipeline::new(
            Uuid::nil(),
            format,
            Mapping {
                phone: 1,
                first_name: Some(2),
                ..Mapping::default()
            },
            vec![],
            false,
            "KE".into(),
        );
        let mut out = String::new();
        p.feed(b"0712345678;Jos\xE9\n", &mut out);
        p.feed(b"", &mut out);
        assert!(p.fell_back);
        assert!(out.contains("José"));
    }
}
