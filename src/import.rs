//! Bulk import of figures from CSV, JSON or XLSX: every row parsed and
//! checked with the same rules as the API, staged, classified and merged in
//! one transaction (see `db::imports`). Atomic by default: one bad row and
//! nothing is written. Memory stays bounded: rows stream through in chunks.

use std::collections::HashMap;
use std::io::{Read, Seek};
use std::ops::ControlFlow;

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::db::imports::{self, StagedRow, Strategy};
use crate::db::{self, write_transaction, AnyConnection};
use crate::domain::breakdown::Breakdown;
use crate::domain::locale::{self, Locale};
use crate::domain::value::{parse_decimal, ExactDecimal};
use crate::error::{ApiError, FieldError};
use crate::ingest::{self, ObservationInput, ReferenceData};
use crate::tabular::{self, Cell, Format, RawRow, COLUMNS, EXPORT_ID_COLUMNS};

/// Rows written to the staging table at a time.
const CHUNK_ROWS: usize = 5000;
/// Rejected rows listed in a summary; the total is always counted.
pub const MAX_LISTED_ERRORS: usize = 1000;
/// Rows a summary lists with `rows=changes` or `rows=all`: the first ones in
/// row order; `rows_truncated` says when there were more.
pub const MAX_LISTED_ROWS: usize = 1000;

/// Which rows an import summary lists, each with what it does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowListing {
    /// No row (the default): a large file must not answer with a large body.
    #[default]
    None,
    /// Rows that change something or are rejected: all but `unchanged`.
    Changes,
    /// Every row.
    All,
}

/// How to import.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    pub format: Format,
    pub strategy: Strategy,
    /// Check everything, write nothing.
    pub dry_run: bool,
    /// One rejected row and nothing is written (the default).
    pub atomic: bool,
    pub locale: Locale,
    /// The check against previous figures (factor, and whether a warning rejects the row).
    pub plausibility: imports::Plausibility,
    /// Which rows the summary lists.
    pub rows: RowListing,
}

/// Why one row was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowError {
    /// Row number as a person sees it in the file (header = row 1 for CSV and XLSX;
    /// element number for JSON).
    pub row: usize,
    /// The column at fault, if one is.
    pub column: Option<String>,
    /// Machine-readable code, e.g. `invalid_period`, `unknown_committee`, `already_exists`.
    pub code: String,
    pub message: String,
}

/// What an import did (or, for a dry run or a refused atomic import, would do).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportSummary {
    pub strategy: Strategy,
    pub dry_run: bool,
    pub atomic: bool,
    /// Whether anything was written.
    pub committed: bool,
    /// Data rows read.
    pub rows: usize,
    /// New figures (a figure deleted earlier and entered again counts here too).
    pub created: i64,
    pub updated: i64,
    /// Rows equal to the stored figure: no revision is made.
    pub unchanged: i64,
    pub deleted: i64,
    pub rejected: i64,
    /// The first rejected rows (at most 1000), in row order.
    pub errors: Vec<RowError>,
    /// Rows whose value is more than the plausibility factor above or below
    /// the committee's previous stored figure of the indicator (written anyway
    /// unless strict=true, which rejects them).
    pub warned: i64,
    /// The first of those rows (at most 1000), in row order.
    pub warnings: Vec<RowWarning>,
    /// The rows `rows=changes` or `rows=all` asks for (none by default), each
    /// with what it does: the first 1000, in row order.
    pub listed_rows: Vec<ListedRow>,
    /// Whether more rows matched `rows=` than `listed_rows` holds. The rows
    /// that match are all `rows` (`rows=all`) or `rows - unchanged` (`rows=changes`).
    pub rows_truncated: bool,
}

/// What an import does with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowAction {
    /// A new figure (or one deleted earlier, entered again).
    Create,
    /// A new revision of a stored figure (`old_value` is the value it replaces).
    Update,
    /// Equal to the stored figure: nothing is written.
    Unchanged,
    /// The stored figure is deleted (`old_value` is its value).
    Delete,
    /// Refused: `errors` says why.
    Rejected,
}

impl RowAction {
    /// The word on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RowAction::Create => "create",
            RowAction::Update => "update",
            RowAction::Unchanged => "unchanged",
            RowAction::Delete => "delete",
            RowAction::Rejected => "rejected",
        }
    }
}

/// One row of the file, as read, and what the import does with it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ListedRow {
    /// Row number, as in `RowError`.
    pub row: usize,
    /// The committee's code; the fields up to `qualifier` are absent (null)
    /// when the row could not be read (`errors` says why).
    pub committee: Option<String>,
    pub indicator: Option<String>,
    /// The canonical period code (`2022-Q1`), whatever form the file used.
    pub period: Option<String>,
    /// `dimension=value` pairs joined by `;`; empty for the total.
    pub breakdown: Option<String>,
    /// The value as it is stored: exact, in the indicator's `unit` and `scale`
    /// (a value the file wrote in another scale is converted). Null for a
    /// deletion that gave no value.
    #[schema(value_type = Option<String>, example = "27.701")]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub value: Option<rust_decimal::Decimal>,
    pub unit: Option<crate::domain::indicator::Unit>,
    /// Power of ten of the unit (9: tỷ, 6: triệu).
    pub scale: Option<i32>,
    pub status: Option<crate::domain::value::ObservationStatus>,
    pub qualifier: Option<crate::domain::value::Qualifier>,
    pub action: RowAction,
    /// For `update` and `delete`: the stored value replaced or deleted.
    #[schema(value_type = Option<String>, example = "27.5")]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub old_value: Option<rust_decimal::Decimal>,
    /// For `rejected`: why (a row may break several rules), as in the summary's `errors`.
    pub errors: Vec<RowError>,
    /// The row's plausibility warnings, as in the summary's `warnings`.
    pub warnings: Vec<RowWarning>,
}

/// A row whose value looks implausible next to the previous figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowWarning {
    /// Row number, as in `RowError`.
    pub row: usize,
    #[serde(flatten)]
    pub warning: crate::domain::plausibility::PlausibilityWarning,
}

/// Why an import as a whole could not run.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read or its header is wrong: nothing is written.
    #[error("{0}")]
    Unreadable(String),
    /// The file is over a size limit (413): nothing is written.
    #[error("{0}")]
    TooLarge(String),
    /// The file has a shape a limit refuses (422): nothing is written.
    #[error("{0}")]
    TooComplex(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// Rolls the transaction back while handing the summary out.
enum Stop {
    RollBack(Box<ImportSummary>),
    Failed(ImportError),
}

impl From<diesel::result::Error> for Stop {
    fn from(error: diesel::result::Error) -> Self {
        Stop::Failed(ImportError::Database(error))
    }
}

/// The columns a file may have, and which it must have.
fn check_headers(headers: &[String], strategy: Strategy) -> Result<HashMap<String, usize>, String> {
    let mut index = HashMap::new();
    for (position, header) in headers.iter().enumerate() {
        if !COLUMNS.contains(&header.as_str()) && !EXPORT_ID_COLUMNS.contains(&header.as_str()) {
            return Err(format!(
                "unknown column {header:?}; the columns are: {}",
                COLUMNS.join(", ")
            ));
        }
        index.insert(header.clone(), position);
    }
    let mut required = vec!["committee", "indicator", "period"];
    if strategy != Strategy::Delete {
        required.push("value");
    }
    let missing: Vec<&str> = required
        .into_iter()
        .filter(|c| !index.contains_key(*c))
        .collect();
    if !missing.is_empty() {
        return Err(format!("missing column(s): {}", missing.join(", ")));
    }
    Ok(index)
}

/// Columns whose cells hold numbers: a number cell is taken exactly as it
/// is, a text cell is read by the import's locale.
const NUMBER_COLUMNS: [&str; 3] = ["value", "reported_yoy_pct", "reported_share_pct"];
/// Columns whose words (a unit, a status, a qualifier) tell how the row was
/// written: Vietnamese words there mean Vietnamese numbers.
const WORD_COLUMNS: [&str; 6] = [
    "value",
    "unit",
    "status",
    "qualifier",
    "reported_yoy_qualifier",
    "reported_share_qualifier",
];

/// Parses one row into a staged figure, with the API's own rules.
fn parse_row(
    raw: &RawRow,
    columns: &HashMap<String, usize>,
    refs: &ReferenceData,
    options: &ImportOptions,
) -> Result<StagedRow, Vec<RowError>> {
    let typed = |name: &str| {
        columns
            .get(name)
            .and_then(|&i| raw.cells.get(i))
            .and_then(Option::as_ref)
    };
    let mut errors = Vec::new();
    let mut fail = |column: &str, code: &str, message: String| {
        errors.push(RowError {
            row: raw.number,
            column: Some(column.to_owned()),
            code: code.to_owned(),
            message,
        });
    };
    // A cell the file layer could not read refuses its row, and a cell of
    // another column is read as text (a number cell of `scale` is "9").
    let mut unreadable: Vec<(usize, &str, &str)> = columns
        .iter()
        .filter_map(|(name, &index)| match raw.cells.get(index) {
            Some(Some(Cell::Unreadable(why))) => Some((index, name.as_str(), why.as_str())),
            _ => None,
        })
        .collect();
    unreadable.sort_unstable();
    for (_, name, why) in unreadable {
        fail(name, "unreadable_cell", why.to_owned());
    }
    let texts: HashMap<&str, std::borrow::Cow<'_, str>> = columns
        .iter()
        .filter_map(|(name, &index)| {
            let text = raw.cells.get(index)?.as_ref()?.text()?;
            Some((name.as_str(), text))
        })
        .collect();
    let cell = |name: &str| {
        texts
            .get(name)
            .map(|text| text.trim())
            .filter(|text| !text.is_empty())
    };
    // No half-Vietnamese reading: under the standard locale, a row whose
    // numbers are text and whose words are Vietnamese is refused.
    let text_numbers = NUMBER_COLUMNS
        .iter()
        .any(|column| matches!(typed(column), Some(Cell::Text(_))));
    if options.locale == Locale::Standard && text_numbers {
        let vietnamese = WORD_COLUMNS.iter().find_map(|column| {
            let text = cell(column)?;
            locale::vietnamese_word(text).map(|word| (*column, text, word))
        });
        if let Some((column, text, word)) = vietnamese {
            let why = locale::needs_vietnamese(word);
            fail(
                column,
                "needs_locale_vi",
                format!("{column} {text:?}: {why}"),
            );
            return Err(errors);
        }
    }
    let mut value = None;
    let mut qualifier = None;
    let mut status = None;
    let mut unit = None;
    let mut scale = None;
    match (typed("value"), cell("value")) {
        (Some(Cell::Number(number)), _) => match parse_decimal(number) {
            Ok(number) => value = Some(number),
            Err(e) => fail("value", "invalid_value", e.to_string()),
        },
        (_, Some(text)) => match locale::parse_value_phrase(text, options.locale) {
            Ok(phrase) => {
                value = Some(phrase.value);
                qualifier = phrase.qualifier;
                status = phrase.status;
                if let Some((u, s)) = phrase.unit {
                    unit = Some(u);
                    scale = (s != 0).then_some(s);
                }
            }
            Err(e) => fail("value", "invalid_value", e.to_string()),
        },
        (Some(Cell::Unreadable(_)), None) => {}
        (_, None) if options.strategy != Strategy::Delete => {
            fail("value", "missing_value", "value is empty".into())
        }
        (_, None) => {}
    }
    if let Some(text) = cell("unit") {
        match locale::parse_unit(text) {
            Ok((u, s)) => {
                unit = Some(u);
                if s != 0 {
                    scale = Some(s);
                }
            }
            Err(e) => fail("unit", "invalid_unit", e.to_string()),
        }
    }
    if let Some(text) = cell("scale") {
        match text.parse::<i32>() {
            Ok(s) => scale = Some(s),
            Err(_) => fail(
                "scale",
                "invalid_scale",
                format!("{text:?} is not a power of ten such as 9 or 6"),
            ),
        }
    }
    let mut word = |column: &str, parse: fn(&str) -> Result<_, locale::LocaleError>| -> Option<_> {
        let text = cell(column)?;
        parse(text)
            .map_err(|e| fail(column, "invalid_value", e.to_string()))
            .ok()
    };
    if let Some(q) = word("qualifier", locale::parse_qualifier) {
        qualifier = Some(q);
    }
    let reported_yoy_qualifier = word("reported_yoy_qualifier", locale::parse_qualifier);
    let reported_share_qualifier = word("reported_share_qualifier", locale::parse_qualifier);
    if let Some(text) = cell("status") {
        match locale::parse_status(text) {
            Ok(s) => status = Some(s),
            Err(e) => fail("status", "invalid_status", e.to_string()),
        }
    }
    let mut percent = |column: &str| -> Option<ExactDecimal> {
        let parsed = match typed(column)? {
            Cell::Number(number) => parse_decimal(number).map_err(|e| e.to_string()),
            _ => {
                let text = cell(column)?;
                let number = text.strip_suffix('%').unwrap_or(text).trim_end();
                locale::parse_number(number, options.locale).map_err(|e| e.to_string())
            }
        };
        parsed
            .map(ExactDecimal)
            .map_err(|message| fail(column, "invalid_number", message))
            .ok()
    };
    let reported_yoy_pct = percent("reported_yoy_pct");
    let reported_share_pct = percent("reported_share_pct");
    let breakdown = match cell("breakdown").map(Breakdown::parse).transpose() {
        Ok(b) => b.map(|b| b.as_map().clone()),
        Err(e) => {
            fail("breakdown", "invalid_breakdown", e.to_string());
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let input = ObservationInput {
        committee: cell("committee").unwrap_or_default().to_owned(),
        indicator: cell("indicator").unwrap_or_default().to_owned(),
        period: cell("period").unwrap_or_default().to_owned(),
        breakdown,
        // A deletion names the figure; its value does not matter.
        value: ExactDecimal(value.unwrap_or_default()),
        unit,
        scale,
        status,
        qualifier,
        reported_yoy_pct,
        reported_yoy_qualifier,
        reported_share_pct,
        reported_share_qualifier,
        source: cell("source").map(str::to_owned),
        source_quote: cell("source_quote").map(str::to_owned),
        reason: None,
    };
    let new = ingest::validate_observation(&input, refs, None).map_err(|field_errors| {
        field_errors
            .into_iter()
            .map(|e| RowError {
                row: raw.number,
                column: Some(e.field),
                code: e.code,
                message: e.message,
            })
            .collect::<Vec<_>>()
    })?;
    let state = new.state;
    Ok(StagedRow {
        row_no: raw.number as i64,
        committee_id: new.key.committee_id,
        indicator_id: new.key.indicator_id,
        period_code: new.key.period.code(),
        frequency: new.key.period.frequency().as_str().to_owned(),
        period_start: new.key.period.start(),
        period_end: new.key.period.end(),
        breakdown: new.key.breakdown.canonical(),
        value: imports::stored(value.map(|_| state.value)),
        status: state.status.as_str().to_owned(),
        qualifier: state.qualifier.as_str().to_owned(),
        reported_yoy_pct: imports::stored(state.reported_yoy_pct),
        reported_yoy_qualifier: state.reported_yoy_qualifier.map(|q| q.as_str().to_owned()),
        reported_share_pct: imports::stored(state.reported_share_pct),
        reported_share_qualifier: state
            .reported_share_qualifier
            .map(|q| q.as_str().to_owned()),
        source_id: state.source_id,
        source_quote: state.source_quote,
    })
}

fn reject_message(code: &str) -> (&'static str, String) {
    match code {
        "duplicate_in_file" => (
            "period",
            "the same committee, indicator, period and breakdown appear on an earlier row".into(),
        ),
        "locked" => (
            "period",
            "the committee × period is locked; an admin must lift the lock first".into(),
        ),
        "already_exists" => (
            "period",
            "the figure exists already (strategy create only adds new figures)".into(),
        ),
        "not_found" => (
            "period",
            "no such figure exists (strategy update and delete only change existing figures)"
                .into(),
        ),
        crate::domain::plausibility::IMPLAUSIBLE_CHANGE => (
            "value",
            "strict=true: the value is more than the plausibility factor above or below the committee's previous figure (see warnings)".into(),
        ),
        other => ("period", format!("rejected: {other}")),
    }
}

/// The row error of a row refused by the stored data (`Classified::rejected`).
fn stored_data_error(row: i64, code: &str) -> RowError {
    let (column, message) = reject_message(code);
    RowError {
        row: row as usize,
        column: Some(column.into()),
        code: code.to_owned(),
        message,
    }
}

/// The rows `listing` asks for, the first [`MAX_LISTED_ROWS`] in row order:
/// the staged rows as classified (one query, only when rows are asked for),
/// merged by row number with the rows the file layer refused
/// (`parse_errors`, in row order), each with its plausibility warnings.
///
/// Every refused or warned row is listed whatever `listing` says. The
/// summary knows the first 1000 errors and warnings only: a warned row beyond
/// the first 1000 lies after 1000 listed rows, so the cap comes first; the
/// refused rows are cut where their known errors end, so no refused row is
/// ever missing between two listed ones (`rows_truncated` then says so).
fn list_rows(
    conn: &mut AnyConnection,
    listing: RowListing,
    parse_errors: &[RowError],
    classified: &imports::Classified,
) -> Result<Vec<ListedRow>, ImportError> {
    if listing == RowListing::None {
        return Ok(Vec::new());
    }
    let staged =
        imports::staged_outcomes(conn, listing == RowListing::Changes, MAX_LISTED_ROWS as i64)?;
    let mut warnings: HashMap<i64, Vec<RowWarning>> = HashMap::new();
    for (row, warning) in &classified.warnings {
        warnings.entry(*row).or_default().push(RowWarning {
            row: *row as usize,
            warning: warning.clone(),
        });
    }
    let mut listed = Vec::with_capacity(staged.len() + parse_errors.len());
    for outcome in staged {
        let row_warnings = warnings.remove(&outcome.row_no);
        listed.push(listed_row(outcome, row_warnings)?);
    }
    for error in parse_errors {
        match listed.last_mut() {
            Some(last) if last.row == error.row && last.committee.is_none() => {
                last.errors.push(error.clone())
            }
            _ => listed.push(unreadable_row(error.clone())),
        }
    }
    // Staged and unreadable rows never share a number: a stable sort merges them.
    listed.sort_by_key(|row| row.row);
    if parse_errors.len() >= MAX_LISTED_ERRORS {
        // The errors were cut there: later unreadable rows are unknown.
        let last = parse_errors.last().map_or(0, |e| e.row);
        listed.retain(|row| row.row <= last);
    }
    listed.truncate(MAX_LISTED_ROWS);
    Ok(listed)
}

/// A row the file layer refused: only its number and its errors are known.
fn unreadable_row(error: RowError) -> ListedRow {
    ListedRow {
        row: error.row,
        committee: None,
        indicator: None,
        period: None,
        breakdown: None,
        value: None,
        unit: None,
        scale: None,
        status: None,
        qualifier: None,
        action: RowAction::Rejected,
        old_value: None,
        errors: vec![error],
        warnings: Vec::new(),
    }
}

/// A classified staged row as listed.
fn listed_row(
    outcome: imports::StagedOutcome,
    warnings: Option<Vec<RowWarning>>,
) -> Result<ListedRow, ImportError> {
    fn read<T: std::str::FromStr>(text: &str) -> Result<T, ImportError>
    where
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        text.parse().map_err(|e: T::Err| {
            ImportError::Database(diesel::result::Error::DeserializationError(Box::new(e)))
        })
    }
    let (action, errors) = match (outcome.action.as_deref(), outcome.reject_code.as_deref()) {
        (None | Some("restore"), _) => (RowAction::Create, Vec::new()),
        (Some("update"), _) => (RowAction::Update, Vec::new()),
        (Some("unchanged"), _) => (RowAction::Unchanged, Vec::new()),
        (Some("delete"), _) => (RowAction::Delete, Vec::new()),
        (Some(_), code) => (
            RowAction::Rejected,
            vec![stored_data_error(
                outcome.row_no,
                code.unwrap_or("rejected"),
            )],
        ),
    };
    let old_value = matches!(action, RowAction::Update | RowAction::Delete)
        .then_some(outcome.existing_value)
        .flatten()
        .map(|v| v.0);
    Ok(ListedRow {
        row: outcome.row_no as usize,
        committee: Some(outcome.committee),
        indicator: Some(outcome.indicator),
        period: Some(outcome.period_code),
        breakdown: Some(outcome.breakdown),
        value: outcome.value.map(|v| v.0),
        unit: Some(read(&outcome.unit)?),
        scale: Some(outcome.scale),
        status: Some(read(&outcome.status)?),
        qualifier: Some(read(&outcome.qualifier)?),
        action,
        old_value,
        errors,
        warnings: warnings.unwrap_or_default(),
    })
}

/// Imports `input`. `progress` is called with the rows read so far.
pub fn import(
    conn: &mut AnyConnection,
    input: impl Read + Seek,
    options: ImportOptions,
    caller: &Caller,
    reason: Option<&str>,
    progress: impl FnMut(usize),
) -> Result<ImportSummary, ImportError> {
    // A bulk write touches index pages all over the file: while it runs, this
    // connection gets a page cache sized for that, then the serving one back.
    db::connection::set_sqlite_cache_kib(conn, IMPORT_CACHE_KIB)?;
    let result = db::connection::without_statement_timeout(conn, |conn| {
        import_rows(conn, input, options, caller, reason, progress)
    });
    db::connection::set_sqlite_cache_kib(conn, db::connection::SQLITE_CACHE_KIB)?;
    result
}

/// SQLite page cache of a connection while it imports (KiB).
const IMPORT_CACHE_KIB: i64 = 32 * 1024;

/// The file read, checked and loaded into the staging table.
struct Staged {
    rows: usize,
    staged: i64,
    invalid_rows: i64,
    errors: Vec<RowError>,
    may_repeat: bool,
}

fn import_rows(
    conn: &mut AnyConnection,
    input: impl Read + Seek,
    options: ImportOptions,
    caller: &Caller,
    reason: Option<&str>,
    progress: impl FnMut(usize),
) -> Result<ImportSummary, ImportError> {
    let refs = ReferenceData::load(conn)?;
    // The staging table is temporary: on SQLite it lives in the connection's
    // own temporary database, so filling it takes no lock on the main one,
    // and on PostgreSQL no other session sees it. Reading, checking and
    // staging the file, the long part, therefore run before the write
    // transaction, which only classifies and merges: other writers wait for
    // the merge, not for the file.
    imports::create_staging(conn)?;
    let result = stage_file(conn, input, &options, &refs, progress)
        .and_then(|staged| merge(conn, staged, &options, caller, reason));
    // The table outlives a transaction; a pooled connection must not keep it.
    let dropped = imports::drop_staging(conn);
    let summary = result?;
    dropped?;
    Ok(summary)
}

/// Reads every row, checks it with the API's rules and stages the good ones.
fn stage_file(
    conn: &mut AnyConnection,
    input: impl Read + Seek,
    options: &ImportOptions,
    refs: &ReferenceData,
    mut progress: impl FnMut(usize),
) -> Result<Staged, ImportError> {
    imports::staging_transaction(conn, |conn| -> Result<Staged, ImportError> {
        let mut columns: Option<HashMap<String, usize>> = None;
        let mut header_error: Option<String> = None;
        let mut database_error: Option<diesel::result::Error> = None;
        let mut errors: Vec<RowError> = Vec::new();
        let mut invalid_rows: i64 = 0;
        let mut staged: i64 = 0;
        let mut keys = imports::KeyHashes::default();
        let mut chunk: Vec<StagedRow> = Vec::with_capacity(CHUNK_ROWS);
        let read = tabular::read_rows(options.format, input, |headers, raw| {
            if columns.is_none() {
                match check_headers(headers, options.strategy) {
                    Ok(index) => columns = Some(index),
                    Err(message) => {
                        header_error = Some(message);
                        return ControlFlow::Break(());
                    }
                }
            }
            let Some(index) = columns.as_ref() else {
                return ControlFlow::Break(());
            };
            match parse_row(&raw, index, refs, options) {
                Ok(row) => {
                    staged += 1;
                    keys.add(&row);
                    chunk.push(row)
                }
                Err(mut row_errors) => {
                    invalid_rows += 1;
                    let room = MAX_LISTED_ERRORS.saturating_sub(errors.len());
                    row_errors.truncate(room);
                    errors.append(&mut row_errors);
                }
            }
            if chunk.len() >= CHUNK_ROWS {
                if let Err(e) = imports::stage(conn, &chunk) {
                    database_error = Some(e);
                    return ControlFlow::Break(());
                }
                chunk.clear();
            }
            if raw.number % 1000 == 0 {
                progress(raw.number);
            }
            ControlFlow::Continue(())
        });
        if let Some(e) = database_error {
            return Err(e.into());
        }
        if let Some(message) = header_error {
            return Err(ImportError::Unreadable(message));
        }
        let (headers, rows) = read?;
        if columns.is_none() {
            // No data row: the header still has to be right.
            check_headers(&headers, options.strategy).map_err(ImportError::Unreadable)?;
        }
        imports::stage(conn, &chunk)?;
        progress(rows);
        Ok(Staged {
            rows,
            staged,
            invalid_rows,
            errors,
            may_repeat: keys.may_repeat(),
        })
    })
}

/// Classifies the staged rows against the stored figures and, unless told
/// not to or refused, merges them: the only part that holds the write lock.
fn merge(
    conn: &mut AnyConnection,
    staged: Staged,
    options: &ImportOptions,
    caller: &Caller,
    reason: Option<&str>,
) -> Result<ImportSummary, ImportError> {
    let Staged {
        rows,
        staged,
        invalid_rows,
        mut errors,
        may_repeat,
    } = staged;
    let outcome = write_transaction(conn, |conn| -> Result<ImportSummary, Stop> {
        let classified = imports::classify(
            conn,
            options.strategy,
            caller.scope(),
            MAX_LISTED_ERRORS as i64,
            staged,
            may_repeat,
            options.plausibility,
        )?;
        if classified.forbidden > 0 {
            let rows: Vec<String> = classified
                .rejected
                .iter()
                .filter(|(_, code)| code == "forbidden")
                .map(|(row, _)| row.to_string())
                .take(20)
                .collect();
            return Err(Stop::Failed(ImportError::Api(ApiError::Forbidden(format!(
                "token {:?} may not write for the committees of {} row(s) (rows {}…); nothing was written",
                caller.name,
                classified.forbidden,
                rows.join(", ")
            )))));
        }
        // The rows the file layer refused; those refused by the stored data follow.
        let parse_errors = errors.len();
        for (row, code) in &classified.rejected {
            errors.push(stored_data_error(*row, code));
        }
        let rejected = invalid_rows + classified.rejected_total;
        // How many rows `rows=` matches: every row read, or all but the unchanged.
        let matching = match options.rows {
            RowListing::None => 0,
            RowListing::All => staged + invalid_rows,
            RowListing::Changes => staged + invalid_rows - classified.unchanged,
        };
        let listed_rows = list_rows(conn, options.rows, &errors[..parse_errors], &classified)
            .map_err(Stop::Failed)?;
        let rows_truncated = (listed_rows.len() as i64) < matching;
        errors.sort_by_key(|e| e.row);
        errors.truncate(MAX_LISTED_ERRORS);
        let commit = !options.dry_run && (rejected == 0 || !options.atomic);
        let summary = ImportSummary {
            strategy: options.strategy,
            dry_run: options.dry_run,
            atomic: options.atomic,
            committed: commit,
            rows,
            created: classified.created + classified.restored,
            updated: classified.updated,
            unchanged: classified.unchanged,
            deleted: classified.deleted,
            rejected,
            errors: std::mem::take(&mut errors),
            warned: classified.warned_total,
            warnings: classified
                .warnings
                .iter()
                .map(|(row, warning)| RowWarning {
                    row: *row as usize,
                    warning: warning.clone(),
                })
                .collect(),
            listed_rows,
            rows_truncated,
        };
        if !commit {
            return Err(Stop::RollBack(Box::new(summary)));
        }
        imports::apply(
            conn,
            &classified,
            db::now(),
            &caller.name,
            caller.token_id,
            reason,
        )?;
        Ok(summary)
    });
    match outcome {
        Ok(summary) => Ok(summary),
        Err(Stop::RollBack(summary)) => Ok(*summary),
        Err(Stop::Failed(error)) => Err(error),
    }
}

impl From<tabular::TabularError> for ImportError {
    fn from(error: tabular::TabularError) -> Self {
        use tabular::TabularError;
        match error {
            TabularError::TooLarge { message } => ImportError::TooLarge(message),
            TabularError::TooComplex { message } => ImportError::TooComplex(message),
            other => ImportError::Unreadable(other.to_string()),
        }
    }
}

impl From<ImportError> for ApiError {
    fn from(error: ImportError) -> Self {
        match error {
            ImportError::Unreadable(message) => ApiError::BadRequest {
                detail: format!("the file cannot be imported: {message}; nothing was written"),
                errors: vec![FieldError::new("file", "unreadable", message)],
            },
            ImportError::TooLarge(message) => ApiError::PayloadTooLarge(format!(
                "the file cannot be imported: {message}; nothing was written"
            )),
            ImportError::TooComplex(message) => ApiError::Validation {
                detail: format!("the file cannot be imported: {message}; nothing was written"),
                errors: vec![FieldError::new("file", "too_complex", message)],
            },
            ImportError::Database(e) => e.into(),
            ImportError::Api(e) => e,
        }
    }
}
