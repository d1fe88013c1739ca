//! File formats for bulk import and export: CSV, JSON and XLSX files become
//! rows of typed cells, and rows of text cells become files.
//!
//! A cell keeps the type the file gave it ([`Cell`]): a CSV field and an XLSX
//! or JSON string are text (read later by the locale's rules), an XLSX number
//! cell and a JSON number are numbers (their exact decimal, never re-read by
//! any locale), an XLSX date cell in the `period` column is a day or a month
//! according to its number format. A cell that cannot be read faithfully (a
//! boolean, a spreadsheet error, a date elsewhere) is kept as
//! [`Cell::Unreadable`] so that its row, not the whole file, is refused.
//!
//! This layer knows nothing about indicators: it neither parses decimals nor
//! checks column names (the caller does both). It only guarantees that
//! whatever it writes reads back as the same cells, and that every problem it
//! finds says where it is (CSV line, XLSX row, JSON element).
//!
//! Memory: CSV and JSON are read one row (element) at a time, so a file of a
//! million rows never sits in memory. XLSX is streamed cell by cell from the
//! sheet's XML, but the workbook's shared-string table is held in memory,
//! and [`write_xlsx`] builds the whole workbook in memory before returning
//! it (the `constant_memory` feature of rust_xlsxwriter is not enabled).

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Seek, Write};
use std::ops::ControlFlow;
use std::path::Path;

use calamine::{DataRef, Reader, SheetType, Xlsx};

pub mod limits;
mod xlsx_vet;

use limits::MAX_COLUMNS;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// Columns of an observation file, in export order.
pub const COLUMNS: [&str; 15] = [
    "committee",
    "indicator",
    "period",
    "breakdown",
    "value",
    "unit",
    "scale",
    "status",
    "qualifier",
    "reported_yoy_pct",
    "reported_yoy_qualifier",
    "reported_share_pct",
    "reported_share_qualifier",
    "source",
    "source_quote",
];

/// Columns an export puts before [`COLUMNS`]; a JSON import accepts them when
/// its first element has them.
pub const EXPORT_ID_COLUMNS: [&str; 2] = ["id", "revision"];

/// The only column whose XLSX date cells are read (as a day or a month).
const PERIOD_COLUMN: &str = "period";
/// The only column whose JSON value may be an object (`{"sex": "female"}`).
const BREAKDOWN_COLUMN: &str = "breakdown";
/// Name of the sheet [`write_xlsx`] creates.
const SHEET_NAME: &str = "observations";
/// Key under which an object-shaped JSON file holds its rows.
const JSON_ROWS_KEY: &str = "observations";
const XLSX_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// How far we look for the CSV header line when choosing the delimiter; a
/// file without a line break in its first 64 KiB has no usable header anyway.
const MAX_HEADER_BYTES: u64 = 64 * 1024;
/// Excel's last row is 1,048,576; the header takes the first.
pub const MAX_XLSX_DATA_ROWS: usize = 1_048_575;
/// The most significant digits an Excel number cell keeps: Excel stores
/// numbers as IEEE 754 doubles and shows and re-saves at most 15 digits.
const EXCEL_DIGITS: usize = 15;
/// How serde_json's `arbitrary_precision` disguises a number as a one-entry
/// map when a visitor asks for "anything".
const JSON_NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A file format for bulk import and export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values (`;` and tab are also read).
    Csv,
    /// A JSON array of objects, or an object with an `"observations"` array.
    Json,
    /// An Excel workbook (Office Open XML); only the first worksheet is read.
    Xlsx,
}

impl Format {
    /// From a `format=` parameter ("csv", "json", "xlsx", case-insensitive).
    pub fn from_name(name: &str) -> Option<Format> {
        match name.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    /// From a Content-Type (text/csv, application/csv, application/json,
    /// application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;
    /// parameters like charset ignored).
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        let essence = content_type.split(';').next().unwrap_or_default();
        match essence.trim().to_ascii_lowercase().as_str() {
            "text/csv" | "application/csv" => Some(Format::Csv),
            "application/json" => Some(Format::Json),
            XLSX_CONTENT_TYPE => Some(Format::Xlsx),
            _ => None,
        }
    }

    /// From a file name's extension (.csv, .json, .xlsx, case-insensitive).
    pub fn from_path(path: &Path) -> Option<Format> {
        path.extension()
            .and_then(|extension| extension.to_str())
            .and_then(Format::from_name)
    }

    /// The Content-Type to send this format with.
    pub fn content_type(self) -> &'static str {
        match self {
            // Say UTF-8 explicitly: without it some clients guess Latin-1 and
            // mangle Vietnamese diacritics.
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::Xlsx => XLSX_CONTENT_TYPE,
        }
    }

    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Xlsx => "xlsx",
        }
    }

    /// What a person calls one row of this format when told where a problem is.
    fn row_noun(self) -> &'static str {
        match self {
            Format::Csv => "line",
            Format::Json => "element",
            Format::Xlsx => "row",
        }
    }
}

/// One data row: its number as a person sees it in the file (CSV: the line
/// number of the record's first line, the header being line 1; XLSX: the
/// spreadsheet row number, header = row 1; JSON: 1-based index of the element
/// in the array), and its cells in header order (None = empty cell / JSON
/// null / missing key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    /// Where the row is in the file, counted as a person would.
    pub number: usize,
    /// One cell per header, in header order; `None` when empty.
    pub cells: Vec<Option<Cell>>,
}

/// One non-empty cell, with the type the file gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// A CSV field, an XLSX text cell or a JSON string, trimmed (CSV and
    /// XLSX); numbers in it are read by the import's locale.
    Text(String),
    /// An XLSX number cell or a JSON number: its exact decimal text with `.`
    /// as the decimal point (`975.9`, `27701`, `-0.05`, JSON's `1.5e3`),
    /// read as it is whatever the locale.
    Number(String),
    /// An XLSX date cell in the `period` column, read by its number format.
    Date(DateCell),
    /// A cell this layer cannot read faithfully, and why: a boolean, a
    /// spreadsheet error, a percent-formatted number, a date outside the
    /// `period` column or in a format that is neither a day nor a month …
    Unreadable(String),
}

impl Cell {
    /// The cell as text, for a column that holds a word or a code: a number
    /// cell gives its decimal (a year, a scale), a date cell its period code.
    /// `None` for an unreadable cell.
    pub fn text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Cell::Text(text) | Cell::Number(text) => Some(text.as_str().into()),
            Cell::Date(date) => Some(date.period_code().into()),
            Cell::Unreadable(_) => None,
        }
    }
}

/// What a date cell in the `period` column stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateCell {
    /// A full date format (`dd/mm/yyyy`, `yyyy-mm-dd` …): that day.
    Day(chrono::NaiveDate),
    /// A month-and-year format (`mm/yyyy`, `m/yyyy`, `mmm-yy` …): that month,
    /// whatever day of it the cell holds (Excel turns "9/2022" into
    /// 2022-09-01 shown as `m/yyyy`).
    Month { year: i32, month: u32 },
}

impl DateCell {
    /// The canonical period code: `2024-03-18` for a day, `2022-M09` for a month.
    pub fn period_code(&self) -> String {
        match self {
            DateCell::Day(day) => day.format("%Y-%m-%d").to_string(),
            DateCell::Month { year, month } => format!("{year:04}-M{month:02}"),
        }
    }
}

/// Why a file could not be read or written. Every message says where.
#[derive(Debug, thiserror::Error)]
pub enum TabularError {
    /// Reading the input or writing the output failed.
    #[error("could not read or write the file: {0}")]
    Io(#[from] io::Error),
    /// The CSV text is malformed at `line` (the header is line 1).
    #[error("CSV line {line}: {message}")]
    Csv { line: usize, message: String },
    /// The JSON text is malformed, or has the wrong shape, at this text position.
    #[error("JSON line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// The workbook cannot be opened or its first worksheet cannot be read.
    #[error("XLSX: {message}")]
    Xlsx { message: String },
    /// The file is larger than a limit of [`limits`] allows (answered 413).
    #[error("{message}")]
    TooLarge { message: String },
    /// The file has a shape a limit of [`limits`] refuses: too many columns,
    /// cells, strings … (answered 422).
    #[error("{message}")]
    TooComplex { message: String },
    /// The file has no header row (it is empty).
    #[error("the file is empty: the first row must name the columns")]
    NoHeader,
    /// Two header cells name the same column (after trimming and lowercasing).
    #[error("column {0:?} appears more than once in the header")]
    DuplicateColumn(String),
    /// The header cell in this column (counting from 1) is empty.
    #[error("column {0} of the header has no name")]
    EmptyColumnName(usize),
    /// The JSON is an object without an `"observations"` array.
    #[error(
        "a JSON file must be an array of objects, or an object with an \"observations\" array of objects"
    )]
    NotAnArray,
    /// The JSON array element with this number (from 1) is not an object.
    #[error("JSON element {number} is not an object")]
    ElementNotAnObject { number: usize },
    /// The JSON element with this number has a field that is not a column.
    #[error("JSON element {number}: unknown field {field:?}")]
    UnknownField { number: usize, field: String },
    /// The JSON element with this number has the same field twice.
    #[error("JSON element {number}: field {field:?} appears more than once")]
    DuplicateField { number: usize, field: String },
    /// A cell holds something this format layer cannot turn into text
    /// faithfully: a boolean, an Excel date outside `period`, a number Excel
    /// cannot hold exactly, a JSON array …
    #[error("{} {number}, column {column:?}: {message}", .format.row_noun())]
    UnsupportedValue {
        format: Format,
        number: usize,
        column: String,
        message: String,
    },
    /// A row handed to a writer has a different number of cells than there
    /// are headers; `number` counts the rows from 1.
    #[error("row {number} has {found} cells but there are {expected} columns")]
    WrongRowLength {
        number: usize,
        expected: usize,
        found: usize,
    },
}

impl TabularError {
    /// The row the error is about, numbered as in [`RawRow::number`], if it
    /// is about one row.
    pub fn number(&self) -> Option<usize> {
        match self {
            TabularError::Csv { line, .. } => Some(*line),
            TabularError::ElementNotAnObject { number }
            | TabularError::UnknownField { number, .. }
            | TabularError::DuplicateField { number, .. }
            | TabularError::UnsupportedValue { number, .. }
            | TabularError::WrongRowLength { number, .. } => Some(*number),
            _ => None,
        }
    }
}

/// Reads rows one at a time and calls `each(&headers, row)` for each, until
/// the file ends or `each` returns [`ControlFlow::Break`] (then nothing
/// further is read). Returns the headers and the number of rows handed to
/// `each`.
///
/// Headers are trimmed and lowercased, a UTF-8 BOM is dropped, and empty or
/// duplicate header names are errors. Rows whose cells are all empty are
/// skipped (spreadsheets leave them behind). For JSON the headers are
/// [`COLUMNS`], preceded by `id` and `revision` when the first element has
/// them; any other key is an error.
///
/// CSV cells are text, trimmed, and lose the quote [`neutralise_formula`]
/// adds; the delimiter is `;` or tab when the header line uses more of those
/// than commas (Excel in a Vietnamese locale saves CSV with `;`). XLSX text
/// cells are trimmed text, number cells become [`Cell::Number`] with their
/// shortest exact decimal, date cells are read only in the `period` column,
/// by their number format. JSON strings are text and JSON numbers numbers.
pub fn read_rows<R: Read + Seek>(
    format: Format,
    input: R,
    each: impl FnMut(&[String], RawRow) -> ControlFlow<()>,
) -> Result<(Vec<String>, usize), TabularError> {
    match format {
        Format::Csv => read_csv(input, each),
        Format::Json => read_json(input, each),
        Format::Xlsx => read_xlsx(input, each),
    }
}

/// What makes a spreadsheet read a CSV text cell as a formula (OWASP's list).
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `text`, after any leading quotes, starts like a formula.
fn looks_like_formula(text: &str) -> bool {
    text.trim_start_matches('\'')
        .starts_with(FORMULA_TRIGGERS.as_slice())
}

/// A text cell for a CSV file that Excel or LibreOffice will not run as a
/// formula: one `'` is put in front of a text starting with `=`, `+`, `-`,
/// `@`, tab or carriage return (OWASP's rule for CSV injection), and in
/// front of one that already starts with quotes before such a character, so
/// that [`read_rows`] can take exactly one off again and every text survives
/// the round trip. Only for text: a number such as `-5` stays as it is.
pub fn neutralise_formula(text: &str) -> std::borrow::Cow<'_, str> {
    if looks_like_formula(text) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// Undoes [`neutralise_formula`]: a CSV cell of quotes before a formula
/// character loses one quote.
fn restore_formula(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if looks_like_formula(rest) => rest,
        _ => text,
    }
}

/// Trims and lowercases header names, rejecting empty and repeated ones,
/// and more than [`MAX_COLUMNS`] of them before looking at any.
fn normalise_headers<'a>(
    names: impl ExactSizeIterator<Item = &'a str>,
) -> Result<Vec<String>, TabularError> {
    if names.len() > MAX_COLUMNS {
        return Err(TabularError::TooComplex {
            message: format!(
                "the header has {} columns; a file may have at most {MAX_COLUMNS} (an observation file has 17)",
                names.len()
            ),
        });
    }
    let mut headers: Vec<String> = Vec::with_capacity(names.len());
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    for (index, name) in names.enumerate() {
        let name = name
            .trim()
            .trim_start_matches('\u{feff}')
            .trim()
            .to_lowercase();
        if name.is_empty() {
            return Err(TabularError::EmptyColumnName(index + 1));
        }
        if !seen.insert(name.clone()) {
            return Err(TabularError::DuplicateColumn(name));
        }
        headers.push(name);
    }
    if headers.is_empty() {
        return Err(TabularError::NoHeader);
    }
    Ok(headers)
}

// ---------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------

fn read_csv<R: Read, F: FnMut(&[String], RawRow) -> ControlFlow<()>>(
    input: R,
    mut each: F,
) -> Result<(Vec<String>, usize), TabularError> {
    let mut input = BufReader::new(input);
    // The delimiter is chosen from the header line, so read up to it first and
    // hand those bytes back to the parser in front of the rest of the input.
    let mut head = Vec::new();
    let header_line = loop {
        let start = head.len();
        let read = (&mut input)
            .take(MAX_HEADER_BYTES)
            .read_until(b'\n', &mut head)?;
        if start == 0 && head.starts_with(UTF8_BOM) {
            // Dropped here rather than left to the parser so the sniffing
            // below and the first header name both see clean text.
            head.drain(..UTF8_BOM.len());
        }
        let blank = head[start..].iter().all(u8::is_ascii_whitespace);
        if read == 0 || !blank || head.len() as u64 > MAX_HEADER_BYTES {
            break start;
        }
    };
    let delimiter = sniff_delimiter(&head[header_line..]);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        // Only '\n' ends a record, so every record consumes exactly one line
        // break after its last line (see `first_line`); the '\r' of a CRLF
        // stays in the last field and is trimmed away with other whitespace.
        .terminator(csv::Terminator::Any(b'\n'))
        // Field counts are checked below, after skipping rows that are empty
        // (such as the lone "\r" of a blank CRLF line).
        .flexible(true)
        .from_reader(FinalNewline::new(io::Cursor::new(head).chain(input)));

    // The header is the first row that is not empty; read by hand rather
    // than by the csv crate so blank CRLF lines before it are skipped too.
    let mut headers: Option<Vec<String>> = None;
    let mut record = csv::ByteRecord::new();
    let mut last_line = 0;
    let mut count = 0;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => return Err(csv_error(error, last_line + 1)),
        }
        let line = first_line(reader.position(), &record);
        last_line = line;
        let texts = csv_texts(&record, line)?;
        if texts.iter().all(|text| text.is_empty()) {
            continue;
        }
        let Some(headers) = &headers else {
            headers = Some(normalise_headers(texts.into_iter())?);
            continue;
        };
        if texts.len() != headers.len() {
            return Err(TabularError::Csv {
                line,
                message: format!(
                    "this row has {} fields but the header has {}; check the separators and the quotes",
                    texts.len(),
                    headers.len()
                ),
            });
        }
        let cells = texts
            .into_iter()
            .map(|text| (!text.is_empty()).then(|| Cell::Text(restore_formula(text).to_owned())))
            .collect();
        count += 1;
        let row = RawRow {
            number: line,
            cells,
        };
        if each(headers, row).is_break() {
            break;
        }
    }
    let headers = headers.ok_or(TabularError::NoHeader)?;
    Ok((headers, count))
}

/// The line a record starts on, given the reader's position just after it.
///
/// The csv crate stamps a record with where reading began, which is before
/// any blank lines it skipped, so that is not where the record starts.
/// Counting back from its end is exact: with '\n' as the only terminator and
/// [`FinalNewline`] guaranteeing one, every record ends by consuming one
/// '\n', and the others it spans are inside its quoted fields.
fn first_line(after: &csv::Position, record: &csv::ByteRecord) -> usize {
    let inside: usize = record
        .iter()
        .map(|field| field.iter().filter(|&&byte| byte == b'\n').count())
        .sum();
    (after.line() as usize).saturating_sub(1 + inside).max(1)
}

/// The trimmed text of each field; CSV from Excel's plain "CSV" format is in
/// the Windows code page, which turns Vietnamese letters into invalid UTF-8.
fn csv_texts(record: &csv::ByteRecord, line: usize) -> Result<Vec<&str>, TabularError> {
    record
        .iter()
        .map(|field| {
            std::str::from_utf8(field)
                .map(str::trim)
                .map_err(|_| TabularError::Csv {
                    line,
                    message: "the text is not UTF-8; in Excel use Save As \"CSV UTF-8\"".into(),
                })
        })
        .collect()
}

/// Ends the input with a line break if it does not already end with one, so
/// that the last CSV record is terminated like the others (see `first_line`).
struct FinalNewline<R> {
    inner: R,
    last: Option<u8>,
    finished: bool,
}

impl<R> FinalNewline<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            last: None,
            finished: false,
        }
    }
}

impl<R: Read> Read for FinalNewline<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.finished || buf.is_empty() {
            return Ok(0);
        }
        let read = self.inner.read(buf)?;
        if read > 0 {
            self.last = Some(buf[read - 1]);
            return Ok(read);
        }
        self.finished = true;
        if self.last.is_some_and(|byte| byte != b'\n') {
            buf[0] = b'\n';
            return Ok(1);
        }
        Ok(0)
    }
}

/// The most frequent of `,`, `;` and tab in the header line, ties going to
/// `,` then `;`. Excel in a Vietnamese locale saves CSV with `;`; text pasted
/// from a spreadsheet has tabs. Separators inside quotes do not count.
fn sniff_delimiter(header_line: &[u8]) -> u8 {
    let (mut commas, mut semicolons, mut tabs) = (0usize, 0usize, 0usize);
    let mut quoted = false;
    for &byte in header_line {
        match byte {
            b'"' => quoted = !quoted,
            _ if quoted => {}
            b',' => commas += 1,
            b';' => semicolons += 1,
            b'\t' => tabs += 1,
            _ => {}
        }
    }
    if tabs > commas && tabs > semicolons {
        b'\t'
    } else if semicolons > commas {
        b';'
    } else {
        b','
    }
}

/// A csv crate error as ours. With byte records and flexible field counts
/// only I/O errors are expected; anything else is reported at `line`.
fn csv_error(error: csv::Error, line: usize) -> TabularError {
    let message = error.to_string();
    match error.into_kind() {
        csv::ErrorKind::Io(error) => TabularError::Io(error),
        _ => TabularError::Csv { line, message },
    }
}

/// Writes rows as CSV (comma, header first, RFC 4180 quoting and CRLF line
/// ends), streaming to `out`. `None` and empty cells are written as empty
/// fields; every row must have one cell per header.
///
/// Reading trims cells, so surrounding spaces do not survive a round trip.
pub fn write_csv<W: Write>(
    out: W,
    headers: &[&str],
    rows: impl Iterator<Item = Vec<Option<String>>>,
) -> Result<(), TabularError> {
    let mut writer = csv_writer(out);
    writer
        .write_record(headers)
        .map_err(|error| csv_error(error, 1))?;
    write_csv_records(&mut writer, headers.len(), 2, rows)?;
    writer.flush()?;
    Ok(())
}

/// CSV lines (as [`write_csv`] writes them) built in memory one row at a
/// time: one chunk of a CSV file sent in parts.
pub struct CsvChunk {
    writer: csv::Writer<Vec<u8>>,
    width: usize,
    rows: usize,
}

impl CsvChunk {
    /// An empty chunk of rows of `width` cells.
    pub fn new(width: usize) -> Self {
        Self {
            writer: csv_writer(Vec::new()),
            width,
            rows: 0,
        }
    }

    pub fn push(&mut self, row: &[Option<String>]) -> Result<(), TabularError> {
        self.rows += 1;
        write_csv_records(&mut self.writer, self.width, self.rows, [row])
    }

    /// The bytes of the rows pushed.
    pub fn finish(self) -> Result<Vec<u8>, TabularError> {
        self.writer
            .into_inner()
            .map_err(|error| TabularError::Io(error.into_error()))
    }
}

fn csv_writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out)
}

/// Writes rows; `first_line` numbers the first of them in error messages.
/// Flushing is the caller's.
fn write_csv_records<W: Write, R: AsRef<[Option<String>]>>(
    writer: &mut csv::Writer<W>,
    width: usize,
    first_line: usize,
    rows: impl IntoIterator<Item = R>,
) -> Result<(), TabularError> {
    for (index, row) in rows.into_iter().enumerate() {
        let row = row.as_ref();
        check_row_length(index + 1, width, row.len())?;
        writer
            .write_record(row.iter().map(|cell| cell.as_deref().unwrap_or_default()))
            .map_err(|error| csv_error(error, index + first_line))?;
    }
    Ok(())
}

fn check_row_length(number: usize, expected: usize, found: usize) -> Result<(), TabularError> {
    if expected == found {
        Ok(())
    } else {
        Err(TabularError::WrongRowLength {
            number,
            expected,
            found,
        })
    }
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

/// What the streaming JSON visitors share: the row callback and what went
/// wrong. Our own errors and an early stop travel through serde as opaque
/// custom errors, so the real outcome is kept here.
struct JsonRows<F> {
    each: F,
    headers: Vec<String>,
    count: usize,
    stopped: bool,
    failure: Option<TabularError>,
}

fn read_json<R: Read, F: FnMut(&[String], RawRow) -> ControlFlow<()>>(
    input: R,
    each: F,
) -> Result<(Vec<String>, usize), TabularError> {
    let mut input = BufReader::new(input);
    // Windows Notepad saves JSON with a BOM, which serde_json rejects.
    if input.fill_buf()?.starts_with(UTF8_BOM) {
        input.consume(UTF8_BOM.len());
    }
    let mut rows = JsonRows {
        each,
        headers: Vec::new(),
        count: 0,
        stopped: false,
        failure: None,
    };
    let mut deserializer = serde_json::Deserializer::from_reader(input);
    let outcome = RowsSeed {
        rows: &mut rows,
        top_level: true,
    }
    .deserialize(&mut deserializer);
    if let Some(failure) = rows.failure.take() {
        return Err(failure);
    }
    if !rows.stopped {
        let found = outcome.map_err(json_error)?;
        deserializer.end().map_err(json_error)?;
        if !found {
            return Err(TabularError::NotAnArray);
        }
    }
    if rows.headers.is_empty() {
        rows.headers = COLUMNS.iter().map(|column| column.to_string()).collect();
    }
    Ok((rows.headers, rows.count))
}

fn json_error(error: serde_json::Error) -> TabularError {
    if error.is_io() {
        return TabularError::Io(error.into());
    }
    // serde_json appends " at line L column C" to its messages; we say where
    // in our own words instead.
    let message = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    let message = message
        .strip_suffix(&position)
        .unwrap_or(&message)
        .to_owned();
    TabularError::Json {
        line: error.line(),
        column: error.column(),
        message,
    }
}

impl<F: FnMut(&[String], RawRow) -> ControlFlow<()>> JsonRows<F> {
    /// Turns one array element into a row and hands it on.
    fn take(
        &mut self,
        number: usize,
        element: Option<Vec<(String, Value)>>,
    ) -> Result<ControlFlow<()>, TabularError> {
        let entries = element.ok_or(TabularError::ElementNotAnObject { number })?;
        let entries: Vec<(String, Value)> = entries
            .into_iter()
            .map(|(key, value)| (key.trim().to_lowercase(), value))
            .collect();
        if number == 1 {
            // A streamed file needs its columns before the second element is
            // seen, so they are fixed here: the canonical ones, plus the
            // export's identifiers when the first element carries them.
            self.headers = EXPORT_ID_COLUMNS
                .iter()
                .filter(|column| entries.iter().any(|(key, _)| key == *column))
                .chain(COLUMNS.iter())
                .map(|column| column.to_string())
                .collect();
        }
        let mut cells: Vec<Option<Cell>> = vec![None; self.headers.len()];
        let mut seen = vec![false; self.headers.len()];
        for (key, value) in entries {
            let Some(index) = self.headers.iter().position(|header| *header == key) else {
                return Err(TabularError::UnknownField { number, field: key });
            };
            if std::mem::replace(&mut seen[index], true) {
                return Err(TabularError::DuplicateField { number, field: key });
            }
            cells[index] = json_cell(&key, value);
        }
        self.count += 1;
        Ok((self.each)(&self.headers, RawRow { number, cells }))
    }
}

/// The cell of one JSON value.
fn json_cell(column: &str, value: Value) -> Option<Cell> {
    let unreadable = |message: String| Some(Cell::Unreadable(message));
    match value {
        Value::Null => None,
        Value::String(text) => Some(Cell::Text(text)),
        // With arbitrary_precision the number keeps the text it was written
        // as: 12345678901234567.891 and 975.90 come out digit for digit.
        Value::Number(number) => Some(Cell::Number(number.to_string())),
        Value::Bool(_) => {
            unreadable("true and false are not accepted; write the value as a string".into())
        }
        Value::Object(map) if column == BREAKDOWN_COLUMN => match breakdown_text(map) {
            Ok(text) => text.map(Cell::Text),
            Err(message) => unreadable(message),
        },
        Value::Object(_) => unreadable(format!(
            "an object is only accepted in the {BREAKDOWN_COLUMN} column"
        )),
        Value::Array(_) => unreadable("arrays are not accepted".into()),
    }
}

/// `{"sex": "female", "age": "youth"}` as the canonical text
/// `age=youth;sex=female` (keys sorted), the same form a CSV cell holds.
/// `{}` is the total, i.e. an empty cell.
fn breakdown_text(map: serde_json::Map<String, Value>) -> Result<Option<String>, String> {
    let mut pairs = BTreeMap::new();
    for (key, value) in map {
        let Value::String(value) = value else {
            return Err(format!(
                "the breakdown value for {key:?} must be a string, e.g. {{\"sex\": \"female\"}}"
            ));
        };
        // These characters separate the text form; letting them through would
        // make it mean something else.
        if [&key, &value].iter().any(|text| text.contains(['=', ';'])) {
            return Err(format!(
                "breakdown {key:?}: {value:?} must not contain '=' or ';'"
            ));
        }
        pairs.insert(key, value);
    }
    if pairs.is_empty() {
        return Ok(None);
    }
    let pairs: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    Ok(Some(pairs.join(";")))
}

/// Reads either the whole file (`top_level`: an array, or an object holding
/// one under `"observations"`) or the value of `"observations"` (an array).
/// Yields whether an array of rows was found.
struct RowsSeed<'r, F> {
    rows: &'r mut JsonRows<F>,
    top_level: bool,
}

impl<'de, F: FnMut(&[String], RawRow) -> ControlFlow<()>> DeserializeSeed<'de> for RowsSeed<'_, F> {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, F: FnMut(&[String], RawRow) -> ControlFlow<()>> Visitor<'de> for RowsSeed<'_, F> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        if self.top_level {
            f.write_str("an array of objects, or an object with an \"observations\" array")
        } else {
            f.write_str("an array of objects")
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut number = 0;
        // One element at a time: each is turned into a row and dropped before
        // the next is parsed.
        while let Some(element) = seq.next_element_seed(ElementSeed)? {
            number += 1;
            match self.rows.take(number, element) {
                Ok(ControlFlow::Continue(())) => {}
                Ok(ControlFlow::Break(())) => {
                    // serde_json insists on reading to the closing bracket
                    // after visit_seq returns, so stopping means failing.
                    self.rows.stopped = true;
                    return Err(de::Error::custom("stopped by the caller"));
                }
                Err(failure) => {
                    let message = failure.to_string();
                    self.rows.failure = Some(failure);
                    return Err(de::Error::custom(message));
                }
            }
        }
        Ok(true)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        if !self.top_level {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &self));
        }
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == JSON_NUMBER_TOKEN {
                // A number in disguise, not an object.
                return Err(de::Error::invalid_type(
                    de::Unexpected::Other("number"),
                    &self,
                ));
            }
            if key == JSON_ROWS_KEY {
                if found.is_some() {
                    return Err(de::Error::duplicate_field(JSON_ROWS_KEY));
                }
                found = Some(map.next_value_seed(RowsSeed {
                    rows: &mut *self.rows,
                    top_level: false,
                })?);
            } else {
                // Room for metadata next to the rows (e.g. when exported).
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found.unwrap_or(false))
    }
}

/// One array element: its entries in file order, or `None` if it is not an
/// object.
struct ElementSeed;

impl<'de> DeserializeSeed<'de> for ElementSeed {
    type Value = Option<Vec<(String, Value)>>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ElementSeed {
    type Value = Option<Vec<(String, Value)>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }

    // Not an object: consumed and reported by element number by the caller.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // Entries rather than a serde_json::Map, so a repeated key is reported
        // instead of silently keeping the last value.
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if entries.is_empty() && key == JSON_NUMBER_TOKEN {
                map.next_value::<IgnoredAny>()?;
                return Ok(None);
            }
            let value = map.next_value::<Value>()?;
            entries.push((key, value));
        }
        Ok(Some(entries))
    }
}

// ---------------------------------------------------------------------------
// XLSX
// ---------------------------------------------------------------------------

fn xlsx_error(error: calamine::XlsxError) -> TabularError {
    TabularError::Xlsx {
        message: format!("the workbook cannot be read: {error}"),
    }
}

fn read_xlsx<R: Read + Seek, F: FnMut(&[String], RawRow) -> ControlFlow<()>>(
    mut input: R,
    mut each: F,
) -> Result<(Vec<String>, usize), TabularError> {
    // calamine believes what the archive declares; nothing reaches it that
    // breaks a limit.
    xlsx_vet::vet_xlsx(&mut input)?;
    let mut workbook: Xlsx<R> = Xlsx::new(input).map_err(xlsx_error)?;
    let sheet_name = workbook
        .sheets_metadata()
        .iter()
        .find(|sheet| sheet.typ == SheetType::WorkSheet)
        .map(|sheet| sheet.name.clone())
        .ok_or_else(|| TabularError::Xlsx {
            message: "the workbook has no worksheet".into(),
        })?;
    // The cell reader walks the sheet's XML, so rows are handed on as they
    // are parsed instead of building the whole sheet as calamine's ranges do.
    let mut cells = workbook
        .worksheet_cells_reader(&sheet_name)
        .map_err(xlsx_error)?;
    let number_formats: Vec<NumberFormat> = cells
        .styles()
        .iter()
        .map(|style| {
            style
                .number_format
                .as_ref()
                .map_or(NumberFormat::Plain, |format| {
                    NumberFormat::of(&format.format_code)
                })
        })
        .collect();
    let mut sheet = SheetRows {
        headers: None,
        count: 0,
        row: None,
        cells: Vec::new(),
    };
    while let Some((cell, style)) = cells.next_cell_with_style_id().map_err(xlsx_error)? {
        let (row, column) = cell.get_position();
        if sheet.row != Some(row) {
            if sheet.flush(&mut each)?.is_break() {
                return sheet.finish();
            }
            sheet.row = Some(row);
        }
        let format = number_formats
            .get(style)
            .copied()
            .unwrap_or(NumberFormat::Plain);
        sheet.push(column, cell.get_value(), format)?;
    }
    // Whether `each` wanted more no longer matters: the sheet has ended.
    let _ = sheet.flush(&mut each)?;
    sheet.finish()
}

/// Rows of the worksheet being read; cells are gathered until the row changes.
struct SheetRows {
    /// `None` until the first non-empty row, which names the columns.
    headers: Option<Vec<String>>,
    count: usize,
    /// 0-based index of the row being gathered.
    row: Option<u32>,
    cells: Vec<(u32, Option<Cell>)>,
}

impl SheetRows {
    fn push(
        &mut self,
        column: u32,
        value: &DataRef,
        format: NumberFormat,
    ) -> Result<(), TabularError> {
        let number = self.row.map_or(0, |row| row as usize + 1);
        let name = self
            .headers
            .as_ref()
            .and_then(|headers| headers.get(column as usize));
        let column_label = || match name {
            Some(name) => name.clone(),
            None => column_letters(column),
        };
        let period = name.is_some_and(|name| name == PERIOD_COLUMN);
        let cell = xlsx_cell(value, period, format);
        if self.headers.is_some() && name.is_none() && cell.is_some() {
            return Err(TabularError::UnsupportedValue {
                format: Format::Xlsx,
                number,
                column: column_label(),
                message: "this cell is to the right of the last named column; name the column in the header row or clear the cell".into(),
            });
        }
        if let (None, Some(Cell::Unreadable(message))) = (&self.headers, &cell) {
            // A header names a column; it has no row of its own to refuse.
            return Err(TabularError::UnsupportedValue {
                format: Format::Xlsx,
                number,
                column: column_label(),
                message: message.clone(),
            });
        }
        self.cells.push((column, cell));
        Ok(())
    }

    /// Finishes the gathered row: it becomes the header, a data row, or is
    /// skipped when all its cells are empty.
    fn flush<F: FnMut(&[String], RawRow) -> ControlFlow<()>>(
        &mut self,
        each: &mut F,
    ) -> Result<ControlFlow<()>, TabularError> {
        let Some(row) = self.row.take() else {
            return Ok(ControlFlow::Continue(()));
        };
        let gathered = std::mem::take(&mut self.cells);
        if gathered.iter().all(|(_, cell)| cell.is_none()) {
            return Ok(ControlFlow::Continue(()));
        }
        let Some(headers) = &self.headers else {
            let width = gathered
                .iter()
                .filter(|(_, cell)| cell.is_some())
                .map(|(column, _)| *column as usize + 1)
                .max()
                .unwrap_or_default();
            let mut names = vec![String::new(); width];
            for (column, cell) in &gathered {
                let text = cell.as_ref().and_then(Cell::text);
                if let (Some(slot), Some(text)) = (names.get_mut(*column as usize), text) {
                    *slot = text.into_owned();
                }
            }
            self.headers = Some(normalise_headers(names.iter().map(String::as_str))?);
            return Ok(ControlFlow::Continue(()));
        };
        let mut cells = vec![None; headers.len()];
        for (column, cell) in gathered {
            if let Some(slot) = cells.get_mut(column as usize) {
                *slot = cell;
            }
        }
        self.count += 1;
        let number = row as usize + 1;
        Ok(each(headers, RawRow { number, cells }))
    }

    fn finish(self) -> Result<(Vec<String>, usize), TabularError> {
        let headers = self.headers.ok_or(TabularError::NoHeader)?;
        Ok((headers, self.count))
    }
}

/// What a cell's number format says about the number it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberFormat {
    /// General, `0.00`, `#,##0` …: the number as it is.
    Plain,
    /// `0%`, `0.00%`: shown multiplied by 100.
    Percent,
    /// Day, month and year (`dd/mm/yyyy`, `yyyy-mm-dd`, `m/d/yy`).
    Day,
    /// Month and year without a day (`mm/yyyy`, `m/yyyy`, `mmm-yy`).
    Month,
    /// Any other date or time format: a time of day, a year alone, a day
    /// and month without a year …
    OtherDate,
}

impl NumberFormat {
    /// Reads an Excel number format code: only its first section (the one
    /// for positive numbers) and only its tokens, not text in quotes, after
    /// `\`, or inside `[…]` (colours, locales, conditions).
    fn of(code: &str) -> NumberFormat {
        let (mut day, mut month, mut year, mut time) = (false, false, false, false);
        let mut percent = false;
        let (mut quoted, mut escaped, mut bracket) = (false, false, false);
        let mut chars = code.char_indices();
        while let Some((at, c)) = chars.next() {
            match c {
                _ if escaped => escaped = false,
                '"' => quoted = !quoted,
                _ if quoted => {}
                // `\` escapes, `_` pads and `*` fills with the next character.
                '\\' | '_' | '*' => escaped = true,
                '[' => bracket = true,
                ']' => bracket = false,
                _ if bracket => {}
                ';' => break,
                // The word General is no date token despite its letters.
                'g' | 'G' if code[at..].to_ascii_lowercase().starts_with("general") => {
                    chars.nth("general".len() - 2);
                }
                '%' => percent = true,
                'd' | 'D' => day = true,
                'y' | 'Y' => year = true,
                'm' | 'M' => month = true,
                // Hours, seconds, and AM/PM or A/P: a clock time.
                'h' | 'H' | 's' | 'S' | 'a' | 'A' => time = true,
                _ => {}
            }
        }
        match (day, month, year, time) {
            (false, false, false, false) if percent => NumberFormat::Percent,
            (false, false, false, false) => NumberFormat::Plain,
            (true, true, true, false) => NumberFormat::Day,
            (false, true, true, false) => NumberFormat::Month,
            _ => NumberFormat::OtherDate,
        }
    }
}

/// One spreadsheet cell, typed; `None` when empty.
fn xlsx_cell(value: &DataRef, period: bool, format: NumberFormat) -> Option<Cell> {
    let text = |text: &str| {
        let text = text.trim();
        (!text.is_empty()).then(|| Cell::Text(text.to_owned()))
    };
    let unreadable = |message: String| Some(Cell::Unreadable(message));
    let number = |number: f64| {
        match format {
        // A cell showing "5%" holds 0.05; reading either would surprise
        // someone, so neither is guessed.
        NumberFormat::Percent => unreadable("the cell is formatted as a percentage (it shows 5% but holds 0.05); write the number without the percent format".into()),
        _ => match excel_number_text(number) {
            Ok(text) => Some(Cell::Number(text)),
            Err(message) => unreadable(message),
        },
    }
    };
    match value {
        DataRef::Empty => None,
        DataRef::String(value) => text(value),
        DataRef::SharedString(value) => text(value),
        DataRef::Int(value) => number(*value as f64),
        DataRef::Float(value) => number(*value),
        DataRef::Bool(_) => {
            unreadable("TRUE and FALSE cells are not accepted; write the value as text".into())
        }
        DataRef::DateTime(_) | DataRef::DateTimeIso(_) if !period => unreadable(format!(
            "a date cell is only read in the {PERIOD_COLUMN} column; format the cell as a number or text"
        )),
        DataRef::DateTime(datetime) => {
            let date = excel_date(datetime);
            date_cell(date, format)
        }
        DataRef::DateTimeIso(value) => {
            // Written without a number format by some programs: then the
            // text itself says whether it is a whole day.
            let format = match format {
                NumberFormat::Plain => NumberFormat::Day,
                other => other,
            };
            date_cell(iso_date(value), format)
        }
        DataRef::DurationIso(_) => {
            unreadable("duration cells are not accepted; write the value as text".into())
        }
        DataRef::Error(error) => unreadable(format!("the cell holds the spreadsheet error {error}")),
    }
}

/// A date cell of the `period` column read by its number format: a month
/// format is that month, a day format that day (if it is a whole day), and
/// nothing else is guessed.
fn date_cell(date: Option<chrono::NaiveDate>, format: NumberFormat) -> Option<Cell> {
    use chrono::Datelike;
    let refused = |why: &str| {
        Some(Cell::Unreadable(format!(
            "{why}; write the period as text, e.g. 2022-M09, 2022-Q3 or 2024-03-18"
        )))
    };
    let Some(date) = date else {
        return refused("this date cell is not a whole day");
    };
    match format {
        NumberFormat::Month => Some(Cell::Date(DateCell::Month {
            year: date.year(),
            month: date.month(),
        })),
        NumberFormat::Day => Some(Cell::Date(DateCell::Day(date))),
        _ => refused(
            "this date cell's format shows neither a day (dd/mm/yyyy) nor a month (mm/yyyy), so which period it means is unclear",
        ),
    }
}

/// The text of a number read from an XLSX number cell.
///
/// XLSX has no decimal type: the file format itself stores every number cell
/// as an IEEE 754 double, so the cell for 975.9 holds the double nearest to
/// 975.9. Rust's `{}` prints the shortest decimal that reads back as the same
/// double, which is exactly what the person typed as long as it had at most
/// 15 significant digits, all Excel keeps. Longer texts are artefacts of
/// binary arithmetic (0.1 + 0.2 = 0.30000000000000004) or of digits Excel has
/// already dropped, so they are refused rather than guessed. Text cells are
/// read exactly as written; values needing more digits must be stored so.
fn excel_number_text(number: f64) -> Result<String, String> {
    if !number.is_finite() {
        return Err("the cell does not hold a finite number".into());
    }
    let text = format!("{number}");
    if significant_digits(&text) > EXCEL_DIGITS {
        return Err(format!(
            "the number cell holds {text}, more than Excel's {EXCEL_DIGITS} exact digits (a formula result or a rounded value?); enter the value as a text cell"
        ));
    }
    Ok(text)
}

/// Digits between the first and last non-zero digit of a decimal text.
fn significant_digits(text: &str) -> usize {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits.trim_start_matches('0').trim_end_matches('0').len()
}

/// The day of an Excel serial date, if it is a whole day.
fn excel_date(datetime: &calamine::ExcelDateTime) -> Option<chrono::NaiveDate> {
    if !datetime.is_datetime() {
        return None;
    }
    let (year, month, day, hour, minute, second, milli) = datetime.to_ymd_hms_milli();
    if (hour, minute, second, milli) != (0, 0, 0, 0) {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(year.into(), month.into(), day.into())
}

/// The day of an ISO 8601 date cell (`2022-03-31` or `2022-03-31T00:00:00`),
/// if it is a whole day.
fn iso_date(text: &str) -> Option<chrono::NaiveDate> {
    let text = text.trim();
    let (date, time) = text.split_once('T').unwrap_or((text, ""));
    let midnight = time.chars().all(|c| matches!(c, '0' | ':' | '.' | 'Z'));
    if !midnight || date.len() != 10 {
        return None;
    }
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

/// Spreadsheet column letters for a 0-based column index (0 → A, 26 → AA).
fn column_letters(column: u32) -> String {
    let mut letters = Vec::new();
    let mut rest = column as usize + 1;
    while rest > 0 {
        rest -= 1;
        letters.push(char::from(b'A' + (rest % 26) as u8));
        rest /= 26;
    }
    letters.iter().rev().collect()
}

/// Builds an XLSX workbook (one sheet "observations", bold header row, frozen
/// header, autofilter) and returns its bytes. Rows go to a temporary file as
/// they are written (rust_xlsxwriter's constant-memory mode); only the
/// compressed archive is held in memory.
///
/// Columns named in `numeric_columns` are written as number cells when the
/// text is a plain decimal that round-trips exactly through f64 with at most
/// 15 significant digits (so Excel users can compute with them), otherwise
/// as text cells of `text_number(text)` (so 12345678901234567.891 and 975.90
/// stay exact, written as the locale that will read them expects).
/// Everything else is text. Every row must have one cell per header; at most
/// 1,048,575 rows fit in a worksheet.
pub fn write_xlsx(
    headers: &[&str],
    numeric_columns: &[&str],
    text_number: impl Fn(&str) -> String,
    rows: impl Iterator<Item = Vec<Option<String>>>,
) -> Result<Vec<u8>, TabularError> {
    let workbook_error = |error: rust_xlsxwriter::XlsxError| TabularError::Xlsx {
        message: format!("the workbook cannot be written: {error}"),
    };
    let too_wide = || TabularError::Xlsx {
        message: format!("{} columns do not fit in a worksheet", headers.len()),
    };
    let numeric: Vec<bool> = headers
        .iter()
        .map(|header| numeric_columns.contains(header))
        .collect();
    let last_column = u16::try_from(headers.len().saturating_sub(1)).map_err(|_| too_wide())?;
    let bold = rust_xlsxwriter::Format::new().set_bold();

    let mut workbook = rust_xlsxwriter::Workbook::new();
    // Constant-memory mode flushes each row to a temporary file as it is
    // written (rows go strictly in order, as the mode requires), so a large
    // export does not hold every cell in memory.
    let sheet = workbook
        .add_worksheet_with_constant_memory()
        .map_err(workbook_error)?;
    sheet.set_name(SHEET_NAME).map_err(workbook_error)?;
    for (column, header) in (0u16..).zip(headers) {
        sheet
            .write_string_with_format(0, column, *header, &bold)
            .map_err(workbook_error)?;
    }
    let mut last_row = 0;
    for (index, row) in rows.enumerate() {
        check_row_length(index + 1, headers.len(), row.len())?;
        if index >= MAX_XLSX_DATA_ROWS {
            return Err(TabularError::Xlsx {
                message: format!(
                    "a worksheet holds at most {MAX_XLSX_DATA_ROWS} rows of data; export as CSV or JSON"
                ),
            });
        }
        // Both fit: index < MAX_XLSX_DATA_ROWS and headers.len() <= u16::MAX + 1.
        let row_number = index as u32 + 1;
        for ((column, cell), is_numeric) in (0u16..).zip(&row).zip(&numeric) {
            let Some(text) = cell.as_deref().filter(|text| !text.is_empty()) else {
                continue;
            };
            let written = match (is_numeric, exact_excel_number(text)) {
                (true, Some(number)) => sheet.write_number(row_number, column, number),
                (true, None) => sheet.write_string(row_number, column, text_number(text)),
                (false, _) => sheet.write_string(row_number, column, text),
            };
            written.map_err(|error| TabularError::UnsupportedValue {
                format: Format::Xlsx,
                number: row_number as usize + 1,
                column: headers[usize::from(column)].to_owned(),
                message: error.to_string(),
            })?;
        }
        last_row = row_number;
    }
    sheet.set_freeze_panes(1, 0).map_err(workbook_error)?;
    if !headers.is_empty() {
        sheet
            .autofilter(0, 0, last_row, last_column)
            .map_err(workbook_error)?;
    }
    workbook.save_to_buffer().map_err(workbook_error)
}

/// `text` as an Excel number, when that loses nothing.
///
/// Only for a plain decimal (`-?digits(.digits)?`) whose parsed double prints
/// back as exactly the same text (Rust's `{}` is the shortest text that
/// round-trips) with at most 15 significant digits: Excel then shows it
/// unchanged, users can compute with it, and [`excel_number_text`] reads it
/// back as the same text. Anything else (`975.90`, `1e5`, `-0`,
/// `12345678901234567.891`) stays a text cell, so it too re-imports
/// unchanged.
fn exact_excel_number(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let plain = [whole, fraction]
        .iter()
        .all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()));
    if !plain || significant_digits(text) > EXCEL_DIGITS {
        return None;
    }
    let number: f64 = text.parse().ok()?;
    // -0 would come back as 0 from Excel.
    let negative_zero = number == 0.0 && number.is_sign_negative();
    (number.is_finite() && !negative_zero && format!("{number}") == text).then_some(number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    type Parsed = (Vec<String>, Vec<TextRow>);

    /// A row with its cells as text (what the round trips compare); an
    /// unreadable cell is `!` and why.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct TextRow {
        number: usize,
        cells: Vec<Option<String>>,
    }

    fn as_text(cell: &Cell) -> String {
        match cell {
            Cell::Unreadable(why) => format!("!{why}"),
            cell => cell.text().unwrap().into_owned(),
        }
    }

    fn read_typed(
        format: Format,
        bytes: &[u8],
    ) -> Result<(Vec<String>, Vec<RawRow>), TabularError> {
        let mut rows = Vec::new();
        let (headers, count) = read_rows(format, Cursor::new(bytes), |_, row| {
            rows.push(row);
            ControlFlow::Continue(())
        })?;
        assert_eq!(count, rows.len());
        Ok((headers, rows))
    }

    fn read_all(format: Format, bytes: &[u8]) -> Result<Parsed, TabularError> {
        let (headers, rows) = read_typed(format, bytes)?;
        let rows = rows
            .into_iter()
            .map(|row| TextRow {
                number: row.number,
                cells: row
                    .cells
                    .iter()
                    .map(|cell| cell.as_ref().map(as_text))
                    .collect(),
            })
            .collect();
        Ok((headers, rows))
    }

    fn cells(texts: &[Option<&str>]) -> Vec<Option<String>> {
        texts.iter().map(|text| text.map(str::to_owned)).collect()
    }

    fn numbers(rows: &[TextRow]) -> Vec<usize> {
        rows.iter().map(|row| row.number).collect()
    }

    fn tricky_rows() -> Vec<Vec<Option<String>>> {
        vec![
            cells(&[
                Some("haiphong-business-bloc"),
                Some("Doanh thu quý I/2022 đạt \"975,9 tỷ đồng\""),
                Some("975.9"),
            ]),
            cells(&[
                Some("hà-nội"),
                Some("dòng một\ndòng hai, có dấu phẩy"),
                None,
            ]),
            cells(&[None, Some("Tăng trưởng; xấp xỉ 5%"), Some("-0.05")]),
        ]
    }

    #[test]
    fn csv_round_trip_keeps_every_cell() {
        let headers = ["committee", "source_quote", "value"];
        let mut bytes = Vec::new();
        write_csv(&mut bytes, &headers, tricky_rows().into_iter()).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.starts_with("committee,source_quote,value\r\n"),
            "{text}"
        );
        assert!(text.contains("\"Doanh thu quý I/2022 đạt \"\"975,9 tỷ đồng\"\"\""));

        let (read_headers, rows) = read_all(Format::Csv, &bytes).unwrap();
        assert_eq!(read_headers, headers);
        let read_cells: Vec<_> = rows.iter().map(|row| row.cells.clone()).collect();
        assert_eq!(read_cells, tricky_rows());
        // The second record spans lines 3 and 4, so the third starts on line 5.
        assert_eq!(numbers(&rows), [2, 3, 5]);
    }

    #[test]
    fn csv_line_numbers_count_physical_lines() {
        let text = "a,b\n1,\"x\ny\nz\"\n\n2,w\n,\n3,v\n";
        let (_, rows) = read_all(Format::Csv, text.as_bytes()).unwrap();
        // Blank and all-empty lines are skipped but still counted.
        assert_eq!(numbers(&rows), [2, 6, 8]);
        assert_eq!(rows[0].cells, cells(&[Some("1"), Some("x\ny\nz")]));
        assert_eq!(rows[2].cells, cells(&[Some("3"), Some("v")]));

        // The same with CRLF line ends, a blank CRLF line and a quoted last
        // field, as Excel writes them; no final line break.
        let text = "a,b\r\n1,\"x\r\ny\"\r\n\r\n \r\n2,\"w, v\"\r\n3,\"\"";
        let (_, rows) = read_all(Format::Csv, text.as_bytes()).unwrap();
        assert_eq!(numbers(&rows), [2, 6, 7]);
        assert_eq!(rows[0].cells, cells(&[Some("1"), Some("x\r\ny")]));
        assert_eq!(rows[1].cells, cells(&[Some("2"), Some("w, v")]));
        assert_eq!(rows[2].cells, cells(&[Some("3"), None]));
    }

    #[test]
    fn csv_semicolons_bom_and_header_case() {
        let text = "\u{feff} Committee ;INDICATOR;Value\r\nhp; revenue ;975,9\r\n";
        let (headers, rows) = read_all(Format::Csv, text.as_bytes()).unwrap();
        assert_eq!(headers, ["committee", "indicator", "value"]);
        assert_eq!(
            rows,
            [TextRow {
                number: 2,
                cells: cells(&[Some("hp"), Some("revenue"), Some("975,9")]),
            }]
        );
    }

    #[test]
    fn csv_tabs_and_leading_blank_line() {
        let text = "\n \r\na\tb\tc,d\n1\t2\t3,4";
        let (headers, rows) = read_all(Format::Csv, text.as_bytes()).unwrap();
        assert_eq!(headers, ["a", "b", "c,d"]);
        assert_eq!(rows[0].cells, cells(&[Some("1"), Some("2"), Some("3,4")]));
        assert_eq!(rows[0].number, 4);
    }

    #[test]
    fn csv_short_row_names_its_line() {
        let text = "a,b,c\n1,2,3\n\"x\ny\",2\n";
        let error = read_all(Format::Csv, text.as_bytes()).unwrap_err();
        assert!(
            matches!(&error, TabularError::Csv { line: 3, message } if message.contains("2 fields") && message.contains("has 3")),
            "{error:?}"
        );
        assert_eq!(error.number(), Some(3));
        assert!(error.to_string().starts_with("CSV line 3: "), "{error}");
    }

    #[test]
    fn csv_header_problems() {
        let duplicate = read_all(Format::Csv, b"value,unit,Value\n1,2,3\n").unwrap_err();
        assert!(matches!(&duplicate, TabularError::DuplicateColumn(name) if name == "value"));
        let empty = read_all(Format::Csv, b"value, ,unit\n1,2,3\n").unwrap_err();
        assert!(
            matches!(empty, TabularError::EmptyColumnName(2)),
            "{empty:?}"
        );
        let nothing = read_all(Format::Csv, b"").unwrap_err();
        assert!(matches!(nothing, TabularError::NoHeader), "{nothing:?}");
    }

    #[test]
    fn csv_that_is_not_utf8_says_how_to_save_it() {
        // "Hà" in Windows-1258.
        let error = read_all(Format::Csv, b"a,b\nH\xE0,1\n").unwrap_err();
        assert!(
            matches!(&error, TabularError::Csv { line: 2, message } if message.contains("CSV UTF-8")),
            "{error:?}"
        );
    }

    #[test]
    fn writers_refuse_rows_of_the_wrong_length() {
        let rows = vec![cells(&[Some("1"), Some("2")]), cells(&[Some("1")])];
        let error = write_csv(Vec::new(), &["a", "b"], rows.clone().into_iter()).unwrap_err();
        assert!(matches!(
            error,
            TabularError::WrongRowLength {
                number: 2,
                expected: 2,
                found: 1
            }
        ));
        let error = write_xlsx(&["a", "b"], &[], str::to_owned, rows.into_iter()).unwrap_err();
        assert!(matches!(
            error,
            TabularError::WrongRowLength { number: 2, .. }
        ));
    }

    #[test]
    fn xlsx_round_trip_keeps_every_cell() {
        let headers = ["id", "value", "source_quote"];
        let values = [
            "975.9",
            "27701",
            "0.05",
            "14.644",
            "-3.5",
            "12345678901234567.891",
            "975.90",
            "1e5",
            "007",
        ];
        let mut rows: Vec<Vec<Option<String>>> = values
            .iter()
            .map(|value| cells(&[Some("42"), Some(value), Some("Hải Phòng, quý I")]))
            .collect();
        rows.extend(tricky_rows());
        let bytes = write_xlsx(
            &headers,
            &["value"],
            str::to_owned,
            rows.clone().into_iter(),
        )
        .unwrap();

        let (read_headers, read) = read_all(Format::Xlsx, &bytes).unwrap();
        assert_eq!(read_headers, headers);
        let read_cells: Vec<_> = read.iter().map(|row| row.cells.clone()).collect();
        assert_eq!(read_cells, rows);
        assert_eq!(numbers(&read), (2..2 + rows.len()).collect::<Vec<_>>());

        // Which cells Excel users can compute with: only the exact ones, and
        // only in the numeric column ("42" under id stays text).
        let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        let range = workbook.worksheet_range("observations").unwrap();
        let kinds: Vec<(String, bool)> = range
            .rows()
            .skip(1)
            .take(values.len())
            .map(|row| {
                assert!(matches!(row[0], calamine::Data::String(_)));
                (
                    row[1].to_string(),
                    matches!(row[1], calamine::Data::Float(_)),
                )
            })
            .collect();
        let expected_numbers = [true, true, true, true, true, false, false, false, false];
        let found_numbers: Vec<bool> = kinds.iter().map(|(_, number)| *number).collect();
        assert_eq!(found_numbers, expected_numbers, "{kinds:?}");
    }

    #[test]
    fn xlsx_through_a_file_on_disk() {
        let file = tempfile::Builder::new().suffix(".XLSX").tempfile().unwrap();
        let format = Format::from_path(file.path()).unwrap();
        assert_eq!(format, Format::Xlsx);
        let bytes = write_xlsx(&["value"], &["value"], str::to_owned, std::iter::empty()).unwrap();
        std::fs::write(file.path(), bytes).unwrap();
        let input = std::fs::File::open(file.path()).unwrap();
        let (headers, count) = read_rows(format, input, |_, _| ControlFlow::Continue(())).unwrap();
        assert_eq!(headers, ["value"]);
        assert_eq!(count, 0);
    }

    /// A workbook written cell by cell, the way a person's spreadsheet might be.
    fn workbook(
        fill: impl FnOnce(&mut rust_xlsxwriter::Worksheet) -> Result<(), rust_xlsxwriter::XlsxError>,
    ) -> Vec<u8> {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        fill(workbook.add_worksheet()).unwrap();
        workbook.save_to_buffer().unwrap()
    }

    #[test]
    fn xlsx_skips_empty_rows_and_reads_dates_in_period() {
        let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        let bytes = workbook(|sheet| {
            // Row 1 is blank; the header is the first non-empty row.
            sheet.write_string(1, 0, " Period ")?;
            sheet.write_string(1, 1, "Value")?;
            let day = rust_xlsxwriter::ExcelDateTime::from_ymd(2022, 3, 31)?;
            sheet.write_datetime_with_format(2, 0, &day, &date)?;
            sheet.write_number(2, 1, 27701.0)?;
            // Row 4 has only a styled empty cell; row 5 has data.
            sheet.write_blank(3, 1, &date)?;
            sheet.write_string(4, 0, "2022-Q1")?;
            sheet.write_number(4, 1, 975.9)?;
            sheet.write_string(5, 0, "   ")?;
            Ok(())
        });
        let (headers, rows) = read_all(Format::Xlsx, &bytes).unwrap();
        assert_eq!(headers, ["period", "value"]);
        assert_eq!(
            rows,
            [
                TextRow {
                    number: 3,
                    cells: cells(&[Some("2022-03-31"), Some("27701")]),
                },
                TextRow {
                    number: 5,
                    cells: cells(&[Some("2022-Q1"), Some("975.9")]),
                },
            ]
        );
    }

    fn xlsx_error_for(
        fill: impl FnOnce(&mut rust_xlsxwriter::Worksheet) -> Result<(), rust_xlsxwriter::XlsxError>,
    ) -> TabularError {
        let bytes = workbook(|sheet| {
            sheet.write_string(0, 0, "period")?;
            sheet.write_string(0, 1, "value")?;
            fill(sheet)
        });
        read_all(Format::Xlsx, &bytes).unwrap_err()
    }

    /// The typed cells (period, value) of the single data row of a sheet.
    fn xlsx_cells_of(
        fill: impl FnOnce(&mut rust_xlsxwriter::Worksheet) -> Result<(), rust_xlsxwriter::XlsxError>,
    ) -> Vec<Option<Cell>> {
        let bytes = workbook(|sheet| {
            sheet.write_string(0, 0, "period")?;
            sheet.write_string(0, 1, "value")?;
            fill(sheet)
        });
        let (_, rows) = read_typed(Format::Xlsx, &bytes).unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
        rows[0].cells.clone()
    }

    fn assert_cell_error(error: TabularError, row: usize, at: &str, says: &str) {
        match &error {
            TabularError::UnsupportedValue {
                format: Format::Xlsx,
                number,
                column,
                message,
            } if *number == row && column == at && message.contains(says) => {}
            _ => panic!("expected row {row}, column {at}: …{says}…, got {error:?}"),
        }
        assert!(error
            .to_string()
            .starts_with(&format!("row {row}, column \"{at}\": ")));
    }

    fn assert_unreadable(cell: &Option<Cell>, says: &str) {
        assert!(
            matches!(cell, Some(Cell::Unreadable(why)) if why.contains(says)),
            "expected an unreadable cell: …{says}…, got {cell:?}"
        );
    }

    #[test]
    fn xlsx_cells_it_cannot_read_faithfully_refuse_their_row() {
        let inexact = xlsx_cells_of(|sheet| {
            sheet.write_number(1, 1, 0.1 + 0.2)?;
            Ok(())
        });
        assert_unreadable(&inexact[1], "0.30000000000000004");

        let boolean = xlsx_cells_of(|sheet| {
            sheet.write_boolean(1, 1, true)?;
            Ok(())
        });
        assert_unreadable(&boolean[1], "TRUE and FALSE");

        let error = xlsx_cells_of(|sheet| {
            sheet.write_formula(1, 1, "=1/0")?;
            Ok(())
        });
        // rust_xlsxwriter stores no cached result, so the cell reads as 0
        // unless a spreadsheet program computed it; either way not text.
        assert!(!matches!(error[1], Some(Cell::Text(_))), "{error:?}");

        let percent = xlsx_cells_of(|sheet| {
            let format = rust_xlsxwriter::Format::new().set_num_format("0.0%");
            sheet.write_number_with_format(1, 1, 0.05, &format)?;
            Ok(())
        });
        assert_unreadable(&percent[1], "percentage");

        let date = xlsx_cells_of(|sheet| {
            let format = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
            let day = rust_xlsxwriter::ExcelDateTime::from_ymd(2022, 3, 31)?;
            sheet.write_datetime_with_format(1, 1, &day, &format)?;
            Ok(())
        });
        assert_unreadable(&date[1], "only read in the period column");
    }

    #[test]
    fn xlsx_number_cells_are_exact_numbers_and_text_stays_text() {
        let cells = xlsx_cells_of(|sheet| {
            sheet.write_string(1, 0, "2022-Q1")?;
            sheet.write_number(1, 1, 27.701)?;
            Ok(())
        });
        assert_eq!(cells[1], Some(Cell::Number("27.701".into())));
        let cells = xlsx_cells_of(|sheet| {
            sheet.write_number(1, 0, 2022.0)?;
            sheet.write_string(1, 1, " 27.701 ")?;
            Ok(())
        });
        assert_eq!(cells[0], Some(Cell::Number("2022".into())));
        assert_eq!(cells[1], Some(Cell::Text("27.701".into())));
    }

    #[test]
    fn xlsx_period_dates_are_read_by_their_number_format() {
        let date_in = |format: &str, year: u16, month: u8, day: u8| {
            let format = rust_xlsxwriter::Format::new().set_num_format(format);
            xlsx_cells_of(move |sheet| {
                let date = rust_xlsxwriter::ExcelDateTime::from_ymd(year, month, day)?;
                sheet.write_datetime_with_format(1, 0, &date, &format)?;
                sheet.write_number(1, 1, 1.0)?;
                Ok(())
            })
            .swap_remove(0)
        };
        let september = Cell::Date(DateCell::Month {
            year: 2022,
            month: 9,
        });
        for format in ["mm/yyyy", "m/yyyy", "mmm-yy", "[$-42A]mm/yyyy", "mmmm yyyy"] {
            assert_eq!(
                date_in(format, 2022, 9, 1).as_ref(),
                Some(&september),
                "{format}"
            );
        }
        let day = Cell::Date(DateCell::Day(
            chrono::NaiveDate::from_ymd_opt(2022, 9, 15).unwrap(),
        ));
        for format in ["dd/mm/yyyy", "yyyy-mm-dd", "m/d/yy", "d mmmm yyyy"] {
            assert_eq!(
                date_in(format, 2022, 9, 15).as_ref(),
                Some(&day),
                "{format}"
            );
        }
        assert_eq!(september.text().unwrap(), "2022-M09");
        assert_eq!(day.text().unwrap(), "2022-09-15");
        for format in [
            "yyyy",
            "d-mmm",
            "mm/dd",
            "h:mm",
            "dd/mm/yyyy hh:mm",
            "hh:mm AM/PM",
        ] {
            assert_unreadable(&date_in(format, 2022, 9, 1), "neither a day");
        }
        assert_eq!(NumberFormat::of("General"), NumberFormat::Plain);
        assert_eq!(NumberFormat::of("#,##0.00"), NumberFormat::Plain);
        assert_eq!(NumberFormat::of("0.00E+00"), NumberFormat::Plain);
        assert_eq!(NumberFormat::of("0.0%"), NumberFormat::Percent);
        assert_eq!(NumberFormat::of("0.0\"%\""), NumberFormat::Plain);
        assert_eq!(NumberFormat::of("\"Tháng\" mm/yyyy"), NumberFormat::Month);
        assert_eq!(NumberFormat::of("[Red]General;-0"), NumberFormat::Plain);
    }

    #[test]
    fn xlsx_refuses_cells_beyond_the_header() {
        let beyond = xlsx_error_for(|sheet| {
            sheet.write_string(3, 2, "ghi chú")?;
            Ok(())
        });
        assert_cell_error(beyond, 4, "C", "right of the last named column");
    }

    #[test]
    fn xlsx_header_problems() {
        let gap = workbook(|sheet| {
            sheet.write_string(0, 0, "period")?;
            sheet.write_string(0, 2, "value")?;
            Ok(())
        });
        let error = read_all(Format::Xlsx, &gap).unwrap_err();
        assert!(
            matches!(error, TabularError::EmptyColumnName(2)),
            "{error:?}"
        );

        let empty = workbook(|_| Ok(()));
        let error = read_all(Format::Xlsx, &empty).unwrap_err();
        assert!(matches!(error, TabularError::NoHeader), "{error:?}");

        let error = read_all(Format::Xlsx, b"not a zip file").unwrap_err();
        assert!(matches!(error, TabularError::Xlsx { .. }), "{error:?}");
    }

    #[test]
    fn number_cell_texts() {
        assert_eq!(excel_number_text(975.9).unwrap(), "975.9");
        assert_eq!(excel_number_text(27701.0).unwrap(), "27701");
        assert_eq!(excel_number_text(1e20).unwrap(), "100000000000000000000");
        assert_eq!(
            excel_number_text(123456789012345.0).unwrap(),
            "123456789012345"
        );
        assert!(excel_number_text(1234567890123456.0).is_err());
        assert!(excel_number_text(f64::NAN).is_err());
        assert!(excel_number_text(f64::INFINITY).is_err());

        assert_eq!(exact_excel_number("14.644"), Some(14.644));
        assert_eq!(exact_excel_number("-0.05"), Some(-0.05));
        assert_eq!(exact_excel_number("0"), Some(0.0));
        assert_eq!(
            exact_excel_number("123456789012345"),
            Some(123456789012345.0)
        );
        for text in [
            "1234567890123456",
            "12345678901234567.891",
            "975.90",
            "007",
            "1e5",
            "+5",
            "-0",
            ".5",
            "5.",
            "1,5",
            " 5",
            "NaN",
            "",
        ] {
            assert_eq!(exact_excel_number(text), None, "{text:?}");
        }
    }

    #[test]
    fn json_array_keeps_number_digits() {
        let text = r#"[
            {"committee": "hp", "value": 12345678901234567.891, "breakdown": {"sex": "female"}},
            {"Committee": "hn", "value": 975.90, "unit": null, "scale": 9,
             "breakdown": {"sex": "male", "age": "youth"}},
            {"value": "6619", "breakdown": {}}
        ]"#;
        let (headers, rows) = read_all(Format::Json, text.as_bytes()).unwrap();
        assert_eq!(headers, COLUMNS);
        assert_eq!(numbers(&rows), [1, 2, 3]);
        let cell = |row: usize, column: &str| {
            let index = headers.iter().position(|header| header == column).unwrap();
            rows[row].cells[index].clone()
        };
        assert_eq!(cell(0, "value").as_deref(), Some("12345678901234567.891"));
        assert_eq!(cell(0, "breakdown").as_deref(), Some("sex=female"));
        assert_eq!(cell(1, "committee").as_deref(), Some("hn"));
        assert_eq!(cell(1, "value").as_deref(), Some("975.90"));
        assert_eq!(cell(1, "unit"), None);
        assert_eq!(cell(1, "scale").as_deref(), Some("9"));
        assert_eq!(cell(1, "breakdown").as_deref(), Some("age=youth;sex=male"));
        assert_eq!(cell(2, "value").as_deref(), Some("6619"));
        assert_eq!(cell(2, "breakdown"), None);
        assert_eq!(cell(2, "committee"), None);
    }

    #[test]
    fn json_observations_object_with_ids() {
        let text = "\u{feff}{\"exported_at\": [1, {\"x\": 2}], \"observations\": [
            {\"id\": 7, \"revision\": 2, \"value\": 1},
            {\"id\": 8, \"value\": 2}
        ], \"note\": \"ok\"}";
        let (headers, rows) = read_all(Format::Json, text.as_bytes()).unwrap();
        assert_eq!(headers[..3], ["id", "revision", "committee"]);
        assert_eq!(headers.len(), COLUMNS.len() + 2);
        assert_eq!(rows[0].cells[..2], cells(&[Some("7"), Some("2")]));
        assert_eq!(rows[1].cells[..2], cells(&[Some("8"), None]));
        assert_eq!(rows[1].cells[6].as_deref(), Some("2"));
    }

    #[test]
    fn json_empty_array_has_the_canonical_headers() {
        let (headers, rows) = read_all(Format::Json, b" [ ] ").unwrap();
        assert_eq!(headers, COLUMNS);
        assert!(rows.is_empty());
    }

    #[test]
    fn json_element_problems_name_the_element() {
        let unknown = read_all(Format::Json, br#"[{"value": 1}, {"valeu": 2}]"#).unwrap_err();
        assert!(
            matches!(&unknown, TabularError::UnknownField { number: 2, field } if field == "valeu"),
            "{unknown:?}"
        );
        assert_eq!(
            unknown.to_string(),
            "JSON element 2: unknown field \"valeu\""
        );

        // id is only a column when the first element has it.
        let late_id = read_all(Format::Json, br#"[{"value": 1}, {"id": 2}]"#).unwrap_err();
        assert!(matches!(
            late_id,
            TabularError::UnknownField { number: 2, .. }
        ));

        let twice = read_all(Format::Json, br#"[{"value": 1, "Value": 2}]"#).unwrap_err();
        assert!(matches!(
            twice,
            TabularError::DuplicateField { number: 1, .. }
        ));

        for element in ["3", "12.5", "\"x\"", "null", "[1]", "true"] {
            let text = format!(r#"[{{"value": 1}}, {{"value": 2}}, {element}]"#);
            let error = read_all(Format::Json, text.as_bytes()).unwrap_err();
            assert!(
                matches!(error, TabularError::ElementNotAnObject { number: 3 }),
                "{element}: {error:?}"
            );
        }

        // Cells that are not text or numbers refuse their row, not the file.
        for bad in [
            r#"[{"value": true}]"#,
            r#"[{"breakdown": {"sex": 1}}]"#,
            r#"[{"breakdown": {"sex": "a;b=c"}}]"#,
            r#"[{"unit": {"x": "y"}}]"#,
            r#"[{"value": [1]}]"#,
        ] {
            let (_, rows) = read_typed(Format::Json, bad.as_bytes()).unwrap();
            let unreadable = rows[0]
                .cells
                .iter()
                .filter(|cell| matches!(cell, Some(Cell::Unreadable(_))))
                .count();
            assert_eq!(unreadable, 1, "{bad}: {rows:?}");
        }
        // A JSON number is a number, a string text.
        let (_, rows) =
            read_typed(Format::Json, br#"[{"value": 27.701, "unit": "27.701"}]"#).unwrap();
        assert_eq!(rows[0].cells[4], Some(Cell::Number("27.701".into())));
        assert_eq!(rows[0].cells[5], Some(Cell::Text("27.701".into())));
    }

    #[test]
    fn json_shape_and_syntax_problems() {
        let missing = read_all(Format::Json, br#"{"rows": []}"#).unwrap_err();
        assert!(matches!(missing, TabularError::NotAnArray), "{missing:?}");
        for (text, line) in [
            ("\"text\"", 1),
            ("42", 1),
            ("\n-1.5", 2),
            ("{\"observations\": {\"a\": 1}}", 1),
            ("{\"observations\": [], \"observations\": []}", 1),
            ("[{\"value\": 1},\n{\"value\": 2,}]", 2),
            ("[{\"value\": 1}] trailing", 1),
            ("[{\"value\": 1}", 1),
        ] {
            let error = read_all(Format::Json, text.as_bytes()).unwrap_err();
            assert!(
                matches!(&error, TabularError::Json { line: l, message, .. } if *l == line && !message.contains(" at line ")),
                "{text}: {error:?}"
            );
        }
    }

    /// Stops after the first row; returns what was read.
    fn first_only(format: Format, bytes: &[u8]) -> (usize, Vec<TextRow>) {
        let mut rows = Vec::new();
        let (_, count) = read_rows(format, Cursor::new(bytes), |_, row| {
            rows.push(TextRow {
                number: row.number,
                cells: row
                    .cells
                    .iter()
                    .map(|cell| cell.as_ref().map(as_text))
                    .collect(),
            });
            ControlFlow::Break(())
        })
        .unwrap();
        (count, rows)
    }

    #[test]
    fn break_stops_reading() {
        // Everything after the first row is broken, so any further reading
        // would fail.
        let (count, rows) = first_only(Format::Csv, b"a,b\n1,2\n3\n\xFF\xFE");
        assert_eq!((count, numbers(&rows)), (1, vec![2]));

        let (count, rows) = first_only(Format::Json, br#"[{"value": 1}, {"bogus": 2}, ]]"#);
        assert_eq!((count, numbers(&rows)), (1, vec![1]));
        let (count, rows) = first_only(
            Format::Json,
            br#"{"observations": [{"value": 1}, {"value": true"#,
        );
        assert_eq!((count, numbers(&rows)), (1, vec![1]));

        let bytes = workbook(|sheet| {
            sheet.write_string(0, 0, "value")?;
            sheet.write_number(1, 0, 1.0)?;
            sheet.write_boolean(2, 0, true)?;
            Ok(())
        });
        let (count, rows) = first_only(Format::Xlsx, &bytes);
        assert_eq!((count, numbers(&rows)), (1, vec![2]));
    }

    #[test]
    fn formats_by_name_content_type_and_path() {
        assert_eq!(Format::from_name("CSV"), Some(Format::Csv));
        assert_eq!(Format::from_name(" json "), Some(Format::Json));
        assert_eq!(Format::from_name("xls"), None);
        assert_eq!(
            Format::from_content_type("text/csv; charset=utf-8"),
            Some(Format::Csv)
        );
        assert_eq!(
            Format::from_content_type("application/csv"),
            Some(Format::Csv)
        );
        assert_eq!(
            Format::from_content_type("Application/JSON;charset=UTF-8"),
            Some(Format::Json)
        );
        assert_eq!(Format::from_content_type("text/plain"), None);
        assert_eq!(
            Format::from_path(Path::new("a/b.tar.json")),
            Some(Format::Json)
        );
        assert_eq!(Format::from_path(Path::new("xlsx")), None);
        for format in [Format::Csv, Format::Json, Format::Xlsx] {
            assert_eq!(
                Format::from_content_type(format.content_type()),
                Some(format)
            );
            assert_eq!(Format::from_name(format.extension()), Some(format));
            let name = format!("export.{}", format.extension());
            assert_eq!(Format::from_path(Path::new(&name)), Some(format));
        }
    }

    #[test]
    fn formulas_are_neutralised_and_restored_exactly() {
        for (text, exported) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("-5 tỷ", "'-5 tỷ"),
            ("+84 912", "'+84 912"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("'=x", "''=x"),
            ("''@x", "'''@x"),
            ("'quoted'", "'quoted'"),
            ("x=1", "x=1"),
            ("", ""),
        ] {
            assert_eq!(neutralise_formula(text), exported, "{text:?}");
            assert_eq!(restore_formula(exported), text, "{exported:?}");
        }
        // Through a file: every cell reads back as it was.
        let rows = [cells(&[Some("=1+1"), Some("'-2"), Some("-3")])];
        let mut bytes = Vec::new();
        let neutralised = rows.iter().map(|row| {
            row.iter()
                .map(|cell| cell.as_deref().map(|t| neutralise_formula(t).into_owned()))
                .collect()
        });
        write_csv(&mut bytes, &["a", "b", "c"], neutralised).unwrap();
        assert!(String::from_utf8_lossy(&bytes).contains("'=1+1,''-2,'-3"));
        let (_, read) = read_all(Format::Csv, &bytes).unwrap();
        assert_eq!(read[0].cells, rows[0]);
    }

    #[test]
    fn column_letters_count_like_a_spreadsheet() {
        let letters: Vec<String> = [0, 2, 25, 26, 27, 701, 702]
            .into_iter()
            .map(column_letters)
            .collect();
        assert_eq!(letters, ["A", "C", "Z", "AA", "AB", "ZZ", "AAA"]);
    }
}
