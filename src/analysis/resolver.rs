//! The stored figures a question needs, read once, and answered by the one
//! rule of `domain::resolve` for every committee, indicator and period asked.
//! Comparisons, series, target progress, checks and dashboards all ask here.

use std::collections::{BTreeSet, HashMap};

use crate::db::indicators::IndicatorRow;
use crate::db::observations::{candidate_figures, ObservationRow};
use crate::db::rollups::Rollup;
use crate::db::AnyConnection;
use crate::domain::indicator::MeasureKind;
use crate::domain::period::PeriodCode;
use crate::domain::resolve::{
    candidate_periods, group_total, ratio_of, resolve, resolve_ratio, same_span_periods, Figures,
    Resolved, StoredFigure,
};
use crate::error::ApiError;

static NO_FIGURES: Figures = Figures::new();

/// The figures read for a question, by committee × indicator.
pub struct Resolver {
    /// Every indicator, to find a ratio's numerator and denominator.
    indicators: HashMap<i64, (MeasureKind, Option<(i64, i64)>)>,
    figures: HashMap<(i64, i64), Figures>,
    rows: HashMap<i64, ObservationRow>,
    allow_incomplete: bool,
}

/// The indicator ids a question about `indicators` reads: theirs and, for a
/// ratio, its numerator's and denominator's.
pub fn with_parts(indicators: &[&IndicatorRow]) -> Vec<i64> {
    let mut ids: Vec<i64> = indicators
        .iter()
        .flat_map(|i| [Some(i.id), i.numerator_id, i.denominator_id])
        .flatten()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The period codes whose figures may answer for any of `periods`.
pub fn candidate_codes<'a>(periods: impl IntoIterator<Item = &'a PeriodCode>) -> Vec<String> {
    let codes: BTreeSet<PeriodCode> = periods.into_iter().flat_map(candidate_periods).collect();
    codes.iter().map(PeriodCode::code).collect()
}

/// A ratio's numerator and denominator, when it names both: a group total
/// of it is recomputed from their totals.
pub fn ratio_parts(indicator: &IndicatorRow) -> Option<(i64, i64)> {
    (indicator.measure_kind == MeasureKind::Ratio)
        .then(|| indicator.numerator_id.zip(indicator.denominator_id))
        .flatten()
}

/// The total of `indicator` over a group of `members` committees in
/// `period`, from the group's rollups (`db::rollups`), when they are the
/// answer: every member has a figure stored for exactly the period (for a
/// ratio, of its numerator and of its denominator). The resolver answers
/// each member with that figure, so [`Resolver::resolve_group`] gives
/// exactly this; `None` when it must be asked.
pub fn group_total_from_rollups(
    rollups: &HashMap<(i64, PeriodCode), Rollup>,
    members: usize,
    indicator: &IndicatorRow,
    period: &PeriodCode,
) -> Option<(Resolved, usize)> {
    let complete = |indicator_id: i64| {
        rollups
            .get(&(indicator_id, *period))
            .filter(|rollup| members > 0 && rollup.members_stored == members)
            .map(|rollup| &rollup.total)
    };
    match ratio_parts(indicator) {
        Some((numerator, denominator)) => {
            let (top, bottom) = (complete(numerator)?, complete(denominator)?);
            Some((ratio_of(period, top, bottom), members))
        }
        None => Some((complete(indicator.id)?.clone(), members)),
    }
}

impl Resolver {
    /// Reads, in one query, every figure that may answer for these
    /// committees (empty: all), indicators (with a ratio's parts) and periods.
    ///
    /// Most questions are about periods whose figures are stored, and a
    /// stored figure answers before any derivation (`domain::resolve`). So
    /// the figures stored for the periods' own spans are read first; then,
    /// for the indicators where some committee × period has none (for a
    /// ratio with parts: not both parts), every candidate is read as
    /// [`Resolver::load_every_candidate`] reads it. Figures of different
    /// indicators never answer for each other, so both give the same
    /// answers (`tests/api/resolver.rs` compares them).
    pub fn load(
        conn: &mut AnyConnection,
        catalog: &[IndicatorRow],
        committee_ids: &[i64],
        indicators: &[&IndicatorRow],
        periods: &[PeriodCode],
        as_of: Option<chrono::NaiveDateTime>,
        allow_incomplete: bool,
    ) -> Result<Self, ApiError> {
        // An empty list means every committee: which ones have a figure is
        // not known before reading, so read every candidate.
        if committee_ids.is_empty() {
            return Self::load_every_candidate(
                conn,
                catalog,
                committee_ids,
                indicators,
                periods,
                as_of,
                allow_incomplete,
            );
        }
        let spans: BTreeSet<PeriodCode> = periods.iter().flat_map(same_span_periods).collect();
        let codes: Vec<String> = spans.iter().map(PeriodCode::code).collect();
        let mut rows =
            candidate_figures(conn, committee_ids, &with_parts(indicators), &codes, as_of)?;
        let stored = Self::from_rows(catalog, rows.iter().cloned(), allow_incomplete);
        let gaps: Vec<&IndicatorRow> = indicators
            .iter()
            .copied()
            .filter(|indicator| {
                !committee_ids.iter().all(|committee| {
                    periods
                        .iter()
                        .all(|period| stored.stored_for(*committee, indicator, period))
                })
            })
            .collect();
        if gaps.is_empty() {
            return Ok(stored);
        }
        rows.extend(candidate_figures(
            conn,
            committee_ids,
            &with_parts(&gaps),
            &candidate_codes(periods),
            as_of,
        )?);
        Ok(Self::from_rows(catalog, rows, allow_incomplete))
    }

    /// Reads every figure that may answer for the periods (their
    /// [`candidate_codes`]): what [`Resolver::load`] falls back to.
    pub fn load_every_candidate(
        conn: &mut AnyConnection,
        catalog: &[IndicatorRow],
        committee_ids: &[i64],
        indicators: &[&IndicatorRow],
        periods: &[PeriodCode],
        as_of: Option<chrono::NaiveDateTime>,
        allow_incomplete: bool,
    ) -> Result<Self, ApiError> {
        let rows = candidate_figures(
            conn,
            committee_ids,
            &with_parts(indicators),
            &candidate_codes(periods),
            as_of,
        )?;
        Ok(Self::from_rows(catalog, rows, allow_incomplete))
    }

    /// Whether every value asked of `indicator` for the committee in
    /// `period` is a stored figure's, so that no other figure can change it:
    /// its own; for a ratio with parts, both parts' (a group total of it is
    /// recomputed from the parts, and the ratio itself is then the stored
    /// ratio or the parts' quotient, both read).
    fn stored_for(&self, committee_id: i64, indicator: &IndicatorRow, period: &PeriodCode) -> bool {
        let has = |indicator_id: i64| {
            self.figures(committee_id, indicator_id)
                .same_span(period)
                .is_some()
        };
        match self.parts(indicator) {
            Some((numerator, denominator)) => has(numerator) && has(denominator),
            None => has(indicator.id),
        }
    }

    /// A resolver over figures already read (they must include every
    /// candidate of the periods that will be asked).
    pub fn from_rows(
        catalog: &[IndicatorRow],
        rows: impl IntoIterator<Item = ObservationRow>,
        allow_incomplete: bool,
    ) -> Self {
        let indicators = catalog
            .iter()
            .map(|i| {
                let parts = i.numerator_id.zip(i.denominator_id);
                (i.id, (i.measure_kind, parts))
            })
            .collect();
        let mut figures: HashMap<(i64, i64), Figures> = HashMap::new();
        let mut by_id = HashMap::new();
        for row in rows.into_iter().filter(|row| row.breakdown.is_total()) {
            figures
                .entry((row.committee_id, row.indicator_id))
                .or_default()
                .insert(StoredFigure {
                    id: row.id,
                    period: row.period_code,
                    value: row.value,
                    qualifier: row.qualifier,
                    status: row.status,
                });
            by_id.insert(row.id, row);
        }
        Self {
            indicators,
            figures,
            rows: by_id,
            allow_incomplete,
        }
    }

    fn figures(&self, committee_id: i64, indicator_id: i64) -> &Figures {
        self.figures
            .get(&(committee_id, indicator_id))
            .unwrap_or(&NO_FIGURES)
    }

    fn kind(&self, indicator_id: i64) -> MeasureKind {
        self.indicators
            .get(&indicator_id)
            .map(|(kind, _)| *kind)
            .unwrap_or(MeasureKind::Ratio)
    }

    fn parts(&self, indicator: &IndicatorRow) -> Option<(i64, i64)> {
        ratio_parts(indicator)
    }

    /// The value of `indicator` for one committee in `period`.
    pub fn resolve(
        &self,
        committee_id: i64,
        indicator: &IndicatorRow,
        period: &PeriodCode,
    ) -> Resolved {
        let own = self.figures(committee_id, indicator.id);
        match self.parts(indicator) {
            Some((numerator, denominator)) => resolve_ratio(
                period,
                own,
                (self.kind(numerator), self.figures(committee_id, numerator)),
                (
                    self.kind(denominator),
                    self.figures(committee_id, denominator),
                ),
                self.allow_incomplete,
            ),
            None => resolve(indicator.measure_kind, period, own, self.allow_incomplete),
        }
    }

    /// The total of `indicator` over `committees` in `period` (a ratio from
    /// the totals of its numerator and denominator over the members that
    /// have both), and how many members contributed.
    pub fn resolve_group(
        &self,
        committee_ids: &[i64],
        indicator: &IndicatorRow,
        period: &PeriodCode,
    ) -> (Resolved, usize) {
        let Some((numerator, denominator)) = self.parts(indicator) else {
            let members: Vec<Resolved> = committee_ids
                .iter()
                .map(|id| self.resolve(*id, indicator, period))
                .collect();
            return group_total(period, &members);
        };
        let part = |committee_id: i64, part_id: i64| {
            resolve(
                self.kind(part_id),
                period,
                self.figures(committee_id, part_id),
                self.allow_incomplete,
            )
        };
        let (numerators, denominators): (Vec<Resolved>, Vec<Resolved>) = committee_ids
            .iter()
            .map(|id| (part(*id, numerator), part(*id, denominator)))
            .filter(|(top, bottom)| top.value.is_some() && bottom.value.is_some())
            .unzip();
        let (top, members) = group_total(period, &numerators);
        let (bottom, _) = group_total(period, &denominators);
        (ratio_of(period, &top, &bottom), members)
    }

    /// How many stored figures were read to answer.
    pub fn figures_read(&self) -> usize {
        self.rows.len()
    }

    /// The stored row behind a value that is a stored figure (for what the
    /// source reported with it).
    pub fn stored_row(&self, resolved: &Resolved) -> Option<&ObservationRow> {
        self.rows.get(&resolved.stored_id()?)
    }
}
