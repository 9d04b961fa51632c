//! A push-based CSV record reader (`csv-core`) fed with the request body's chunks as they
//! arrive, so a file of tens of MB is never held in memory. Quoted fields with embedded
//! newlines, doubled quotes and CRLF/LF line ends are RFC 4180 as `csv-core` reads them.
//!
//! Memory is bounded per record: a record longer than [`MAX_RECORD_BYTES`] or with more than
//! [`MAX_FIELDS`] fields is skipped to its end (the parser keeps its quote state, so the next
//! record starts where it should) and reported as that row's error, instead of growing a
//! buffer with a 10 MB line.

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};

/// Longest record kept, in bytes (a contact row is a few hundred bytes).
pub const MAX_RECORD_BYTES: usize = 16 * 1024;
/// Most fields kept in one record.
pub const MAX_FIELDS: usize = 100;

/// One record's fields, contiguous.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Fields {
    /// The fields' raw bytes.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let field = &self.data[start..end];
            start = end;
            field
        })
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the record has no field at all.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// True when the record has no field or only blank ones (a spreadsheet's `,,,` line).
    pub fn is_blank(&self) -> bool {
        self.data.iter().all(|b| b.is_ascii_whitespace())
    }
}

/// Why a record was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordError {
    /// Longer than [`MAX_RECORD_BYTES`].
    TooLong,
    /// More than [`MAX_FIELDS`] fields.
    TooManyFields,
}

/// A record in file order; `number` counts records from 1 (the header, if any, is 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based record number in the file.
    pub number: u64,
    /// The fields, or why they were dropped.
    pub fields: Result<Fields, RecordError>,
}

/// The reader's state between chunks.
pub struct RecordReader {
    core: Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    out_len: usize,
    ends_len: usize,
    skipping: Option<RecordError>,
    number: u64,
    done: bool,
}

impl RecordReader {
    /// A reader for `delimiter`.
    pub fn new(delimiter: u8) -> RecordReader {
        RecordReader {
            core: ReaderBuilder::new().delimiter(delimiter).build(),
            out: vec![0; 1024],
            ends: vec![0; 16],
            out_len: 0,
            ends_len: 0,
            skipping: None,
            number: 0,
            done: false,
        }
    }

    /// Parses `chunk`, pushing every completed record to `records`. An empty `chunk` means
    /// the end of the file (the last record may lack its line end).
    pub fn feed(&mut self, mut chunk: &[u8], records: &mut Vec<Record>) {
        let eof = chunk.is_empty();
        while !self.done {
            // csv-core reads an empty input as the end of the file: only pass one at the end.
            if chunk.is_empty() && !eof {
                return;
            }
            let (res, nin, nout, nends) = self.core.read_record(
                chunk,
                &mut self.out[self.out_len..],
                &mut self.ends[self.ends_len..],
            );
            chunk = &chunk[nin..];
            self.out_len += nout;
            self.ends_len += nends;
            match res {
                ReadRecordResult::InputEmpty if !eof => return,
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => self.grow_out(),
                ReadRecordResult::OutputEndsFull => self.grow_ends(),
                ReadRecordResult::Record => records.push(self.take()),
                ReadRecordResult::End => self.done = true,
            }
        }
    }

    fn grow_out(&mut self) {
        if self.out.len() >= MAX_RECORD_BYTES {
            // Keep parsing (quote state matters) but drop the bytes.
            self.skipping.get_or_insert(RecordError::TooLong);
            self.out_len = 0;
        } else {
            self.out.resize(self.out.len() * 2, 0);
        }
    }

    fn grow_ends(&mut self) {
        if self.ends.len() >= MAX_FIELDS {
            self.skipping.get_or_insert(RecordError::TooManyFields);
            self.ends_len = 0;
        } else {
            self.ends.resize((self.ends.len() * 2).min(MAX_FIELDS), 0);
        }
    }

    fn take(&mut self) -> Record {
        self.number += 1;
        let fields = match self.skipping.take() {
            Some(err) => Err(err),
            None => Ok(Fields {
                data: self.out[..self.out_len].to_vec(),
                ends: self.ends[..self.ends_len].to_vec(),
            }),
        };
        self.out_len = 0;
        self.ends_len = 0;
        Record {
            number: self.number,
            fields,
        }
    }
}

/// Picks the delimiter (`,` `;` tab `|`) from the start of the file: the candidate that splits
/// the first lines into the same number (more than one) of fields, preferring more fields.
pub fn detect_delimiter(head: &[u8]) -> u8 {
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    // Drop the last, probably cut, line.
    let complete = match head.iter().rposition(|&b| b == b'\n') {
        Some(end) => &head[..=end],
        None => head,
    };
    let mut best = (b',', 0usize, false);
    for delimiter in CANDIDATES {
        let mut reader = RecordReader::new(delimiter);
        let mut records = Vec::new();
        reader.feed(complete, &mut records);
        reader.feed(b"", &mut records);
        let counts: Vec<usize> = records
            .iter()
            .take(20)
            .filter_map(|r| r.fields.as_ref().ok())
            .filter(|f| !f.is_blank())
            .map(Fields::len)
            .collect();
        let Some(&first) = counts.first() else {
            continue;
        };
        let consistent = first > 1 && counts.iter().all(|&c| c == first);
        let better = match (consistent, best.2) {
            (true, false) => true,
            (false, true) => false,
            _ => first > best.1,
        };
        if better && first > 1 {
            best = (delimiter, first, consistent);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], delimiter: u8, chunk: usize) -> Vec<Record> {
        let mut reader = RecordReader::new(delimiter);
        let mut records = Vec::new();
        for part in input.chunks(chunk) {
            reader.feed(part, &mut records);
        }
        reader.feed(b"", &mut records);
        records
    }

    fn texts(r: &Record) -> Vec<String> {
        r.fields
            .as_ref()
            .unwrap()
            .iter()
            .map(|f| String::from_utf8(f.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn quotes_and_newlines_across_chunks() {
        let input = b"phone,notes\r\n+254712345678,\"line one\nline \"\"two\"\"\"\n0712345678,x";
        for chunk in [1, 3, 7, 1000] {
            let records = read_all(input, b',', chunk);
            assert_eq!(records.len(), 3);
            assert_eq!(texts(&records[1])[1], "line one\nline \"two\"");
            assert_eq!(texts(&records[2]), ["0712345678", "x"]);
            assert_eq!(records[2].number, 3);
        }
    }

    #[test]
    fn a_huge_record_is_skipped_to_its_end() {
        let mut input = b"phone\n+254712345678\n\"".to_vec();
        input.extend(std::iter::repeat_n(b'x', 3 * MAX_RECORD_BYTES));
        input.extend_from_slice(b"\n,still inside\"\n+254712345679\n");
        let records = read_all(&input, b',', 4096);
        assert_eq!(records.len(), 4);
        assert_eq!(records[2].fields, Err(RecordError::TooLong));
        assert_eq!(texts(&records[3]), ["+254712345679"]);
    }

    #[test]
    fn too_many_fields() {
        let line = ",".repeat(MAX_FIELDS + 5);
        let records = read_all(format!("a\n{line}\nb\n").as_bytes(), b',', 64);
        assert_eq!(records[1].fields, Err(RecordError::TooManyFields));
        assert_eq!(texts(&records[2]), ["b"]);
    }

    #[test]
    fn delimiters() {
        assert_eq!(detect_delimiter(b"phone;name\n0712;A\n0713;B\n"), b';');
        assert_eq!(detect_delimiter(b"phone\tname\n0712\tA, B\n"), b'\t');
        assert_eq!(detect_delimiter(b"phone,name\n0712,\"A; B\"\n"), b',');
        assert_eq!(detect_delimiter(b"0712345678\n0712345679\n"), b',');
    }
}
