//! Numbers in a report: which are figures, what each one is, and why the
//! others were set aside.
//!
//! One pass over the numbers in reading order. Each number is first tested
//! against what it might be other than a figure (a date, a resolution's
//! number, a term of office …); a percentage or change after a figure is
//! attached to it; whatever remains is a figure, read with its qualifier,
//! status, unit, indicator, breakdown and period.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::lexicon::{self, Lexicon};
use super::periods::{Periods, Provenance, Role};
use super::text::{Kind, Text};
use super::{
    CatalogIndicator, Change, ChangeDirection, IgnoreReason, IgnoredNumber, Span, Warning,
    WarningCode,
};
use crate::domain::indicator::{MeasureKind, Unit};
use crate::domain::locale::{parse_number, parse_unit, Locale};
use crate::domain::period::PeriodCode;
use crate::domain::value::{ObservationStatus, Qualifier};

/// A figure found, before it is expanded over its periods.
#[derive(Debug, Clone)]
pub struct Draft {
    pub indicator: Option<String>,
    pub label_vi: String,
    pub periods: Vec<PeriodCode>,
    pub breakdown: BTreeMap<String, String>,
    pub value: Decimal,
    pub unit: Unit,
    pub scale: i32,
    pub unit_vi: Option<String>,
    pub per_person: bool,
    pub status: ObservationStatus,
    pub qualifier: Qualifier,
    pub yoy: Option<(Decimal, Qualifier)>,
    pub change: Option<Change>,
    pub share: Option<(Decimal, Qualifier)>,
    pub plan: Option<(Decimal, Qualifier)>,
    pub first: usize,
    pub last: usize,
    pub value_span: Span,
    pub warnings: Vec<Warning>,
    /// Expand a year range into one candidate per year (flows) or keep its last year.
    pub measure_kind: Option<MeasureKind>,
    /// The number's token.
    pub value_at: usize,
    /// A part of the figure before it ("trong đó 31 đảng viên nữ").
    pub is_part: bool,
}

/// The qualifier and status words of a value cell: one vocabulary.
use crate::domain::locale::{QUALIFIER_WORDS as QUALIFIERS, STATUS_WORDS as STATUSES};

/// Words between a label and its number that carry no meaning of their own.
const CONNECTORS: &[&str] = &[
    "đạt được",
    "ở mức",
    "tỷ lệ",
    "bình quân",
    "trung bình",
    "đạt",
    "là",
    "được",
    "với",
    "lên",
    "tới",
    "mức",
    "có",
    "thêm",
    "(",
];

/// Words that make a percentage or amount after a figure a comparison, and what they mean.
const COMPARISON_WORDS: &[(&str, &str)] = &[
    ("tăng trưởng", "tăng"),
    ("tăng", "tăng"),
    ("giảm", "giảm"),
    ("chiếm", "chiếm"),
    ("bằng", "bằng"),
    ("vượt", "vượt"),
];

/// Words after a percentage that make it progress against a plan or target.
const PLAN_WORDS: &[&str] = &[
    "kế hoạch",
    "chỉ tiêu",
    "nghị quyết",
    "dự toán",
    "kh",
    "mục tiêu",
];

/// Words before a day-month such as "28/12".
const DAY_WORDS: &[&str] = &[
    "ngày", "sáng", "chiều", "tối", "trưa", "đêm", "hôm", "từ", "đến", "tới", "hạn", "trước",
    "sau", "nhật",
];

/// Documents cited by number.
const DOCUMENT_WORDS: &[&str] = &[
    "nghị quyết",
    "chỉ thị",
    "kết luận",
    "quyết định",
    "thông tư",
    "nghị định",
    "hướng dẫn",
    "quy định",
    "công văn",
    "thông báo",
    "chương trình",
    "đề án",
    "kế hoạch số",
];

/// Units after a number that say it counts something with no indicator, and why.
const AWARD_WORDS: &[&str] = &[
    "tập thể",
    "cá nhân",
    "bằng khen",
    "giấy khen",
    "cờ thi đua",
    "huân chương",
    "khen thưởng",
];

/// Longest unit phrase tried after a number, in words.
const MAX_UNIT_WORDS: usize = 5;
/// How far a label may be looked for before and after a number.
const LABEL_WINDOW: usize = 14;

/// How a number reads: what precedes it and what it is compared with.
struct Lead {
    /// First token of the qualifier/status/keyword run before the number.
    first: usize,
    qualifier: Option<Qualifier>,
    status: Option<ObservationStatus>,
    keyword: Option<&'static str>,
}

/// A number with its unit.
struct Quantity {
    value: Decimal,
    decimal_point: bool,
    unit: Option<Unit>,
    scale: i32,
    no_currency: bool,
    per_person: bool,
    unit_vi: Option<String>,
    /// Tokens of the unit words, `unit_first..unit_end`.
    unit_first: usize,
    unit_end: usize,
}

/// What follows a comparison: "so cùng kỳ", a plan, another base, or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    SamePeriod,
    Plan,
    Other,
    Bare,
}

pub struct Engine<'a> {
    text: &'a Text<'a>,
    periods: &'a Periods,
    lexicon: &'a Lexicon,
    catalog: &'a [CatalogIndicator],
    consumed: Vec<bool>,
    pub drafts: Vec<Draft>,
    pub ignored: Vec<IgnoredNumber>,
    /// The figure comparisons attach to, while in its clause: (clause start, draft index).
    current: Option<(usize, usize)>,
    /// A status stated before the first figure of a sentence ("Ước tính cả năm, …")
    /// holds for all its figures: (sentence start, status).
    sentence_status: Option<(usize, Option<ObservationStatus>)>,
}

fn read_number(raw: &str) -> Option<(Decimal, bool)> {
    if let Ok(value) = parse_number(raw, Locale::Vietnamese) {
        return Some((value, false));
    }
    // "50.85%": some writers use a decimal point. Only a short fraction after
    // a single point can be that; "0225.3821.055" is a telephone number.
    let (whole, fraction) = raw.split_once('.')?;
    let plausible = !raw.contains(',')
        && !fraction.contains('.')
        && (1..=2).contains(&fraction.len())
        && (1..=3).contains(&whole.len());
    plausible
        .then(|| parse_number(raw, Locale::Standard).ok())
        .flatten()
        .map(|value| (value, true))
}

impl<'a> Engine<'a> {
    pub fn new(
        text: &'a Text<'a>,
        periods: &'a Periods,
        lexicon: &'a Lexicon,
        catalog: &'a [CatalogIndicator],
    ) -> Self {
        Self {
            text,
            periods,
            lexicon,
            catalog,
            consumed: vec![false; text.len()],
            drafts: Vec::new(),
            ignored: Vec::new(),
            current: None,
            sentence_status: None,
        }
    }

    fn token(&self, at: usize) -> Option<&super::text::Token> {
        self.text.tokens.get(at)
    }

    fn word(&self, at: usize) -> &str {
        match self.token(at) {
            Some(t) if t.kind == Kind::Word => t.text.as_str(),
            _ => "",
        }
    }

    fn is_punct(&self, at: usize, chars: &[char]) -> bool {
        matches!(self.token(at).map(|t| t.kind), Some(Kind::Punct(c)) if chars.contains(&c))
    }

    fn span(&self, first: usize, last: usize) -> Span {
        let (start, end) = self.text.span(first, last);
        Span { start, end }
    }

    fn ignore(
        &mut self,
        first: usize,
        last: usize,
        reason: IgnoreReason,
        detail: impl Into<String>,
    ) {
        for at in first..=last {
            self.consumed[at] = true;
        }
        self.ignored.push(IgnoredNumber {
            text: self.text.quote(first, last),
            span: self.span(first, last),
            reason,
            detail: detail.into(),
        });
    }

    pub fn run(&mut self) {
        for at in 0..self.text.len() {
            if self.text.tokens[at].kind != Kind::Number || self.consumed[at] {
                continue;
            }
            if self
                .current
                .is_some_and(|(clause, _)| clause != self.text.clause_start[at])
            {
                self.current = None;
            }
            self.number(at);
        }
    }

    /// Explains the number at `at`: as something else, as a comparison, or as a figure.
    fn number(&mut self, at: usize) {
        if let Some(mention) = self.periods.covering(at).copied() {
            let reason = match mention.role {
                Role::Term => IgnoreReason::Term,
                _ => IgnoreReason::Period,
            };
            let phrase = self.text.quote(mention.first, mention.last);
            for index in mention.first..=mention.last {
                if self.text.tokens[index].kind == Kind::Number && !self.consumed[index] {
                    self.ignore(
                        index,
                        index,
                        reason,
                        format!("part of the period phrase \"{phrase}\""),
                    );
                }
            }
            return;
        }
        if self.not_a_figure(at) {
            return;
        }
        let raw = self.text.tokens[at].text.clone();
        let Some((value, decimal_point)) = read_number(&raw) else {
            self.ignore(
                at,
                at,
                IgnoreReason::Malformed,
                "not a number as Vietnamese writes one (a telephone or code number?)",
            );
            return;
        };

        // "56/727 doanh nghiệp": a part and its whole.
        let fraction = if self.is_punct(at + 1, &['/'])
            && self.token(at + 2).is_some_and(|t| t.kind == Kind::Number)
        {
            read_number(&self.text.tokens[at + 2].text.clone()).map(|(total, _)| total)
        } else {
            None
        };
        let number_last = if fraction.is_some() { at + 2 } else { at };
        let quantity = self.quantity(value, decimal_point, number_last);

        if let Some(total) = fraction {
            if quantity.unit.is_none() {
                let (a, b) = (value, total);
                let (day, month) = (
                    a.is_integer() && a <= Decimal::from(31),
                    b <= Decimal::from(12),
                );
                let reason = if day && month && b.is_integer() && b >= Decimal::ONE {
                    IgnoreReason::Date
                } else {
                    IgnoreReason::Ratio
                };
                let detail = match reason {
                    IgnoreReason::Date => "a day and month",
                    _ => "a ratio restating figures (such as achieved/target)",
                };
                self.ignore(at, at + 2, reason, detail);
                return;
            }
        }

        let lead = self.lead(at);
        if self.threshold(at, &lead, &quantity) {
            return;
        }
        if self.award(at, &quantity) {
            return;
        }
        if self.target(at, &lead) {
            return;
        }
        if self.comparison(at, &lead, &quantity) {
            return;
        }
        self.figure(at, number_last, fraction, lead, quantity);
    }

    /// Numbers that are dates, times, document numbers, names, ordinals, durations.
    fn not_a_figure(&mut self, at: usize) -> bool {
        let text = self.text;
        let tokens = &text.tokens;
        let next = |offset: usize| tokens.get(at + offset);
        let previous_word = at.checked_sub(1).map(|p| self.word(p)).unwrap_or("");

        // 28/12/2021, 19/5/2016
        if self.is_punct(at + 1, &['/'])
            && next(2).is_some_and(|t| t.kind == Kind::Number)
            && self.is_punct(at + 3, &['/'])
            && next(4).is_some_and(|t| t.year().is_some())
        {
            self.ignore(at, at + 4, IgnoreReason::Date, "a date");
            return true;
        }
        // 20:31
        if self.is_punct(at + 1, &[':']) && next(2).is_some_and(|t| t.kind == Kind::Number) {
            self.ignore(at, at + 2, IgnoreReason::Time, "a time of day");
            return true;
        }
        // "Ngày 8-10", "ngày 18 tháng 3 năm 2024"
        if DAY_WORDS.contains(&previous_word) {
            if self.is_punct(at + 1, &['-', '/', '.'])
                && next(2).is_some_and(|t| t.small(12).is_some())
            {
                let mut last = at + 2;
                if self.is_punct(at + 3, &['-', '/', '.'])
                    && next(4).is_some_and(|t| t.year().is_some())
                {
                    last = at + 4;
                }
                self.ignore(at, last, IgnoreReason::Date, "a date");
                return true;
            }
            if next(1).is_some_and(|t| t.is_word("tháng"))
                && next(2).is_some_and(|t| t.small(12).is_some())
            {
                let mut last = at + 2;
                if next(3).is_some_and(|t| t.is_word("năm"))
                    && next(4).is_some_and(|t| t.year().is_some())
                {
                    last = at + 4;
                }
                self.ignore(at, last, IgnoreReason::Date, "a date");
                return true;
            }
        }
        // 01-NQ/TU, 05-CT/TW, 123/QĐ-UBND
        if self.is_punct(at + 1, &['-', '/'])
            && next(2)
                .is_some_and(|t| t.kind == Kind::Word && t.upper && t.text.chars().count() >= 2)
        {
            let mut last = at + 2;
            while self.is_punct(last + 1, &['/', '-'])
                && next(last + 2 - at).is_some_and(|t| t.kind == Kind::Word && t.upper)
            {
                last += 2;
            }
            self.ignore(
                at,
                last,
                IgnoreReason::DocumentNumber,
                "the number of a document",
            );
            return true;
        }
        // "Nghị quyết 18", "Chỉ thị số 05"
        let document = DOCUMENT_WORDS.iter().any(|w| {
            text.words_before(at, w) || (previous_word == "số" && text.words_before(at - 1, w))
        });
        if document {
            self.ignore(
                at,
                at,
                IgnoreReason::DocumentNumber,
                "the number of a document",
            );
            return true;
        }
        // Covid-19
        if at >= 2 && self.is_punct(at - 1, &['-']) && tokens[at - 2].kind == Kind::Word {
            self.ignore(at, at, IgnoreReason::Name, "part of a name");
            return true;
        }
        match previous_word {
            "thứ" | "lần" | "đợt" | "kỳ" => {
                self.ignore(
                    at,
                    at,
                    IgnoreReason::Ordinal,
                    "an ordinal (lần thứ 7: a meeting's number)",
                );
                return true;
            }
            "khóa" | "khoá" => {
                self.ignore(at, at, IgnoreReason::Term, "the number of a term of office");
                return true;
            }
            "thoại" | "fax" | "hotline" | "đt" => {
                self.ignore(at, at, IgnoreReason::Malformed, "a telephone number");
                return true;
            }
            // "Số 18 Hoàng Diệu", but not "tổng số 7.825 đảng viên".
            "số" if !next(1).is_some_and(|t| t.kind == Kind::Word && !t.capital) => {
                self.ignore(
                    at,
                    at,
                    IgnoreReason::ReferenceNumber,
                    "a reference or house number",
                );
                return true;
            }
            _ => {}
        }
        // "5 năm thực hiện", "kỷ niệm 67 năm", "trong 3 tháng", "12 ngày"
        let unit_word = self.word(at + 1);
        if matches!(
            unit_word,
            "năm" | "tháng" | "ngày" | "tuần" | "giờ" | "phút" | "tuổi"
        ) && self.periods.covering(at + 1).is_none()
        {
            self.ignore(
                at,
                at + 1,
                IgnoreReason::Duration,
                "a duration, age or anniversary",
            );
            return true;
        }
        false
    }

    /// The unit after the number ending at `last`.
    fn quantity(&self, value: Decimal, decimal_point: bool, last: usize) -> Quantity {
        let mut quantity = Quantity {
            value,
            decimal_point,
            unit: None,
            scale: 0,
            no_currency: false,
            per_person: false,
            unit_vi: None,
            unit_first: last + 1,
            unit_end: last + 1,
        };
        let first = last + 1;
        if self.is_punct(first, &['%']) {
            quantity.unit = Some(Unit::Percent);
            quantity.unit_vi = Some("%".into());
            quantity.unit_end = first + 1;
            return quantity;
        }
        let words = (first..first + MAX_UNIT_WORDS)
            .take_while(|&i| self.token(i).is_some_and(|t| t.kind == Kind::Word))
            .count();
        for count in (1..=words).rev() {
            let phrase = (first..first + count)
                .map(|i| self.text.tokens[i].text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let parsed = parse_unit(&phrase).ok().or_else(|| {
                // "27.701 tỷ" with no currency: đồng is meant.
                (count == 1)
                    .then(|| parse_unit(&format!("{phrase} đồng")).ok())
                    .flatten()
                    .filter(|(_, scale)| *scale > 0)
            });
            if let Some((unit, scale)) = parsed {
                // "5 đồng chí" are five comrades, not five đồng.
                if phrase == "đồng" && self.word(first + 1) == "chí" {
                    continue;
                }
                quantity.no_currency = parse_unit(&phrase).is_err();
                quantity.unit = Some(unit);
                quantity.scale = scale;
                quantity.unit_end = first + count;
                break;
            }
        }
        if quantity.unit.is_some_and(Unit::is_currency) {
            // "triệu đồng/người/tháng"
            let mut end = quantity.unit_end;
            while self.is_punct(end, &['/'])
                && matches!(self.word(end + 1), "người" | "tháng" | "lao" | "năm")
            {
                if self.word(end + 1) == "người" {
                    quantity.per_person = true;
                }
                end += 2;
                if self.word(end) == "động" {
                    end += 1;
                }
            }
            quantity.unit_end = end;
        }
        if quantity.unit.is_some() {
            quantity.unit_vi = Some(self.text.quote(first, quantity.unit_end - 1));
        }
        quantity
    }

    /// Qualifier, status and comparison word before the number at `at`.
    fn lead(&self, at: usize) -> Lead {
        let text = self.text;
        let clause = text.clause_start[at];
        let mut lead = Lead {
            first: at,
            qualifier: None,
            status: None,
            keyword: None,
        };
        let mut end = at;
        'walk: while end > clause && at - end < 8 {
            for (phrase, qualifier) in QUALIFIERS {
                if lead.qualifier.is_none() && text.words_before(end, phrase) {
                    lead.qualifier = Some(*qualifier);
                    end -= phrase.split(' ').count();
                    continue 'walk;
                }
            }
            for (phrase, status) in STATUSES {
                if lead.status.is_none() && text.words_before(end, phrase) {
                    lead.status = Some(*status);
                    end -= phrase.split(' ').count();
                    continue 'walk;
                }
            }
            for (phrase, keyword) in COMPARISON_WORDS {
                if text.words_before(end, phrase) {
                    lead.keyword = Some(keyword);
                    end -= phrase.split(' ').count();
                    break 'walk;
                }
            }
            for connector in CONNECTORS {
                if text.words_before(end, connector) {
                    end -= connector.split(' ').count();
                    continue 'walk;
                }
            }
            break;
        }
        lead.first = end;
        lead
    }

    /// What follows a comparison ending before `at`, and its last token.
    fn base(&self, at: usize) -> (Base, usize) {
        let text = self.text;
        let mut at = at;
        if self.is_punct(at, &[')']) && PLAN_WORDS.iter().any(|w| text.words_at(at + 1, w)) {
            at += 1;
        }
        let after_so = if text.words_at(at, "so với") {
            Some(at + 2)
        } else if text.words_at(at, "so") {
            Some(at + 1)
        } else {
            None
        };
        let through_mention = |from: usize, last: usize| match self.periods.covering(from) {
            Some(m) => m.last,
            None => last,
        };
        match after_so {
            Some(from) => {
                if text.words_at(from, "cùng kỳ") || text.words_at(from, "cùng thời điểm")
                {
                    let last = from + 1;
                    return (Base::SamePeriod, through_mention(last + 1, last));
                }
                if text.words_at(from, "năm trước") || text.words_at(from, "năm ngoái") {
                    return (Base::SamePeriod, from + 1);
                }
                if let Some(m) = self.periods.covering(from) {
                    if matches!(m.what, super::periods::What::Period(p) if p.frequency() == crate::domain::period::Frequency::Annual)
                    {
                        return (Base::SamePeriod, m.last);
                    }
                    return (Base::Other, m.last);
                }
                if let Some((_, len)) = text.first_phrase_at(from, PLAN_WORDS) {
                    return (Base::Plan, through_mention(from + len, from + len - 1));
                }
                (Base::Other, from.min(text.len() - 1))
            }
            None => match text.first_phrase_at(at, PLAN_WORDS) {
                Some((_, len)) => (Base::Plan, through_mention(at + len, at + len - 1)),
                None => (Base::Bare, at.saturating_sub(1)),
            },
        }
    }

    /// Numbers that define what is counted: "từ 1 tỷ đồng trở lên", "38 đơn vị đạt và vượt 100% kế hoạch".
    fn threshold(&mut self, at: usize, lead: &Lead, quantity: &Quantity) -> bool {
        let text = self.text;
        let from_word = lead.first > 0 && text.tokens[lead.first - 1].is_word("từ")
            || text.words_before(lead.first, "từ");
        let or_more = text.words_at(quantity.unit_end, "trở lên")
            || (self.is_punct(quantity.unit_end, &[')'])
                && text.words_at(quantity.unit_end + 1, "trở lên"));
        if from_word && or_more {
            self.ignore(
                at,
                quantity.unit_end - 1,
                IgnoreReason::Threshold,
                "a threshold of what is counted (từ … trở lên)",
            );
            return true;
        }
        if quantity.unit != Some(Unit::Percent) {
            return false;
        }
        let (base, base_last) = self.base(quantity.unit_end);
        let Some((_, draft_index)) = self.current else {
            return false;
        };
        let draft = &self.drafts[draft_index];
        let counted = draft.unit.is_count();
        // Nothing but words between the count and the percentage.
        let adjacent = (draft.last + 1..lead.first).all(|i| text.tokens[i].kind == Kind::Word);
        if base == Base::Plan && counted && adjacent {
            let mut last = base_last.max(quantity.unit_end - 1);
            if text.words_at(last + 1, "trở lên") {
                last += 2;
            }
            self.ignore(
                at,
                last,
                IgnoreReason::Threshold,
                "the share of plan a counted unit reached",
            );
            return true;
        }
        false
    }

    /// Counts of awards and honours.
    fn award(&mut self, at: usize, quantity: &Quantity) -> bool {
        let text = self.text;
        // "41 tập thể và cá nhân", "12 bằng khen"
        let honours = AWARD_WORDS
            .iter()
            .any(|w| text.words_at(quantity.unit_end, w));
        if quantity.unit.is_none() && honours {
            self.ignore(
                at,
                quantity.unit_end,
                IgnoreReason::AwardCount,
                "a count of awards or honours",
            );
            return true;
        }
        if !quantity.unit.is_some_and(Unit::is_count) {
            return false;
        }
        let clause = text.clause_start[at];
        let honoured = (clause..at).any(|i| {
            [
                "khen thưởng",
                "tuyên dương",
                "biểu dương",
                "tôn vinh",
                "tặng",
                "trao",
                "huy hiệu",
            ]
            .iter()
            .any(|w| text.words_at(i, w))
        });
        if honoured {
            self.ignore(
                at,
                quantity.unit_end - 1,
                IgnoreReason::AwardCount,
                "a count of awards or honours",
            );
            return true;
        }
        false
    }

    /// Plans and targets stated in the report: "phấn đấu đạt …", "chỉ tiêu kết nạp 200 đảng viên".
    fn target(&mut self, at: usize, lead: &Lead) -> bool {
        let text = self.text;
        let clause = text.clause_start[at];
        // "vượt 20,5% chỉ tiêu", "đạt chỉ tiêu" report against a target, not set one.
        let measured_against = |i: usize| {
            (i.saturating_sub(3)..i).any(|j| {
                text.tokens[j].kind == Kind::Number
                    || matches!(self.word(j), "vượt" | "đạt" | "mức" | "thành")
            })
        };
        let goal = (clause..lead.first).any(|i| {
            text.words_at(i, "phấn đấu")
                || text.words_at(i, "mục tiêu")
                || (text.words_at(i, "chỉ tiêu") && !measured_against(i))
        });
        if goal {
            self.ignore(
                at,
                at,
                IgnoreReason::Target,
                "a target or plan, not a result",
            );
            return true;
        }
        false
    }

    /// A percentage or amount compared with something: attached to the figure before it.
    fn comparison(&mut self, at: usize, lead: &Lead, quantity: &Quantity) -> bool {
        let Some(unit) = quantity.unit else {
            return false;
        };
        let percent = unit == Unit::Percent;
        let (base, base_last) = self.base(quantity.unit_end);
        let qualifier = lead.qualifier.unwrap_or(Qualifier::Exact);
        let value = quantity.value;
        let last = base_last.max(quantity.unit_end - 1);
        let target = self.current.map(|(_, index)| index);
        let keyword = lead.keyword;
        let bare_parenthesis = percent
            && keyword.is_none()
            && lead.first > 0
            && self.is_punct(lead.first - 1, &['('])
            && target.is_some_and(|t| self.drafts[t].last + 2 == lead.first)
            && base == Base::Bare;

        if percent
            && matches!(keyword, Some("tăng" | "giảm"))
            && self.is_punct(quantity.unit_end, &['/'])
        {
            self.ignore(
                at,
                quantity.unit_end + 1,
                IgnoreReason::AverageGrowth,
                "an average growth rate per year",
            );
            return true;
        }
        match (keyword, base) {
            (Some(word @ ("tăng" | "giảm")), base) => {
                if !matches!(base, Base::SamePeriod | Base::Bare) {
                    self.ignore(
                        at,
                        last,
                        IgnoreReason::OtherComparison,
                        "a change against another period or the plan",
                    );
                    return true;
                }
                let Some(index) = target else {
                    self.ignore(
                        at,
                        last,
                        IgnoreReason::ChangeWithoutLevel,
                        "a change with no figure before it",
                    );
                    return true;
                };
                let draft = &mut self.drafts[index];
                if percent {
                    let signed = if word == "giảm" { -value } else { value };
                    draft.yoy = Some((signed, qualifier));
                } else {
                    draft.change = Some(Change {
                        value,
                        unit,
                        scale: quantity.scale,
                        direction: if word == "giảm" {
                            ChangeDirection::Decrease
                        } else {
                            ChangeDirection::Increase
                        },
                        qualifier,
                    });
                }
                draft.last = draft.last.max(last);
            }
            (Some("chiếm"), _) | (Some("bằng"), Base::Bare | Base::Other) if percent => {
                let Some(index) = target else {
                    self.ignore(
                        at,
                        last,
                        IgnoreReason::ShareWithoutLevel,
                        "a share with no figure before it",
                    );
                    return true;
                };
                let between = (self.drafts[index].last + 1, lead.first);
                // "…, trong đó lao động nữ chiếm 62%": the share of a part.
                if (between.0..between.1).any(|i| self.text.words_at(i, "trong đó")) {
                    self.ignore(
                        at,
                        last,
                        IgnoreReason::ShareWithoutLevel,
                        "the share of a part of the figure before it",
                    );
                    return true;
                }
                // "nợ xấu chiếm 0,64% tổng dư nợ": a ratio named before it is its own figure.
                let names_a_ratio = self
                    .lexicon
                    .before(
                        self.text,
                        self.catalog,
                        between,
                        Some(Unit::Percent),
                        false,
                        false,
                    )
                    .is_some();
                if names_a_ratio {
                    return false;
                }
                let draft = &mut self.drafts[index];
                draft.share = Some((value, qualifier));
                draft.last = draft.last.max(last);
            }
            (Some("bằng"), Base::SamePeriod) if percent => {
                let Some(index) = target else {
                    self.ignore(
                        at,
                        last,
                        IgnoreReason::ChangeWithoutLevel,
                        "a change with no figure before it",
                    );
                    return true;
                };
                let draft = &mut self.drafts[index];
                draft.yoy = Some((value - Decimal::ONE_HUNDRED, qualifier));
                draft.warnings.push(Warning::new(
                    WarningCode::YoyFromIndex,
                    format!(
                        "\"bằng {value}% so cùng kỳ\" is read as a change of {}%",
                        value - Decimal::ONE_HUNDRED
                    ),
                ));
                draft.last = draft.last.max(last);
            }
            (keyword, Base::Plan) if percent => {
                let overshoot = keyword == Some("vượt") && value < Decimal::ONE_HUNDRED;
                let Some(index) = target else {
                    // A standalone "% of target" is a figure if an indicator measures it.
                    return false;
                };
                let draft = &mut self.drafts[index];
                if overshoot {
                    draft.plan = Some((value + Decimal::ONE_HUNDRED, qualifier));
                    draft.warnings.push(Warning::new(
                        WarningCode::PlanFromOvershoot,
                        format!(
                            "\"vượt {value}%\" of plan is read as {}% of plan",
                            value + Decimal::ONE_HUNDRED
                        ),
                    ));
                } else {
                    draft.plan = Some((value, qualifier));
                }
                draft.last = draft.last.max(last);
            }
            (None, Base::Bare) if bare_parenthesis => {
                let index = target.unwrap_or_default();
                let draft = &mut self.drafts[index];
                draft.share = Some((value, qualifier));
                draft.last = draft.last.max(last + 1);
            }
            _ => return false,
        }
        for i in at..=last.min(self.text.len() - 1) {
            self.consumed[i] = true;
        }
        true
    }

    /// Where the words naming the figure at `at` may start: after the previous
    /// figure of the clause, or at the clause start.
    fn segment_start(&self, at: usize) -> usize {
        let clause = self.text.clause_start[at];
        let after_previous = self
            .current
            .map(|(_, index)| self.drafts[index].last + 1)
            .unwrap_or(clause);
        after_previous
            .max(clause)
            .max(at.saturating_sub(LABEL_WINDOW * 2))
    }

    fn figure(
        &mut self,
        at: usize,
        number_last: usize,
        fraction: Option<Decimal>,
        lead: Lead,
        quantity: Quantity,
    ) {
        let text = self.text;
        let segment = self.segment_start(at);
        // The label after the unit runs to the next punctuation.
        let after_end = (quantity.unit_end..(quantity.unit_end + LABEL_WINDOW).min(text.len()))
            .find(|&i| text.tokens[i].kind != Kind::Word)
            .unwrap_or((quantity.unit_end + LABEL_WINDOW).min(text.len()));
        let after_end =
            if quantity.unit == Some(Unit::Percent) && self.is_punct(quantity.unit_end, &[')']) {
                // "vượt mức (150%) chỉ tiêu thành lập …"
                (quantity.unit_end + 1..(quantity.unit_end + 1 + LABEL_WINDOW).min(text.len()))
                    .find(|&i| text.tokens[i].kind != Kind::Word)
                    .unwrap_or((quantity.unit_end + 1 + LABEL_WINDOW).min(text.len()))
            } else {
                after_end
            };
        let (mut found, unit_differs) = self.name(at, segment, &lead, &quantity, after_end);
        let mut breakdown = lexicon::breakdown(text, segment, lead.first);
        // "31 đảng viên nữ"
        breakdown.extend(lexicon::breakdown(
            text,
            quantity.unit_end,
            (quantity.unit_end + 1).min(text.len()),
        ));
        // "…, trong đó 31 đảng viên nữ": a part of the figure before it is that
        // figure's indicator broken down, or, with no breakdown we know, untyped.
        let parent = self.part_of(at, &lead);
        let mut part_warning = None;
        let mut inherited = false;
        if let Some(parent) = parent {
            let parent = &self.drafts[parent];
            let same_unit = quantity.unit.is_none_or(|u| u == parent.unit);
            let own_cue = found.as_ref().is_some_and(|m| !m.unit_only);
            if own_cue && found.as_ref().map(|m| &m.code) != parent.indicator.as_ref() {
                // A part named in its own words: "trong đó 38 doanh nghiệp đã có tổ chức đảng".
            } else if !breakdown.is_empty() && same_unit && parent.indicator.is_some() {
                inherited = true;
                found = parent.indicator.clone().map(|code| lexicon::Match {
                    code,
                    first: lead.first,
                    last: lead.first,
                    unit_only: false,
                });
            } else if breakdown.is_empty() {
                found = None;
                part_warning = Some(format!(
                    "a part (\"trong đó\") of the figure {} before it, with no breakdown chitieu knows",
                    parent.value
                ));
            }
        }
        let indicator = found
            .as_ref()
            .and_then(|m| self.catalog.iter().find(|c| c.code == m.code));

        // A number with no unit is a figure only where an indicator names it
        // and nothing but punctuation or a linking word follows.
        if quantity.unit.is_none() {
            let next = self.token(number_last + 1);
            let ends = match next {
                None => true,
                Some(t) => match t.kind {
                    Kind::Word => ["và", "với", "so", "tăng", "giảm", "chiếm", "bằng", "trong"]
                        .contains(&t.text.as_str()),
                    Kind::Punct(c) => !matches!(c, '/' | '-' | '–' | '.' | ':' | '+' | '*' | '='),
                    _ => true,
                },
            };
            if indicator.is_none() || !ends || lead.first == at && !self.has_linking_word(at) {
                let (reason, detail) = match next {
                    Some(t) if t.kind == Kind::Word => (
                        IgnoreReason::UnknownUnit,
                        format!("counts \"{}\", which no indicator measures", t.text),
                    ),
                    _ => (
                        IgnoreReason::NoUnit,
                        "no unit and no indicator named before it".to_owned(),
                    ),
                };
                self.ignore(at, number_last, reason, detail);
                return;
            }
        }

        let mut warnings = Vec::new();
        let (unit, scale) = match (quantity.unit, indicator) {
            (Some(unit), _) => (unit, quantity.scale),
            (None, Some(indicator)) => {
                warnings.push(Warning::new(
                    WarningCode::NoUnitWord,
                    format!(
                        "no unit word after the number; {} at scale {} taken from the indicator",
                        indicator.unit.as_str(),
                        indicator.scale
                    ),
                ));
                (indicator.unit, indicator.scale)
            }
            (None, None) => unreachable!("a number with neither unit nor indicator was set aside"),
        };
        if quantity.no_currency {
            warnings.push(Warning::new(
                WarningCode::NoCurrencyWord,
                "a money figure with no currency word; VND assumed",
            ));
        }
        if quantity.decimal_point {
            warnings.push(Warning::new(
                WarningCode::DecimalPoint,
                "written with '.' as the decimal mark; read as a decimal",
            ));
        }
        if let Some(indicator) = indicator {
            if unit.is_currency() && indicator.scale - scale >= 6 {
                warnings.push(Warning::new(
                    WarningCode::UnusualScale,
                    format!("{} at scale {scale} is far below the indicator's scale {}; was a scale word left out?", unit.as_str(), indicator.scale),
                ));
            }
        }

        if unit_differs {
            if let Some(indicator) = indicator {
                warnings.push(Warning::new(
                    WarningCode::UnitDiffers,
                    format!(
                        "written in {}, but {} is kept in {}: convert before accepting",
                        unit.as_str(),
                        indicator.code,
                        indicator.unit.as_str()
                    ),
                ));
            }
        }
        if let Some(message) = part_warning {
            warnings.push(Warning::new(WarningCode::PartOfFigure, message));
        }
        let label_vi = match &found {
            Some(m) if !inherited => text.quote(m.first, m.last),
            _ => self.label_guess(segment, lead.first, quantity.unit_end, after_end),
        };
        if indicator.is_none() {
            warnings.push(Warning::new(
                WarningCode::NoIndicator,
                format!("no catalog indicator fits \"{label_vi}\""),
            ));
        }

        let sentence = text.sentence_start[at];
        let (periods, period_warnings) = self.period_of(at, sentence);
        warnings.extend(period_warnings);

        // A status before the first figure of a sentence holds for the sentence.
        if self.sentence_status.map(|(start, _)| start) != Some(sentence) {
            let stated = (sentence..lead.first).find_map(|i| {
                STATUSES
                    .iter()
                    .find(|(phrase, _)| text.words_at(i, phrase))
                    .map(|(_, status)| *status)
            });
            self.sentence_status = Some((sentence, stated));
        }
        let status = lead
            .status
            .or(self.sentence_status.and_then(|(_, status)| status))
            .unwrap_or(ObservationStatus::Normal);
        let first = (segment..=lead.first)
            .find(|&i| text.tokens[i].kind == Kind::Word || text.tokens[i].kind == Kind::Number)
            .unwrap_or(lead.first);
        let mut last = quantity.unit_end.max(number_last + 1) - 1;
        if let Some(m) = &found {
            if m.last > last && m.last < after_end {
                last = m.last;
            }
        }
        let draft = Draft {
            indicator: indicator.map(|i| i.code.clone()),
            label_vi,
            periods,
            breakdown,
            value: quantity.value,
            unit,
            scale,
            unit_vi: quantity.unit_vi.clone(),
            per_person: quantity.per_person,
            status,
            qualifier: lead.qualifier.unwrap_or(Qualifier::Exact),
            yoy: None,
            change: None,
            share: None,
            plan: None,
            first,
            last,
            value_span: self.span(at, at),
            warnings,
            measure_kind: indicator.map(|i| i.measure_kind),
            value_at: at,
            is_part: parent.is_some(),
        };
        for i in at..=last {
            self.consumed[i] = true;
        }
        self.drafts.push(draft);
        let part = self.drafts.len() - 1;

        if let Some(total) = fraction {
            let mut whole = self.drafts[part].clone();
            let denominator = indicator
                .and_then(|i| i.denominator.as_ref())
                .and_then(|code| self.catalog.iter().find(|c| &c.code == code));
            whole.value = total;
            whole.value_span = self.span(at + 2, at + 2);
            whole.qualifier = Qualifier::Exact;
            whole.indicator = denominator.map(|d| d.code.clone());
            whole.measure_kind = denominator.map(|d| d.measure_kind);
            whole.label_vi = format!("tổng số ({})", whole.label_vi);
            whole
                .warnings
                .retain(|w| w.code != WarningCode::NoIndicator);
            if denominator.is_none() {
                whole.warnings.push(Warning::new(
                    WarningCode::NoIndicator,
                    "the whole of a part/whole pair; no catalog indicator is its denominator",
                ));
            }
            self.drafts.push(whole);
        }
        self.current = Some((text.clause_start[at], part));
    }

    /// The indicator a figure's words name, and whether only by letting one
    /// currency stand for another. Tried in turn: the words before it since the
    /// previous figure; a cue beyond its unit word after it; the words from the
    /// start of its clause ("tổng doanh thu của 72 doanh nghiệp … ước đạt
    /// 21.604 tỷ đồng"); its unit word alone, where the sentence states a level.
    fn name(
        &self,
        at: usize,
        segment: usize,
        lead: &Lead,
        quantity: &Quantity,
        after_end: usize,
    ) -> (Option<lexicon::Match>, bool) {
        let text = self.text;
        let clause = text.clause_start[at];
        let unit_words = (quantity.unit_first, quantity.unit_end);
        let attempt = |relaxed: bool| {
            let (unit, per_person) = (quantity.unit, quantity.per_person);
            let lexicon = self.lexicon;
            // Up to the number: connectors such as "bình quân" may end a cue.
            let before =
                lexicon.before(text, self.catalog, (segment, at), unit, per_person, relaxed);
            if before.is_some() {
                return before;
            }
            let after = lexicon.after(
                text,
                self.catalog,
                unit_words,
                after_end,
                unit,
                per_person,
                relaxed,
            );
            if after.as_ref().is_some_and(|m| !m.unit_only) {
                return after;
            }
            // Not the unit word itself ("một số doanh nghiệp …, có 7 doanh nghiệp").
            let unit_code = after
                .as_ref()
                .filter(|m| m.unit_only)
                .map(|m| m.code.clone());
            let earlier = (clause < segment)
                .then(|| {
                    lexicon.before(
                        text,
                        self.catalog,
                        (clause, segment),
                        unit,
                        per_person,
                        relaxed,
                    )
                })
                .flatten()
                .filter(|m| Some(&m.code) != unit_code.as_ref());
            if earlier.is_some() {
                return earlier;
            }
            after.filter(|_| self.states_a_level(at, lead, quantity.unit_end, after_end))
        };
        match attempt(false) {
            Some(found) => (Some(found), false),
            None if quantity.unit.is_some_and(Unit::is_currency) => {
                let found = attempt(true);
                let differs = found.is_some();
                (found, differs)
            }
            None => (None, false),
        }
    }

    /// "có 54 doanh nghiệp", "là 1.036 đồng chí", "sử dụng 84.300 lao động":
    /// the unit word names what is counted. Not "kiểm tra 16 tổ chức đảng" nor
    /// "7 doanh nghiệp doanh thu giảm …", which count something narrower.
    fn states_a_level(&self, at: usize, lead: &Lead, unit_end: usize, after_end: usize) -> bool {
        const LEVEL_WORDS: &[&str] = &["có", "là", "với", "gồm", "số", "dụng", "của"];
        const AFTER_WORDS: &[&str] = &["với", "và", "trực", "đang", "trong"];
        let before = lead.first.saturating_sub(1)..at;
        let stated = before
            .into_iter()
            .any(|i| LEVEL_WORDS.contains(&self.word(i)));
        let plain_after = unit_end >= after_end || AFTER_WORDS.contains(&self.word(unit_end));
        stated && plain_after
    }

    /// The figure that the one at `at` is a part of ("…, trong đó 31 đảng viên
    /// nữ"): the marker governs its clause, or the clause it introduces with a
    /// colon ("trong đó: lao động nữ là …, lao động nam là …").
    fn part_of(&self, at: usize, lead: &Lead) -> Option<usize> {
        let text = self.text;
        let sentence = text.sentence_start[at];
        let clause = text.clause_start[at];
        let from = if clause > sentence && self.is_punct(clause - 1, &[':']) {
            clause.saturating_sub(3).max(sentence)
        } else {
            clause
        };
        let marker = (from..lead.first)
            .rev()
            .find(|&i| text.words_at(i, "trong đó"))?;
        self.drafts
            .iter()
            .rposition(|d| !d.is_part && d.value_at < marker && d.value_at >= sentence)
    }

    /// Whether a linking word ("là", "đạt") sits right before a bare number.
    fn has_linking_word(&self, at: usize) -> bool {
        at > 0 && matches!(self.word(at - 1), "là" | "đạt" | "được" | "có" | "gồm")
    }

    /// A label for a figure no indicator fits: the words before it, else after it.
    fn label_guess(
        &self,
        segment: usize,
        lead_first: usize,
        unit_end: usize,
        after_end: usize,
    ) -> String {
        let text = self.text;
        let from = (segment..lead_first)
            .find(|&i| text.tokens[i].kind == Kind::Word)
            .unwrap_or(lead_first);
        let from = from.max(lead_first.saturating_sub(8));
        if from < lead_first {
            return text.quote(from, lead_first - 1);
        }
        if unit_end < after_end {
            return text.quote(unit_end, after_end - 1);
        }
        String::new()
    }

    fn period_of(&self, at: usize, sentence: usize) -> (Vec<PeriodCode>, Vec<Warning>) {
        let mut warnings = Vec::new();
        let Some(resolved) = self.periods.resolve(at, sentence) else {
            warnings.push(Warning::new(
                WarningCode::NoPeriod,
                "no period in the text and no publication date: set the period by hand",
            ));
            return (Vec::new(), warnings);
        };
        match resolved.provenance {
            Provenance::PublicationDate => warnings.push(Warning::new(
                WarningCode::PeriodFromPublicationDate,
                "no period stated; the year of publication is assumed",
            )),
            Provenance::LaterText => warnings.push(Warning::new(
                WarningCode::PeriodFromLaterText,
                "no period stated before the figure; taken from later in the report",
            )),
            _ if resolved.year_from_publication => warnings.push(Warning::new(
                WarningCode::PeriodFromPublicationDate,
                "the period's year (or day) is taken from the publication date",
            )),
            _ => {}
        }
        (resolved.periods, warnings)
    }
}
