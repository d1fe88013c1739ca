//! What analysts and dashboards ask: comparisons, series and aggregates,
//! consistency checks and progress against targets. Reads through `db`;
//! every value of a period comes from [`resolver`] (the one rule of
//! `domain::resolve`), and changes and progress from the exact maths of
//! `domain::comparison` and `domain::series`.

pub mod catalog;
pub mod checks;
pub mod comparisons;
pub mod group_view;
pub mod progress;
pub mod resolver;
pub mod series;

use crate::domain::value::{ObservationStatus, Qualifier};

/// A note on a value that is not exact or not final, for people reading it.
pub fn caveats(what: &str, qualifier: Qualifier, status: ObservationStatus) -> Vec<String> {
    let mut notes = Vec::new();
    match qualifier {
        Qualifier::Exact => {}
        Qualifier::LowerBound => notes.push(format!(
            "the {what} is a lower bound (\"trên\"): results built on it are bounds, not exact"
        )),
        Qualifier::UpperBound => notes.push(format!(
            "the {what} is an upper bound (\"dưới\"): results built on it are bounds, not exact"
        )),
        Qualifier::Approximate => notes.push(format!(
            "the {what} is approximate (\"xấp xỉ\"): results built on it are approximate"
        )),
    }
    match status {
        ObservationStatus::Normal => {}
        ObservationStatus::Estimated => {
            notes.push(format!("the {what} is an estimate (\"ước đạt\")"))
        }
        ObservationStatus::Provisional => {
            notes.push(format!("the {what} is provisional and may be revised"))
        }
        ObservationStatus::Forecast => notes.push(format!("the {what} is a forecast")),
    }
    notes
}
