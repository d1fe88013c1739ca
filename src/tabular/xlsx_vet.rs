//! An XLSX archive inspected before the spreadsheet reader opens it.
//!
//! calamine trusts what a workbook declares: it reserves memory for the
//! shared-string count the file states (`<sst uniqueCount="100000000000">`
//! in a 1.9 KB file aborts the process), keeps every shared string and style
//! in memory, and a zip part may inflate a thousand times its size. So every
//! part is inflated here first, counting the bytes actually produced (a
//! header may lie), and its XML is scanned with a small streaming tokenizer
//! that holds at most one tag ([`MAX_XML_TAG_BYTES`]) and a stack of element
//! names: text is counted, never gathered. Only an archive within every
//! limit of [`super::limits`] reaches calamine, which then cannot allocate
//! more than those limits allow.
//!
//! Why scan rather than read the sheet ourselves: calamine stays the one
//! reader of cell values, styles and dates, and this pass only has to count,
//! which is simple enough to get right. Every part is scanned, whatever its
//! name or role, because calamine finds its parts through the workbook's own
//! relationships.

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use super::limits::*;
use super::TabularError;

/// Refuses an archive that breaks a limit; leaves `input` at its start.
pub fn vet_xlsx<R: Read + Seek>(input: &mut R) -> Result<(), TabularError> {
    check_directory_records(input)?;
    input.seek(SeekFrom::Start(0))?;
    let mut archive = zip::ZipArchive::new(&mut *input).map_err(zip_error)?;
    let parts = archive.len();
    if parts as u64 > MAX_XLSX_PARTS {
        return Err(too_complex(format!(
            "the archive has {parts} parts; a workbook may have at most {MAX_XLSX_PARTS}"
        )));
    }
    let mut declared_total: u64 = 0;
    for index in 0..parts {
        let part = archive.by_index_raw(index).map_err(zip_error)?;
        let size = part.size();
        if size > MAX_XLSX_PART_BYTES {
            return Err(too_large(format!(
                "the part {:?} inflates to {size} bytes; a part may have at most {MAX_XLSX_PART_BYTES}",
                part.name().unwrap_or_default()
            )));
        }
        declared_total = declared_total.saturating_add(size);
    }
    if declared_total > MAX_XLSX_TOTAL_BYTES {
        return Err(too_large(format!(
            "the workbook inflates to {declared_total} bytes; at most {MAX_XLSX_TOTAL_BYTES} are read"
        )));
    }
    let mut budget = Budget::default();
    for index in 0..parts {
        let part = archive.by_index(index).map_err(zip_error)?;
        let name = part.name().unwrap_or_default().into_owned();
        let declared = part.size();
        let counted = Counted {
            inner: part,
            read: 0,
            limit: declared,
        };
        let mut reader = BufReader::with_capacity(64 * 1024, counted);
        let scanned = Scanner::new(&mut budget).scan(&mut reader);
        if reader.get_ref().read > declared {
            return Err(too_large(format!(
                "the part {name:?} inflates to more than the {declared} bytes its header states"
            )));
        }
        scanned.map_err(|error| error.in_part(&name))?;
    }
    input.seek(SeekFrom::Start(0))?;
    Ok(())
}

fn too_large(message: String) -> TabularError {
    TabularError::TooLarge { message }
}

fn too_complex(message: String) -> TabularError {
    TabularError::TooComplex { message }
}

fn zip_error(error: zip::result::ZipError) -> TabularError {
    match error {
        zip::result::ZipError::Io(error) => TabularError::Io(error),
        other => TabularError::Xlsx {
            message: format!("the workbook cannot be read: {other}"),
        },
    }
}

/// Length of the fixed part of a zip "end of central directory" record.
const END_RECORD_BYTES: usize = 22;
/// Bytes an archive comment may take after that record.
const MAX_COMMENT_BYTES: usize = 65_535;

/// Checks every "end of central directory" record the zip reader could pick
/// (it tries each one in the archive's last 64 KiB): the reader reserves room
/// for the parts such a record declares before reading them. ZIP64 records
/// are refused: they are only needed for parts over 4 GiB.
fn check_directory_records<R: Read + Seek>(input: &mut R) -> Result<(), TabularError> {
    let length = input.seek(SeekFrom::End(0))?;
    let tail_length = length.min((END_RECORD_BYTES + MAX_COMMENT_BYTES + 4) as u64);
    input.seek(SeekFrom::Start(length - tail_length))?;
    let mut tail = Vec::with_capacity(tail_length as usize);
    input.take(tail_length).read_to_end(&mut tail)?;
    let records = tail
        .windows(END_RECORD_BYTES)
        .filter(|window| window.starts_with(b"PK\x05\x06"));
    for record in records {
        let u16_at = |at: usize| u64::from(u16::from_le_bytes([record[at], record[at + 1]]));
        let u32_at = |at: usize| {
            u64::from(u32::from_le_bytes([
                record[at],
                record[at + 1],
                record[at + 2],
                record[at + 3],
            ]))
        };
        let (parts, directory_bytes, directory_start) = (u16_at(10), u32_at(12), u32_at(16));
        if parts == 0xFFFF || directory_bytes == 0xFFFF_FFFF || directory_start == 0xFFFF_FFFF {
            return Err(too_large(
                "the archive is a ZIP64 archive, which only parts over 4 GiB need".into(),
            ));
        }
        if parts > MAX_XLSX_PARTS || directory_bytes > MAX_XLSX_DIRECTORY_BYTES {
            return Err(too_complex(format!(
                "the archive lists {parts} parts in {directory_bytes} bytes; a workbook may have at most {MAX_XLSX_PARTS} parts"
            )));
        }
    }
    Ok(())
}

/// The bytes of one part as inflated, counted; reading stops one byte past
/// `limit` so that a part larger than its header says is caught without
/// inflating the rest.
struct Counted<R> {
    inner: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read > self.limit {
            return Ok(0);
        }
        let room = (self.limit + 1 - self.read).min(buf.len() as u64) as usize;
        let read = self.inner.read(&mut buf[..room])?;
        self.read += read as u64;
        Ok(read)
    }
}

/// What the whole archive has used so far.
#[derive(Debug, Default)]
struct Budget {
    cells: u64,
    rows: u64,
    shared_strings: u64,
    held_elements: u64,
    held_text_bytes: u64,
}

/// Why a part was refused.
#[derive(Debug)]
enum ScanError {
    Io(io::Error),
    TooLarge(String),
    TooComplex(String),
}

impl From<io::Error> for ScanError {
    fn from(error: io::Error) -> Self {
        ScanError::Io(error)
    }
}

impl ScanError {
    fn in_part(self, name: &str) -> TabularError {
        match self {
            ScanError::Io(error) => TabularError::Io(error),
            ScanError::TooLarge(message) => too_large(format!("{message} (in {name:?})")),
            ScanError::TooComplex(message) => too_complex(format!("{message} (in {name:?})")),
        }
    }
}

fn shape(message: String) -> ScanError {
    ScanError::TooComplex(message)
}

fn too_long_text() -> ScanError {
    shape(format!(
        "a text or string has more than {MAX_CELL_CHARS} characters, the most a cell holds"
    ))
}

/// Where the tokenizer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Text,
    /// Inside `&…;`, with the bytes seen.
    Entity(u8),
    /// Inside `<…>`, gathering the tag; the quote character if in a value.
    Tag(Option<u8>),
    Comment,
    CData,
    Instruction,
}

/// The streaming XML scan of one part.
struct Scanner<'b> {
    budget: &'b mut Budget,
    mode: Mode,
    tag: Vec<u8>,
    /// Local names of the open elements.
    stack: Vec<Vec<u8>>,
    /// Depth of the `sheetData` element, when inside one.
    sheet_data: Option<usize>,
    /// Depth of the `si` or `is` element (a string), when inside one.
    string: Option<usize>,
    string_chars: u64,
    text_chars: u64,
    text_bytes: u64,
    row_cells: u64,
    last_column: u64,
    /// The last three bytes, to find `-->`, `]]>` and `?>`.
    recent: [u8; 3],
}

impl<'b> Scanner<'b> {
    fn new(budget: &'b mut Budget) -> Self {
        Self {
            budget,
            mode: Mode::Text,
            tag: Vec::new(),
            stack: Vec::new(),
            sheet_data: None,
            string: None,
            string_chars: 0,
            text_chars: 0,
            text_bytes: 0,
            row_cells: 0,
            last_column: 0,
            recent: [0; 3],
        }
    }

    fn scan(mut self, reader: &mut impl BufRead) -> Result<(), ScanError> {
        loop {
            let buffer = reader.fill_buf()?;
            if buffer.is_empty() {
                break;
            }
            let length = buffer.len();
            for &byte in buffer {
                self.byte(byte)?;
            }
            reader.consume(length);
        }
        self.end_text()
    }

    fn byte(&mut self, byte: u8) -> Result<(), ScanError> {
        self.recent = [self.recent[1], self.recent[2], byte];
        match self.mode {
            Mode::Text => match byte {
                b'<' => {
                    self.end_text()?;
                    self.tag.clear();
                    self.mode = Mode::Tag(None);
                }
                b'&' => self.mode = Mode::Entity(0),
                _ => self.text_byte(byte)?,
            },
            Mode::Entity(seen) => {
                if byte == b';' {
                    // One character, whatever the reference.
                    self.text_byte(b'&')?;
                    self.mode = Mode::Text;
                } else if seen >= 32 {
                    return Err(shape("an XML character reference is too long".into()));
                } else {
                    self.mode = Mode::Entity(seen + 1);
                }
            }
            Mode::Comment => {
                if self.recent == *b"-->" {
                    self.mode = Mode::Text;
                }
            }
            Mode::Instruction => {
                if self.recent[1..] == *b"?>" {
                    self.mode = Mode::Text;
                }
            }
            Mode::CData => {
                if self.recent == *b"]]>" {
                    self.mode = Mode::Text;
                } else {
                    self.text_byte(byte)?;
                }
            }
            Mode::Tag(quote) => {
                if self.tag.len() >= MAX_XML_TAG_BYTES {
                    return Err(shape(format!(
                        "an XML tag is longer than {MAX_XML_TAG_BYTES} bytes"
                    )));
                }
                match quote {
                    Some(open) if byte == open => self.mode = Mode::Tag(None),
                    Some(_) => {}
                    None if byte == b'"' || byte == b'\'' => self.mode = Mode::Tag(Some(byte)),
                    None if byte == b'>' => {
                        self.mode = Mode::Text;
                        return self.end_tag();
                    }
                    None => {}
                }
                self.tag.push(byte);
                self.markup_kind()?;
            }
        }
        Ok(())
    }

    /// Switches to a comment, CDATA or processing instruction as soon as the
    /// tag's first bytes say it is one; refuses DTDs (OOXML has none, and
    /// they are how XML entity bombs are built).
    fn markup_kind(&mut self) -> Result<(), ScanError> {
        const COMMENT: &[u8] = b"!--";
        const CDATA: &[u8] = b"![CDATA[";
        match self.tag.as_slice() {
            [b'?'] => self.mode = Mode::Instruction,
            tag if tag == COMMENT => self.mode = Mode::Comment,
            tag if tag == CDATA => self.mode = Mode::CData,
            [b'!', ..] if !COMMENT.starts_with(&self.tag) && !CDATA.starts_with(&self.tag) => {
                return Err(shape(
                    "the XML has a document type declaration, which a workbook never has".into(),
                ));
            }
            _ => {}
        }
        Ok(())
    }

    fn text_byte(&mut self, byte: u8) -> Result<(), ScanError> {
        self.text_bytes += 1;
        // Count characters, not UTF-8 continuation bytes.
        if byte & 0xC0 != 0x80 {
            self.text_chars += 1;
            // Refused as soon as it is too long, not once it has all been inflated.
            if self.text_chars > MAX_CELL_CHARS {
                return Err(too_long_text());
            }
        }
        Ok(())
    }

    /// The text since the last tag ends here.
    fn end_text(&mut self) -> Result<(), ScanError> {
        let (chars, bytes) = (self.text_chars, self.text_bytes);
        self.text_chars = 0;
        self.text_bytes = 0;
        if bytes == 0 {
            return Ok(());
        }
        if chars > MAX_CELL_CHARS {
            return Err(too_long_text());
        }
        if self.string.is_some() {
            self.string_chars += chars;
            if self.string_chars > MAX_CELL_CHARS {
                return Err(too_long_text());
            }
        }
        if self.sheet_data.is_none() {
            self.budget.held_text_bytes += bytes;
            if self.budget.held_text_bytes > MAX_HELD_TEXT_BYTES {
                return Err(ScanError::TooLarge(format!(
                    "the shared strings and other workbook text exceed {MAX_HELD_TEXT_BYTES} bytes"
                )));
            }
        }
        Ok(())
    }

    /// A complete tag `<…>` is in `self.tag` (without the brackets).
    fn end_tag(&mut self) -> Result<(), ScanError> {
        let tag = std::mem::take(&mut self.tag);
        let result = self.element(&tag);
        self.tag = tag;
        result
    }

    fn element(&mut self, tag: &[u8]) -> Result<(), ScanError> {
        if let Some(name) = tag.strip_prefix(b"/") {
            let name = local_name(element_name(name));
            let depth = self.stack.len();
            if self.sheet_data == Some(depth) {
                self.sheet_data = None;
            }
            if self.string == Some(depth) {
                self.string = None;
            }
            if self.stack.last().is_some_and(|open| open == name) {
                self.stack.pop();
            } else {
                return Err(shape("the XML's elements are not properly nested".into()));
            }
            return Ok(());
        }
        let empty = tag.ends_with(b"/");
        let name = local_name(element_name(tag));
        let depth = self.stack.len() + 1;
        if depth > MAX_XML_DEPTH {
            return Err(shape(format!(
                "the XML nests more than {MAX_XML_DEPTH} elements deep"
            )));
        }
        let in_rows = self.sheet_data.is_some();
        let in_string = self.string.is_some();
        match name {
            b"sst" => self.shared_string_table(tag)?,
            b"si" | b"is" => {
                if name == b"si" {
                    self.budget.shared_strings += 1;
                    if self.budget.shared_strings > MAX_SHARED_STRINGS {
                        return Err(shape(format!(
                            "the workbook has more than {MAX_SHARED_STRINGS} shared strings"
                        )));
                    }
                }
                self.string = Some(depth);
                self.string_chars = 0;
            }
            b"sheetData" => self.sheet_data = Some(depth),
            b"dimension" => {
                if let Some(range) = attribute(tag, b"ref") {
                    for corner in range.split(|&byte| byte == b':') {
                        check_reference(corner)?;
                    }
                }
            }
            b"row" => self.row(tag)?,
            b"c" => self.cell(tag)?,
            b"f" => {
                if let Some(index) = attribute(tag, b"si") {
                    if parse_number(index).is_none_or(|index| index > MAX_XLSX_CELLS) {
                        return Err(shape("a shared formula has an impossible index".into()));
                    }
                }
            }
            _ => {}
        }
        if !in_rows && !in_string && !matches!(name, b"si" | b"sst") {
            self.budget.held_elements += 1;
            if self.budget.held_elements > MAX_HELD_ELEMENTS {
                return Err(shape(format!(
                    "the workbook has more than {MAX_HELD_ELEMENTS} styles, names and other parts"
                )));
            }
        }
        if empty {
            if self.string == Some(depth) {
                self.string = None;
            }
            if self.sheet_data == Some(depth) {
                self.sheet_data = None;
            }
        } else {
            self.stack.push(name.to_vec());
        }
        Ok(())
    }

    fn shared_string_table(&self, tag: &[u8]) -> Result<(), ScanError> {
        for (attribute_name, limit) in [
            (&b"uniqueCount"[..], MAX_SHARED_STRINGS),
            (&b"count"[..], MAX_XLSX_CELLS),
        ] {
            if let Some(value) = attribute(tag, attribute_name) {
                if parse_number(value).is_none_or(|count| count > limit) {
                    return Err(shape(format!(
                        "the shared-string table declares {} = {:?}; at most {limit} are read",
                        String::from_utf8_lossy(attribute_name),
                        String::from_utf8_lossy(&value[..value.len().min(32)])
                    )));
                }
            }
        }
        Ok(())
    }

    fn row(&mut self, tag: &[u8]) -> Result<(), ScanError> {
        self.budget.rows += 1;
        if self.budget.rows > MAX_XLSX_ROWS {
            return Err(shape(format!(
                "the workbook has more than {MAX_XLSX_ROWS} rows"
            )));
        }
        if let Some(number) = attribute(tag, b"r") {
            if parse_number(number).is_none_or(|row| row == 0 || row > MAX_XLSX_ROWS) {
                return Err(shape(format!(
                    "a row number is not between 1 and {MAX_XLSX_ROWS}"
                )));
            }
        }
        self.row_cells = 0;
        self.last_column = 0;
        Ok(())
    }

    fn cell(&mut self, tag: &[u8]) -> Result<(), ScanError> {
        self.budget.cells += 1;
        if self.budget.cells > MAX_XLSX_CELLS {
            return Err(shape(format!(
                "the workbook has more than {MAX_XLSX_CELLS} cells"
            )));
        }
        self.row_cells += 1;
        // A cell without a reference follows the previous one.
        let column = match attribute(tag, b"r") {
            Some(reference) => check_reference(reference)?,
            None => self.last_column + 1,
        };
        self.last_column = column;
        if self.row_cells > MAX_COLUMNS as u64 || column > MAX_COLUMNS as u64 {
            return Err(shape(format!(
                "a row has cells beyond column {MAX_COLUMNS}; an observation file has at most 17 columns"
            )));
        }
        Ok(())
    }
}

/// The element name at the start of a tag.
fn element_name(tag: &[u8]) -> &[u8] {
    let end = tag
        .iter()
        .position(|&byte| byte.is_ascii_whitespace() || byte == b'/')
        .unwrap_or(tag.len());
    &tag[..end]
}

/// `x:row` → `row`.
fn local_name(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&byte| byte == b':') {
        Some(colon) => &name[colon + 1..],
        None => name,
    }
}

/// The raw value of an attribute (by local name), if the tag has it.
fn attribute<'t>(tag: &'t [u8], wanted: &[u8]) -> Option<&'t [u8]> {
    let mut rest = &tag[element_name(tag).len()..];
    loop {
        let start = rest.iter().position(|byte| !byte.is_ascii_whitespace())?;
        rest = &rest[start..];
        let equals = rest.iter().position(|&byte| byte == b'=')?;
        let name = local_name(rest[..equals].trim_ascii());
        rest = rest[equals + 1..].trim_ascii_start();
        let quote = *rest.first()?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let close = rest[1..].iter().position(|&byte| byte == quote)?;
        let value = &rest[1..1 + close];
        if name == wanted {
            return Some(value);
        }
        rest = &rest[close + 2..];
    }
}

/// A whole number of at most 19 digits.
fn parse_number(text: &[u8]) -> Option<u64> {
    let text = text.trim_ascii();
    if text.is_empty() || text.len() > 19 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// Checks a cell reference such as `B7` (or `$B$7`); returns its column (from 1).
fn check_reference(reference: &[u8]) -> Result<u64, ScanError> {
    let reference: Vec<u8> = reference
        .iter()
        .copied()
        .filter(|&byte| byte != b'$')
        .collect();
    let letters = reference
        .iter()
        .take_while(|byte| byte.is_ascii_alphabetic())
        .count();
    let mut column: u64 = 0;
    for letter in &reference[..letters] {
        column = column * 26 + u64::from(letter.to_ascii_uppercase() - b'A' + 1);
        if column > MAX_COLUMNS as u64 {
            return Err(shape(format!(
                "a cell reference goes beyond column {MAX_COLUMNS}; an observation file has at most 17 columns"
            )));
        }
    }
    let digits = &reference[letters..];
    if !digits.is_empty() && parse_number(digits).is_none_or(|row| row > MAX_XLSX_ROWS) {
        return Err(shape(format!(
            "a cell reference goes beyond row {MAX_XLSX_ROWS}"
        )));
    }
    Ok(column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(xml: &str) -> Result<Budget, ScanError> {
        let mut budget = Budget::default();
        Scanner::new(&mut budget).scan(&mut xml.as_bytes())?;
        Ok(budget)
    }

    fn refused(xml: &str, says: &str) {
        match scan(xml) {
            Err(ScanError::TooComplex(message) | ScanError::TooLarge(message)) => {
                assert!(message.contains(says), "{message}")
            }
            other => panic!("{xml}: expected a refusal saying {says:?}, got {other:?}"),
        }
    }

    #[test]
    fn ordinary_parts_pass_and_are_counted() {
        let sheet = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:C2"/>
<sheetData><row r="1" spans="1:3"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>a &amp; b</t></is></c><c/></row>
<row r="2"><c r="A2"><v>27.701</v></c></row></sheetData><!-- a > comment --><![CDATA[<not a tag>]]></worksheet>"#;
        let budget = scan(sheet).unwrap();
        assert_eq!((budget.cells, budget.rows), (4, 2));
        let strings = r#"<sst xmlns:x="x" count="2" uniqueCount="2"><si><t xml:space="preserve">trên </t></si><si><r><t>x</t></r><r><t>y</t></r></si></sst>"#;
        assert_eq!(scan(strings).unwrap().shared_strings, 2);
    }

    #[test]
    fn bombs_are_refused_by_their_declarations() {
        refused(
            r#"<sst count="1" uniqueCount="100000000000"><si><t>x</t></si></sst>"#,
            "uniqueCount",
        );
        refused(
            r#"<sst uniqueCount="99999999999999999999999"></sst>"#,
            "uniqueCount",
        );
        refused(
            r#"<worksheet><dimension ref="A1:XFD1048576"/></worksheet>"#,
            "column 256",
        );
        refused(
            r#"<worksheet><sheetData><row r="1"><c r="XFD1048576"/></row></sheetData></worksheet>"#,
            "column 256",
        );
        refused(
            r#"<worksheet><sheetData><row r="9999999"></row></sheetData></worksheet>"#,
            "row number",
        );
        refused(
            r#"<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>"#,
            "document type",
        );
    }

    #[test]
    fn bombs_are_refused_by_their_content() {
        let long = format!("<sst><si><t>{}</t></si></sst>", "a".repeat(40_000));
        refused(&long, "32767");
        let runs = format!(
            "<sst><si>{}</si></sst>",
            "<r><t>aaaaaaaaaa</t></r>".repeat(4000)
        );
        refused(&runs, "32767");
        let wide = format!(
            "<worksheet><sheetData><row>{}</row></sheetData></worksheet>",
            "<c/>".repeat(300)
        );
        refused(&wide, "column 256");
        let tag = format!("<c r=\"{}\"/>", "1".repeat(70_000));
        refused(&tag, "tag is longer");
        refused(&"<a>".repeat(100), "nests");
        refused("<a><b></a></b>", "nested");
    }

    #[test]
    fn attributes_by_local_name() {
        let tag = br#"c r="B7" s='3' x:t="s""#;
        assert_eq!(attribute(tag, b"r"), Some(&b"B7"[..]));
        assert_eq!(attribute(tag, b"s"), Some(&b"3"[..]));
        assert_eq!(attribute(tag, b"t"), Some(&b"s"[..]));
        assert_eq!(attribute(tag, b"v"), None);
        assert_eq!(check_reference(b"$IV$5").unwrap(), 256);
        assert!(check_reference(b"IW5").is_err());
    }
}
