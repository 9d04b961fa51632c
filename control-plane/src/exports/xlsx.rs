//! A streaming XLSX (Office Open XML workbook) writer: one sheet of text cells, produced row by
//! row into a ZIP archive whose sheet entry is deflated as it goes (sizes and CRC follow in a
//! data descriptor), so an export of any size is sent while it is read from the database with
//! memory bounded by the deflate window. Hand-written (ZIP: APPNOTE 6.3 §4.3; no ZIP64, so an
//! export stays under 4 GiB) because the XLSX crates buffer the whole workbook before writing.
//!
//! Cells are inline strings (`t="inlineStr"`): a spreadsheet never evaluates them as formulas.
//! A cell that would be a formula if retyped also gets the `quotePrefix` style, so editing it
//! in Excel keeps it text.

use std::io::Write;

use flate2::write::DeflateEncoder;
use flate2::{Compression, Crc};

use crate::exports::cells;

/// The media type of an XLSX workbook.
pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

const SHEET: &str = "xl/worksheets/sheet1.xml";

const PARTS: [(&str, &str); 5] = [
    (
        "[Content_Types].xml",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#,
    ),
    (
        "_rels/.rels",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    ),
    (
        "xl/workbook.xml",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Contacts" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    ),
    (
        "xl/_rels/workbook.xml.rels",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#,
    ),
    (
        "xl/styles.xml",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"#,
    ),
];

const SHEET_START: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
const SHEET_END: &str = "</sheetData></worksheet>";

/// A central-directory record of a written entry.
struct Entry {
    name: &'static str,
    method: u16,
    flags: u16,
    crc: u32,
    compressed: u32,
    size: u32,
    offset: u32,
}

/// The workbook being written. Call [`Xlsx::row`] per row and [`Xlsx::take`] to get the bytes
/// ready to send; [`Xlsx::finish`] returns the rest.
pub struct Xlsx {
    out: Vec<u8>,
    written: u64,
    entries: Vec<Entry>,
    sheet: DeflateEncoder<Vec<u8>>,
    crc: Crc,
    sheet_offset: u32,
    xml: String,
}

impl Default for Xlsx {
    fn default() -> Self {
        Xlsx::new()
    }
}

impl Xlsx {
    /// Starts a workbook: the fixed parts, then the sheet's header.
    pub fn new() -> Xlsx {
        let mut x = Xlsx {
            out: Vec::new(),
            written: 0,
            entries: Vec::new(),
            sheet: DeflateEncoder::new(Vec::new(), Compression::fast()),
            crc: Crc::new(),
            sheet_offset: 0,
            xml: String::new(),
        };
        for (name, body) in PARTS {
            let mut crc = Crc::new();
            crc.update(body.as_bytes());
            let entry = Entry {
                name,
                method: 0,
                flags: 0,
                crc: crc.sum(),
                compressed: body.len() as u32,
                size: body.len() as u32,
                offset: x.offset(),
            };
            x.local_header(&entry);
            x.emit(body.as_bytes());
            x.entries.push(entry);
        }
        x.sheet_offset = x.offset();
        x.local_header(&Entry {
            name: SHEET,
            method: 8,
            flags: 0x0008,
            crc: 0,
            compressed: 0,
            size: 0,
            offset: 0,
        });
        x.sheet_xml(SHEET_START);
        x
    }

    /// Appends a row of text cells.
    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) {
        let mut xml = std::mem::take(&mut self.xml);
        xml.clear();
        xml.push_str("<row>");
        for cell in cells {
            let style = if cells::is_formula(cell) {
                " s=\"1\""
            } else {
                ""
            };
            xml.push_str("<c t=\"inlineStr\"");
            xml.push_str(style);
            xml.push_str("><is><t xml:space=\"preserve\">");
            escape(&mut xml, cell);
            xml.push_str("</t></is></c>");
        }
        xml.push_str("</row>");
        self.sheet_xml(&xml);
        self.xml = xml;
    }

    /// The bytes produced so far (to send), leaving the writer ready for more rows.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Ends the sheet and the archive; returns the remaining bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.sheet_xml(SHEET_END);
        let sheet = std::mem::replace(
            &mut self.sheet,
            DeflateEncoder::new(Vec::new(), Compression::fast()),
        );
        let tail = sheet.finish().unwrap_or_default();
        self.emit(&tail);
        let entry = Entry {
            name: SHEET,
            method: 8,
            flags: 0x0008,
            crc: self.crc.sum(),
            compressed: self.sheet_compressed(),
            size: self.crc.amount(),
            offset: self.sheet_offset,
        };
        let mut descriptor = Vec::with_capacity(16);
        descriptor.extend_from_slice(&0x0807_4b50u32.to_le_bytes());
        for v in [entry.crc, entry.compressed, entry.size] {
            descriptor.extend_from_slice(&v.to_le_bytes());
        }
        self.emit(&descriptor);
        self.entries.push(entry);
        self.central_directory();
        self.out
    }

    fn sheet_compressed(&self) -> u32 {
        (self.written - u64::from(self.sheet_offset) - 30 - SHEET.len() as u64) as u32
    }

    fn sheet_xml(&mut self, xml: &str) {
        self.crc.update(xml.as_bytes());
        // Writing into a Vec cannot fail.
        let _ = self.sheet.write_all(xml.as_bytes());
        let produced = std::mem::take(self.sheet.get_mut());
        self.emit(&produced);
    }

    fn offset(&self) -> u32 {
        self.written as u32
    }

    fn emit(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
        self.written += bytes.len() as u64;
    }

    fn local_header(&mut self, e: &Entry) {
        let mut h = Vec::with_capacity(30 + e.name.len());
        h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        h.extend_from_slice(&20u16.to_le_bytes());
        h.extend_from_slice(&e.flags.to_le_bytes());
        h.extend_from_slice(&e.method.to_le_bytes());
        h.extend_from_slice(&[0, 0, 0x21, 0]); // 00:00, 1980-01-01
        for v in [e.crc, e.compressed, e.size] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        h.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(e.name.as_bytes());
        self.emit(&h);
    }

    fn central_directory(&mut self) {
        let start = self.offset();
        let mut cd = Vec::new();
        for e in &self.entries {
            cd.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            cd.extend_from_slice(&20u16.to_le_bytes());
            cd.extend_from_slice(&20u16.to_le_bytes());
            cd.extend_from_slice(&e.flags.to_le_bytes());
            cd.extend_from_slice(&e.method.to_le_bytes());
            cd.extend_from_slice(&[0, 0, 0x21, 0]);
            for v in [e.crc, e.compressed, e.size] {
                cd.extend_from_slice(&v.to_le_bytes());
            }
            cd.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            cd.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
            cd.extend_from_slice(&e.offset.to_le_bytes());
            cd.extend_from_slice(e.name.as_bytes());
        }
        let count = self.entries.len() as u16;
        let mut end = Vec::with_capacity(22);
        end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        end.extend_from_slice(&[0; 4]);
        end.extend_from_slice(&count.to_le_bytes());
        end.extend_from_slice(&count.to_le_bytes());
        end.extend_from_slice(&(cd.len() as u32).to_le_bytes());
        end.extend_from_slice(&start.to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        cd.extend_from_slice(&end);
        self.emit(&cd);
    }
}

/// XML text escaping; characters XML 1.0 cannot hold (most C0 controls) are dropped.
fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}
