//! Pure domain types and rules: no SQL, no HTTP. A value that made it into one
//! of these types has been parsed and is valid everywhere.

#[macro_use]
mod text_enum;

pub mod breakdown;
pub mod code;
pub mod committee;
pub mod comparison;
pub mod indicator;
pub mod locale;
pub mod observation;
pub mod period;
pub mod plausibility;
pub mod resolve;
pub mod role;
pub mod series;
pub mod text;
pub mod value;

pub use text_enum::UnknownVariant;
