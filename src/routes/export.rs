//! Figures exported as files: CSV, JSON or XLSX, re-importable unchanged.
//!
//! CSV and JSON are streamed. The figures are read one period span at a time
//! (every figure with the same first and last day: one year, one quarter …,
//! in period order, then committee, indicator and breakdown: a spreadsheet's
//! order, where the paged list goes by id) and encoded row by row as the query returns them (SQLite
//! steps through its rows; PostgreSQL's client library holds the span's
//! result), and each span is sent before the next is read. A national export
//! of a million figures never holds more than one span (at most committees ×
//! indicators figures) and one encoded chunk, never the file. Each span is one
//! indexed query on a pooled connection taken for that query only; the
//! client's pace decides when the next one runs.
//!
//! XLSX is a zip archive, complete only at its end: its sheet is written in
//! rust_xlsxwriter's constant-memory mode (rows go to a temporary file) and
//! the archive is sent when done.
//!
//! An export `as_of` a moment reads the same way: each span's figures are
//! the revisions standing at that moment, chosen by the database.

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use chrono::NaiveDate;
use futures_util::stream;

use super::observations::Observation;
use super::with_conn;
use crate::db::observations::{ObservationFilter, ObservationRecord};
use crate::db::{self, AnyConnection, Pool};
use crate::domain::breakdown::Breakdown;
use crate::domain::locale::{self, Locale};
use crate::error::{ApiError, FieldError};
use crate::tabular::{
    neutralise_formula, write_xlsx, CsvChunk, Format, TabularError, COLUMNS, EXPORT_ID_COLUMNS,
    MAX_XLSX_DATA_ROWS,
};

/// Columns of an XLSX export written as number cells when exact.
const NUMERIC_COLUMNS: [&str; 4] = ["value", "scale", "reported_yoy_pct", "reported_share_pct"];

/// Columns whose cells are numbers (never neutralised as formulas: `-5` is a number).
fn is_number_column(header: &str) -> bool {
    EXPORT_ID_COLUMNS.contains(&header) || NUMERIC_COLUMNS.contains(&header)
}

/// One cell of a JSON export: a number column is a JSON number, written digit
/// for digit (serde_json's arbitrary precision: exact, and re-read the same
/// whatever the locale); an empty cell is an explicit `null`.
fn json_cell(header: &str, cell: Option<String>) -> serde_json::Value {
    match cell {
        None => serde_json::Value::Null,
        Some(text) if is_number_column(header) => text.parse::<serde_json::Number>().map_or_else(
            |_| serde_json::Value::String(text),
            serde_json::Value::Number,
        ),
        Some(text) => serde_json::Value::String(text),
    }
}

/// A CSV file, UTF-8, as bytes (schema only): generated clients send and
/// read it as a file.
pub struct CsvFile;

impl utoipa::PartialSchema for CsvFile {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some(
                "A CSV file in UTF-8, with a header line of column names",
            ))
            .into()
    }
}

impl utoipa::ToSchema for CsvFile {}

/// An XLSX workbook, as bytes (schema only).
pub struct XlsxFile;

impl utoipa::PartialSchema for XlsxFile {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("An Excel workbook (Office Open XML), one worksheet"))
            .into()
    }
}

impl utoipa::ToSchema for XlsxFile {}

/// A JSON export: every matching figure (schema only; the file is streamed).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ObservationExport {
    pub observations: Vec<ExportedObservation>,
}

/// One figure of an export, with the columns and spelling of the CSV and XLSX
/// exports; every key is present (`null` when empty).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ExportedObservation {
    pub id: i64,
    pub revision: i32,
    #[schema(example = "haiphong-business-bloc")]
    pub committee: String,
    #[schema(example = "revenue")]
    pub indicator: String,
    #[schema(example = "2021")]
    pub period: String,
    /// `dimension=value` pairs joined by `;` (e.g. `sex=female`); `null` for the total.
    #[schema(example = "sex=female")]
    pub breakdown: Option<String>,
    /// Exact decimal, as a JSON number written digit for digit.
    #[schema(value_type = f64, example = 27701)]
    pub value: String,
    pub unit: crate::domain::indicator::Unit,
    pub scale: i32,
    pub status: crate::domain::value::ObservationStatus,
    pub qualifier: crate::domain::value::Qualifier,
    #[schema(value_type = Option<f64>)]
    pub reported_yoy_pct: Option<String>,
    pub reported_yoy_qualifier: Option<crate::domain::value::Qualifier>,
    #[schema(value_type = Option<f64>)]
    pub reported_share_pct: Option<String>,
    pub reported_share_qualifier: Option<crate::domain::value::Qualifier>,
    pub source: Option<String>,
    pub source_quote: Option<String>,
}

/// The export asked for by `format=` or the Accept header, if any.
pub fn export_format(
    request: &HttpRequest,
    format: Option<&str>,
) -> Result<Option<Format>, ApiError> {
    match format.map(str::trim).filter(|f| !f.is_empty()) {
        Some("json") => Ok(None),
        Some("json_export") => Ok(Some(Format::Json)),
        Some(name) => match Format::from_name(name) {
            Some(Format::Json) | None => Err(ApiError::invalid_parameter(
                "format",
                "invalid_format",
                "format is json (a page), csv, xlsx or json_export (every matching figure)",
            )),
            Some(format) => Ok(Some(format)),
        },
        None => {
            let accept = request
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            Ok([Format::Csv, Format::Xlsx].into_iter().find(|f| {
                let essence = f.content_type().split(';').next().unwrap_or_default();
                accept
                    .split(',')
                    .any(|a| a.split(';').next().unwrap_or_default().trim() == essence)
            }))
        }
    }
}

fn headers() -> Vec<&'static str> {
    EXPORT_ID_COLUMNS
        .iter()
        .chain(COLUMNS.iter())
        .copied()
        .collect()
}

/// The cells of a figure in import column order, after its id and revision;
/// decimals written as `locale` reads them back.
fn cells(record: ObservationRecord, locale: Locale) -> Result<Vec<Option<String>>, ApiError> {
    let o = Observation::try_from(record)?;
    let text = |v: &str| Some(v.to_owned());
    let number = |d: rust_decimal::Decimal| locale::format_number(d, locale);
    let breakdown = Breakdown::from_map(o.breakdown.clone())
        .map(|b| b.canonical())
        .unwrap_or_default();
    Ok(vec![
        Some(o.id.to_string()),
        Some(o.revision.to_string()),
        text(&o.committee),
        text(&o.indicator),
        text(&o.period),
        (!breakdown.is_empty()).then_some(breakdown),
        Some(number(o.value)),
        text(o.unit.as_str()),
        Some(o.scale.to_string()),
        text(o.status.as_str()),
        text(o.qualifier.as_str()),
        o.reported_yoy_pct.map(number),
        o.reported_yoy_qualifier.map(|q| q.as_str().to_owned()),
        o.reported_share_pct.map(number),
        o.reported_share_qualifier.map(|q| q.as_str().to_owned()),
        o.source,
        o.source_quote,
    ])
}

/// How rows become bytes: CSV lines (numbers written in a locale), or the
/// items of the JSON export object (numbers as JSON numbers, which no
/// locale re-reads).
#[derive(Clone, Copy)]
enum Encoder {
    Csv(Locale),
    Json { first: bool },
}

impl Encoder {
    /// How the decimals of a row are written.
    fn locale(&self) -> Locale {
        match self {
            Encoder::Csv(locale) => *locale,
            Encoder::Json { .. } => Locale::Standard,
        }
    }
}

/// Rows being encoded into one chunk of the file.
enum Chunk {
    Csv(Box<CsvChunk>, Locale),
    Json { out: Vec<u8>, first: bool },
}

impl Encoder {
    /// The start of the file.
    fn start(&self, headers: &[&str]) -> Result<Vec<u8>, ApiError> {
        match self {
            Encoder::Csv(_) => {
                let mut chunk = CsvChunk::new(headers.len());
                let names: Vec<Option<String>> =
                    headers.iter().map(|h| Some(h.to_string())).collect();
                chunk.push(&names).map_err(export_failed)?;
                chunk.finish().map_err(export_failed)
            }
            Encoder::Json { .. } => Ok(br#"{"observations":["#.to_vec()),
        }
    }

    fn chunk(&self, headers: &[&str]) -> Chunk {
        match *self {
            Encoder::Csv(locale) => Chunk::Csv(Box::new(CsvChunk::new(headers.len())), locale),
            Encoder::Json { first } => Chunk::Json {
                out: Vec::new(),
                first,
            },
        }
    }

    /// The end of the file.
    fn end(&self) -> Vec<u8> {
        match self {
            Encoder::Csv(_) => Vec::new(),
            Encoder::Json { .. } => b"\n]}\n".to_vec(),
        }
    }
}

impl Chunk {
    fn push(&mut self, headers: &[&str], row: Vec<Option<String>>) -> Result<(), ApiError> {
        match self {
            Chunk::Csv(chunk, _) => {
                // A quote or name opened in a spreadsheet must not run as a
                // formula. XLSX needs nothing: its text cells are never formulas.
                let row: Vec<Option<String>> = headers
                    .iter()
                    .zip(row)
                    .map(|(header, cell)| match cell {
                        Some(text) if !is_number_column(header) => {
                            Some(neutralise_formula(&text).into_owned())
                        }
                        other => other,
                    })
                    .collect();
                chunk.push(&row).map_err(export_failed)
            }
            Chunk::Json { out, first } => {
                // Numbers are JSON numbers (exact: serde_json keeps their
                // text), so that they re-import the same whatever the locale.
                let item: serde_json::Map<String, serde_json::Value> = headers
                    .iter()
                    .zip(row)
                    .map(|(h, c)| ((*h).to_owned(), json_cell(h, c)))
                    .collect();
                out.extend_from_slice(if *first { b"\n" } else { b",\n" });
                *first = false;
                serde_json::to_writer(out, &item).map_err(|e| ApiError::Internal(e.into()))
            }
        }
    }

    /// Its bytes, and the encoder that continues after it.
    fn finish(self) -> Result<(Vec<u8>, Encoder), ApiError> {
        match self {
            Chunk::Csv(chunk, locale) => {
                Ok((chunk.finish().map_err(export_failed)?, Encoder::Csv(locale)))
            }
            Chunk::Json { out, first } => Ok((out, Encoder::Json { first })),
        }
    }
}

/// The figures of one period span, encoded as they are read.
fn encode_span(
    conn: &mut AnyConnection,
    filter: &ObservationFilter,
    span: (NaiveDate, NaiveDate),
    encoder: Encoder,
    headers: &[&str],
) -> Result<(Vec<u8>, Encoder), ApiError> {
    let mut chunk = encoder.chunk(headers);
    let locale = encoder.locale();
    db::observations::for_each_in_span(conn, filter, span, |record| {
        chunk.push(headers, cells(record, locale)?)
    })?;
    chunk.finish()
}

/// Encoding figures read from the database cannot fail on their content: a
/// failure here is a bug.
fn export_failed(error: TabularError) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("export failed: {error}"))
}

/// The stream's state between chunks.
struct Export {
    /// The export's place in the expensive lane, until its last byte.
    _lane: tokio::sync::OwnedSemaphorePermit,
    pool: web::Data<Pool>,
    filter: std::sync::Arc<ObservationFilter>,
    headers: Vec<&'static str>,
    encoder: Encoder,
    /// Period spans not read yet.
    spans: std::vec::IntoIter<(NaiveDate, NaiveDate)>,
    started: bool,
    done: bool,
}

impl Export {
    /// The next chunk of the file, `None` once it was all sent.
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, ApiError> {
        if self.done {
            return Ok(None);
        }
        if !self.started {
            self.started = true;
            return self.encoder.start(&self.headers).map(|b| Some(b.into()));
        }
        loop {
            let (bytes, encoder) = match self.spans.next() {
                None => (Vec::new(), self.encoder),
                Some(span) => {
                    let (filter, encoder) = (self.filter.clone(), self.encoder);
                    with_conn(&self.pool, move |conn| {
                        encode_span(conn, &filter, span, encoder, &headers())
                    })
                    .await?
                }
            };
            self.encoder = encoder;
            let exhausted = self.spans.len() == 0;
            if !bytes.is_empty() {
                return Ok(Some(bytes.into()));
            }
            if exhausted {
                self.done = true;
                return Ok(Some(self.encoder.end().into()));
            }
        }
    }
}

/// Every figure matching `filter` (as known at its `as_of`, if given) as a
/// file whose text numbers are written in `locale` (CSV fields, and XLSX
/// cells that cannot be exact number cells), so that it re-imports
/// unchanged with that locale.
pub async fn export(
    read: web::Data<super::ReadPool>,
    lane: web::Data<super::HeavyLane>,
    filter: ObservationFilter,
    format: Format,
    locale: Locale,
) -> Result<HttpResponse, ApiError> {
    let permit = lane.enter().await?;
    let position = read.position().await?;
    let pool: web::Data<Pool> = read.pool().clone();
    let mut response = HttpResponse::Ok();
    super::replica_headers(&mut response, position.as_ref());
    response.content_type(format.content_type()).insert_header((
        header::CONTENT_DISPOSITION,
        format!(
            "attachment; filename=\"observations.{}\"",
            format.extension()
        ),
    ));
    let encoder = match format {
        Format::Csv => Encoder::Csv(locale),
        Format::Json => Encoder::Json { first: true },
        Format::Xlsx => return Ok(response.body(xlsx(&pool, filter, locale).await?)),
    };
    // What to read is settled before the response starts, so that a failure
    // here is still an error status.
    let filter = std::sync::Arc::new(filter);
    let spans = {
        let filter = filter.clone();
        with_conn(&pool, move |conn| {
            Ok(db::observations::spans(conn, &filter)?)
        })
        .await?
        .into_iter()
    };
    let export = Export {
        _lane: permit,
        pool,
        filter,
        headers: headers(),
        encoder,
        spans,
        started: false,
        done: false,
    };
    let body = stream::unfold(export, |mut export| async move {
        match export.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok::<_, ApiError>(chunk), export)),
            Ok(None) => None,
            Err(error) => {
                // The status is sent: cut the body short, so the client sees
                // an incomplete file rather than a wrong one.
                tracing::error!(%error, "export stopped");
                export.done = true;
                Some((Err(error), export))
            }
        }
    });
    Ok(response.streaming(body))
}

async fn xlsx(
    pool: &web::Data<Pool>,
    filter: ObservationFilter,
    locale: Locale,
) -> Result<Vec<u8>, ApiError> {
    with_conn(pool, move |conn| {
        let headers = headers();
        let too_many = |n: usize| {
            let message = format!(
                "{n} figures match, and a worksheet holds at most {MAX_XLSX_DATA_ROWS}: \
                 narrow the filters or export as CSV or JSON"
            );
            ApiError::Validation {
                detail: message.clone(),
                errors: vec![FieldError::new("format", "too_many_rows", message)],
            }
        };
        let count = usize::try_from(db::observations::count(conn, &filter)?).unwrap_or(usize::MAX);
        if count > MAX_XLSX_DATA_ROWS {
            return Err(too_many(count));
        }
        let spans = db::observations::spans(conn, &filter)?;
        let mut failure = None;
        let rows = spans
            .into_iter()
            .map_while(|span| {
                let mut rows = Vec::new();
                let read = db::observations::for_each_in_span(conn, &filter, span, |record| {
                    // Standard text here: write_xlsx turns exact numbers
                    // into number cells and writes the others in `locale`.
                    rows.push(cells(record, Locale::Standard)?);
                    Ok::<_, ApiError>(())
                });
                match read {
                    Ok(()) => Some(rows),
                    Err(error) => {
                        failure = Some(error);
                        None
                    }
                }
            })
            .flatten();
        let text_number = |text: &str| match text.parse() {
            Ok(value) => locale::format_number(value, locale),
            Err(_) => text.to_owned(),
        };
        let file = write_xlsx(&headers, &NUMERIC_COLUMNS, text_number, rows);
        match failure {
            Some(error) => Err(error),
            None => file.map_err(export_failed),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented JSON export item has the columns of the CSV and XLSX
    /// exports, in their order and spelling.
    #[test]
    fn documented_export_item_has_the_file_columns() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(ExportedObservation::schema()).unwrap();
        let documented: Vec<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(documented, headers());
    }

    #[test]
    fn json_cells_keep_numbers_exact_and_nulls_explicit() {
        assert_eq!(json_cell("id", Some("34".into())), serde_json::json!(34));
        assert_eq!(json_cell("scale", Some("9".into())), serde_json::json!(9));
        let value = json_cell("value", Some("12345678901234567.891".into()));
        assert!(value.is_number());
        assert_eq!(value.to_string(), "12345678901234567.891");
        assert_eq!(
            json_cell("source", Some("-5".into())),
            serde_json::json!("-5")
        );
        assert_eq!(json_cell("source", None), serde_json::Value::Null);
    }
}
