//! Rules for a figure's value given its indicator.

use rust_decimal::Decimal;

use super::indicator::{Bounds, Unit};

/// Why a value cannot be a figure (or target) of its indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueProblem {
    /// `invalid_value` (the unit's rule) or `out_of_bounds` (the indicator's bounds).
    pub code: &'static str,
    pub message: String,
}

/// The one rule for a value of an indicator, on every write path (single,
/// batch, update, import, seed, targets): the unit's rule
/// ([`check_value_for_unit`]) and the indicator's [`Bounds`].
pub fn check_value(value: Decimal, unit: Unit, bounds: &Bounds) -> Result<(), ValueProblem> {
    check_value_for_unit(value, unit).map_err(|message| ValueProblem {
        code: "invalid_value",
        message,
    })?;
    bounds.check(value).map_err(|message| ValueProblem {
        code: "out_of_bounds",
        message,
    })
}

/// Checks a value can be a figure of an indicator measured in `unit`:
/// counts (persons, enterprises …) are whole and never negative.
pub fn check_value_for_unit(value: Decimal, unit: Unit) -> Result<(), String> {
    if unit.is_count() {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(format!("a count of {unit} cannot be negative, got {value}"));
        }
        if !value.fract().is_zero() {
            return Err(format!(
                "a count of {unit} must be a whole number, got {value}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn counts_are_whole_and_not_negative_but_money_and_percent_may_be() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        assert!(check_value_for_unit(d("201"), Unit::Persons).is_ok());
        assert!(check_value_for_unit(d("0"), Unit::Enterprises).is_ok());
        assert!(check_value_for_unit(d("-1"), Unit::Persons)
            .unwrap_err()
            .contains("negative"));
        assert!(check_value_for_unit(d("1.5"), Unit::Units)
            .unwrap_err()
            .contains("whole"));
        assert!(check_value_for_unit(d("-9"), Unit::Percent).is_ok());
        assert!(check_value_for_unit(d("975.9"), Unit::Vnd).is_ok());
    }
}
