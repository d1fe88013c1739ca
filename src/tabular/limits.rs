//! Every limit on what an import file may hold, in one place.
//!
//! They are checked before the expensive work: an XLSX archive is inspected
//! part by part (see `xlsx_vet`) before the spreadsheet reader opens it, and a
//! CSV header is counted before its names are compared. A file over a size
//! limit is refused with 413, one of an impossible shape with 422; nothing is
//! written either way.
//!
//! The numbers follow what real files need: Excel itself stops at 1,048,576
//! rows, 16,384 columns and 32,767 characters in a cell, and an observation
//! file has at most 17 columns.

/// Columns a CSV header or an XLSX row may have. An observation file has 17
/// (15 columns plus an export's `id` and `revision`); the rest is room for a
/// spreadsheet's stray cells, which are refused with a clearer message later.
pub const MAX_COLUMNS: usize = 256;

/// Rows of a worksheet, Excel's own limit (the header included).
pub const MAX_XLSX_ROWS: u64 = 1_048_576;

/// Cells, empty ones included, in all the worksheets of a workbook: a full
/// sheet of 1,048,576 rows × 32 columns.
pub const MAX_XLSX_CELLS: u64 = MAX_XLSX_ROWS * 32;

/// Characters in one cell or one shared string: Excel's own limit.
pub const MAX_CELL_CHARS: u64 = 32_767;

/// Strings in the workbook's shared-string table (declared or present). The
/// reader keeps this table in memory.
pub const MAX_SHARED_STRINGS: u64 = 1_048_576;

/// Bytes of text outside worksheet rows (shared strings, styles, names …),
/// all of which the reader keeps in memory.
pub const MAX_HELD_TEXT_BYTES: u64 = 64 * 1024 * 1024;

/// XML elements outside worksheet rows and outside shared strings (styles,
/// relationships, sheet names …), which the reader turns into structures it
/// keeps in memory. A workbook with Excel's maximum of 64,000 cell formats
/// has about 300,000.
pub const MAX_HELD_ELEMENTS: u64 = 512 * 1024;

/// Bytes of one part of the archive once inflated. Worksheet rows are read
/// as a stream, so this bounds time, not memory: a sheet of a million
/// figures is about 1 GiB of XML.
pub const MAX_XLSX_PART_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Bytes of all the parts of the archive once inflated.
pub const MAX_XLSX_TOTAL_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Parts (files) in the archive. A workbook written by Excel has 10 to 30.
/// The zip reader holds each part's directory entry in memory.
pub const MAX_XLSX_PARTS: u64 = 256;

/// Bytes of the archive's central directory, the list of its parts.
pub const MAX_XLSX_DIRECTORY_BYTES: u64 = 1024 * 1024;

/// Bytes of one XML tag with its attributes; the longest Excel writes are a
/// few hundred.
pub const MAX_XML_TAG_BYTES: usize = 64 * 1024;

/// Depth of nested XML elements; worksheets nest about 6 deep.
pub const MAX_XML_DEPTH: usize = 64;
