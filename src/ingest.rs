//! Turning what a client (or the seed loader) sends into figures ready to
//! store: parse every field into its domain type, resolve codes, apply the
//! indicator's rules, and say precisely what was wrong with each item.

use std::collections::{BTreeMap, HashMap, HashSet};

use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::db::observations::{NewObservation, ObservationKey, ObservationState};
use crate::db::targets::NewTarget;
use crate::db::{self, AnyConnection};
use crate::domain::breakdown::Breakdown;
use crate::domain::code::{CommitteeCode, IndicatorCode, SourceCode};
use crate::domain::indicator::{Bounds, Unit};
use crate::domain::observation::check_value;
use crate::domain::period::PeriodCode;
use crate::domain::plausibility::{check_change, Factor, PlausibilityWarning};
use crate::domain::text::{self, TextRule};
use crate::domain::value::{rescale, ExactDecimal, ObservationStatus, Qualifier};
use crate::error::FieldError;

/// A figure as a client sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservationInput {
    /// Committee code.
    #[schema(example = "haiphong-business-bloc")]
    pub committee: String,
    /// Indicator code.
    #[schema(example = "revenue")]
    pub indicator: String,
    /// Period in any accepted form: `2021`, `2022-Q1`, `2022Q1`, `quý I/2022`, `6 tháng đầu năm 2021` …
    #[schema(example = "2022-Q1")]
    pub period: String,
    /// Disaggregation, e.g. `{"sex": "female"}`; omitted or `{}` for the total.
    #[serde(default)]
    pub breakdown: Option<BTreeMap<String, String>>,
    /// Exact decimal, as a JSON number or a string. In the indicator's unit and scale
    /// unless `scale` says otherwise.
    pub value: ExactDecimal,
    /// Must equal the indicator's unit when given.
    #[serde(default)]
    pub unit: Option<Unit>,
    /// Power of ten of `value` (9 for tỷ, 6 for triệu); converted exactly to the indicator's.
    #[serde(default)]
    pub scale: Option<i32>,
    /// SDMX OBS_STATUS; `A` when omitted.
    #[serde(default)]
    pub status: Option<ObservationStatus>,
    /// `exact` when omitted.
    #[serde(default)]
    pub qualifier: Option<Qualifier>,
    /// Year-on-year change in percent exactly as the source reported it.
    #[serde(default)]
    pub reported_yoy_pct: Option<ExactDecimal>,
    #[serde(default)]
    pub reported_yoy_qualifier: Option<Qualifier>,
    /// Share of a total in percent exactly as the source reported it.
    #[serde(default)]
    pub reported_share_pct: Option<ExactDecimal>,
    #[serde(default)]
    pub reported_share_qualifier: Option<Qualifier>,
    /// Code of the source document.
    #[serde(default)]
    pub source: Option<String>,
    /// The sentence of the source that states the figure.
    #[serde(default)]
    pub source_quote: Option<String>,
    /// Why this value is entered or changed; kept in the revision.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What an item refers to, loaded once per request.
#[derive(Debug, Clone, Default)]
pub struct ReferenceData {
    committees: HashMap<String, i64>,
    indicators: HashMap<String, IndicatorRef>,
    sources: HashMap<String, i64>,
}

#[derive(Debug, Clone, Copy)]
struct IndicatorRef {
    id: i64,
    unit: Unit,
    scale: i32,
    bounds: Bounds,
}

impl ReferenceData {
    pub fn load(conn: &mut AnyConnection) -> diesel::QueryResult<Self> {
        Ok(Self {
            committees: db::committees::list(conn)?
                .into_iter()
                .map(|c| (c.code, c.id))
                .collect(),
            indicators: db::indicators::list(conn)?
                .into_iter()
                .map(|i| {
                    let bounds = i.bounds();
                    (
                        i.code,
                        IndicatorRef {
                            id: i.id,
                            unit: i.unit,
                            scale: i.scale,
                            bounds,
                        },
                    )
                })
                .collect(),
            sources: db::sources::list(conn)?
                .into_iter()
                .map(|s| (s.code, s.id))
                .collect(),
        })
    }

    pub fn committee_id(&self, code: &str) -> Option<i64> {
        self.committees.get(code).copied()
    }

    /// The code of a committee, for messages.
    pub fn committee_code(&self, id: i64) -> String {
        self.committees
            .iter()
            .find(|(_, i)| **i == id)
            .map(|(code, _)| code.clone())
            .unwrap_or_else(|| id.to_string())
    }

    pub fn indicator_id(&self, code: &str) -> Option<i64> {
        self.indicators.get(code).map(|i| i.id)
    }

    pub fn source_id(&self, code: &str) -> Option<i64> {
        self.sources.get(code).copied()
    }
}

/// Collects the errors of one item.
struct Problems {
    index: Option<usize>,
    errors: Vec<FieldError>,
}

impl Problems {
    fn add(&mut self, field: &str, code: &str, message: impl Into<String>) {
        let mut error = FieldError::new(field, code, message);
        error.index = self.index;
        self.errors.push(error);
    }
}

/// Parses a code and looks it up, reporting a malformed or unknown code on `field`.
fn resolve<C: std::fmt::Display, T>(
    problems: &mut Problems,
    field: &str,
    raw: &str,
    parse: impl Fn(&str) -> Result<C, crate::domain::code::InvalidCode>,
    lookup: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    match parse(raw.trim()) {
        Err(e) => {
            problems.add(field, "invalid_code", e.to_string());
            None
        }
        Ok(code) => {
            let found = lookup(&code.to_string());
            if found.is_none() {
                problems.add(
                    field,
                    &format!("unknown_{field}"),
                    format!("no {field} has code \"{code}\""),
                );
            }
            found
        }
    }
}

/// A free text checked by the rule of its field, trimmed; none if empty.
fn check_text(
    problems: &mut Problems,
    field: &str,
    text: Option<&str>,
    rule: TextRule,
) -> Option<String> {
    let text = text.map(str::trim).filter(|t| !t.is_empty())?;
    if let Err(invalid) = text::check(text, rule) {
        problems.add(field, invalid.code(), invalid.to_string());
        return None;
    }
    Some(text.to_owned())
}

/// Checks that a qualifier comes only with the percent it qualifies.
fn check_reported(
    problems: &mut Problems,
    field: &str,
    pct: Option<ExactDecimal>,
    qualifier: Option<Qualifier>,
) -> (Option<Decimal>, Option<Qualifier>) {
    match (pct, qualifier) {
        (None, Some(_)) => {
            problems.add(
                &format!("{field}_qualifier"),
                "qualifier_without_value",
                format!("{field}_qualifier needs {field}_pct"),
            );
            (None, None)
        }
        (Some(p), q) => (Some(p.0), Some(q.unwrap_or(Qualifier::Exact))),
        (None, None) => (None, None),
    }
}

/// The changeable values of a figure, checked against its indicator.
pub struct StateInput<'a> {
    pub value: ExactDecimal,
    pub unit: Option<Unit>,
    pub scale: Option<i32>,
    pub status: Option<ObservationStatus>,
    pub qualifier: Option<Qualifier>,
    pub reported_yoy_pct: Option<ExactDecimal>,
    pub reported_yoy_qualifier: Option<Qualifier>,
    pub reported_share_pct: Option<ExactDecimal>,
    pub reported_share_qualifier: Option<Qualifier>,
    pub source: Option<&'a str>,
    pub source_quote: Option<&'a str>,
}

fn validate_state(
    problems: &mut Problems,
    input: StateInput<'_>,
    indicator: Option<IndicatorRef>,
    refs: &ReferenceData,
) -> Option<ObservationState> {
    let mut value = input.value.0;
    if let Some(IndicatorRef {
        unit,
        scale,
        bounds,
        ..
    }) = indicator
    {
        if let Some(given) = input.unit.filter(|given| *given != unit) {
            problems.add(
                "unit",
                "unit_mismatch",
                format!("the indicator is measured in {unit}, not {given}"),
            );
        }
        if let Some(given) = input.scale {
            match crate::domain::indicator::check_scale(given) {
                Err(message) => problems.add("scale", "invalid_scale", message),
                Ok(given) => match rescale(value, given, scale) {
                    Some(converted) => value = converted,
                    None => problems.add(
                        "value",
                        "out_of_range",
                        "the value does not fit after converting its scale",
                    ),
                },
            }
        }
        // After rescaling: bounds are in the indicator's own scale.
        if let Err(problem) = check_value(value, unit, &bounds) {
            problems.add("value", problem.code, problem.message);
        }
    }
    let (reported_yoy_pct, reported_yoy_qualifier) = check_reported(
        problems,
        "reported_yoy",
        input.reported_yoy_pct,
        input.reported_yoy_qualifier,
    );
    let (reported_share_pct, reported_share_qualifier) = check_reported(
        problems,
        "reported_share",
        input.reported_share_pct,
        input.reported_share_qualifier,
    );
    let source_id = input
        .source
        .filter(|s| !s.trim().is_empty())
        .and_then(|code| {
            resolve(problems, "source", code, SourceCode::parse, |c| {
                refs.source_id(c)
            })
        });
    let source_quote = check_text(problems, "source_quote", input.source_quote, text::QUOTE);
    Some(ObservationState {
        value,
        status: input.status.unwrap_or(ObservationStatus::Normal),
        qualifier: input.qualifier.unwrap_or(Qualifier::Exact),
        reported_yoy_pct,
        reported_yoy_qualifier,
        reported_share_pct,
        reported_share_qualifier,
        source_id,
        source_quote,
    })
}

/// Validates one figure; `index` is its position in a batch.
pub fn validate_observation(
    input: &ObservationInput,
    refs: &ReferenceData,
    index: Option<usize>,
) -> Result<NewObservation, Vec<FieldError>> {
    let mut problems = Problems {
        index,
        errors: Vec::new(),
    };
    let committee_id = resolve(
        &mut problems,
        "committee",
        &input.committee,
        CommitteeCode::parse,
        |c| refs.committee_id(c),
    );
    let indicator = resolve(
        &mut problems,
        "indicator",
        &input.indicator,
        IndicatorCode::parse,
        |c| refs.indicators.get(c).copied(),
    );
    let period = PeriodCode::parse(&input.period)
        .map_err(|e| problems.add("period", "invalid_period", e.to_string()))
        .ok();
    let breakdown = Breakdown::from_map(input.breakdown.clone().unwrap_or_default())
        .map_err(|e| problems.add("breakdown", "invalid_breakdown", e.to_string()))
        .ok();
    let state = validate_state(
        &mut problems,
        StateInput {
            value: input.value,
            unit: input.unit,
            scale: input.scale,
            status: input.status,
            qualifier: input.qualifier,
            reported_yoy_pct: input.reported_yoy_pct,
            reported_yoy_qualifier: input.reported_yoy_qualifier,
            reported_share_pct: input.reported_share_pct,
            reported_share_qualifier: input.reported_share_qualifier,
            source: input.source.as_deref(),
            source_quote: input.source_quote.as_deref(),
        },
        indicator,
        refs,
    );
    check_text(
        &mut problems,
        "reason",
        input.reason.as_deref(),
        text::REASON,
    );
    match (committee_id, indicator, period, breakdown, state) {
        (Some(committee_id), Some(indicator), Some(period), Some(breakdown), Some(state))
            if problems.errors.is_empty() =>
        {
            Ok(NewObservation {
                key: ObservationKey {
                    committee_id,
                    indicator_id: indicator.id,
                    period,
                    breakdown,
                },
                state,
            })
        }
        _ => Err(problems.errors),
    }
}

/// Validates the new values of an existing figure of the indicator with code `indicator`.
pub fn validate_change(
    input: StateInput<'_>,
    indicator: &str,
    refs: &ReferenceData,
) -> Result<ObservationState, Vec<FieldError>> {
    let mut problems = Problems {
        index: None,
        errors: Vec::new(),
    };
    let indicator = refs.indicators.get(indicator).copied();
    let state = validate_state(&mut problems, input, indicator, refs);
    match state {
        Some(state) if problems.errors.is_empty() => Ok(state),
        _ => Err(problems.errors),
    }
}

/// The plausibility warning for `value` as the figure of `key`, if it is far
/// from the committee's previous stored figure (see `domain::plausibility`).
pub fn plausibility_warning(
    conn: &mut AnyConnection,
    key: &ObservationKey,
    value: Decimal,
    factor: Factor,
) -> diesel::QueryResult<Option<PlausibilityWarning>> {
    Ok(db::observations::previous_figure(conn, key)?
        .and_then(|previous| check_change(value, previous, factor)))
}

/// With `strict=true` a warning refuses the write: each warning as an error
/// on `value` (with the item's index in a batch).
pub fn strict_errors<'a>(
    warnings: impl IntoIterator<Item = (Option<usize>, &'a PlausibilityWarning)>,
) -> Vec<FieldError> {
    warnings
        .into_iter()
        .map(|(index, warning)| {
            let mut error = FieldError::new("value", &warning.code, warning.message.clone());
            error.index = index;
            error
        })
        .collect()
}

/// Validates a batch; every bad item is reported, and a key that appears
/// twice is an error on its second appearance.
pub fn validate_batch(
    items: &[ObservationInput],
    refs: &ReferenceData,
) -> Result<Vec<NewObservation>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut valid = Vec::with_capacity(items.len());
    let mut seen = HashSet::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match validate_observation(item, refs, Some(index)) {
            Ok(new) => {
                if !seen.insert(new.key.clone()) {
                    errors.push(
                        FieldError::new(
                            "period",
                            "duplicate_in_batch",
                            "the same committee, indicator, period and breakdown appear earlier in this batch",
                        )
                        .at(index),
                    );
                }
                valid.push(new);
            }
            Err(mut item_errors) => errors.append(&mut item_errors),
        }
    }
    if errors.is_empty() {
        Ok(valid)
    } else {
        Err(errors)
    }
}

/// A target as a client (or the seed loader) sends it; setting it again revises it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    #[schema(example = "haiphong-business-bloc")]
    pub committee: String,
    #[schema(example = "new_party_members")]
    pub indicator: String,
    /// Any accepted period form.
    #[schema(example = "2021")]
    pub period: String,
    /// Exact decimal in the indicator's unit and scale.
    pub value: ExactDecimal,
    /// Who assigned the target, e.g. the City Party Committee.
    #[serde(default)]
    pub assigned_by: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub source_quote: Option<String>,
    /// Why the target is set or changed; kept in the revision.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Validates a target and resolves its codes.
pub fn validate_target(
    input: &TargetInput,
    refs: &ReferenceData,
) -> Result<NewTarget, Vec<FieldError>> {
    let mut problems = Problems {
        index: None,
        errors: Vec::new(),
    };
    let committee_id = resolve(
        &mut problems,
        "committee",
        &input.committee,
        CommitteeCode::parse,
        |c| refs.committee_id(c),
    );
    let indicator = resolve(
        &mut problems,
        "indicator",
        &input.indicator,
        IndicatorCode::parse,
        |c| refs.indicators.get(c).copied(),
    );
    let period = PeriodCode::parse(&input.period)
        .map_err(|e| problems.add("period", "invalid_period", e.to_string()))
        .ok();
    if let Some(indicator) = indicator {
        if let Err(problem) = check_value(input.value.0, indicator.unit, &indicator.bounds) {
            problems.add("value", problem.code, problem.message);
        }
    }
    let source_id = input
        .source
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .and_then(|code| {
            resolve(&mut problems, "source", code, SourceCode::parse, |c| {
                refs.source_id(c)
            })
        });
    let assigned_by = check_text(
        &mut problems,
        "assigned_by",
        input.assigned_by.as_deref(),
        text::NAME,
    );
    let source_quote = check_text(
        &mut problems,
        "source_quote",
        input.source_quote.as_deref(),
        text::QUOTE,
    );
    check_text(
        &mut problems,
        "reason",
        input.reason.as_deref(),
        text::REASON,
    );
    match (committee_id, indicator, period) {
        (Some(committee_id), Some(indicator), Some(period)) if problems.errors.is_empty() => {
            Ok(NewTarget {
                committee_id,
                indicator_id: indicator.id,
                period,
                value: input.value.0,
                assigned_by,
                source_id,
                source_quote,
            })
        }
        _ => Err(problems.errors),
    }
}
