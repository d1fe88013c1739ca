//! Reporting periods ("kỳ báo cáo") for economic indicators.
//!
//! A [`PeriodCode`] can only be obtained by parsing or by a checked
//! constructor, so every value in the program is a real period with a year in
//! [`MIN_YEAR`]`..=`[`MAX_YEAR`] ("parse, don't validate"). Its canonical text
//! form (see [`PeriodCode::code`]) is what is stored and sent over the wire;
//! the parser additionally accepts DHIS2 codes and the phrases Vietnamese
//! reports use ("quý I/2022", "9 tháng đầu năm 2022", …).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// Earliest year a period may fall in.
pub const MIN_YEAR: i32 = 1900;
/// Latest year a period may fall in.
pub const MAX_YEAR: i32 = 2999;
/// Longest input (in characters, after trimming) that [`PeriodCode::parse`]
/// looks at; the longest legitimate form is well under half of this.
pub const MAX_INPUT_CHARS: usize = 64;

/// Human-readable examples of every form [`PeriodCode::parse`] accepts.
///
/// Each entry is an example input followed by a description in parentheses;
/// parsing is case-insensitive and tolerant of extra whitespace.
pub const ACCEPTED_FORMS: &[&str] = &[
    "2021 (year)",
    "2021-S1 (half year; S1 or S2)",
    "2021S1 (half year, DHIS2)",
    "2021-Q1 (quarter; Q1 to Q4)",
    "2021Q1 (quarter, DHIS2)",
    "2022-M03 (month)",
    "2022-03 (month, ISO 8601)",
    "202203 (month, DHIS2)",
    "2024-03-18 (day)",
    "20240318 (day, DHIS2)",
    "2022-YTD-M09 (year to date: January to month 09; months 01 to 11)",
    "năm 2021 (Vietnamese year)",
    "quý I/2022 (Vietnamese quarter; I to IV or 1 to 4)",
    "quý I năm 2022 (Vietnamese quarter)",
    "6 tháng đầu năm 2021 (Vietnamese first half year)",
    "6 tháng cuối năm 2021 (Vietnamese second half year)",
    "9 tháng đầu năm 2022 (Vietnamese first N months: 3 is quarter I, 6 the first half, 12 the year, otherwise year to date)",
    "tháng 3/2022 (Vietnamese month)",
    "tháng 3 năm 2022 (Vietnamese month)",
    "18/03/2024 (day, dd/mm/yyyy)",
    "ngày 18/3/2024 (Vietnamese day)",
    "ngày 18 tháng 3 năm 2024 (Vietnamese day)",
];

/// How often a period recurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// A calendar year.
    Annual,
    /// January–June or July–December.
    SemiAnnual,
    /// A calendar quarter.
    Quarterly,
    /// A calendar month.
    Monthly,
    /// A single day.
    Daily,
    /// Cumulative from 1 January to the end of a month ("lũy kế").
    YearToDate,
}

impl Frequency {
    /// Every frequency, coarsest regular one first.
    pub const ALL: [Frequency; 6] = [
        Frequency::Annual,
        Frequency::SemiAnnual,
        Frequency::Quarterly,
        Frequency::Monthly,
        Frequency::Daily,
        Frequency::YearToDate,
    ];

    /// The snake_case name, identical to the serde representation.
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Annual => "annual",
            Frequency::SemiAnnual => "semi_annual",
            Frequency::Quarterly => "quarterly",
            Frequency::Monthly => "monthly",
            Frequency::Daily => "daily",
            Frequency::YearToDate => "year_to_date",
        }
    }

    /// The short DHIS2-style code ("A", "S", "Q", "M", "D", "YTD").
    pub fn short_code(self) -> &'static str {
        match self {
            Frequency::Annual => "A",
            Frequency::SemiAnnual => "S",
            Frequency::Quarterly => "Q",
            Frequency::Monthly => "M",
            Frequency::Daily => "D",
            Frequency::YearToDate => "YTD",
        }
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error returned when text is not a known [`Frequency`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown frequency {input:?}; expected one of annual (A), semi_annual (S), quarterly (Q), \
     monthly (M), daily (D), year_to_date (YTD)"
)]
pub struct FrequencyParseError {
    input: String,
}

impl FrequencyParseError {
    /// The text that was rejected.
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl FromStr for Frequency {
    type Err = FrequencyParseError;

    /// Accepts the snake_case names and the short codes, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Frequency::ALL
            .into_iter()
            .find(|f| {
                wanted.eq_ignore_ascii_case(f.as_str())
                    || wanted.eq_ignore_ascii_case(f.short_code())
            })
            .ok_or_else(|| FrequencyParseError {
                input: s.to_owned(),
            })
    }
}

/// What exactly was wrong with a rejected period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PeriodParseErrorKind {
    /// Nothing but whitespace.
    #[error("the input is empty")]
    Empty,
    /// Longer than [`MAX_INPUT_CHARS`].
    #[error("the input is longer than {max_chars} characters")]
    TooLong {
        /// The limit that was exceeded.
        max_chars: usize,
    },
    /// Not shaped like any accepted form.
    #[error("it is not a recognised period format")]
    UnrecognisedFormat,
    /// Year outside [`MIN_YEAR`]`..=`[`MAX_YEAR`].
    #[error("year {year} is outside {min}..={max}", min = MIN_YEAR, max = MAX_YEAR)]
    YearOutOfRange {
        /// The year as written.
        year: i32,
    },
    /// Half other than 1 or 2.
    #[error("half {half} does not exist (expected 1 or 2)")]
    HalfOutOfRange {
        /// The half as written.
        half: u32,
    },
    /// Quarter other than 1..=4.
    #[error("quarter {quarter} does not exist (expected 1 to 4, or I to IV)")]
    QuarterOutOfRange {
        /// The quarter as written (Roman numerals converted).
        quarter: u32,
    },
    /// Month other than 1..=12.
    #[error("month {month} does not exist (expected 1 to 12)")]
    MonthOutOfRange {
        /// The month as written.
        month: u32,
    },
    /// Year and month are fine but the day is not in that month.
    #[error("{year:04}-{month:02}-{day:02} is not a calendar date")]
    InvalidDate {
        /// The year as written.
        year: i32,
        /// The month as written.
        month: u32,
        /// The day as written.
        day: u32,
    },
    /// "N tháng đầu năm" with N outside 1..=12.
    #[error("the first {months} months of a year is not a period (expected 1 to 12 months)")]
    LeadingMonthsOutOfRange {
        /// N as written.
        months: u32,
    },
    /// "N tháng cuối năm" with N other than 6; only the second half is a period.
    #[error(
        "the last {months} months of a year is not a supported period \
         (only 6 tháng cuối năm, the second half, is)"
    )]
    TrailingMonthsUnsupported {
        /// N as written.
        months: u32,
    },
    /// Year-to-date outside 1..=11 months; 12 months is the year itself.
    #[error("year to date must cover 1 to 11 months, not {months} (12 months is the whole year)")]
    YearToDateMonthsOutOfRange {
        /// The month count as written.
        months: u32,
    },
}

/// Error returned when text (or constructor arguments) do not denote a
/// [`PeriodCode`]. Its message names the input, says what was wrong and lists
/// [`ACCEPTED_FORMS`], because it usually ends up in front of an API client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid period {:?}: {kind}; accepted forms: {}",
    preview(.input),
    ACCEPTED_FORMS.join(", ")
)]
pub struct PeriodParseError {
    input: String,
    kind: PeriodParseErrorKind,
}

impl PeriodParseError {
    fn new(input: impl Into<String>, kind: PeriodParseErrorKind) -> Self {
        Self {
            input: input.into(),
            kind,
        }
    }

    /// The rejected input exactly as given. For the checked constructors this
    /// is the code the arguments would have produced, e.g. "2022-Q5".
    pub fn input(&self) -> &str {
        &self.input
    }

    /// What was wrong with it.
    pub fn kind(&self) -> PeriodParseErrorKind {
        self.kind
    }
}

/// Shortens an over-long input so error messages stay readable.
fn preview(input: &str) -> String {
    match input.char_indices().nth(MAX_INPUT_CHARS) {
        Some((cut, _)) => format!("{}…", &input[..cut]),
        None => input.to_owned(),
    }
}

/// A reporting period: a year, half year, quarter, month, day or
/// year-to-date span, always with a year in [`MIN_YEAR`]`..=`[`MAX_YEAR`].
///
/// Ordering is chronological: by [`start`](Self::start), then by
/// [`end`](Self::end) (so `2021-M01 < 2021-Q1 < 2021-S1 < 2021`), and finally
/// by [`frequency`](Self::frequency) so that periods with the same span but a
/// different kind (`2022-M01` and `2022-YTD-M01`) still have a total order
/// consistent with `Eq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PeriodCode {
    kind: PeriodKind,
}

/// The private representation; every constructor checks the ranges, so code
/// reading a `PeriodKind` may rely on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum PeriodKind {
    Year(i32),
    /// Half 1..=2.
    Half(i32, u8),
    /// Quarter 1..=4.
    Quarter(i32, u8),
    /// Month 1..=12.
    Month(i32, u8),
    Day(NaiveDate),
    /// 1 January through the end of month `months` (1..=11).
    YearToDate {
        year: i32,
        months: u8,
    },
}

impl PeriodKind {
    fn year(self) -> i32 {
        match self {
            PeriodKind::Year(year)
            | PeriodKind::Half(year, _)
            | PeriodKind::Quarter(year, _)
            | PeriodKind::Month(year, _)
            | PeriodKind::YearToDate { year, .. } => year,
            PeriodKind::Day(date) => date.year(),
        }
    }
}

/// A period seen as calendar months `(year, first, last)` or as one day.
enum Span {
    Months(i32, u8, u8),
    Day(NaiveDate),
}

type KindResult = Result<PeriodKind, PeriodParseErrorKind>;

fn checked_year(year: i32) -> Result<i32, PeriodParseErrorKind> {
    if (MIN_YEAR..=MAX_YEAR).contains(&year) {
        Ok(year)
    } else {
        Err(PeriodParseErrorKind::YearOutOfRange { year })
    }
}

/// Narrows `value` to `u8` if it lies in `1..=max`.
fn in_one_to(value: u32, max: u8) -> Option<u8> {
    u8::try_from(value).ok().filter(|v| (1..=max).contains(v))
}

fn build_year(year: i32) -> KindResult {
    Ok(PeriodKind::Year(checked_year(year)?))
}

fn build_half(year: i32, half: u32) -> KindResult {
    let year = checked_year(year)?;
    let half = in_one_to(half, 2).ok_or(PeriodParseErrorKind::HalfOutOfRange { half })?;
    Ok(PeriodKind::Half(year, half))
}

fn build_quarter(year: i32, quarter: u32) -> KindResult {
    let year = checked_year(year)?;
    let quarter =
        in_one_to(quarter, 4).ok_or(PeriodParseErrorKind::QuarterOutOfRange { quarter })?;
    Ok(PeriodKind::Quarter(year, quarter))
}

fn build_month(year: i32, month: u32) -> KindResult {
    let year = checked_year(year)?;
    let month = in_one_to(month, 12).ok_or(PeriodParseErrorKind::MonthOutOfRange { month })?;
    Ok(PeriodKind::Month(year, month))
}

fn build_day(year: i32, month: u32, day: u32) -> KindResult {
    let year = checked_year(year)?;
    in_one_to(month, 12).ok_or(PeriodParseErrorKind::MonthOutOfRange { month })?;
    NaiveDate::from_ymd_opt(year, month, day)
        .map(PeriodKind::Day)
        .ok_or(PeriodParseErrorKind::InvalidDate { year, month, day })
}

fn build_year_to_date(year: i32, months: u32) -> KindResult {
    let year = checked_year(year)?;
    let months =
        in_one_to(months, 11).ok_or(PeriodParseErrorKind::YearToDateMonthsOutOfRange { months })?;
    Ok(PeriodKind::YearToDate { year, months })
}

/// "N tháng đầu năm": reports use it for quarter I, the first half and the
/// whole year too, so those map to the regular periods rather than to
/// year-to-date.
fn build_leading_months(year: i32, months: u32) -> KindResult {
    match months {
        3 => build_quarter(year, 1),
        6 => build_half(year, 1),
        12 => build_year(year),
        1..=11 => build_year_to_date(year, months),
        _ => {
            checked_year(year)?;
            Err(PeriodParseErrorKind::LeadingMonthsOutOfRange { months })
        }
    }
}

fn build_trailing_months(year: i32, months: u32) -> KindResult {
    if months == 6 {
        build_half(year, 2)
    } else {
        checked_year(year)?;
        Err(PeriodParseErrorKind::TrailingMonthsUnsupported { months })
    }
}

fn first_day_of_month(year: i32, month: u8) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, u32::from(month), 1)
        .expect("PeriodCode keeps years in 1900..=3000 and months in 1..=12")
}

fn last_day_of_month(year: i32, month: u8) -> NaiveDate {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    first_day_of_month(next_year, next_month)
        .pred_opt()
        .expect("the day before the first of a month after 1900 exists")
}

const ROMAN_NUMERALS: [&str; 4] = ["I", "II", "III", "IV"];

/// Lower-case Roman numerals a quarter might be written with; beyond IV only
/// so that "quý V" gets a "quarter 5 does not exist" message.
const ROMAN_NUMERALS_LOWER: [&str; 12] = [
    "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii",
];

/// A lexical piece of normalised input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// A run of ASCII digits.
    Number(&'a str),
    /// A run of letters (Vietnamese letters are single chars after NFC).
    Word(&'a str),
    /// `-` or `/`.
    Symbol(char),
    /// One space (runs were collapsed before tokenising).
    Space,
}

/// NFC-normalises (so decomposed Vietnamese compares equal to composed),
/// lower-cases and collapses every whitespace run, including non-breaking
/// spaces, to a single ASCII space.
fn normalise(input: &str) -> String {
    // ASCII text is already NFC.
    let composed: std::borrow::Cow<'_, str> = if input.is_ascii() {
        input.into()
    } else {
        input.nfc().collect::<String>().into()
    };
    composed
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Splits normalised text into tokens; `None` if it holds a character no
/// accepted form uses.
fn tokenise(text: &str) -> Option<Vec<Token<'_>>> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(first) = rest.chars().next() {
        let run_len = |keep: fn(char) -> bool| rest.find(|c: char| !keep(c)).unwrap_or(rest.len());
        let (token, len) = if first.is_ascii_digit() {
            let len = run_len(|c| c.is_ascii_digit());
            (Token::Number(&rest[..len]), len)
        } else if first.is_alphabetic() {
            let len = run_len(char::is_alphabetic);
            (Token::Word(&rest[..len]), len)
        } else if first == ' ' {
            (Token::Space, 1)
        } else if first == '-' || first == '/' {
            (Token::Symbol(first), 1)
        } else {
            return None;
        };
        tokens.push(token);
        rest = &rest[len..];
    }
    // Spaces next to a separator carry no meaning ("quý I / 2022" is written
    // in reports), so drop them and let the patterns ignore them.
    let is_symbol = |t: Option<&Token<'_>>| matches!(t, Some(Token::Symbol(_)));
    let kept = (0..tokens.len())
        .filter(|&i| {
            tokens[i] != Token::Space
                || !(is_symbol(i.checked_sub(1).and_then(|p| tokens.get(p)))
                    || is_symbol(tokens.get(i + 1)))
        })
        .map(|i| tokens[i])
        .collect();
    Some(kept)
}

/// A number of 1..=`max_digits` digits; anything longer is not a form we know.
fn small_number(digits: &str, max_digits: usize) -> Result<u32, PeriodParseErrorKind> {
    if digits.len() > max_digits {
        return Err(PeriodParseErrorKind::UnrecognisedFormat);
    }
    digits
        .parse()
        .map_err(|_| PeriodParseErrorKind::UnrecognisedFormat)
}

/// Exactly four digits, as every accepted form writes the year.
fn four_digit_year(digits: &str) -> Result<i32, PeriodParseErrorKind> {
    if digits.len() != 4 {
        return Err(PeriodParseErrorKind::UnrecognisedFormat);
    }
    digits
        .parse()
        .map_err(|_| PeriodParseErrorKind::UnrecognisedFormat)
}

/// A Vietnamese quarter number: Arabic ("1") or Roman ("I", already lower-cased).
fn quarter_number(token: &Token<'_>) -> Result<u32, PeriodParseErrorKind> {
    match token {
        Token::Number(digits) => small_number(digits, 2),
        Token::Word(word) => ROMAN_NUMERALS_LOWER
            .iter()
            .zip(1..)
            .find_map(|(numeral, value)| (numeral == word).then_some(value))
            .ok_or(PeriodParseErrorKind::UnrecognisedFormat),
        _ => Err(PeriodParseErrorKind::UnrecognisedFormat),
    }
}

/// Matches the token shapes of every accepted form; values are range-checked
/// by the `build_*` functions so the error says which part is wrong.
fn parse_tokens(tokens: &[Token<'_>]) -> KindResult {
    use Token::{Number as N, Space as Sp, Symbol as S, Word as W};
    match tokens {
        // 2021 / 202203 (DHIS2 month) / 20240318 (DHIS2 day)
        [N(digits)] => match digits.len() {
            4 => build_year(four_digit_year(digits)?),
            6 => build_month(
                four_digit_year(&digits[..4])?,
                small_number(&digits[4..], 2)?,
            ),
            8 => build_day(
                four_digit_year(&digits[..4])?,
                small_number(&digits[4..6], 2)?,
                small_number(&digits[6..], 2)?,
            ),
            _ => Err(PeriodParseErrorKind::UnrecognisedFormat),
        },
        // 2021-S1 / 2021S1
        [N(y), S('-'), W("s"), N(h)] | [N(y), W("s"), N(h)] => {
            build_half(four_digit_year(y)?, small_number(h, 1)?)
        }
        // 2021-Q1 / 2021Q1
        [N(y), S('-'), W("q"), N(q)] | [N(y), W("q"), N(q)] => {
            build_quarter(four_digit_year(y)?, small_number(q, 1)?)
        }
        // 2022-M03 / 2022-03; two-digit months keep codes fixed-width.
        [N(y), S('-'), W("m"), N(m)] | [N(y), S('-'), N(m)] if m.len() == 2 => {
            build_month(four_digit_year(y)?, small_number(m, 2)?)
        }
        // 2024-03-18
        [N(y), S('-'), N(m), S('-'), N(d)] if m.len() == 2 && d.len() == 2 => build_day(
            four_digit_year(y)?,
            small_number(m, 2)?,
            small_number(d, 2)?,
        ),
        // 2022-YTD-M09
        [N(y), S('-'), W("ytd"), S('-'), W("m"), N(m)] if m.len() == 2 => {
            build_year_to_date(four_digit_year(y)?, small_number(m, 2)?)
        }
        // năm 2021
        [W("năm"), Sp, N(y)] => build_year(four_digit_year(y)?),
        // quý I/2022, quý 1 năm 2022; "qúy" is the old-style tone placement
        // still found in documents.
        [W("quý" | "qúy"), Sp, q, S('/'), N(y)]
        | [W("quý" | "qúy"), Sp, q, Sp, W("năm"), Sp, N(y)] => {
            build_quarter(four_digit_year(y)?, quarter_number(q)?)
        }
        // 9 tháng đầu năm 2022 / 6 tháng cuối năm 2021
        [N(n), Sp, W("tháng"), Sp, W(edge @ ("đầu" | "cuối")), Sp, W("năm"), Sp, N(y)] => {
            let (year, months) = (four_digit_year(y)?, small_number(n, 2)?);
            if *edge == "đầu" {
                build_leading_months(year, months)
            } else {
                build_trailing_months(year, months)
            }
        }
        // tháng 3/2022, tháng 3 năm 2022
        [W("tháng"), Sp, N(m), S('/'), N(y)] | [W("tháng"), Sp, N(m), Sp, W("năm"), Sp, N(y)] => {
            build_month(four_digit_year(y)?, small_number(m, 2)?)
        }
        // 18/03/2024, ngày 18/3/2024, ngày 18 tháng 3 năm 2024
        [N(d), S('/'), N(m), S('/'), N(y)]
        | [W("ngày"), Sp, N(d), S('/'), N(m), S('/'), N(y)]
        | [W("ngày"), Sp, N(d), Sp, W("tháng"), Sp, N(m), Sp, W("năm"), Sp, N(y)] => build_day(
            four_digit_year(y)?,
            small_number(m, 2)?,
            small_number(d, 2)?,
        ),
        _ => Err(PeriodParseErrorKind::UnrecognisedFormat),
    }
}

impl PeriodCode {
    /// Parses any of the [`ACCEPTED_FORMS`].
    ///
    /// Surrounding whitespace is ignored, internal whitespace runs (including
    /// non-breaking spaces) count as one space, letters are case-insensitive
    /// and the text is NFC-normalised first, so decomposed (NFD) Vietnamese
    /// from PDFs or macOS parses too.
    pub fn parse(input: &str) -> Result<Self, PeriodParseError> {
        let fail = |kind| PeriodParseError::new(input, kind);
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(fail(PeriodParseErrorKind::Empty));
        }
        // Checked before normalising so huge inputs cost nothing.
        if trimmed.chars().nth(MAX_INPUT_CHARS).is_some() {
            return Err(fail(PeriodParseErrorKind::TooLong {
                max_chars: MAX_INPUT_CHARS,
            }));
        }
        let normalised = normalise(trimmed);
        let tokens =
            tokenise(&normalised).ok_or_else(|| fail(PeriodParseErrorKind::UnrecognisedFormat))?;
        parse_tokens(&tokens)
            .map(|kind| Self { kind })
            .map_err(fail)
    }

    /// The calendar year `year`. (Named `calendar_year` because
    /// [`year`](Self::year) is the accessor.)
    pub fn calendar_year(year: i32) -> Result<Self, PeriodParseError> {
        build_year(year)
            .map(|kind| Self { kind })
            .map_err(|e| PeriodParseError::new(year.to_string(), e))
    }

    /// Half `half` (1 or 2) of `year`.
    pub fn half(year: i32, half: u8) -> Result<Self, PeriodParseError> {
        build_half(year, u32::from(half))
            .map(|kind| Self { kind })
            .map_err(|e| PeriodParseError::new(format!("{year}-S{half}"), e))
    }

    /// Quarter `quarter` (1..=4) of `year`.
    pub fn quarter(year: i32, quarter: u8) -> Result<Self, PeriodParseError> {
        build_quarter(year, u32::from(quarter))
            .map(|kind| Self { kind })
            .map_err(|e| PeriodParseError::new(format!("{year}-Q{quarter}"), e))
    }

    /// Month `month` (1..=12) of `year`.
    pub fn month(year: i32, month: u8) -> Result<Self, PeriodParseError> {
        build_month(year, u32::from(month))
            .map(|kind| Self { kind })
            .map_err(|e| PeriodParseError::new(format!("{year}-M{month:02}"), e))
    }

    /// The single day `date`; fails only when its year is out of range.
    pub fn day(date: NaiveDate) -> Result<Self, PeriodParseError> {
        checked_year(date.year())
            .map(|_| Self {
                kind: PeriodKind::Day(date),
            })
            .map_err(|e| PeriodParseError::new(date.to_string(), e))
    }

    /// 1 January through the end of month `months` (1..=11) of `year`.
    /// Twelve months is rejected because that is the year itself; use
    /// [`calendar_year`](Self::calendar_year).
    pub fn year_to_date(year: i32, months: u8) -> Result<Self, PeriodParseError> {
        build_year_to_date(year, u32::from(months))
            .map(|kind| Self { kind })
            .map_err(|e| PeriodParseError::new(format!("{year}-YTD-M{months:02}"), e))
    }

    /// Wraps a kind computed from a valid one, dropping it if the arithmetic
    /// left the supported year range.
    fn in_range(kind: PeriodKind) -> Option<Self> {
        checked_year(kind.year()).ok().map(|_| Self { kind })
    }

    /// The calendar year the period falls in.
    pub fn year(&self) -> i32 {
        self.kind.year()
    }

    /// The kind of period.
    pub fn frequency(&self) -> Frequency {
        match self.kind {
            PeriodKind::Year(_) => Frequency::Annual,
            PeriodKind::Half(..) => Frequency::SemiAnnual,
            PeriodKind::Quarter(..) => Frequency::Quarterly,
            PeriodKind::Month(..) => Frequency::Monthly,
            PeriodKind::Day(_) => Frequency::Daily,
            PeriodKind::YearToDate { .. } => Frequency::YearToDate,
        }
    }

    /// The period as whole months, or the single day it is.
    fn span(&self) -> Span {
        match self.kind {
            PeriodKind::Year(year) => Span::Months(year, 1, 12),
            PeriodKind::Half(year, half) => Span::Months(year, half * 6 - 5, half * 6),
            PeriodKind::Quarter(year, quarter) => Span::Months(year, quarter * 3 - 2, quarter * 3),
            PeriodKind::Month(year, month) => Span::Months(year, month, month),
            PeriodKind::YearToDate { year, months } => Span::Months(year, 1, months),
            PeriodKind::Day(date) => Span::Day(date),
        }
    }

    /// `(year, first month, last month)` for every kind except a day
    /// (`2022-YTD-M09` is `(2022, 1, 9)`).
    pub fn month_span(&self) -> Option<(i32, u8, u8)> {
        match self.span() {
            Span::Months(year, first, last) => Some((year, first, last)),
            Span::Day(_) => None,
        }
    }

    /// First day of the period.
    pub fn start(&self) -> NaiveDate {
        match self.span() {
            Span::Months(year, first, _) => first_day_of_month(year, first),
            Span::Day(date) => date,
        }
    }

    /// Last day of the period, inclusive.
    pub fn end(&self) -> NaiveDate {
        match self.span() {
            Span::Months(year, _, last) => last_day_of_month(year, last),
            Span::Day(date) => date,
        }
    }

    /// The canonical code, e.g. "2021-Q1"; the same text as `Display`.
    pub fn code(&self) -> String {
        self.to_string()
    }

    /// The same period one year earlier, for year-on-year comparisons
    /// ("so với cùng kỳ năm trước"). 29 February maps to 28 February.
    /// `None` only for periods in [`MIN_YEAR`], whose predecessor is out of
    /// range.
    pub fn same_period_previous_year(&self) -> Option<PeriodCode> {
        let year = self.year() - 1;
        let kind = match self.kind {
            PeriodKind::Year(_) => PeriodKind::Year(year),
            PeriodKind::Half(_, half) => PeriodKind::Half(year, half),
            PeriodKind::Quarter(_, quarter) => PeriodKind::Quarter(year, quarter),
            PeriodKind::Month(_, month) => PeriodKind::Month(year, month),
            // chrono clamps to the month's last day, which is what we want for
            // 29 February.
            PeriodKind::Day(date) => PeriodKind::Day(date.checked_sub_months(Months::new(12))?),
            PeriodKind::YearToDate { months, .. } => PeriodKind::YearToDate { year, months },
        };
        Self::in_range(kind)
    }

    /// The adjacent earlier period of the same frequency (2022-Q1 → 2021-Q4).
    /// `None` for year to date, since cumulative periods overlap rather than
    /// follow each other, and at [`MIN_YEAR`].
    pub fn previous_period(&self) -> Option<PeriodCode> {
        let kind = match self.kind {
            PeriodKind::Year(year) => PeriodKind::Year(year - 1),
            PeriodKind::Half(year, 1) => PeriodKind::Half(year - 1, 2),
            PeriodKind::Half(year, half) => PeriodKind::Half(year, half - 1),
            PeriodKind::Quarter(year, 1) => PeriodKind::Quarter(year - 1, 4),
            PeriodKind::Quarter(year, quarter) => PeriodKind::Quarter(year, quarter - 1),
            PeriodKind::Month(year, 1) => PeriodKind::Month(year - 1, 12),
            PeriodKind::Month(year, month) => PeriodKind::Month(year, month - 1),
            PeriodKind::Day(date) => PeriodKind::Day(date.pred_opt()?),
            PeriodKind::YearToDate { .. } => return None,
        };
        Self::in_range(kind)
    }

    /// The adjacent later period of the same frequency (2021-Q4 → 2022-Q1).
    /// `None` for year to date (see [`previous_period`](Self::previous_period))
    /// and at [`MAX_YEAR`].
    pub fn next_period(&self) -> Option<PeriodCode> {
        let kind = match self.kind {
            PeriodKind::Year(year) => PeriodKind::Year(year + 1),
            PeriodKind::Half(year, 2) => PeriodKind::Half(year + 1, 1),
            PeriodKind::Half(year, half) => PeriodKind::Half(year, half + 1),
            PeriodKind::Quarter(year, 4) => PeriodKind::Quarter(year + 1, 1),
            PeriodKind::Quarter(year, quarter) => PeriodKind::Quarter(year, quarter + 1),
            PeriodKind::Month(year, 12) => PeriodKind::Month(year + 1, 1),
            PeriodKind::Month(year, month) => PeriodKind::Month(year, month + 1),
            PeriodKind::Day(date) => PeriodKind::Day(date.succ_opt()?),
            PeriodKind::YearToDate { .. } => return None,
        };
        Self::in_range(kind)
    }

    /// How many whole calendar months the period covers; `None` for a day.
    pub fn months(&self) -> Option<u32> {
        self.month_span()
            .map(|(_, first, last)| u32::from(last - first + 1))
    }

    /// The periods of `frequency` that exactly tile this one, in order
    /// (a year → 4 quarters, 2022-YTD-M09 → 3 quarters). `Some(vec![self])`
    /// for the period's own frequency. `None` when they do not tile it: a
    /// coarser or misaligned frequency (quarter → halves, YTD-M10 →
    /// quarters), days (not months, so not a useful breakdown) or year to
    /// date (cumulative periods overlap).
    pub fn sub_periods(&self, frequency: Frequency) -> Option<Vec<PeriodCode>> {
        if frequency == self.frequency() {
            return Some(vec![*self]);
        }
        let (year, first, last) = self.month_span()?;
        let (step, tile): (u8, fn(i32, u8) -> PeriodKind) = match frequency {
            Frequency::SemiAnnual => (6, |year, first| PeriodKind::Half(year, first / 6 + 1)),
            Frequency::Quarterly => (3, |year, first| PeriodKind::Quarter(year, first / 3 + 1)),
            Frequency::Monthly => (1, PeriodKind::Month),
            // Only a year is tiled by a year, and that was handled above.
            Frequency::Annual | Frequency::Daily | Frequency::YearToDate => return None,
        };
        let covered = last - first + 1;
        if (first - 1) % step != 0 || covered % step != 0 {
            return None;
        }
        let tiles = (first..=last)
            .step_by(usize::from(step))
            .map(|first_month| Self {
                kind: tile(year, first_month),
            })
            .collect();
        Some(tiles)
    }

    /// Whether every day of `other` lies within this period.
    pub fn contains(&self, other: &PeriodCode) -> bool {
        self.start() <= other.start() && other.end() <= self.end()
    }

    /// The period as a Vietnamese report writes it ("quý I/2022",
    /// "9 tháng đầu năm 2022"). [`parse`](Self::parse) reads it back to the
    /// same span; for `YYYY-YTD-M03` and `YYYY-YTD-M06` the phrase is the same
    /// as for quarter I and the first half, so those come back as `YYYY-Q1` and
    /// `YYYY-S1`.
    pub fn vietnamese_label(&self) -> String {
        match self.kind {
            PeriodKind::Year(year) => format!("năm {year}"),
            PeriodKind::Half(year, 1) => format!("6 tháng đầu năm {year}"),
            PeriodKind::Half(year, _) => format!("6 tháng cuối năm {year}"),
            PeriodKind::Quarter(year, quarter) => {
                let numeral = ROMAN_NUMERALS
                    .get(usize::from(quarter) - 1)
                    .copied()
                    .unwrap_or("?");
                format!("quý {numeral}/{year}")
            }
            PeriodKind::Month(year, month) => format!("tháng {month}/{year}"),
            PeriodKind::Day(date) => {
                format!("{:02}/{:02}/{}", date.day(), date.month(), date.year())
            }
            PeriodKind::YearToDate { year, months } => format!("{months} tháng đầu năm {year}"),
        }
    }
}

impl fmt::Display for PeriodCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PeriodKind::Year(year) => write!(f, "{year}"),
            PeriodKind::Half(year, half) => write!(f, "{year}-S{half}"),
            PeriodKind::Quarter(year, quarter) => write!(f, "{year}-Q{quarter}"),
            PeriodKind::Month(year, month) => write!(f, "{year}-M{month:02}"),
            PeriodKind::Day(date) => write!(
                f,
                "{:04}-{:02}-{:02}",
                date.year(),
                date.month(),
                date.day()
            ),
            PeriodKind::YearToDate { year, months } => write!(f, "{year}-YTD-M{months:02}"),
        }
    }
}

impl Ord for PeriodCode {
    /// Chronological: start, then end, then frequency (see the type docs).
    fn cmp(&self, other: &Self) -> Ordering {
        (self.start(), self.end(), self.frequency()).cmp(&(
            other.start(),
            other.end(),
            other.frequency(),
        ))
    }
}

impl PartialOrd for PeriodCode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for PeriodCode {
    type Err = PeriodParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for PeriodCode {
    type Error = PeriodParseError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl TryFrom<String> for PeriodCode {
    type Error = PeriodParseError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PeriodCode> for String {
    fn from(period: PeriodCode) -> Self {
        period.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    fn p(text: &str) -> PeriodCode {
        PeriodCode::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
    }

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("test dates are valid")
    }

    fn codes(periods: &[PeriodCode]) -> Vec<String> {
        periods.iter().map(PeriodCode::code).collect()
    }

    #[test]
    fn parses_every_accepted_form_to_its_canonical_code() {
        let cases = [
            // canonical
            ("2021", "2021"),
            ("2021-S1", "2021-S1"),
            ("2021-S2", "2021-S2"),
            ("2021-Q1", "2021-Q1"),
            ("2021-Q4", "2021-Q4"),
            ("2022-M03", "2022-M03"),
            ("2022-M12", "2022-M12"),
            ("2024-03-18", "2024-03-18"),
            ("2022-YTD-M09", "2022-YTD-M09"),
            ("2022-YTD-M01", "2022-YTD-M01"),
            ("2022-YTD-M11", "2022-YTD-M11"),
            // case-insensitive canonical
            ("2021-s2", "2021-S2"),
            ("2021-q3", "2021-Q3"),
            ("2022-m03", "2022-M03"),
            ("2022-ytd-m09", "2022-YTD-M09"),
            // DHIS2 and ISO
            ("2021Q1", "2021-Q1"),
            ("2021q2", "2021-Q2"),
            ("2021S1", "2021-S1"),
            ("202203", "2022-M03"),
            ("202212", "2022-M12"),
            ("20240318", "2024-03-18"),
            ("2022-03", "2022-M03"),
            // Vietnamese year
            ("năm 2021", "2021"),
            ("Năm 2021", "2021"),
            ("NĂM 2021", "2021"),
            // Vietnamese quarters
            ("quý I/2022", "2022-Q1"),
            ("quý II/2022", "2022-Q2"),
            ("quý III/2022", "2022-Q3"),
            ("quý IV/2022", "2022-Q4"),
            ("Quý IV/2022", "2022-Q4"),
            ("QUÝ iv/2022", "2022-Q4"),
            ("quý 1/2022", "2022-Q1"),
            ("quý 4/2022", "2022-Q4"),
            ("quý I năm 2022", "2022-Q1"),
            ("quý 1 năm 2022", "2022-Q1"),
            ("quý III năm 2022", "2022-Q3"),
            ("quý I / 2022", "2022-Q1"),
            ("quý II /2022", "2022-Q2"),
            ("qúy II/2022", "2022-Q2"),
            // halves and first-N-months
            ("6 tháng đầu năm 2021", "2021-S1"),
            ("6 tháng cuối năm 2021", "2021-S2"),
            ("06 tháng đầu năm 2021", "2021-S1"),
            ("1 tháng đầu năm 2022", "2022-YTD-M01"),
            ("2 tháng đầu năm 2022", "2022-YTD-M02"),
            ("3 tháng đầu năm 2022", "2022-Q1"),
            ("5 tháng đầu năm 2022", "2022-YTD-M05"),
            ("9 tháng đầu năm 2022", "2022-YTD-M09"),
            ("11 tháng đầu năm 2022", "2022-YTD-M11"),
            ("12 tháng đầu năm 2022", "2022"),
            // Vietnamese months
            ("tháng 3/2022", "2022-M03"),
            ("tháng 03/2022", "2022-M03"),
            ("Tháng 12/2022", "2022-M12"),
            ("tháng 3 năm 2022", "2022-M03"),
            ("tháng 3 / 2022", "2022-M03"),
            // days
            ("18/03/2024", "2024-03-18"),
            ("18/3/2024", "2024-03-18"),
            ("1/1/2024", "2024-01-01"),
            ("ngày 18/3/2024", "2024-03-18"),
            ("Ngày 18/03/2024", "2024-03-18"),
            ("ngày 18 tháng 3 năm 2024", "2024-03-18"),
            ("29/02/2024", "2024-02-29"),
            // year range bounds
            ("1900", "1900"),
            ("2999-Q4", "2999-Q4"),
        ];
        for (input, expected) in cases {
            assert_eq!(p(input).code(), expected, "input {input:?}");
        }
    }

    #[test]
    fn whitespace_is_trimmed_and_collapsed_including_non_breaking_space() {
        let cases = [
            ("  2021-Q1 \n", "2021-Q1"),
            ("\tnăm   2021", "2021"),
            ("quý\u{00A0}I/2022", "2022-Q1"),
            (
                "9\u{00A0}tháng\u{00A0}đầu\u{00A0}năm\u{00A0}2022",
                "2022-YTD-M09",
            ),
            ("ngày  18   tháng 3\tnăm 2024", "2024-03-18"),
            ("\u{00A0}2022-M03\u{00A0}", "2022-M03"),
        ];
        for (input, expected) in cases {
            assert_eq!(p(input).code(), expected, "input {input:?}");
        }
    }

    #[test]
    fn decomposed_vietnamese_parses_like_composed() {
        let composed = [
            ("quý I/2022", "2022-Q1"),
            ("Quý IV năm 2022", "2022-Q4"),
            ("năm 2021", "2021"),
            ("6 tháng cuối năm 2021", "2021-S2"),
            ("9 tháng đầu năm 2022", "2022-YTD-M09"),
            ("tháng 3 năm 2022", "2022-M03"),
            ("ngày 18 tháng 3 năm 2024", "2024-03-18"),
        ];
        for (text, expected) in composed {
            let decomposed: String = text.nfd().collect();
            // Guard against the test silently comparing NFC with itself.
            assert_ne!(decomposed, text);
            assert!(decomposed.chars().count() > text.chars().count());
            assert_eq!(p(&decomposed).code(), expected, "NFD of {text:?}");
        }
        // The literal decomposed spelling, independent of the library.
        assert_eq!(p("quy\u{0301} I/2022").code(), "2022-Q1");
    }

    #[test]
    fn rejects_bad_input_with_a_specific_reason() {
        use PeriodParseErrorKind as K;
        let too_long = "2".repeat(MAX_INPUT_CHARS + 1);
        let cases: Vec<(&str, PeriodParseErrorKind)> = vec![
            ("", K::Empty),
            ("   ", K::Empty),
            ("\u{00A0}\t", K::Empty),
            (
                &too_long,
                K::TooLong {
                    max_chars: MAX_INPUT_CHARS,
                },
            ),
            ("abc", K::UnrecognisedFormat),
            ("21", K::UnrecognisedFormat),
            ("20211", K::UnrecognisedFormat),
            ("2021-Q", K::UnrecognisedFormat),
            ("2021-Q01", K::UnrecognisedFormat),
            ("2021-M3", K::UnrecognisedFormat),
            ("2021-3", K::UnrecognisedFormat),
            ("2021 Q1", K::UnrecognisedFormat),
            ("2021-H1", K::UnrecognisedFormat),
            ("2021.03", K::UnrecognisedFormat),
            ("2024-3-18", K::UnrecognisedFormat),
            ("quý/2022", K::UnrecognisedFormat),
            ("quý X1/2022", K::UnrecognisedFormat),
            ("quýI/2022", K::UnrecognisedFormat),
            ("quý I/22", K::UnrecognisedFormat),
            ("tháng 3/22", K::UnrecognisedFormat),
            ("năm", K::UnrecognisedFormat),
            ("2021\u{200B}", K::UnrecognisedFormat),
            ("２０２１", K::UnrecognisedFormat),
            ("1899", K::YearOutOfRange { year: 1899 }),
            ("3000", K::YearOutOfRange { year: 3000 }),
            ("0000-Q1", K::YearOutOfRange { year: 0 }),
            ("năm 1800", K::YearOutOfRange { year: 1800 }),
            ("2021-S3", K::HalfOutOfRange { half: 3 }),
            ("2021S0", K::HalfOutOfRange { half: 0 }),
            ("2021-Q5", K::QuarterOutOfRange { quarter: 5 }),
            ("2021Q0", K::QuarterOutOfRange { quarter: 0 }),
            ("quý V/2022", K::QuarterOutOfRange { quarter: 5 }),
            ("quý 5 năm 2022", K::QuarterOutOfRange { quarter: 5 }),
            ("2022-M13", K::MonthOutOfRange { month: 13 }),
            ("2022-M00", K::MonthOutOfRange { month: 0 }),
            ("202213", K::MonthOutOfRange { month: 13 }),
            ("2022-13", K::MonthOutOfRange { month: 13 }),
            ("tháng 13/2022", K::MonthOutOfRange { month: 13 }),
            (
                "2023-02-29",
                K::InvalidDate {
                    year: 2023,
                    month: 2,
                    day: 29,
                },
            ),
            (
                "29/02/2023",
                K::InvalidDate {
                    year: 2023,
                    month: 2,
                    day: 29,
                },
            ),
            (
                "20230431",
                K::InvalidDate {
                    year: 2023,
                    month: 4,
                    day: 31,
                },
            ),
            (
                "ngày 0 tháng 3 năm 2024",
                K::InvalidDate {
                    year: 2024,
                    month: 3,
                    day: 0,
                },
            ),
            ("18/13/2024", K::MonthOutOfRange { month: 13 }),
            (
                "0 tháng đầu năm 2022",
                K::LeadingMonthsOutOfRange { months: 0 },
            ),
            (
                "13 tháng đầu năm 2022",
                K::LeadingMonthsOutOfRange { months: 13 },
            ),
            (
                "3 tháng cuối năm 2022",
                K::TrailingMonthsUnsupported { months: 3 },
            ),
            ("2022-YTD-M12", K::YearToDateMonthsOutOfRange { months: 12 }),
            ("2022-YTD-M00", K::YearToDateMonthsOutOfRange { months: 0 }),
        ];
        for (input, expected) in cases {
            let error = PeriodCode::parse(input).expect_err(input);
            assert_eq!(error.kind(), expected, "input {input:?}");
            assert_eq!(error.input(), input);
            let message = error.to_string();
            assert!(
                message.contains(&format!("{:?}", preview(input))),
                "{message} should name {input:?}"
            );
            assert!(
                message.contains("quý I/2022 (Vietnamese quarter"),
                "{message}"
            );
        }
    }

    #[test]
    fn error_message_explains_the_problem() {
        let error = PeriodCode::parse("2021-Q5").expect_err("quarter 5");
        assert_eq!(
            error.to_string().split("; accepted forms").next(),
            Some("invalid period \"2021-Q5\": quarter 5 does not exist (expected 1 to 4, or I to IV)")
        );
        for form in ACCEPTED_FORMS {
            assert!(error.to_string().contains(form), "missing {form}");
        }
    }

    #[test]
    fn error_message_truncates_very_long_input_but_keeps_it_whole() {
        let long = format!("quý I/2022{}", "x".repeat(200));
        let error = PeriodCode::parse(&long).expect_err("too long");
        assert_eq!(error.input(), long);
        let message = error.to_string();
        assert!(!message.contains(&long));
        assert!(message.contains('…'));
    }

    #[test]
    fn every_accepted_form_example_parses() {
        for form in ACCEPTED_FORMS {
            let (example, description) = form.split_once(" (").expect("example (description)");
            assert!(description.ends_with(')'), "{form}");
            assert!(
                PeriodCode::parse(example).is_ok(),
                "{example:?} from {form:?}"
            );
        }
    }

    #[test]
    fn canonical_code_round_trips_through_parse_and_display() {
        let periods = [
            PeriodCode::calendar_year(2021),
            PeriodCode::half(2021, 2),
            PeriodCode::quarter(2022, 3),
            PeriodCode::month(2022, 3),
            PeriodCode::month(2022, 11),
            PeriodCode::day(date(2024, 2, 29)),
            PeriodCode::year_to_date(2022, 9),
        ];
        for period in periods {
            let period = period.expect("valid constructor arguments");
            assert_eq!(period.to_string(), period.code());
            assert_eq!(p(&period.code()), period);
            assert_eq!(period.code().parse::<PeriodCode>(), Ok(period));
            assert_eq!(PeriodCode::try_from(period.code()), Ok(period));
            assert_eq!(PeriodCode::try_from(period.code().as_str()), Ok(period));
            assert_eq!(String::from(period), period.code());
        }
    }

    #[test]
    fn constructors_check_ranges_and_name_the_would_be_code() {
        use PeriodParseErrorKind as K;
        let cases = [
            (
                PeriodCode::calendar_year(1899),
                "1899",
                K::YearOutOfRange { year: 1899 },
            ),
            (
                PeriodCode::half(2021, 3),
                "2021-S3",
                K::HalfOutOfRange { half: 3 },
            ),
            (
                PeriodCode::quarter(2021, 0),
                "2021-Q0",
                K::QuarterOutOfRange { quarter: 0 },
            ),
            (
                PeriodCode::quarter(3000, 1),
                "3000-Q1",
                K::YearOutOfRange { year: 3000 },
            ),
            (
                PeriodCode::month(2021, 13),
                "2021-M13",
                K::MonthOutOfRange { month: 13 },
            ),
            (
                PeriodCode::day(date(1899, 12, 31)),
                "1899-12-31",
                K::YearOutOfRange { year: 1899 },
            ),
            (
                PeriodCode::year_to_date(2022, 12),
                "2022-YTD-M12",
                K::YearToDateMonthsOutOfRange { months: 12 },
            ),
            (
                PeriodCode::year_to_date(2022, 0),
                "2022-YTD-M00",
                K::YearToDateMonthsOutOfRange { months: 0 },
            ),
        ];
        for (result, input, kind) in cases {
            let error = result.expect_err(input);
            assert_eq!(error.input(), input);
            assert_eq!(error.kind(), kind, "{input}");
        }
    }

    #[test]
    fn year_and_frequency_of_each_kind() {
        let cases = [
            ("2021", 2021, Frequency::Annual),
            ("2021-S2", 2021, Frequency::SemiAnnual),
            ("2022-Q1", 2022, Frequency::Quarterly),
            ("2022-M03", 2022, Frequency::Monthly),
            ("2024-03-18", 2024, Frequency::Daily),
            ("2022-YTD-M09", 2022, Frequency::YearToDate),
        ];
        for (code, year, frequency) in cases {
            assert_eq!(p(code).year(), year, "{code}");
            assert_eq!(p(code).frequency(), frequency, "{code}");
        }
    }

    #[test]
    fn start_and_end_are_inclusive_calendar_bounds() {
        let cases = [
            ("2021", date(2021, 1, 1), date(2021, 12, 31)),
            ("2021-S1", date(2021, 1, 1), date(2021, 6, 30)),
            ("2021-S2", date(2021, 7, 1), date(2021, 12, 31)),
            ("2024-Q1", date(2024, 1, 1), date(2024, 3, 31)),
            ("2022-Q2", date(2022, 4, 1), date(2022, 6, 30)),
            ("2022-Q3", date(2022, 7, 1), date(2022, 9, 30)),
            ("2023-Q4", date(2023, 10, 1), date(2023, 12, 31)),
            ("2024-M02", date(2024, 2, 1), date(2024, 2, 29)),
            ("2023-M02", date(2023, 2, 1), date(2023, 2, 28)),
            ("2000-M02", date(2000, 2, 1), date(2000, 2, 29)),
            ("1900-M02", date(1900, 2, 1), date(1900, 2, 28)),
            ("2022-M04", date(2022, 4, 1), date(2022, 4, 30)),
            ("2022-M12", date(2022, 12, 1), date(2022, 12, 31)),
            ("2999-M12", date(2999, 12, 1), date(2999, 12, 31)),
            ("2024-03-18", date(2024, 3, 18), date(2024, 3, 18)),
            ("2024-02-29", date(2024, 2, 29), date(2024, 2, 29)),
            ("2024-YTD-M02", date(2024, 1, 1), date(2024, 2, 29)),
            ("2022-YTD-M09", date(2022, 1, 1), date(2022, 9, 30)),
            ("2022-YTD-M11", date(2022, 1, 1), date(2022, 11, 30)),
        ];
        for (code, start, end) in cases {
            assert_eq!(p(code).start(), start, "start of {code}");
            assert_eq!(p(code).end(), end, "end of {code}");
        }
    }

    #[test]
    fn same_period_previous_year() {
        let cases = [
            ("2022", Some("2021")),
            ("2022-S2", Some("2021-S2")),
            ("2022-Q1", Some("2021-Q1")),
            ("2022-M01", Some("2021-M01")),
            ("2024-02-29", Some("2023-02-28")),
            ("2025-03-01", Some("2024-03-01")),
            ("2021-01-01", Some("2020-01-01")),
            ("2022-YTD-M09", Some("2021-YTD-M09")),
            ("1901-Q3", Some("1900-Q3")),
            ("1900", None),
            ("1900-YTD-M05", None),
            ("1900-12-31", None),
        ];
        for (code, expected) in cases {
            let previous = p(code).same_period_previous_year();
            assert_eq!(previous.map(|x| x.code()).as_deref(), expected, "{code}");
        }
    }

    #[test]
    fn previous_and_next_period_cross_year_boundaries() {
        // (earlier, later): each is the other's neighbour.
        let pairs = [
            ("2020", "2021"),
            ("2020-S2", "2021-S1"),
            ("2021-S1", "2021-S2"),
            ("2021-Q4", "2022-Q1"),
            ("2022-Q2", "2022-Q3"),
            ("2021-M12", "2022-M01"),
            ("2022-M06", "2022-M07"),
            ("2023-12-31", "2024-01-01"),
            ("2024-02-28", "2024-02-29"),
            ("2024-02-29", "2024-03-01"),
            ("2023-02-28", "2023-03-01"),
        ];
        for (earlier, later) in pairs {
            assert_eq!(
                p(later).previous_period(),
                Some(p(earlier)),
                "before {later}"
            );
            assert_eq!(p(earlier).next_period(), Some(p(later)), "after {earlier}");
        }
    }

    #[test]
    fn previous_and_next_period_stop_at_year_to_date_and_range_edges() {
        assert_eq!(p("2022-YTD-M09").previous_period(), None);
        assert_eq!(p("2022-YTD-M09").next_period(), None);
        for first in ["1900", "1900-S1", "1900-Q1", "1900-M01", "1900-01-01"] {
            assert_eq!(p(first).previous_period(), None, "{first}");
            assert!(p(first).next_period().is_some(), "{first}");
        }
        for last in ["2999", "2999-S2", "2999-Q4", "2999-M12", "2999-12-31"] {
            assert_eq!(p(last).next_period(), None, "{last}");
            assert!(p(last).previous_period().is_some(), "{last}");
        }
    }

    #[test]
    fn months_covered() {
        let cases = [
            ("2021", Some(12)),
            ("2021-S2", Some(6)),
            ("2021-Q3", Some(3)),
            ("2021-M07", Some(1)),
            ("2021-YTD-M01", Some(1)),
            ("2021-YTD-M09", Some(9)),
            ("2021-07-01", None),
        ];
        for (code, months) in cases {
            assert_eq!(p(code).months(), months, "{code}");
        }
    }

    #[test]
    fn sub_periods_tile_exactly_or_are_none() {
        use Frequency::*;
        let months_2022: Vec<String> = (1..=12).map(|m| format!("2022-M{m:02}")).collect();
        let months_2022: Vec<&str> = months_2022.iter().map(String::as_str).collect();
        let cases: Vec<(&str, Frequency, Option<Vec<&str>>)> = vec![
            ("2022", Annual, Some(vec!["2022"])),
            ("2022", SemiAnnual, Some(vec!["2022-S1", "2022-S2"])),
            (
                "2022",
                Quarterly,
                Some(vec!["2022-Q1", "2022-Q2", "2022-Q3", "2022-Q4"]),
            ),
            ("2022", Monthly, Some(months_2022.clone())),
            ("2022-S1", SemiAnnual, Some(vec!["2022-S1"])),
            ("2022-S1", Quarterly, Some(vec!["2022-Q1", "2022-Q2"])),
            ("2022-S2", Quarterly, Some(vec!["2022-Q3", "2022-Q4"])),
            ("2022-S2", Monthly, Some(months_2022[6..].to_vec())),
            ("2022-Q3", Monthly, Some(months_2022[6..9].to_vec())),
            ("2022-Q3", Quarterly, Some(vec!["2022-Q3"])),
            ("2022-M05", Monthly, Some(vec!["2022-M05"])),
            (
                "2022-YTD-M09",
                Quarterly,
                Some(vec!["2022-Q1", "2022-Q2", "2022-Q3"]),
            ),
            ("2022-YTD-M09", Monthly, Some(months_2022[..9].to_vec())),
            ("2022-YTD-M09", YearToDate, Some(vec!["2022-YTD-M09"])),
            ("2022-YTD-M06", SemiAnnual, Some(vec!["2022-S1"])),
            ("2022-YTD-M09", SemiAnnual, None),
            ("2022-YTD-M10", Quarterly, None),
            ("2022-YTD-M09", Annual, None),
            ("2022-Q1", SemiAnnual, None),
            ("2022-Q1", Annual, None),
            ("2022-S1", Annual, None),
            ("2022-M03", Quarterly, None),
            ("2022", Daily, None),
            ("2022-M03", Daily, None),
            ("2022", YearToDate, None),
            ("2022-Q1", YearToDate, None),
            ("2024-03-18", Daily, Some(vec!["2024-03-18"])),
            ("2024-03-18", Monthly, None),
        ];
        for (code, frequency, expected) in cases {
            let tiles = p(code).sub_periods(frequency);
            assert_eq!(
                tiles.as_deref().map(codes),
                expected.map(|v| v.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
                "{code} by {frequency}"
            );
        }
    }

    #[test]
    fn sub_periods_cover_the_parent_without_gaps() {
        for (code, frequency) in [
            ("2024", Frequency::Monthly),
            ("2024-S1", Frequency::Quarterly),
            ("2023-YTD-M08", Frequency::Monthly),
        ] {
            let parent = p(code);
            let tiles = parent.sub_periods(frequency).expect("tiles");
            assert_eq!(tiles.first().map(PeriodCode::start), Some(parent.start()));
            assert_eq!(tiles.last().map(PeriodCode::end), Some(parent.end()));
            for pair in tiles.windows(2) {
                assert_eq!(pair[0].next_period(), Some(pair[1]), "{code}");
            }
        }
    }

    #[test]
    fn contains_compares_spans() {
        let cases = [
            ("2022", "2022-Q3", true),
            ("2022", "2022-12-31", true),
            ("2022", "2022", true),
            ("2022", "2023-01-01", false),
            ("2022-S1", "2022-Q2", true),
            ("2022-S1", "2022-Q3", false),
            ("2022-Q1", "2022-S1", false),
            ("2022-YTD-M09", "2022-Q3", true),
            ("2022-YTD-M09", "2022-M10", false),
            ("2022-M03", "2022-YTD-M03", false),
            ("2022-Q1", "2022-YTD-M03", true),
            ("2024-02-29", "2024-02-29", true),
            ("2024-02-29", "2024-M02", false),
        ];
        for (outer, inner, expected) in cases {
            assert_eq!(p(outer).contains(&p(inner)), expected, "{outer} ⊇ {inner}");
        }
    }

    #[test]
    fn vietnamese_labels() {
        let cases = [
            ("2021", "năm 2021"),
            ("2021-S1", "6 tháng đầu năm 2021"),
            ("2021-S2", "6 tháng cuối năm 2021"),
            ("2022-Q1", "quý I/2022"),
            ("2022-Q2", "quý II/2022"),
            ("2022-Q3", "quý III/2022"),
            ("2022-Q4", "quý IV/2022"),
            ("2022-M03", "tháng 3/2022"),
            ("2022-M11", "tháng 11/2022"),
            ("2024-03-18", "18/03/2024"),
            ("2022-YTD-M09", "9 tháng đầu năm 2022"),
            ("2022-YTD-M01", "1 tháng đầu năm 2022"),
        ];
        for (code, label) in cases {
            assert_eq!(p(code).vietnamese_label(), label, "{code}");
        }
    }

    #[test]
    fn vietnamese_label_parses_back_to_the_same_period() {
        let mut periods = Vec::new();
        for year in [1900, 2020, 2024, 2999] {
            periods.push(PeriodCode::calendar_year(year));
            periods.extend((1..=2).map(|h| PeriodCode::half(year, h)));
            periods.extend((1..=4).map(|q| PeriodCode::quarter(year, q)));
            periods.extend((1..=12).map(|m| PeriodCode::month(year, m)));
            periods.extend((1..=11).map(|m| PeriodCode::year_to_date(year, m)));
            periods.push(PeriodCode::day(date(year, 1, 1)));
            periods.push(PeriodCode::day(date(year, 12, 31)));
        }
        periods.push(PeriodCode::day(date(2024, 2, 29)));
        for period in periods {
            let period = period.expect("valid constructor arguments");
            let label = period.vietnamese_label();
            let back = p(&label);
            assert_eq!(
                (back.start(), back.end()),
                (period.start(), period.end()),
                "{label}"
            );
            match period.code().as_str() {
                // "3/6 tháng đầu năm" is how reports write quarter I and the
                // first half, so the cumulative frequency is not recoverable.
                c if c.ends_with("-YTD-M03") => assert_eq!(back.frequency(), Frequency::Quarterly),
                c if c.ends_with("-YTD-M06") => {
                    assert_eq!(back.frequency(), Frequency::SemiAnnual)
                }
                _ => assert_eq!(back, period, "{label}"),
            }
        }
    }

    #[test]
    fn serde_uses_the_canonical_code() {
        let period = p("quý III/2022");
        assert_eq!(
            serde_json::to_string(&period).expect("serialise"),
            "\"2022-Q3\""
        );
        let back: PeriodCode = serde_json::from_str("\"2022-Q3\"").expect("deserialise");
        assert_eq!(back, period);

        let list = vec![p("2021"), p("2022-YTD-M09"), p("2024-03-18"), p("2022-M03")];
        let json = serde_json::to_string(&list).expect("serialise");
        assert_eq!(json, r#"["2021","2022-YTD-M09","2024-03-18","2022-M03"]"#);
        let back: Vec<PeriodCode> = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, list);

        // Deserialisation goes through the full parser, so lenient forms work
        // and bad ones carry the parser's message.
        let lenient: PeriodCode = serde_json::from_str("\"tháng 3/2022\"").expect("lenient");
        assert_eq!(lenient.code(), "2022-M03");
        let error = serde_json::from_str::<PeriodCode>("\"2022-Q5\"").expect_err("bad");
        assert!(
            error.to_string().contains("quarter 5 does not exist"),
            "{error}"
        );
        assert!(serde_json::from_str::<PeriodCode>("2022").is_err());
    }

    #[test]
    fn ordering_is_chronological_by_start_then_end() {
        let expected = [
            "2021-01-01",
            "2021-M01",
            "2021-YTD-M01",
            "2021-Q1",
            "2021-YTD-M03",
            "2021-S1",
            "2021-YTD-M09",
            "2021",
            "2021-01-02",
            "2021-M02",
            "2021-Q2",
            "2021-S2",
            "2021-12-31",
            "2022",
        ];
        let mut shuffled: Vec<PeriodCode> = expected.iter().rev().map(|c| p(c)).collect();
        shuffled.swap(0, 7);
        shuffled.swap(3, 11);
        shuffled.sort();
        assert_eq!(codes(&shuffled), expected);
        assert!(p("2020-Q4") < p("2021-Q1"));
        assert!(p("2020") < p("2021-01-01"));
        assert!(p("2021-M12") > p("2021-S2"));
    }

    #[test]
    fn ordering_is_consistent_with_equality() {
        let periods: Vec<PeriodCode> = ["2022-M01", "2022-YTD-M01", "2022-Q1", "2022-YTD-M03"]
            .iter()
            .map(|c| p(c))
            .collect();
        for a in &periods {
            for b in &periods {
                assert_eq!(a.cmp(b) == Ordering::Equal, a == b, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn frequency_text_forms() {
        let cases = [
            (Frequency::Annual, "annual", "A"),
            (Frequency::SemiAnnual, "semi_annual", "S"),
            (Frequency::Quarterly, "quarterly", "Q"),
            (Frequency::Monthly, "monthly", "M"),
            (Frequency::Daily, "daily", "D"),
            (Frequency::YearToDate, "year_to_date", "YTD"),
        ];
        for (frequency, name, short) in cases {
            assert_eq!(frequency.as_str(), name);
            assert_eq!(frequency.to_string(), name);
            assert_eq!(frequency.short_code(), short);
            assert_eq!(
                serde_json::to_string(&frequency).expect("serialise"),
                format!("\"{name}\"")
            );
            assert_eq!(
                serde_json::from_str::<Frequency>(&format!("\"{name}\"")).expect("deserialise"),
                frequency
            );
            assert_eq!(name.parse(), Ok(frequency));
            assert_eq!(name.to_uppercase().parse(), Ok(frequency));
            assert_eq!(short.parse(), Ok(frequency));
            assert_eq!(short.to_lowercase().parse(), Ok(frequency));
        }
        for bad in ["", "yearly", "semi-annual", "W", "Y"] {
            let error = bad.parse::<Frequency>().expect_err(bad);
            assert_eq!(error.input(), bad);
            assert!(error.to_string().contains("semi_annual (S)"), "{error}");
        }
    }
}
