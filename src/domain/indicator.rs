//! Indicators: what is measured, in which unit, and how it aggregates.

use super::value::MAX_SCALE;

text_enum! {
    /// Unit of an indicator's values.
    pub enum Unit as "unit" {
        /// Vietnamese đồng.
        Vnd = "VND",
        /// US dollars.
        Usd = "USD",
        /// People (workers, party members).
        Persons = "persons",
        /// Enterprises.
        Enterprises = "enterprises",
        /// Member units of a committee.
        Units = "units",
        /// Organisations (e.g. grassroots party organisations).
        Organisations = "organisations",
        /// Percent (0.05 means 0.05 %).
        Percent = "percent",
    }
}

impl Unit {
    /// Counts are whole and never negative.
    pub fn is_count(self) -> bool {
        matches!(
            self,
            Unit::Persons | Unit::Enterprises | Unit::Units | Unit::Organisations
        )
    }

    pub fn is_currency(self) -> bool {
        matches!(self, Unit::Vnd | Unit::Usd)
    }
}

text_enum! {
    /// How values combine over time and across committees.
    pub enum MeasureKind as "measure kind" {
        /// Accumulates over the period (revenue): quarters sum to the year.
        Flow = "flow",
        /// A level at the end of the period (loans outstanding): the year takes the last quarter.
        Stock = "stock",
        /// A ratio (NPL ratio): recomputed from numerator and denominator, never averaged.
        Ratio = "ratio",
    }
}

text_enum! {
    /// Whether more is better, for judging progress against targets.
    pub enum Direction as "direction" {
        HigherIsBetter = "higher_is_better",
        LowerIsBetter = "lower_is_better",
        Neutral = "neutral",
    }
}

/// Why an indicator definition is invalid.
pub fn check_scale(scale: i32) -> Result<i32, String> {
    if (0..=MAX_SCALE).contains(&scale) {
        Ok(scale)
    } else {
        Err(format!("scale is a power of ten between 0 and {MAX_SCALE} (9 for tỷ, 6 for triệu), got {scale}"))
    }
}

/// Checks a measure kind fits a unit: a ratio is a percent and a percent is a ratio.
pub fn check_kind_fits_unit(kind: MeasureKind, unit: Unit) -> Result<(), String> {
    match (kind, unit) {
        (MeasureKind::Ratio, Unit::Percent) => Ok(()),
        (MeasureKind::Ratio, other) => Err(format!(
            "a ratio indicator is measured in percent, not {other}"
        )),
        (_, Unit::Percent) => Err("a percent indicator must have measure_kind ratio".into()),
        _ => Ok(()),
    }
}
