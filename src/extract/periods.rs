//! Periods as reports mention them, and which one a figure belongs to.
//!
//! Every phrase is turned into a canonical Vietnamese form and read with
//! [`PeriodCode::parse`], so the extractor knows no period rule the rest of
//! chitieu does not.

use chrono::{Datelike, NaiveDate};

use super::text::{Kind, Text};
use crate::domain::period::PeriodCode;

/// A period phrase whose year the report leaves to the context ("quý III",
/// "9 tháng", "Trong năm").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearLess {
    Year,
    Quarter(u32),
    LeadingMonths(u32),
    TrailingMonths(u32),
    Month(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    Period(PeriodCode),
    YearLess(YearLess),
    /// "2021 – 2023": each of those years.
    Years(i32, i32),
    /// "Hiện nay", "đến nay": as of the publication date.
    Now,
    /// "Từ đầu năm đến nay": the year to the publication date.
    SinceYearStart,
}

/// What the phrase says about the figures near it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The period the figures describe.
    Results,
    /// The base of a comparison ("so cùng kỳ năm 2021").
    Comparison,
    /// A plan, target or task period ("kế hoạch năm 2022", "nhiệm vụ quý II").
    Plan,
    /// A term of office ("nhiệm kỳ 2020 - 2025").
    Term,
}

#[derive(Debug, Clone, Copy)]
pub struct Mention {
    pub first: usize,
    pub last: usize,
    pub what: What,
    pub role: Role,
}

/// Words that make the period after them a plan or task, not a result.
const PLAN_WORDS: &[&str] = &[
    "kế hoạch",
    "chỉ tiêu",
    "nghị quyết",
    "mục tiêu",
    "dự toán",
    "phương hướng",
    "phấn đấu",
    "đến năm",
    "tầm nhìn",
    "giao",
    "đề ra",
    "nhiệm vụ",
];

/// Before "nhiệm vụ", these make it the work done, not the work ahead.
const DONE_WORDS: &[&str] = &["thực hiện", "kết quả", "tổng kết", "sơ kết", "hoàn thành"];

/// Tokens looked back over to find what governs a period phrase.
const ROLE_LOOKBACK: usize = 8;

const ROMAN: [&str; 4] = ["i", "ii", "iii", "iv"];

fn quarter_number(text: &Text, at: usize) -> Option<u32> {
    let token = text.tokens.get(at)?;
    match token.kind {
        Kind::Number => token.small(4),
        Kind::Word => ROMAN
            .iter()
            .position(|r| *r == token.text)
            .map(|p| p as u32 + 1),
        _ => None,
    }
}

fn is_dash(text: &Text, at: usize) -> bool {
    matches!(
        text.tokens.get(at).map(|t| t.kind),
        Some(Kind::Punct('-' | '–' | '—'))
    )
}

/// A year after a quarter or month: `/2022`, `-2022`, ` năm 2022`, ` 2022`.
fn trailing_year(text: &Text, at: usize) -> Option<(i32, usize)> {
    let tokens = &text.tokens;
    let token = tokens.get(at)?;
    if token.is_punct('/') || is_dash(text, at) {
        return tokens.get(at + 1)?.year().map(|y| (y, at + 1));
    }
    if token.is_word("năm") {
        return tokens.get(at + 1)?.year().map(|y| (y, at + 1));
    }
    token.year().map(|y| (y, at))
}

/// A date `d/m/yyyy` (after an optional "ngày") starting at `at`, as a day period.
fn as_of_day(text: &Text, at: usize) -> Option<(usize, What)> {
    let tokens = &text.tokens;
    let at = if tokens.get(at)?.is_word("ngày") {
        at + 1
    } else {
        at
    };
    let day = tokens.get(at)?.small(31)?;
    let slash = |i: usize| tokens.get(i).is_some_and(|t| t.is_punct('/'));
    if !(slash(at + 1) && slash(at + 3)) {
        return None;
    }
    let month = tokens.get(at + 2)?.small(12)?;
    let year = tokens.get(at + 4)?.year()?;
    parse(format!("{day}/{month}/{year}")).map(|p| (at + 4, What::Period(p)))
}

fn parse(phrase: String) -> Option<PeriodCode> {
    PeriodCode::parse(&phrase).ok()
}

/// Every period phrase of the text, in order, with the tokens it spans.
pub fn find(text: &Text) -> Vec<Mention> {
    let tokens = &text.tokens;
    let mut mentions = Vec::new();
    let mut at = 0;
    while at < tokens.len() {
        match recognise(text, at) {
            Some((last, what)) => {
                let role = role_of(text, at, what);
                mentions.push(Mention {
                    first: at,
                    last,
                    what,
                    role,
                });
                at = last + 1;
            }
            None => at += 1,
        }
    }
    mentions
}

/// The period phrase starting at token `at`, if any: its last token and meaning.
fn recognise(text: &Text, at: usize) -> Option<(usize, What)> {
    let tokens = &text.tokens;
    let token = &tokens[at];
    let next = |offset: usize| tokens.get(at + offset);
    match token.kind {
        Kind::Word => match token.text.as_str() {
            "năm" => {
                // "ngày 18 tháng 3 năm 2024" is a date.
                if at >= 2 && tokens[at - 2].is_word("tháng") && tokens[at - 1].kind == Kind::Number
                {
                    return None;
                }
                let year = next(1)?.year();
                match year {
                    Some(first) if is_dash(text, at + 2) => {
                        if let Some(last) = next(3).and_then(|t| t.year()) {
                            return (first < last).then_some((at + 3, What::Years(first, last)));
                        }
                        parse(format!("năm {first}")).map(|p| (at + 1, What::Period(p)))
                    }
                    Some(year) => parse(format!("năm {year}")).map(|p| (at + 1, What::Period(p))),
                    None if next(1).is_some_and(|t| t.is_word("qua") || t.is_word("nay")) => {
                        Some((at + 1, What::YearLess(YearLess::Year)))
                    }
                    None if at > 0
                        && (tokens[at - 1].is_word("trong") || tokens[at - 1].is_word("cả")) =>
                    {
                        Some((at, What::YearLess(YearLess::Year)))
                    }
                    None => None,
                }
            }
            "quý" | "quí" | "qúy" => {
                let quarter = quarter_number(text, at + 1)?;
                match trailing_year(text, at + 2) {
                    Some((year, last)) => {
                        parse(format!("quý {quarter}/{year}")).map(|p| (last, What::Period(p)))
                    }
                    None => Some((at + 1, What::YearLess(YearLess::Quarter(quarter)))),
                }
            }
            "tháng" => {
                let month = next(1)?.small(12)?;
                // "tháng 3/2022", "tháng 3 năm 2022"; a day before it makes it a date.
                if at > 0 && tokens[at - 1].kind == Kind::Number {
                    return None;
                }
                match trailing_year(text, at + 2) {
                    Some((year, last)) => {
                        parse(format!("tháng {month}/{year}")).map(|p| (last, What::Period(p)))
                    }
                    None => Some((at + 1, What::YearLess(YearLess::Month(month)))),
                }
            }
            // "Hiện nay", "hiện có", "hiện sử dụng"; not "thực hiện", "thể hiện".
            "hiện"
                if next(1).is_some_and(|t| {
                    ["nay", "tại", "có", "đang", "sử"].contains(&t.text.as_str())
                }) && !(at > 0
                    && ["thực", "xuất", "thể", "phát", "biểu", "hiển"]
                        .contains(&tokens[at - 1].text.as_str())) =>
            {
                let last = if next(1).is_some_and(|t| t.is_word("nay") || t.is_word("tại")) {
                    at + 1
                } else {
                    at
                };
                Some((last, What::Now))
            }
            // "(tính) đến ngày 30/9/2022", "đến 31/12/2022": figures as of that day.
            "đến" if as_of_day(text, at + 1).is_some() => as_of_day(text, at + 1),
            // "Đến hết tháng 9": cumulative from the start of the year.
            "hết" if next(1).is_some_and(|t| t.is_word("tháng")) => {
                let months = next(2)?.small(12)?;
                match trailing_year(text, at + 3) {
                    Some((year, last)) => parse(format!("{months} tháng đầu năm {year}"))
                        .map(|p| (last, What::Period(p))),
                    None => Some((at + 2, What::YearLess(YearLess::LeadingMonths(months)))),
                }
            }
            "đến" if next(1).is_some_and(|t| t.is_word("nay")) => {
                if text.words_before(at, "từ đầu năm") {
                    Some((at + 1, What::SinceYearStart))
                } else {
                    Some((at + 1, What::Now))
                }
            }
            _ => None,
        },
        Kind::Number => {
            // "2021 – 2023" and "(2021-2023)".
            if let (Some(first), true) = (token.year(), is_dash(text, at + 1)) {
                let last = next(2)?.year()?;
                return (first < last).then_some((at + 2, What::Years(first, last)));
            }
            let months = token.small(12)?;
            if !next(1)?.is_word("tháng") {
                return None;
            }
            // "9 tháng đầu năm 2022", "6 tháng cuối năm", "9 tháng năm 2018", "9 tháng".
            let (edge, after_edge) = match next(2) {
                Some(t) if t.is_word("đầu") || t.is_word("cuối") => (t.text.as_str(), at + 3),
                _ => ("đầu", at + 2),
            };
            let explicit_edge = after_edge == at + 3;
            if explicit_edge && !tokens.get(after_edge).is_some_and(|t| t.is_word("năm")) {
                return None;
            }
            let year = if tokens.get(after_edge).is_some_and(|t| t.is_word("năm")) {
                tokens.get(after_edge + 1).and_then(|t| t.year())
            } else {
                None
            };
            match year {
                Some(year) => parse(format!("{months} tháng {edge} năm {year}"))
                    .map(|p| (after_edge + 1, What::Period(p))),
                None if explicit_edge => {
                    let what = if edge == "đầu" {
                        YearLess::LeadingMonths(months)
                    } else {
                        YearLess::TrailingMonths(months)
                    };
                    Some((after_edge, What::YearLess(what)))
                }
                None => {
                    // A bare "N tháng" is a period only where reports use it so:
                    // not "3 tháng tới", "6 tháng còn lại", "12 tháng liền".
                    const NOT_A_PERIOD: &[&str] = &[
                        "tới", "sau", "còn", "kể", "liên", "liền", "trước", "qua", "lương",
                    ];
                    let after = tokens.get(at + 2);
                    let excluded = after.is_some_and(|t| {
                        t.kind == Kind::Word && NOT_A_PERIOD.contains(&t.text.as_str())
                    });
                    let duration = at > 0
                        && ["trong", "mỗi", "sau", "trước", "hàng"]
                            .contains(&tokens[at - 1].text.as_str());
                    (!excluded && !duration && (2..=11).contains(&months))
                        .then_some((at + 1, What::YearLess(YearLess::LeadingMonths(months))))
                }
            }
        }
        _ => None,
    }
}

fn role_of(text: &Text, at: usize, what: What) -> Role {
    let clause = text.clause_start[at];
    let from = at.saturating_sub(ROLE_LOOKBACK).max(clause);
    if let What::Years(..) = what {
        for word in ["nhiệm kỳ", "giai đoạn", "khóa", "khoá"] {
            if (from..at).any(|i| text.words_at(i, word)) {
                return Role::Term;
            }
        }
    }
    // "so cùng kỳ năm 2021", "so với năm 2020", "so với quý I".
    let near = at.saturating_sub(4).max(clause);
    if (near..at).any(|i| text.tokens[i].is_word("so") || text.words_at(i, "cùng kỳ")) {
        return Role::Comparison;
    }
    for (index, word) in PLAN_WORDS.iter().enumerate() {
        let Some(found) = (from..at).rev().find(|&i| text.words_at(i, word)) else {
            continue;
        };
        let is_task = index == PLAN_WORDS.len() - 1;
        let done = DONE_WORDS
            .iter()
            .any(|done| (found.saturating_sub(4)..found).any(|i| text.words_at(i, done)));
        if !is_task || !done {
            return Role::Plan;
        }
    }
    Role::Results
}

/// Where a figure's period came from, for the warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// Stated in the figure's sentence.
    Sentence,
    /// Stated earlier in the report.
    Context,
    /// Stated only later in the report.
    LaterText,
    /// Taken from the publication date.
    PublicationDate,
}

/// The resolved period(s) of one figure.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// One period, or each year of a range.
    pub periods: Vec<PeriodCode>,
    pub provenance: Provenance,
    /// The year came from the publication date, not from the text.
    pub year_from_publication: bool,
}

pub struct Periods {
    mentions: Vec<Mention>,
    published_on: Option<NaiveDate>,
}

impl Periods {
    pub fn new(text: &Text, published_on: Option<NaiveDate>) -> Self {
        let mut mentions = find(text);
        // A period that starts after the report was published is a plan.
        if let Some(published) = published_on {
            for mention in mentions.iter_mut().filter(|m| m.role == Role::Results) {
                let starts_later = match mention.what {
                    What::Period(p) => p.start() > published,
                    What::Years(first, _) => first > published.year(),
                    _ => false,
                };
                if starts_later {
                    mention.role = Role::Plan;
                }
            }
        }
        Self {
            mentions,
            published_on,
        }
    }

    /// The mention that covers token `at`, if any.
    pub fn covering(&self, at: usize) -> Option<&Mention> {
        let index = self.mentions.partition_point(|m| m.last < at);
        self.mentions.get(index).filter(|m| m.first <= at)
    }

    /// The period of a figure at token `at` in the sentence starting at `sentence`.
    pub fn resolve(&self, at: usize, sentence: usize) -> Option<Resolved> {
        let before = self.mentions.partition_point(|m| m.first < at);
        let results = |&index: &usize| self.mentions[index].role == Role::Results;
        let earlier = (0..before).rev().find(results);
        let (index, provenance) = match earlier {
            Some(i) if self.mentions[i].first >= sentence => (i, Provenance::Sentence),
            Some(i) => (i, Provenance::Context),
            None => match (before..self.mentions.len()).find(results) {
                Some(i) => (i, Provenance::LaterText),
                None => return self.publication_year(),
            },
        };
        self.periods_of(index)
            .map(|(periods, year_from_publication)| Resolved {
                periods,
                provenance,
                year_from_publication,
            })
    }

    fn publication_year(&self) -> Option<Resolved> {
        let published = self.published_on?;
        // Year-end reviews appear in January and February of the next year.
        let year = if published.month() <= 2 {
            published.year() - 1
        } else {
            published.year()
        };
        Some(Resolved {
            periods: vec![PeriodCode::calendar_year(year).ok()?],
            provenance: Provenance::PublicationDate,
            year_from_publication: true,
        })
    }

    /// The periods of mention `index`; the flag says the year came from the publication date.
    fn periods_of(&self, index: usize) -> Option<(Vec<PeriodCode>, bool)> {
        let mention = &self.mentions[index];
        match mention.what {
            What::Period(period) => Some((vec![period], false)),
            What::Years(first, last) => {
                let years: Option<Vec<PeriodCode>> = (first..=last)
                    .map(|y| PeriodCode::calendar_year(y).ok())
                    .collect();
                Some((years?, false))
            }
            What::Now => {
                let day = PeriodCode::day(self.published_on?).ok()?;
                Some((vec![day], true))
            }
            What::SinceYearStart => {
                let published = self.published_on?;
                let period = parse(format!(
                    "{} tháng đầu năm {}",
                    published.month(),
                    published.year()
                ))?;
                Some((vec![period], true))
            }
            What::YearLess(year_less) => {
                let (year, from_publication) = self.year_for(index, year_less)?;
                let period = match year_less {
                    YearLess::Year => PeriodCode::calendar_year(year).ok(),
                    YearLess::Quarter(q) => parse(format!("quý {q}/{year}")),
                    YearLess::LeadingMonths(n) => parse(format!("{n} tháng đầu năm {year}")),
                    YearLess::TrailingMonths(n) => parse(format!("{n} tháng cuối năm {year}")),
                    YearLess::Month(m) => parse(format!("tháng {m}/{year}")),
                }?;
                Some((vec![period], from_publication))
            }
        }
    }

    /// The year of a year-less mention: the nearest year stated before it (a
    /// comparison base counts as the year after it), else the publication year.
    fn year_for(&self, index: usize, year_less: YearLess) -> Option<(i32, bool)> {
        for mention in self.mentions[..index].iter().rev() {
            match (mention.what, mention.role) {
                (What::Period(p), Role::Results) => return Some((p.year(), false)),
                (What::Years(_, last), Role::Results) => return Some((last, false)),
                (What::Period(p), Role::Comparison) => return Some((p.year() + 1, false)),
                _ => {}
            }
        }
        let published = self.published_on?;
        let mut year = published.year();
        // "Năm qua" in January is the year before; a quarter not yet begun is last year's.
        let starts = |y: i32| match year_less {
            YearLess::Year => NaiveDate::from_ymd_opt(y, 12, 1),
            YearLess::Quarter(q) => NaiveDate::from_ymd_opt(y, (q - 1) * 3 + 1, 1),
            YearLess::Month(m) => NaiveDate::from_ymd_opt(y, m, 1),
            YearLess::LeadingMonths(n) => NaiveDate::from_ymd_opt(y, n.clamp(1, 12), 1),
            YearLess::TrailingMonths(_) => NaiveDate::from_ymd_opt(y, 7, 1),
        };
        if year_less == YearLess::Year {
            if published.month() <= 2 {
                year -= 1;
            }
        } else if starts(year).is_some_and(|start| start > published) {
            year -= 1;
        }
        Some((year, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mentions(input: &str) -> Vec<(String, Role)> {
        let text = Text::new(input);
        find(&text)
            .into_iter()
            .map(|m| {
                let what = match m.what {
                    What::Period(p) => p.code(),
                    What::Years(a, b) => format!("{a}..{b}"),
                    other => format!("{other:?}"),
                };
                (what, m.role)
            })
            .collect()
    }

    #[test]
    fn phrases_reports_write() {
        use Role::*;
        let found = mentions(
            "Năm 2021, doanh thu tăng so cùng kỳ năm 2020. Quý III- 2019 tốt. quý I/2022; \
             6 tháng đầu năm 2021; 9 tháng năm 2018; tháng 3/2022; nhiệm kỳ 2020 - 2025; \
             kế hoạch năm 2022; Trong quí III; 9 tháng ước đạt; Hiện nay; (2021 – 2023)",
        );
        let expected: Vec<(String, Role)> = [
            ("2021", Results),
            ("2020", Comparison),
            ("2019-Q3", Results),
            ("2022-Q1", Results),
            ("2021-S1", Results),
            ("2018-YTD-M09", Results),
            ("2022-M03", Results),
            ("2020..2025", Term),
            ("2022", Plan),
            ("YearLess(Quarter(3))", Results),
            ("YearLess(LeadingMonths(9))", Results),
            ("Now", Results),
            ("2021..2023", Results),
        ]
        .into_iter()
        .map(|(w, r)| (w.to_owned(), r))
        .collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn tasks_ahead_are_plans_and_work_done_is_not() {
        let found = mentions("Về nhiệm vụ quý II/2022. Kết quả thực hiện nhiệm vụ năm 2021.");
        assert_eq!(found[0].1, Role::Plan);
        assert_eq!(found[1].1, Role::Results);
    }

    #[test]
    fn a_figure_takes_the_nearest_period_before_it() {
        let input = "Năm 2021, tốt. Doanh thu 5 tỷ đồng. Trong quý III doanh thu 2 tỷ đồng.";
        let text = Text::new(input);
        let published = NaiveDate::from_ymd_opt(2021, 12, 28);
        let periods = Periods::new(&text, published);
        let five = text.tokens.iter().position(|t| t.text == "5").unwrap();
        let resolved = periods.resolve(five, text.sentence_start[five]).unwrap();
        assert_eq!(resolved.periods[0].code(), "2021");
        assert_eq!(resolved.provenance, Provenance::Context);
        let two = text.tokens.iter().position(|t| t.text == "2").unwrap();
        let resolved = periods.resolve(two, text.sentence_start[two]).unwrap();
        assert_eq!(resolved.periods[0].code(), "2021-Q3");
        assert_eq!(resolved.provenance, Provenance::Sentence);
        assert!(!resolved.year_from_publication);
    }

    #[test]
    fn without_a_stated_year_the_publication_date_decides_and_says_so() {
        let text = Text::new("Trong quý IV, doanh thu 5 tỷ đồng.");
        let periods = Periods::new(&text, NaiveDate::from_ymd_opt(2024, 1, 15));
        let five = text.tokens.iter().position(|t| t.text == "5").unwrap();
        let resolved = periods.resolve(five, 0).unwrap();
        assert_eq!(resolved.periods[0].code(), "2023-Q4");
        assert!(resolved.year_from_publication);
        let text = Text::new("Doanh thu 5 tỷ đồng.");
        let periods = Periods::new(&text, NaiveDate::from_ymd_opt(2024, 1, 15));
        let resolved = periods.resolve(2, 0).unwrap();
        assert_eq!(resolved.periods[0].code(), "2023");
        assert_eq!(resolved.provenance, Provenance::PublicationDate);
    }
}
