//! Cells written the Vietnamese way: `27.701,5`, `tỷ đồng`, `trên`, `ước đạt`.
//!
//! Statisticians import spreadsheets copied from reports, where `.` groups
//! thousands, `,` is the decimal mark and a figure carries its qualifier and
//! unit in words ("trên 14,644 tỷ đồng"). Every function here first
//! NFC-normalises its input (so decomposed Vietnamese matches), trims it and
//! collapses whitespace runs, non-breaking spaces included; words match
//! case-insensitively.

use std::borrow::Cow;

use rust_decimal::Decimal;
use unicode_normalization::UnicodeNormalization;

use super::indicator::Unit;
use super::value::{parse_decimal, ObservationStatus, Qualifier};

text_enum! {
    /// Which conventions a file's cells follow.
    #[derive(Default)]
    pub enum Locale as "locale" {
        /// `.` decimal point, no grouping (`27701.5`) — the default.
        #[default]
        Standard = "standard",
        /// Vietnamese: `.` groups thousands, `,` is the decimal mark (`27.701,5`).
        Vietnamese = "vi",
    }
}

/// Why a cell could not be read: what it should have been and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a valid {what}: {expected}")]
pub struct LocaleError {
    what: &'static str,
    input: String,
    expected: String,
}

impl LocaleError {
    fn new(what: &'static str, input: &str, expected: impl Into<String>) -> Self {
        Self {
            what,
            // A whole pasted column must not end up in an error message.
            input: input.chars().take(MAX_ERROR_INPUT).collect(),
            expected: expected.into(),
        }
    }

    /// What the cell should have been: "number", "unit", "value", "qualifier" or "status".
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// The cell as read (normalised, and cut to its first 64 characters).
    pub fn input(&self) -> &str {
        &self.input
    }

    /// What would have been accepted, with an example.
    pub fn expected(&self) -> &str {
        &self.expected
    }
}

/// Characters of the input kept in an error.
const MAX_ERROR_INPUT: usize = 64;

/// Most significant digits a `Decimal` holds exactly.
const MAX_DIGITS: usize = 28;

/// What a Vietnamese number looks like, for error messages.
const VIETNAMESE_NUMBER: &str =
    "use '.' to group thousands and ',' for decimals, e.g. 27.701 or 975,9";

/// Words that multiply a currency: "tỷ đồng" is 10^9 đồng. Counts and
/// percentages take no multiplier, since their values must stay whole.
const SCALE_WORDS: &[(&str, i32)] = &[
    ("nghìn tỷ", 12),
    ("ngàn tỷ", 12),
    ("tỷ", 9),
    // Older spelling, still common in reports.
    ("tỉ", 9),
    ("triệu", 6),
    ("nghìn", 3),
    ("ngàn", 3),
];

/// Currency names, which may follow a scale word.
const CURRENCY_WORDS: &[(&str, Unit)] = &[
    ("đồng", Unit::Vnd),
    ("vnd", Unit::Vnd),
    ("vnđ", Unit::Vnd),
    ("usd", Unit::Usd),
    ("đô la mỹ", Unit::Usd),
];

/// Units that never take a scale word.
const PLAIN_UNIT_WORDS: &[(&str, Unit)] = &[
    ("người", Unit::Persons),
    ("lao động", Unit::Persons),
    ("người lao động", Unit::Persons),
    ("công nhân", Unit::Persons),
    ("đảng viên", Unit::Persons),
    // Party reports count new members as comrades or as "quần chúng" admitted.
    ("đồng chí", Unit::Persons),
    ("quần chúng", Unit::Persons),
    ("doanh nghiệp", Unit::Enterprises),
    ("dn", Unit::Enterprises),
    ("công ty", Unit::Enterprises),
    ("đơn vị", Unit::Units),
    ("tổ chức", Unit::Organisations),
    ("tổ chức đảng", Unit::Organisations),
    ("tổ chức cơ sở đảng", Unit::Organisations),
    ("chi bộ", Unit::Organisations),
    ("đảng bộ", Unit::Organisations),
    ("%", Unit::Percent),
    ("phần trăm", Unit::Percent),
];

const UNIT_EXPECTED: &str = "use a unit such as tỷ đồng, triệu đồng, nghìn đồng, đồng, VND, \
     tỷ USD, triệu USD, USD, đô la Mỹ, người, lao động, người lao động, công nhân, đảng viên, \
     đồng chí, quần chúng, doanh nghiệp, DN, công ty, đơn vị, tổ chức, tổ chức đảng, \
     tổ chức cơ sở đảng, chi bộ, đảng bộ, % or phần trăm, \
     or one of VND, USD, persons, enterprises, units, organisations, percent";

/// Qualifier words as they precede a number, in a value cell or in a
/// report's sentence (the extractor reads the same words); longest first.
pub(crate) const QUALIFIER_WORDS: &[(&str, Qualifier)] = &[
    ("trên dưới", Qualifier::Approximate),
    ("xấp xỉ", Qualifier::Approximate),
    ("khoảng", Qualifier::Approximate),
    // "gần" ("nearly") is used loosely in reports, so not an upper bound.
    ("gần", Qualifier::Approximate),
    ("chừng", Qualifier::Approximate),
    ("ngót", Qualifier::Approximate),
    ("hơn", Qualifier::LowerBound),
    ("trên", Qualifier::LowerBound),
    ("dưới", Qualifier::UpperBound),
];

const QUALIFIER_EXPECTED: &str = "use exact, lower_bound, upper_bound, approximate, \
     or chính xác, trên, hơn, dưới, xấp xỉ, khoảng, gần, chừng, ngót, trên dưới";

/// Status words as they precede a number, in a value cell or in a report's
/// sentence; longest first.
pub(crate) const STATUS_WORDS: &[(&str, ObservationStatus)] = &[
    ("ước thực hiện", ObservationStatus::Estimated),
    ("ước đạt", ObservationStatus::Estimated),
    ("ước tính", ObservationStatus::Estimated),
    ("ước", ObservationStatus::Estimated),
    ("dự kiến", ObservationStatus::Forecast),
    ("dự báo", ObservationStatus::Forecast),
    ("sơ bộ", ObservationStatus::Provisional),
];

const STATUS_EXPECTED: &str = "use A, E, P, F, or chính thức, ước đạt, ước tính, \
     ước thực hiện, ước, sơ bộ, dự kiến, dự báo";

/// NFC-normalises (so decomposed Vietnamese compares equal to composed),
/// trims and collapses every whitespace run, non-breaking spaces included,
/// to one ASCII space. Case is kept so errors quote the cell as written.
fn tidy(input: &str) -> String {
    // ASCII text is already NFC.
    let composed: std::borrow::Cow<'_, str> = if input.is_ascii() {
        input.into()
    } else {
        input.nfc().collect::<String>().into()
    };
    composed.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The phrase in `table` equal to the whole of `key` (already lower-case).
fn lookup<T: Copy>(table: &[(&str, T)], key: &str) -> Option<T> {
    table
        .iter()
        .find(|(phrase, _)| *phrase == key)
        .map(|&(_, value)| value)
}

/// The longest phrase in `table` that `words` (lower-case) start with, and
/// how many words it spans. Longest, so "ước đạt" wins over "ước".
fn match_words<T: Copy>(table: &[(&str, T)], words: &[String]) -> Option<(T, usize)> {
    table
        .iter()
        .filter_map(|&(phrase, value)| {
            let phrase_words: Vec<&str> = phrase.split(' ').collect();
            let matches = phrase_words.len() <= words.len()
                && phrase_words.iter().zip(words).all(|(p, w)| *p == w);
            matches.then_some((value, phrase_words.len()))
        })
        .max_by_key(|&(_, len)| len)
}

/// Parses a number written in `locale`.
///
/// [`Locale::Standard`] delegates to [`parse_decimal`] (`27701.5`, `-0.1`,
/// `1.5e3`). [`Locale::Vietnamese`] reads `.` as the thousands separator and
/// `,` as the decimal mark: `27.701` is 27701, `975,9` is 975.9,
/// `1.234.567,89` is 1234567.89. Either way a leading `−` (U+2212) is a minus
/// sign, and the digits are kept as written (`0,50` stays `0.50`).
///
/// Rejected in Vietnamese: groups after a `.` not of exactly 3 digits
/// (`27.70`, `1.23.456`), more than one `,`, a `.` after the `,`, any other
/// character, an empty cell, and more than 28 significant digits.
pub fn parse_number(text: &str, locale: Locale) -> Result<Decimal, LocaleError> {
    let text = tidy(text);
    match locale {
        Locale::Standard => {
            // Word processors turn "-9" into "−9"; parse_decimal knows only ASCII.
            let ascii = match text.strip_prefix('−') {
                Some(rest) => Cow::Owned(format!("-{rest}")),
                None => Cow::Borrowed(text.as_str()),
            };
            parse_decimal(&ascii).map_err(|error| {
                LocaleError::new("number", &text, format!("{}, e.g. 27701.5", error.reason))
            })
        }
        Locale::Vietnamese => parse_vietnamese_number(&text).map_err(|reason| {
            LocaleError::new("number", &text, format!("{reason}; {VIETNAMESE_NUMBER}"))
        }),
    }
}

/// Reads a tidied Vietnamese number; the error is why it is not one.
fn parse_vietnamese_number(text: &str) -> Result<Decimal, String> {
    if text.is_empty() {
        return Err("it is empty".into());
    }
    let (negative, body) = match text.strip_prefix(['-', '−']) {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if let Some(bad) = body
        .chars()
        .find(|&c| !(c.is_ascii_digit() || c == '.' || c == ','))
    {
        return Err(format!(
            "it holds {bad:?}, but only digits, '.' and ',' may follow the sign"
        ));
    }
    let mut halves = body.split(',');
    let integer = halves.next().unwrap_or_default();
    let fraction = halves.next();
    if halves.next().is_some() {
        return Err("it has more than one ','".into());
    }
    if fraction.is_some_and(|f| f.contains('.')) {
        return Err("a '.' cannot follow the decimal ','".into());
    }
    if fraction == Some("") {
        return Err("a ',' must be followed by digits".into());
    }
    let mut groups = integer.split('.');
    let first = groups.next().unwrap_or_default();
    let rest: Vec<&str> = groups.collect();
    if first.is_empty() {
        return Err("it must start with a digit".into());
    }
    if !rest.is_empty() {
        if first.len() > 3 {
            return Err("the digits before the first '.' are at most 3".into());
        }
        if rest.iter().any(|group| group.len() != 3) {
            return Err("each group after a '.' has exactly 3 digits".into());
        }
        // "0.001" is a standard-locale 0.001 pasted in, not the number 1.
        if first.starts_with('0') {
            return Err("a number grouped with '.' cannot start with 0".into());
        }
    }
    let fraction = fraction.unwrap_or_default();
    if fraction.len() > MAX_DIGITS {
        return Err(format!("it has more than {MAX_DIGITS} digits after ','"));
    }
    let digits: String = integer.chars().filter(char::is_ascii_digit).collect();
    let significant = format!("{digits}{fraction}").trim_start_matches('0').len();
    if significant > MAX_DIGITS {
        return Err(format!("it has more than {MAX_DIGITS} significant digits"));
    }
    let whole = match digits.trim_start_matches('0') {
        "" => "0",
        trimmed => trimmed,
    };
    let sign = if negative { "-" } else { "" };
    let point = if fraction.is_empty() { "" } else { "." };
    let mut value = Decimal::from_str_exact(&format!("{sign}{whole}{point}{fraction}"))
        .map_err(|_| format!("it is out of range (at most {MAX_DIGITS} digits)"))?;
    // "-0" is zero; a negative zero would print as "-0".
    if value.is_zero() {
        value.set_sign_positive(true);
    }
    Ok(value)
}

/// Parses a unit phrase as reports write it into a unit and the power of
/// ten its values are stated in.
///
/// `tỷ đồng` is (VND, 9), `triệu đồng` (VND, 6), `nghìn đồng` / `ngàn đồng`
/// (VND, 3), `đồng` / `VND` / `VNĐ` (VND, 0); `tỷ USD` (USD, 9), `triệu USD`
/// (USD, 6), `USD` / `đô la Mỹ` (USD, 0); `nghìn tỷ` is 10^12. `người`,
/// `lao động`, `đảng viên` are persons; `doanh nghiệp` enterprises; `đơn vị`
/// units; `tổ chức`, `tổ chức cơ sở đảng` organisations; `%`, `phần trăm`
/// percent. The canonical units (`VND`, `USD`, `persons`, `enterprises`,
/// `units`, `organisations`, `percent`) are accepted at scale 0.
/// Scale words go with currencies only, so `nghìn người` is rejected.
pub fn parse_unit(text: &str) -> Result<(Unit, i32), LocaleError> {
    let text = tidy(text);
    let key = text.to_lowercase();
    if let Some(unit) = lookup(PLAIN_UNIT_WORDS, &key) {
        return Ok((unit, 0));
    }
    if let Some(&unit) = Unit::ALL
        .iter()
        .find(|unit| unit.as_str().to_lowercase() == key)
    {
        return Ok((unit, 0));
    }
    let (scale, currency) = SCALE_WORDS
        .iter()
        .find_map(|&(word, scale)| {
            let rest = key.strip_prefix(word)?.strip_prefix(' ')?;
            Some((scale, rest))
        })
        .unwrap_or((0, key.as_str()));
    lookup(CURRENCY_WORDS, currency)
        .map(|unit| (unit, scale))
        .ok_or_else(|| LocaleError::new("unit", &text, UNIT_EXPECTED))
}

/// A value cell read into its parts: "trên 14,644 tỷ đồng" is 14.644, a
/// lower bound, in 10^9 VND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuePhrase {
    /// The number as written, before any scaling by the unit.
    pub value: Decimal,
    /// The qualifier word's meaning; `None` if the cell had none (exact).
    pub qualifier: Option<Qualifier>,
    /// The status word's meaning; `None` if the cell had none.
    pub status: Option<ObservationStatus>,
    /// The unit and its power of ten; `None` if the cell gave only a number.
    pub unit: Option<(Unit, i32)>,
}

/// The first Vietnamese word or phrase of the vocabularies above found in
/// `text` (`ước đạt`, `trên`, `tỷ`, `đồng`, `người` …), as written in the
/// tables. International symbols and codes (`%`, `VND`, `USD`) are not
/// Vietnamese words. Used to refuse reading a number by the standard rules
/// next to Vietnamese words: `ước đạt 7.100` is 7100 to the person who wrote
/// it, never 7.1.
pub fn vietnamese_word(text: &str) -> Option<&'static str> {
    let text = tidy(text);
    if text.is_ascii() {
        // Every Vietnamese entry has a letter with a diacritic.
        return None;
    }
    let lower: Vec<String> = text.split(' ').map(str::to_lowercase).collect();
    let phrases = STATUS_WORDS
        .iter()
        .map(|(phrase, _)| *phrase)
        .chain(QUALIFIER_WORDS.iter().map(|(phrase, _)| *phrase))
        .chain(SCALE_WORDS.iter().map(|(phrase, _)| *phrase))
        .chain(CURRENCY_WORDS.iter().map(|(phrase, _)| *phrase))
        .chain(PLAIN_UNIT_WORDS.iter().map(|(phrase, _)| *phrase))
        .chain(["chính xác", "chính thức"])
        .filter(|phrase| !phrase.is_ascii());
    let mut found: Option<(usize, &'static str)> = None;
    for phrase in phrases {
        let words: Vec<&str> = phrase.split(' ').collect();
        let at = (0..lower.len()).find(|&at| {
            lower.len() - at >= words.len() && words.iter().zip(&lower[at..]).all(|(p, w)| p == w)
        });
        if let Some(at) = at {
            if found.is_none_or(|(first, _)| at < first) {
                found = Some((at, phrase));
            }
        }
    }
    found.map(|(_, phrase)| phrase)
}

/// Why a number next to the Vietnamese `word` is not read under the
/// standard locale: its writer grouped thousands with `.`.
pub fn needs_vietnamese(word: &str) -> String {
    format!(
        "the Vietnamese word {word:?} means the number was written the Vietnamese way \
         (7.100 is 7100), but without locale=vi numbers are read with '.' as the decimal \
         point (7.1); import with locale=vi, or write the number with '.' as the decimal \
         point and no Vietnamese words"
    )
}

/// Parses a value cell that may carry a status word, a qualifier word, a
/// number in `locale` and a unit, in that order (the two words in either
/// order).
///
/// Under [`Locale::Standard`] a cell with a Vietnamese word
/// ([`vietnamese_word`]) is refused: its number was written the Vietnamese
/// way, and half-reading it (the words by Vietnamese rules, the number by
/// standard ones) would turn `ước đạt 7.100` into 7.1.
///
/// Qualifier words: `trên`, `hơn` (lower bound); `dưới` (upper bound);
/// `xấp xỉ`, `khoảng`, `gần`, `chừng` (approximate). Status words: `ước đạt`,
/// `ước tính`, `ước` (estimated); `dự kiến`, `dự báo` (forecast); `sơ bộ`
/// (provisional). A `%` may be written against the number (`40%`). The unit
/// is anything [`parse_unit`] accepts.
pub fn parse_value_phrase(text: &str, locale: Locale) -> Result<ValuePhrase, LocaleError> {
    let text = tidy(text);
    if locale == Locale::Standard {
        if let Some(word) = vietnamese_word(&text) {
            return Err(LocaleError::new("value", &text, needs_vietnamese(word)));
        }
    }
    let fail = |expected: String| LocaleError::new("value", &text, expected);
    let words: Vec<&str> = text.split(' ').filter(|word| !word.is_empty()).collect();
    let lower: Vec<String> = words.iter().map(|word| word.to_lowercase()).collect();

    let (mut qualifier, mut status, mut at) = (None, None, 0);
    // At most one of each, so "trên hơn 5" is rejected rather than guessed at.
    loop {
        let rest = lower.get(at..).unwrap_or_default();
        if let (None, Some((found, len))) = (status, match_words(STATUS_WORDS, rest)) {
            status = Some(found);
            at += len;
        } else if let (None, Some((found, len))) = (qualifier, match_words(QUALIFIER_WORDS, rest)) {
            qualifier = Some(found);
            at += len;
        } else {
            break;
        }
    }

    let Some(&number_word) = words.get(at) else {
        let example = match locale {
            Locale::Standard => "trên 14.644 tỷ đồng",
            Locale::Vietnamese => "trên 14,644 tỷ đồng",
        };
        return Err(fail(format!(
            "expected a number, optionally after a status word (ước đạt, dự kiến, sơ bộ …) \
             and a qualifier word (trên, hơn, dưới, xấp xỉ, khoảng, gần …) and before a unit \
             (tỷ đồng, %, người …), e.g. {example}"
        )));
    };
    let (number, glued_unit) = match number_word.strip_suffix('%') {
        Some(number) if !number.is_empty() => (number, Some("%")),
        _ => (number_word, None),
    };
    let value = parse_number(number, locale)
        .map_err(|error| fail(format!("{number:?} is not a number: {}", error.expected())))?;

    let unit_words: Vec<&str> = glued_unit
        .into_iter()
        .chain(words.get(at + 1..).unwrap_or_default().iter().copied())
        .collect();
    let unit = if unit_words.is_empty() {
        None
    } else {
        let unit_text = unit_words.join(" ");
        let unit = parse_unit(&unit_text)
            .map_err(|error| fail(format!("{unit_text:?} is not a unit: {}", error.expected())))?;
        Some(unit)
    };

    Ok(ValuePhrase {
        value,
        qualifier,
        status,
        unit,
    })
}

/// Parses a qualifier cell: canonical (`exact`, `lower_bound`, `upper_bound`,
/// `approximate`) or Vietnamese (`chính xác` is exact; `trên`, `hơn`,
/// `dưới`, `xấp xỉ`, `khoảng`, `gần`, `chừng` as in [`parse_value_phrase`]).
pub fn parse_qualifier(text: &str) -> Result<Qualifier, LocaleError> {
    let text = tidy(text);
    let key = text.to_lowercase();
    Qualifier::ALL
        .iter()
        .copied()
        .find(|qualifier| qualifier.as_str() == key)
        .or_else(|| (key == "chính xác").then_some(Qualifier::Exact))
        .or_else(|| lookup(QUALIFIER_WORDS, &key))
        .ok_or_else(|| LocaleError::new("qualifier", &text, QUALIFIER_EXPECTED))
}

/// Parses a status cell: canonical SDMX codes `A`, `E`, `P`, `F` (either
/// case) or Vietnamese (`chính thức` is A; `ước đạt`, `ước tính`, `ước` are E;
/// `sơ bộ` is P; `dự kiến`, `dự báo` are F).
pub fn parse_status(text: &str) -> Result<ObservationStatus, LocaleError> {
    let text = tidy(text);
    let key = text.to_lowercase();
    ObservationStatus::ALL
        .iter()
        .copied()
        .find(|status| status.as_str().to_lowercase() == key)
        .or_else(|| (key == "chính thức").then_some(ObservationStatus::Normal))
        .or_else(|| lookup(STATUS_WORDS, &key))
        .ok_or_else(|| LocaleError::new("status", &text, STATUS_EXPECTED))
}

/// Writes a number the way [`parse_number`] reads it back, digit for digit:
/// in Vietnamese, `27701.5` is `27.701,5`; digits are kept as stored (`0.50`
/// is `0,50`). Exports and the web app write numbers with it.
pub fn format_number(value: Decimal, locale: Locale) -> String {
    let text = value.to_string();
    if locale == Locale::Standard {
        return text;
    }
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped},{fraction}")
    }
}

/// The unit as people say it, the words [`parse_unit`] reads: (VND, 9) is
/// `tỷ đồng`, (USD, 6) `triệu USD`, persons `người`.
pub fn unit_words(unit: Unit, scale: i32) -> String {
    let name = match unit {
        Unit::Vnd => "đồng",
        Unit::Usd => "USD",
        Unit::Persons => "người",
        Unit::Enterprises => "doanh nghiệp",
        Unit::Units => "đơn vị",
        Unit::Organisations => "tổ chức",
        Unit::Percent => "%",
    };
    match SCALE_WORDS.iter().find(|(_, s)| *s == scale) {
        Some((word, _)) if scale != 0 => format!("{word} {name}"),
        _ if scale == 0 => name.to_owned(),
        // A scale without a word: say it as a power of ten.
        _ => format!("×10^{scale} {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    use ObservationStatus as S;
    use Qualifier as Q;

    const VI: Locale = Locale::Vietnamese;
    const STD: Locale = Locale::Standard;

    fn number(text: &str, locale: Locale) -> Result<String, LocaleError> {
        parse_number(text, locale).map(|value| value.to_string())
    }

    fn nfd(text: &str) -> String {
        text.nfd().collect()
    }

    #[test]
    fn nfd_inputs_really_are_decomposed() {
        // Otherwise the NFD rows below would only repeat the NFC ones.
        assert_ne!(nfd("trên 14,644 tỷ đồng"), "trên 14,644 tỷ đồng");
        assert_ne!(nfd("ước đạt"), "ước đạt");
    }

    #[test]
    fn vietnamese_numbers_keep_their_digits() {
        for (text, expected) in [
            ("27.701", "27701"),
            ("975,9", "975.9"),
            ("11,09", "11.09"),
            ("1.234.567,89", "1234567.89"),
            ("0,05", "0.05"),
            ("-9", "-9"),
            ("−9", "-9"),
            ("+7,7", "7.7"),
            ("27701", "27701"),
            ("14,644", "14.644"),
            ("24.730", "24730"),
            ("100.000", "100000"),
            ("0", "0"),
            ("-0", "0"),
            ("0,50", "0.50"),
            ("007", "7"),
            ("\u{00A0} 27.701,5\u{00A0}", "27701.5"),
            ("9.999.999.999.999.999.999.999.999.999", &"9".repeat(28)),
            (
                "0,0000000000000000000000000001",
                "0.0000000000000000000000000001",
            ),
        ] {
            assert_eq!(number(text, VI).as_deref(), Ok(expected), "{text:?}");
        }
    }

    #[test]
    fn vietnamese_numbers_reject_what_is_ambiguous_or_malformed() {
        for (text, reason) in [
            ("27.70", "exactly 3 digits"),
            ("1.23.456", "exactly 3 digits"),
            ("975.9", "exactly 3 digits"),
            ("27.", "exactly 3 digits"),
            ("1..234", "exactly 3 digits"),
            ("1234.567", "at most 3"),
            ("0.001", "cannot start with 0"),
            ("1,2,3", "more than one ','"),
            ("1,234.5", "'.' cannot follow"),
            ("975,", "followed by digits"),
            (",5", "start with a digit"),
            (".123", "start with a digit"),
            ("-", "start with a digit"),
            ("12a", "'a'"),
            ("abc", "'a'"),
            ("1e5", "'e'"),
            ("27 701", "' '"),
            ("- 9", "' '"),
            ("--9", "'-'"),
            ("+-9", "'-'"),
            ("", "empty"),
            ("\u{00A0} ", "empty"),
            (
                "99.999.999.999.999.999.999.999.999.999",
                "28 significant digits",
            ),
            ("0,00000000000000000000000000001", "28 digits after ','"),
        ] {
            let error = parse_number(text, VI).unwrap_err();
            assert_eq!(error.what(), "number", "{text:?}");
            assert!(error.expected().contains(reason), "{text:?}: {error}");
            assert!(error.expected().contains(VIETNAMESE_NUMBER), "{text:?}");
        }
    }

    #[test]
    fn formatted_numbers_read_back_unchanged() {
        for text in [
            "0",
            "975.90",
            "-0.05",
            "27701",
            "12345678901234567.891",
            "1234567890123456789012345678",
            "0.0000000000000000000000000001",
            "-79228162514264337593543950.35",
        ] {
            let value: Decimal = text.parse().unwrap();
            for locale in Locale::ALL {
                let written = format_number(value, *locale);
                let read = parse_number(&written, *locale).unwrap();
                assert_eq!(read.to_string(), value.to_string(), "{text} in {locale}");
            }
        }
        assert_eq!(format_number("975.90".parse().unwrap(), VI), "975,90");
    }

    #[test]
    fn standard_numbers_use_a_decimal_point() {
        for (text, expected) in [
            ("27701.5", "27701.5"),
            ("975.9", "975.9"),
            ("14.644", "14.644"),
            ("−9", "-9"),
            ("\u{00A0}0.05 ", "0.05"),
            ("1.5E3", "1500"),
        ] {
            assert_eq!(number(text, STD).as_deref(), Ok(expected), "{text:?}");
        }
        for text in ["27.701,5", "1,000", "975,9", "", "abc", "27 701"] {
            let error = parse_number(text, STD).unwrap_err();
            assert!(
                error.expected().contains("e.g. 27701.5"),
                "{text:?}: {error}"
            );
        }
    }

    #[test]
    fn errors_say_what_was_expected() {
        let error = parse_number("27.70", VI).unwrap_err();
        assert_eq!(error.input(), "27.70");
        assert_eq!(
            error.to_string(),
            "\"27.70\" is not a valid number: each group after a '.' has exactly 3 digits; \
             use '.' to group thousands and ',' for decimals, e.g. 27.701 or 975,9"
        );
        let long = "x".repeat(1000);
        assert_eq!(
            parse_unit(&long).unwrap_err().input().len(),
            MAX_ERROR_INPUT
        );
    }

    #[test]
    fn units_as_reports_write_them() {
        for (text, unit, scale) in [
            ("tỷ đồng", Unit::Vnd, 9),
            ("triệu đồng", Unit::Vnd, 6),
            ("nghìn đồng", Unit::Vnd, 3),
            ("ngàn đồng", Unit::Vnd, 3),
            ("đồng", Unit::Vnd, 0),
            ("VND", Unit::Vnd, 0),
            ("VNĐ", Unit::Vnd, 0),
            ("tỷ USD", Unit::Usd, 9),
            ("triệu USD", Unit::Usd, 6),
            ("USD", Unit::Usd, 0),
            ("đô la Mỹ", Unit::Usd, 0),
            ("người", Unit::Persons, 0),
            ("lao động", Unit::Persons, 0),
            ("đảng viên", Unit::Persons, 0),
            ("doanh nghiệp", Unit::Enterprises, 0),
            ("đơn vị", Unit::Units, 0),
            ("tổ chức", Unit::Organisations, 0),
            ("tổ chức cơ sở đảng", Unit::Organisations, 0),
            ("đồng chí", Unit::Persons, 0),
            ("quần chúng", Unit::Persons, 0),
            ("chi bộ", Unit::Organisations, 0),
            ("DN", Unit::Enterprises, 0),
            ("%", Unit::Percent, 0),
            ("phần trăm", Unit::Percent, 0),
            ("persons", Unit::Persons, 0),
            ("enterprises", Unit::Enterprises, 0),
            ("units", Unit::Units, 0),
            ("organisations", Unit::Organisations, 0),
            ("percent", Unit::Percent, 0),
            ("tỉ đồng", Unit::Vnd, 9),
            ("nghìn tỷ đồng", Unit::Vnd, 12),
            ("tỷ VND", Unit::Vnd, 9),
            ("TỶ ĐỒNG", Unit::Vnd, 9),
            ("Tỷ Đồng", Unit::Vnd, 9),
            ("tỷ\u{00A0}đồng", Unit::Vnd, 9),
            ("  tỷ   đồng ", Unit::Vnd, 9),
        ] {
            assert_eq!(parse_unit(text), Ok((unit, scale)), "{text:?}");
            assert_eq!(parse_unit(&nfd(text)), Ok((unit, scale)), "NFD {text:?}");
        }
        for text in [
            "",
            "tỷ",
            "nghìn người",
            "tỷ %",
            "kg",
            "đồng đồng",
            "tỷđồng",
            "tỷ tỷ đồng",
        ] {
            let error = parse_unit(text).unwrap_err();
            assert_eq!(error.what(), "unit", "{text:?}");
            assert!(error.expected().contains("tỷ đồng"), "{text:?}");
        }
    }

    #[test]
    fn value_phrases_split_into_their_parts() {
        // Short names keep one case to a line.
        const LB: Option<Q> = Some(Q::LowerBound);
        const UB: Option<Q> = Some(Q::UpperBound);
        const AP: Option<Q> = Some(Q::Approximate);
        const E: Option<S> = Some(S::Estimated);
        const F: Option<S> = Some(S::Forecast);
        const P: Option<S> = Some(S::Provisional);
        const TY_VND: Option<(Unit, i32)> = Some((Unit::Vnd, 9));
        const TY_USD: Option<(Unit, i32)> = Some((Unit::Usd, 9));
        const TRIEU_USD: Option<(Unit, i32)> = Some((Unit::Usd, 6));
        const PCT: Option<(Unit, i32)> = Some((Unit::Percent, 0));
        const PERSONS: Option<(Unit, i32)> = Some((Unit::Persons, 0));
        const FIRMS: Option<(Unit, i32)> = Some((Unit::Enterprises, 0));
        for (text, locale, value, qualifier, status, unit) in [
            ("trên 14,644 tỷ đồng", VI, "14.644", LB, None, TY_VND),
            ("hơn 10,2 tỷ USD", VI, "10.2", LB, None, TY_USD),
            ("xấp xỉ 40%", VI, "40", AP, None, PCT),
            ("khoảng 50%", VI, "50", AP, None, PCT),
            ("gần 100.000 người", VI, "100000", AP, None, PERSONS),
            ("chừng 5 doanh nghiệp", VI, "5", AP, None, FIRMS),
            ("dưới 5%", VI, "5", UB, None, PCT),
            ("ước đạt 24.730 tỷ đồng", VI, "24730", None, E, TY_VND),
            ("ước tính 975,9 tỷ đồng", VI, "975.9", None, E, TY_VND),
            ("ước 11,09 triệu USD", VI, "11.09", None, E, TRIEU_USD),
            ("dự kiến 3,5%", VI, "3.5", None, F, PCT),
            ("dự báo 7", VI, "7", None, F, None),
            ("sơ bộ 201 đảng viên", VI, "201", None, P, PERSONS),
            ("ước đạt trên 24.730 tỷ đồng", VI, "24730", LB, E, TY_VND),
            ("khoảng ước 5", VI, "5", AP, E, None),
            ("27.701", VI, "27701", None, None, None),
            ("−9 %", VI, "-9", None, None, PCT),
            ("+7,7%", VI, "7.7", None, None, PCT),
            ("TRÊN 14,644 TỶ ĐỒNG", VI, "14.644", LB, None, TY_VND),
            ("Xấp Xỉ 40 Phần Trăm", VI, "40", AP, None, PCT),
            (
                "xấp\u{00A0}xỉ\u{00A0}\u{00A0}40%\u{00A0}",
                VI,
                "40",
                AP,
                None,
                PCT,
            ),
            (
                "27701.5 VND",
                STD,
                "27701.5",
                None,
                None,
                Some((Unit::Vnd, 0)),
            ),
            ("40 %", STD, "40", None, None, PCT),
        ] {
            let expected = (value.to_owned(), qualifier, status, unit);
            for input in [text.to_owned(), nfd(text)] {
                let phrase = parse_value_phrase(&input, locale)
                    .unwrap_or_else(|error| panic!("{input:?}: {error}"));
                let got = (
                    phrase.value.to_string(),
                    phrase.qualifier,
                    phrase.status,
                    phrase.unit,
                );
                assert_eq!(got, expected, "{input:?}");
            }
        }
    }

    #[test]
    fn value_phrases_reject_what_they_cannot_read() {
        for (text, locale, reason) in [
            ("", VI, "expected a number"),
            ("\u{00A0}", VI, "expected a number"),
            ("trên", VI, "expected a number"),
            ("ước đạt", VI, "expected a number"),
            ("trên hơn 5", VI, "\"hơn\" is not a number"),
            ("ước dự kiến 5", VI, "\"dự\" is not a number"),
            ("trên tỷ đồng", VI, "\"tỷ\" is not a number"),
            ("27.70 tỷ đồng", VI, "exactly 3 digits"),
            ("trên 14,644 tỷ đồng", STD, "locale=vi"),
            ("14,644 tỷ", VI, "\"tỷ\" is not a unit"),
            ("5 kg", VI, "\"kg\" is not a unit"),
            ("40%%", VI, "\"40%\" is not a number"),
            ("%", VI, "\"%\" is not a number"),
            ("40% người", VI, "\"% người\" is not a unit"),
            ("1 000 người", VI, "\"000 người\" is not a unit"),
            ("abc", VI, "\"abc\" is not a number"),
        ] {
            let error = parse_value_phrase(text, locale).unwrap_err();
            assert_eq!(error.what(), "value", "{text:?}");
            assert!(error.expected().contains(reason), "{text:?}: {error}");
        }
        // Vietnamese words without locale=vi: refused, never half-read.
        for (text, word) in [
            ("ước đạt 7.100", "ước đạt"),
            ("trên 185.200", "trên"),
            ("7.100 tỷ đồng", "tỷ"),
            ("xấp xỉ 40%", "xấp xỉ"),
            ("5 người", "người"),
            ("Ước Đạt 7.100", "ước đạt"),
        ] {
            let error = parse_value_phrase(text, STD).unwrap_err();
            assert!(error.expected().contains("locale=vi"), "{text:?}: {error}");
            assert!(error.expected().contains(word), "{text:?}: {error}");
            assert_eq!(vietnamese_word(&nfd(text)), Some(word), "{text:?}");
        }
        for text in ["7.1", "5 %", "5 USD", "27701.5 VND", "€ 5"] {
            assert_eq!(vietnamese_word(text), None, "{text:?}");
        }
        let error = parse_value_phrase("trên 27.70 tỷ đồng", VI).unwrap_err();
        assert_eq!(
            error.to_string(),
            "\"trên 27.70 tỷ đồng\" is not a valid value: \"27.70\" is not a number: \
             each group after a '.' has exactly 3 digits; \
             use '.' to group thousands and ',' for decimals, e.g. 27.701 or 975,9"
        );
    }

    #[test]
    fn qualifier_cells_in_english_or_vietnamese() {
        for (text, expected) in [
            ("exact", Q::Exact),
            ("lower_bound", Q::LowerBound),
            ("upper_bound", Q::UpperBound),
            ("approximate", Q::Approximate),
            ("LOWER_BOUND", Q::LowerBound),
            ("chính xác", Q::Exact),
            ("trên", Q::LowerBound),
            ("TRÊN", Q::LowerBound),
            ("hơn", Q::LowerBound),
            ("dưới", Q::UpperBound),
            ("xấp xỉ", Q::Approximate),
            ("xấp\u{00A0}xỉ", Q::Approximate),
            ("khoảng", Q::Approximate),
            ("gần", Q::Approximate),
            ("chừng", Q::Approximate),
        ] {
            assert_eq!(parse_qualifier(text), Ok(expected), "{text:?}");
            assert_eq!(parse_qualifier(&nfd(text)), Ok(expected), "NFD {text:?}");
        }
        for text in ["", "lower bound", "trên 5", "about", "ước"] {
            let error = parse_qualifier(text).unwrap_err();
            assert_eq!(error.what(), "qualifier", "{text:?}");
            assert!(error.expected().contains("lower_bound"), "{text:?}");
        }
    }

    #[test]
    fn status_cells_in_sdmx_or_vietnamese() {
        for (text, expected) in [
            ("A", S::Normal),
            ("E", S::Estimated),
            ("P", S::Provisional),
            ("F", S::Forecast),
            ("e", S::Estimated),
            ("chính thức", S::Normal),
            ("ước đạt", S::Estimated),
            ("Ước Đạt", S::Estimated),
            ("ước tính", S::Estimated),
            ("ước", S::Estimated),
            ("sơ bộ", S::Provisional),
            ("dự kiến", S::Forecast),
            ("dự báo", S::Forecast),
            (" dự\u{00A0}báo ", S::Forecast),
        ] {
            assert_eq!(parse_status(text), Ok(expected), "{text:?}");
            assert_eq!(parse_status(&nfd(text)), Ok(expected), "NFD {text:?}");
        }
        for text in ["", "X", "estimated", "ước đạt 5", "trên"] {
            let error = parse_status(text).unwrap_err();
            assert_eq!(error.what(), "status", "{text:?}");
            assert!(error.expected().contains("ước đạt"), "{text:?}");
        }
    }

    #[test]
    fn locale_is_a_text_vocabulary_defaulting_to_standard() {
        assert_eq!(Locale::default(), Locale::Standard);
        assert_eq!("vi".parse::<Locale>(), Ok(Locale::Vietnamese));
        assert_eq!("standard".parse::<Locale>(), Ok(Locale::Standard));
        assert!("en".parse::<Locale>().is_err());
        assert_eq!(
            serde_json::to_string(&Locale::Vietnamese).unwrap(),
            "\"vi\""
        );
        assert_eq!(
            serde_json::from_str::<Locale>("\"standard\"").unwrap(),
            Locale::Standard
        );
    }

    #[test]
    fn vocabulary_tables_are_nfc_and_lower_case() {
        // Inputs are NFC-normalised and lower-cased before lookup, so a table
        // entry in any other form could never match.
        let words = SCALE_WORDS
            .iter()
            .map(|(word, _)| *word)
            .chain(CURRENCY_WORDS.iter().map(|(word, _)| *word))
            .chain(PLAIN_UNIT_WORDS.iter().map(|(word, _)| *word))
            .chain(QUALIFIER_WORDS.iter().map(|(word, _)| *word))
            .chain(STATUS_WORDS.iter().map(|(word, _)| *word))
            .chain(["chính xác", "chính thức"]);
        for word in words {
            assert_eq!(word, tidy(word), "{word:?}");
            assert_eq!(word, word.to_lowercase(), "{word:?}");
        }
    }

    #[test]
    fn odd_input_is_an_error_not_a_panic() {
        let long_digits = "1".repeat(10_000);
        let long_groups = "1".to_owned() + &".000".repeat(5_000);
        let odd = [
            "\u{0301}",
            "\u{0301}5",
            "5\u{0301}",
            "−",
            "+",
            ",",
            ".",
            "%%",
            "🙂 5",
            "trên 🙂",
            "\u{200B}5",
            "ước",
            "ước đạt trên",
            "٣",
            "５",
            long_digits.as_str(),
            long_groups.as_str(),
        ];
        for text in odd {
            for locale in Locale::ALL {
                let _ = parse_number(text, *locale);
                let _ = parse_value_phrase(text, *locale);
            }
            let _ = parse_unit(text);
            let _ = parse_qualifier(text);
            let _ = parse_status(text);
        }
        assert!(parse_number(&long_digits, VI).is_err());
        assert!(parse_number(&long_groups, VI).is_err());
        assert!(parse_number("٣", VI).is_err());
        assert!(parse_number("５", VI).is_err());
    }

    #[test]
    fn vietnamese_numbers_are_written_as_they_are_read() {
        for (text, value) in [
            ("27.701,5", "27701.5"),
            ("975,9", "975.9"),
            ("1.234.567,89", "1234567.89"),
            ("-1.000", "-1000"),
            ("0,50", "0.50"),
            ("100", "100"),
        ] {
            let value: Decimal = value.parse().unwrap();
            assert_eq!(format_number(value, Locale::Vietnamese), text);
            assert_eq!(parse_number(text, Locale::Vietnamese).unwrap(), value);
        }
        assert_eq!(
            format_number("27701.5".parse().unwrap(), Locale::Standard),
            "27701.5"
        );
    }

    #[test]
    fn unit_words_are_read_back_as_the_same_unit() {
        for (unit, scale, words) in [
            (Unit::Vnd, 9, "tỷ đồng"),
            (Unit::Usd, 6, "triệu USD"),
            (Unit::Persons, 0, "người"),
            (Unit::Percent, 0, "%"),
            (Unit::Vnd, 0, "đồng"),
        ] {
            assert_eq!(unit_words(unit, scale), words);
            assert_eq!(parse_unit(words).unwrap(), (unit, scale));
        }
    }
}
