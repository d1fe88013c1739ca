//! What analysts and dashboards ask: comparisons, series and aggregates,
//! consistency checks and progress against targets. Reads through `db`,
//! computes with the exact maths of `domain::comparison` and `domain::series`.

pub mod catalog;
pub mod checks;
pub mod comparisons;
pub mod progress;
pub mod series;

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::observations::ObservationRow;
use crate::domain::series::Point;
use crate::domain::value::{ObservationStatus, Qualifier};

/// A stored figure as an analysis shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FigureView {
    /// Id of the stored figure.
    pub id: i64,
    #[schema(value_type = String)]
    pub value: Decimal,
    pub qualifier: Qualifier,
    pub status: ObservationStatus,
}

impl From<&ObservationRow> for FigureView {
    fn from(row: &ObservationRow) -> Self {
        Self {
            id: row.id,
            value: row.value,
            qualifier: row.qualifier,
            status: row.status,
        }
    }
}

pub fn point(row: &ObservationRow) -> Point {
    Point {
        value: row.value,
        qualifier: row.qualifier,
        status: row.status,
    }
}

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
