//! Figures proposed from the prose of a report (issue 17).
//!
//! Pure and rule-based: no database, no HTTP. The caller passes the text, the
//! publication date if known, and the indicator catalog; it gets back every
//! figure it could read as a typed candidate observation, with the sentence it
//! came from, and every other number with the reason it was set aside.
//!
//! The stages, each in its own module: [`text`] (normalisation, tokens,
//! sentences, offsets), [`periods`] (period phrases and which one a figure
//! belongs to), [`lexicon`] (which indicator the words name), [`figures`]
//! (numbers, units, qualifiers, comparisons). Numbers, units and periods are
//! read by the project's own parsers (`domain::locale`, `domain::period`).
//!
//! Offsets (`span`, `value_span`) count Unicode scalar values (Rust `char`s,
//! JavaScript code points) of the text exactly as sent, end exclusive.

mod figures;
mod lexicon;
mod periods;
mod text;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::indicator::{MeasureKind, Unit};
use crate::domain::value::{ObservationStatus, Qualifier};

/// Longest text read, in characters: a long report is about 20,000.
pub const MAX_TEXT_CHARS: usize = 100_000;

/// What the extractor needs to know of an indicator.
#[derive(Debug, Clone)]
pub struct CatalogIndicator {
    pub code: String,
    pub name_vi: String,
    pub unit: Unit,
    pub scale: i32,
    pub measure_kind: MeasureKind,
    /// The indicator a share of this one is taken against (a part's whole).
    pub denominator: Option<String>,
}

/// A character range of the text as sent: Unicode scalar values, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// Which way a reported absolute change went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeDirection {
    Increase,
    Decrease,
}

/// An absolute change as the source wrote it: "tăng 800 tỷ đồng so cùng kỳ".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Change {
    /// The amount, unsigned, as written.
    #[schema(value_type = String, example = "800")]
    pub value: Decimal,
    pub unit: Unit,
    pub scale: i32,
    pub direction: ChangeDirection,
    pub qualifier: Qualifier,
}

/// Why a candidate needs a second look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    /// No unit word: unit and scale were taken from the indicator.
    NoUnitWord,
    /// A scale word (tỷ, triệu) with no currency: VND assumed.
    NoCurrencyWord,
    /// A money figure far below the indicator's scale (a scale word left out?).
    UnusualScale,
    /// No catalog indicator fits; `label_vi` names what was measured.
    NoIndicator,
    /// The period (or its year, or its day) comes from the publication date.
    PeriodFromPublicationDate,
    /// The period is stated only later in the report.
    PeriodFromLaterText,
    /// No period could be found.
    NoPeriod,
    /// Written with `.` as the decimal mark (`50.85%`).
    DecimalPoint,
    /// "bằng 105% so cùng kỳ" read as a change of +5 %.
    YoyFromIndex,
    /// "vượt 5% kế hoạch" read as 105 % of plan.
    PlanFromOvershoot,
    /// A figure stated for a range of years.
    YearRange,
    /// Matched to an indicator kept in another currency.
    UnitDiffers,
    /// A part ("trong đó …") of the figure before it.
    PartOfFigure,
}

/// A reason to look again at a candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Warning {
    pub code: WarningCode,
    pub message: String,
}

impl Warning {
    pub fn new(code: WarningCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Why a number was not proposed as a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IgnoreReason {
    /// Part of a date ("28/12/2021", "Sáng 18/3").
    Date,
    /// A time of day.
    Time,
    /// Part of a period phrase ("năm 2021", "quý I/2022").
    Period,
    /// A term of office ("nhiệm kỳ 2020 - 2025", "khóa 15").
    Term,
    /// A resolution's or other document's number ("12-NQ/TW", "Nghị quyết số 18").
    DocumentNumber,
    /// A house or reference number ("Số 18 Hoàng Diệu").
    ReferenceNumber,
    /// Part of a name ("Covid-19").
    Name,
    /// An ordinal ("lần thứ 9").
    Ordinal,
    /// A duration, an age or an anniversary ("5 năm", "kỷ niệm 67 năm").
    Duration,
    /// Not a number as Vietnamese writes one (a telephone number …).
    Malformed,
    /// Defines what is counted ("từ 1 tỷ đồng trở lên", "đạt 100% kế hoạch" after a count).
    Threshold,
    /// A count of awards or honours.
    AwardCount,
    /// A target or plan, not a result.
    Target,
    /// A ratio restating figures ("(201/200)").
    Ratio,
    /// A number with no unit and no indicator named before it.
    NoUnit,
    /// Counts something no indicator measures ("7 tỉnh").
    UnknownUnit,
    /// A change ("tăng 5%") with no figure before it in its clause.
    ChangeWithoutLevel,
    /// A share ("chiếm 30%") with no figure before it in its clause.
    ShareWithoutLevel,
    /// A change against another base than the same period ("so với quý I").
    OtherComparison,
    /// An average growth rate per year ("tăng bình quân 9%/năm").
    AverageGrowth,
}

/// A number recognised and set aside.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IgnoredNumber {
    /// The number (and what it belongs to), verbatim.
    pub text: String,
    pub span: Span,
    pub reason: IgnoreReason,
    pub detail: String,
}

/// A proposed observation, typed like the body of `POST /api/v1/observations`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Candidate {
    /// The committee given with the request, if any.
    pub committee: Option<String>,
    /// A catalog indicator code, or null when none fits (see `label_vi`).
    #[schema(example = "revenue")]
    pub indicator: Option<String>,
    /// The phrase in the text that names what is measured.
    #[schema(example = "Tổng doanh thu")]
    pub label_vi: String,
    /// Canonical period code; null when none could be found.
    #[schema(example = "2021")]
    pub period: Option<String>,
    /// `{}` for a total, e.g. `{"sex": "female"}`.
    pub breakdown: BTreeMap<String, String>,
    /// Exact decimal, as written (in `unit` at `scale`).
    #[schema(value_type = String, example = "27701")]
    pub value: Decimal,
    pub unit: Unit,
    /// Power of ten of the value as written: 9 for tỷ, 6 for triệu.
    #[schema(example = 9)]
    pub scale: i32,
    /// The unit words as written ("tỷ đồng", "triệu đồng/người/tháng").
    pub unit_vi: Option<String>,
    /// Set for amounts per person ("triệu đồng/người/tháng").
    pub per_person: bool,
    pub status: ObservationStatus,
    pub qualifier: Qualifier,
    /// Change on the same period of the previous year, in percent, as reported.
    #[schema(value_type = Option<String>, example = "7.7")]
    pub reported_yoy_pct: Option<Decimal>,
    pub reported_yoy_qualifier: Option<Qualifier>,
    /// An absolute change on the same period of the previous year, as reported.
    pub reported_change: Option<Change>,
    /// Share of a total, in percent, as reported ("chiếm 73,1%").
    #[schema(value_type = Option<String>, example = "73.1")]
    pub reported_share_pct: Option<Decimal>,
    pub reported_share_qualifier: Option<Qualifier>,
    /// Progress against the plan or target, in percent, as reported ("đạt 105% kế hoạch").
    #[schema(value_type = Option<String>)]
    pub reported_plan_pct: Option<Decimal>,
    pub reported_plan_qualifier: Option<Qualifier>,
    /// The clause the figure and its comparisons were read from, verbatim.
    pub quote: String,
    /// Where `quote` is in the text.
    pub span: Span,
    /// Where the number itself is in the text.
    pub value_span: Span,
    /// 0 to 1: lower when something had to be assumed (see `warnings`).
    #[schema(example = 0.95)]
    pub confidence: f64,
    pub warnings: Vec<Warning>,
}

/// Everything read from one text.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Extraction {
    pub candidates: Vec<Candidate>,
    pub ignored: Vec<IgnoredNumber>,
}

/// Reads the figures of `text`, published on `published_on`, against `catalog`.
pub fn extract(
    text: &str,
    published_on: Option<NaiveDate>,
    committee: Option<&str>,
    catalog: &[CatalogIndicator],
) -> Extraction {
    let text = text::Text::new(text);
    let periods = periods::Periods::new(&text, published_on);
    let lexicon = lexicon::Lexicon::new(catalog);
    let mut engine = figures::Engine::new(&text, &periods, &lexicon, catalog);
    engine.run();
    let mut candidates = Vec::new();
    for draft in engine.drafts {
        candidates.extend(finish(&text, draft, committee));
    }
    let mut ignored = engine.ignored;
    ignored.sort_by_key(|i| i.span.start);
    Extraction {
        candidates,
        ignored,
    }
}

/// Turns a draft into candidates: one, or one per year of a range.
fn finish(text: &text::Text, mut draft: figures::Draft, committee: Option<&str>) -> Vec<Candidate> {
    // Close a parenthesis the comparisons opened: "(tăng 7% so cùng kỳ)".
    let mut last = draft.last;
    let quote = text.quote(draft.first, last);
    if quote.matches('(').count() > quote.matches(')').count()
        && text.tokens.get(last + 1).is_some_and(|t| t.is_punct(')'))
    {
        last += 1;
    }
    let (start, end) = text.span(draft.first, last);
    let quote = text.quote(draft.first, last);

    let periods: Vec<Option<String>> = match draft.periods.len() {
        0 => vec![None],
        1 => vec![Some(draft.periods[0].code())],
        _ => {
            let (first, final_year) = (
                draft.periods[0].code(),
                draft.periods[draft.periods.len() - 1].code(),
            );
            if draft.measure_kind == Some(MeasureKind::Flow) {
                draft.warnings.push(Warning::new(
                    WarningCode::YearRange,
                    format!("stated for each year {first}–{final_year}: one candidate per year"),
                ));
                draft.periods.iter().map(|p| Some(p.code())).collect()
            } else {
                draft.warnings.push(Warning::new(
                    WarningCode::YearRange,
                    format!("stated for {first}–{final_year}: a level, proposed for the last year"),
                ));
                vec![Some(final_year)]
            }
        }
    };
    let confidence = confidence(&draft.warnings, draft.indicator.is_some());
    periods
        .into_iter()
        .map(|period| Candidate {
            committee: committee.map(str::to_owned),
            indicator: draft.indicator.clone(),
            label_vi: draft.label_vi.clone(),
            period,
            breakdown: draft.breakdown.clone(),
            value: draft.value,
            unit: draft.unit,
            scale: draft.scale,
            unit_vi: draft.unit_vi.clone(),
            per_person: draft.per_person,
            status: draft.status,
            qualifier: draft.qualifier,
            reported_yoy_pct: draft.yoy.map(|(v, _)| v),
            reported_yoy_qualifier: draft.yoy.map(|(_, q)| q),
            reported_change: draft.change.clone(),
            reported_share_pct: draft.share.map(|(v, _)| v),
            reported_share_qualifier: draft.share.map(|(_, q)| q),
            reported_plan_pct: draft.plan.map(|(v, _)| v),
            reported_plan_qualifier: draft.plan.map(|(_, q)| q),
            quote: quote.clone(),
            span: Span { start, end },
            value_span: draft.value_span,
            confidence,
            warnings: draft.warnings.clone(),
        })
        .collect()
}

/// How sure the reading is: each assumption costs some.
fn confidence(warnings: &[Warning], has_indicator: bool) -> f64 {
    let mut score: f64 = if has_indicator { 0.95 } else { 0.6 };
    for warning in warnings {
        score -= match warning.code {
            WarningCode::NoIndicator => 0.0,
            WarningCode::NoUnitWord | WarningCode::UnusualScale | WarningCode::NoPeriod => 0.2,
            WarningCode::PeriodFromLaterText | WarningCode::PeriodFromPublicationDate => 0.15,
            _ => 0.1,
        };
    }
    (score.clamp(0.05, 0.99) * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests;
