//! Breakdowns (disaggregations) of a figure, e.g. `sex = female`.
//!
//! An empty breakdown is the total. Stored as canonical text `key=value;key=value`
//! with keys sorted, so it can take part in a unique key.

use std::collections::BTreeMap;
use std::fmt;

/// A validated breakdown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Breakdown(BTreeMap<String, String>);

/// Why a breakdown is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid breakdown: {0}")]
pub struct InvalidBreakdown(pub String);

const MAX_DIMENSIONS: usize = 8;

fn is_word(text: &str) -> bool {
    (1..=40).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Breakdown {
    pub fn total() -> Self {
        Self::default()
    }

    pub fn is_total(&self) -> bool {
        self.0.is_empty()
    }

    pub fn from_map(map: BTreeMap<String, String>) -> Result<Self, InvalidBreakdown> {
        if map.len() > MAX_DIMENSIONS {
            return Err(InvalidBreakdown(format!(
                "at most {MAX_DIMENSIONS} dimensions"
            )));
        }
        for (key, value) in &map {
            if !is_word(key) || !is_word(value) {
                return Err(InvalidBreakdown(format!(
                    "{key:?}: {value:?}: dimensions and their values are 1 to 40 lowercase ASCII letters, digits or '_' (e.g. {{\"sex\": \"female\"}})"
                )));
            }
        }
        Ok(Self(map))
    }

    /// Parses the canonical text form (`""` or `sex=female;skill=high`), also
    /// accepted in query strings with `:` instead of `=`.
    pub fn parse(text: &str) -> Result<Self, InvalidBreakdown> {
        let text = text.trim();
        if text.is_empty() || text == "total" {
            return Ok(Self::total());
        }
        let mut map = BTreeMap::new();
        for pair in text.split([';', ',']) {
            let (key, value) = pair
                .split_once(['=', ':'])
                .ok_or_else(|| InvalidBreakdown(format!("{pair:?} is not dimension=value")))?;
            if map
                .insert(key.trim().to_owned(), value.trim().to_owned())
                .is_some()
            {
                return Err(InvalidBreakdown(format!("dimension {key:?} appears twice")));
            }
        }
        Self::from_map(map)
    }

    /// Canonical text: keys sorted, `key=value` joined by `;`; empty for the total.
    pub fn canonical(&self) -> String {
        self.to_string()
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

impl TryFrom<String> for Breakdown {
    type Error = InvalidBreakdown;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl fmt::Display for Breakdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (key, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{key}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_is_sorted_and_round_trips() {
        let b = Breakdown::parse("skill=high; sex=female").unwrap();
        assert_eq!(b.canonical(), "sex=female;skill=high");
        assert_eq!(Breakdown::parse(&b.canonical()).unwrap(), b);
        assert_eq!(
            Breakdown::parse("sex:female").unwrap().canonical(),
            "sex=female"
        );
        assert!(Breakdown::parse("").unwrap().is_total());
        assert_eq!(Breakdown::total().canonical(), "");
    }

    #[test]
    fn rejects_malformed_breakdowns() {
        for bad in [
            "sex",
            "Sex=female",
            "sex=nữ",
            "sex=female;sex=male",
            "a b=c",
        ] {
            assert!(Breakdown::parse(bad).is_err(), "{bad}");
        }
    }
}
