//! Indicators: what is measured, in which unit, and how it aggregates.

use rust_decimal::Decimal;

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

/// The values an indicator's figures and targets may take (DHIS2's min–max
/// values), in the indicator's own unit and scale: a percentage of a total
/// lies in 0–100, a count is a whole number of at least 0, money is not
/// negative; a "percent of target" has no upper bound. Checked on every
/// write path by [`crate::domain::observation::check_value`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bounds {
    /// Smallest value allowed; `None`: no lower bound.
    pub min: Option<Decimal>,
    /// Largest value allowed; `None`: no upper bound.
    pub max: Option<Decimal>,
    /// Only whole numbers.
    pub whole: bool,
}

impl Bounds {
    /// Whether the bounds say nothing.
    pub fn is_unbounded(&self) -> bool {
        *self == Bounds::default()
    }

    /// Checks a definition: the minimum is not above the maximum.
    pub fn check_definition(&self) -> Result<(), String> {
        match (self.min, self.max) {
            (Some(min), Some(max)) if min > max => {
                Err(format!("min_value {min} is above max_value {max}"))
            }
            _ => Ok(()),
        }
    }

    /// Checks a value against the bounds; the error says which and why.
    pub fn check(&self, value: Decimal) -> Result<(), String> {
        if let Some(min) = self.min.filter(|min| value < *min) {
            return Err(format!("{value} is below the indicator's minimum of {min}"));
        }
        if let Some(max) = self.max.filter(|max| value > *max) {
            return Err(format!("{value} is above the indicator's maximum of {max}"));
        }
        if self.whole && !value.fract().is_zero() {
            return Err(format!(
                "the indicator takes whole numbers only, got {value}"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_refuse_what_lies_outside_them() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let share = Bounds {
            min: Some(d("0")),
            max: Some(d("100")),
            whole: false,
        };
        assert!(share.check(d("0")).is_ok());
        assert!(share.check(d("100")).is_ok());
        assert!(share.check(d("1.234")).is_ok());
        assert!(share.check(d("1234")).unwrap_err().contains("above"));
        assert!(share.check(d("-0.1")).unwrap_err().contains("below"));
        let count = Bounds {
            min: Some(d("0")),
            max: None,
            whole: true,
        };
        assert!(count.check(d("1000000")).is_ok());
        assert!(count.check(d("1.5")).unwrap_err().contains("whole"));
        assert!(Bounds::default().check(d("-1e20")).is_ok());
        assert!(Bounds::default().is_unbounded());
        let upside_down = Bounds {
            min: Some(d("5")),
            max: Some(d("1")),
            whole: false,
        };
        assert!(upside_down.check_definition().is_err());
        assert!(share.check_definition().is_ok());
    }
}
