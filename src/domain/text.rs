//! The one rule for free text: every field people write (names,
//! descriptions, reasons, quotes, notes) has a length limit and holds no
//! control characters, whichever path it comes by (a single write, a batch,
//! an import row, a target, a lock, a committee, a group, an indicator, a
//! token).
//!
//! Why: a NUL cannot be stored in PostgreSQL text (the write failed with a
//! 500) and SQLite kept it silently, so the two backends disagreed; other
//! control characters garble exports and logs; and an unbounded reason,
//! copied into every revision of a batch, grew a database by a gigabyte in
//! one request. Line breaks and tabs are allowed where text has lines
//! (quotes, descriptions, reasons), not in names.

/// What a field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    /// The most characters (Unicode scalar values), after trimming.
    pub max_chars: usize,
    /// Whether `\n`, `\r` and `\t` may appear.
    pub multiline: bool,
}

/// Names of committees, groups and indicators, and who assigned a target.
pub const NAME: TextRule = TextRule {
    max_chars: 300,
    multiline: false,
};
/// The name of an API token.
pub const TOKEN_NAME: TextRule = TextRule {
    max_chars: 100,
    multiline: false,
};
/// Why a figure, target or lock changed; kept in each revision.
pub const REASON: TextRule = TextRule {
    max_chars: 1000,
    multiline: true,
};
/// The sentence of a source that states a figure or target.
pub const QUOTE: TextRule = TextRule {
    max_chars: 4000,
    multiline: true,
};
/// Descriptions of indicators and groups.
pub const DESCRIPTION: TextRule = TextRule {
    max_chars: 2000,
    multiline: true,
};

/// Why a text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidText {
    #[error("at most {max} characters, this has {actual}")]
    TooLong { max: usize, actual: usize },
    #[error("control character U+{0:04X} is not allowed here")]
    ControlCharacter(u32),
}

impl InvalidText {
    /// The machine-readable code of the field error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLong { .. } => "too_long",
            Self::ControlCharacter(_) => "control_character",
        }
    }
}

/// Checks `text` (as it will be stored: trimmed) against `rule`. The length
/// is counted only up to the limit, so an oversized text costs no more than
/// an allowed one.
pub fn check(text: &str, rule: TextRule) -> Result<(), InvalidText> {
    let text = text.trim();
    let allowed = |c: char| rule.multiline && matches!(c, '\n' | '\r' | '\t');
    if let Some(c) = text.chars().find(|c| c.is_control() && !allowed(*c)) {
        return Err(InvalidText::ControlCharacter(u32::from(c)));
    }
    let actual = text.chars().count();
    if actual > rule.max_chars {
        return Err(InvalidText::TooLong {
            max: rule.max_chars,
            actual,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_and_lines_only_where_text_has_lines() {
        assert_eq!(check("a\0b", QUOTE), Err(InvalidText::ControlCharacter(0)));
        assert_eq!(
            check("a\u{1b}[31m", REASON),
            Err(InvalidText::ControlCharacter(0x1b))
        );
        assert_eq!(
            check("a\u{85}b", DESCRIPTION),
            Err(InvalidText::ControlCharacter(0x85))
        );
        assert!(check("line one\nline two\tend", QUOTE).is_ok());
        assert_eq!(check("a\nb", NAME), Err(InvalidText::ControlCharacter(10)));
        // Vietnamese letters are not control characters.
        assert!(check("Đảng ủy Khối Doanh nghiệp", NAME).is_ok());
    }

    #[test]
    fn length_counts_characters_after_trimming() {
        assert!(check(&"ệ".repeat(300), NAME).is_ok());
        assert!(check(&format!("  {}  ", "a".repeat(300)), NAME).is_ok());
        assert_eq!(
            check(&"a".repeat(301), NAME),
            Err(InvalidText::TooLong {
                max: 300,
                actual: 301
            })
        );
    }
}
