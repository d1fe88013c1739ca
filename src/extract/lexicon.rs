//! Which indicator a figure measures, told by the words around it.
//!
//! Each indicator of the catalog is known by its Vietnamese name and by the
//! cue phrases below, gathered from the seed reports and from published
//! business-bloc reports. A cue only counts for a figure whose unit is the
//! indicator's unit, so "nộp ngân sách" is budget contributions beside
//! "tỷ đồng" and the count of contributing enterprises beside "doanh nghiệp".

use std::collections::{BTreeMap, HashMap};

use super::text::Text;
use super::CatalogIndicator;
use crate::domain::indicator::Unit;

/// Cue phrases by indicator code: lower-case NFC words, single spaces.
const CUES: &[(&str, &[&str])] = &[
    ("revenue", &["doanh thu", "tổng doanh thu", "doanh số"]),
    (
        "units_meeting_plan",
        &[
            "đơn vị đạt và vượt",
            "đơn vị đạt",
            "đơn vị hoàn thành",
            "đơn vị hoàn thành và vượt",
        ],
    ),
    (
        "budget_contribution",
        &[
            "nộp ngân sách",
            "nộp ngân sách nhà nước",
            "nộp nsnn",
            "nộp thuế",
        ],
    ),
    ("enterprises_budget_over_1bn", &["nộp ngân sách"]),
    (
        "export_turnover",
        &["xuất khẩu", "kim ngạch xuất khẩu", "giá trị xuất khẩu"],
    ),
    (
        "bank_capital_mobilised",
        &[
            "huy động vốn",
            "vốn huy động",
            "nguồn vốn huy động",
            "huy động",
        ],
    ),
    ("loans_outstanding", &["dư nợ", "dư nợ cho vay", "cho vay"]),
    ("npl_ratio", &["nợ xấu", "tỷ lệ nợ xấu"]),
    (
        "social_welfare_contributions",
        &[
            "an sinh xã hội",
            "từ thiện",
            "ủng hộ",
            "quỹ xã hội",
            "nhân đạo",
            "đền ơn đáp nghĩa",
            "vì người nghèo",
            "tình nghĩa",
            "hỗ trợ",
            "đóng góp",
        ],
    ),
    ("new_party_organisations", &["thành lập mới", "thành lập"]),
    (
        "new_party_members",
        &[
            "kết nạp",
            "kết nạp mới",
            "đảng viên mới",
            "phát triển đảng viên",
        ],
    ),
    (
        "nonstate_party_organisations_target_pct",
        &[
            "chỉ tiêu thành lập tổ chức cơ sở đảng",
            "chỉ tiêu thành lập tổ chức đảng",
        ],
    ),
    (
        "social_insurance_contributions",
        &["bhxh", "bảo hiểm xã hội", "nộp bảo hiểm xã hội"],
    ),
    (
        "workers_stable_jobs",
        &[
            "việc làm",
            "việc làm ổn định",
            "giải quyết việc làm",
            "tạo việc làm",
        ],
    ),
    (
        "enterprises_with_party_organisation",
        &[
            "có tổ chức đảng",
            "có tổ chức cơ sở đảng",
            "có chi bộ",
            "doanh nghiệp có tổ chức đảng",
        ],
    ),
    (
        "party_members",
        &["đảng viên", "số đảng viên", "tổng số đảng viên"],
    ),
    ("registered_capital", &["vốn đăng ký", "tổng vốn đăng ký"]),
    ("export_share_pct", &["tỷ trọng xuất khẩu"]),
    (
        "workers",
        &[
            "lao động",
            "người lao động",
            "công nhân",
            "công nhân lao động",
            "số lao động",
            "tổng số lao động",
        ],
    ),
    (
        "import_export_value",
        &[
            "xuất nhập khẩu",
            "kim ngạch xuất nhập khẩu",
            "giá trị xuất nhập khẩu",
        ],
    ),
    ("profit", &["lợi nhuận", "tổng lợi nhuận", "lãi"]),
    (
        "profit_before_tax",
        &["lợi nhuận trước thuế", "lãi trước thuế"],
    ),
    ("profit_after_tax", &["lợi nhuận sau thuế", "lãi sau thuế"]),
    (
        "average_income",
        &[
            "thu nhập bình quân",
            "thu nhập",
            "lương bình quân",
            "tiền lương bình quân",
            "thu nhập trung bình",
        ],
    ),
    ("import_turnover", &["nhập khẩu", "kim ngạch nhập khẩu"]),
    (
        "investment_capital",
        &[
            "vốn đầu tư",
            "tổng vốn đầu tư",
            "giá trị đầu tư",
            "đầu tư",
            "giải ngân",
        ],
    ),
    (
        "production_value",
        &[
            "giá trị sản xuất",
            "giá trị sản xuất công nghiệp",
            "sản lượng",
        ],
    ),
    (
        "party_organisations",
        &[
            "tổ chức cơ sở đảng",
            "tổ chức đảng",
            "chi bộ",
            "đảng bộ cơ sở",
            "chi bộ cơ sở",
        ],
    ),
    (
        "party_members_disciplined",
        &["kỷ luật", "thi hành kỷ luật", "bị kỷ luật"],
    ),
    (
        "party_organisations_excellent",
        &["hoàn thành xuất sắc nhiệm vụ", "hoàn thành xuất sắc"],
    ),
    (
        "party_members_excellent",
        &["hoàn thành xuất sắc nhiệm vụ", "hoàn thành xuất sắc"],
    ),
    ("member_enterprises", &["doanh nghiệp"]),
];

/// Indicators measured per person (per month): only figures in such a unit
/// (`triệu đồng/người/tháng`) can be one of them, and only they can take one.
const PER_PERSON: &[&str] = &["average_income"];

/// A cue found for a figure.
#[derive(Debug, Clone)]
pub struct Match {
    pub code: String,
    /// Tokens of the cue, to quote the phrase that named it.
    pub first: usize,
    pub last: usize,
    /// The cue is only the unit word itself ("54 doanh nghiệp"), which names
    /// the indicator only when the sentence states a level ("có 54 doanh nghiệp").
    pub unit_only: bool,
}

/// Cue phrases of every catalog indicator, longest first, with the indicator's place in the catalog.
pub struct Lexicon {
    /// Cues by their first word, each list longest first: a position is only
    /// tried against the cues that can start there.
    cues: HashMap<String, Vec<(Vec<String>, usize)>>,
}

impl Lexicon {
    pub fn new(catalog: &[CatalogIndicator]) -> Self {
        let mut cues: Vec<(Vec<String>, usize)> = Vec::new();
        for (index, indicator) in catalog.iter().enumerate() {
            let name = Text::new(&indicator.name_vi);
            let name_words: Vec<String> = name
                .tokens
                .iter()
                .filter(|t| t.kind == super::text::Kind::Word)
                .map(|t| t.text.clone())
                .collect();
            if !name_words.is_empty() {
                cues.push((name_words, index));
            }
            for (code, phrases) in CUES {
                if *code == indicator.code {
                    for phrase in *phrases {
                        cues.push((phrase.split(' ').map(str::to_owned).collect(), index));
                    }
                }
            }
        }
        cues.sort_by_key(|cue| std::cmp::Reverse(cue.0.len()));
        let mut by_first: HashMap<String, Vec<(Vec<String>, usize)>> = HashMap::new();
        for cue in cues {
            by_first.entry(cue.0[0].clone()).or_default().push(cue);
        }
        Self { cues: by_first }
    }

    /// Cues at token `at`, ending before `end`, that fit a figure in `unit`
    /// (`None`: a number with no unit word, which fits every indicator but a
    /// percentage). `relaxed` lets one currency stand for another.
    #[allow(clippy::too_many_arguments)]
    fn cues_at<'s>(
        &'s self,
        text: &'s Text,
        at: usize,
        end: usize,
        catalog: &'s [CatalogIndicator],
        unit: Option<Unit>,
        per_person: bool,
        relaxed: bool,
    ) -> impl Iterator<Item = (usize, usize)> + 's {
        let starting_here = text
            .tokens
            .get(at)
            .and_then(|t| self.cues.get(&t.text))
            .map(Vec::as_slice)
            .unwrap_or_default();
        starting_here.iter().filter_map(move |(words, index)| {
            let last = at + words.len() - 1;
            if last >= end {
                return None;
            }
            let matches = words
                .iter()
                .enumerate()
                .all(|(offset, word)| text.tokens[at + offset].text == *word);
            let indicator = &catalog[*index];
            let fits = match unit {
                Some(unit) if relaxed => unit.is_currency() && indicator.unit.is_currency(),
                Some(unit) => indicator.unit == unit,
                None => indicator.unit != Unit::Percent,
            } && per_person == PER_PERSON.contains(&indicator.code.as_str());
            (matches && fits).then_some((*index, last))
        })
    }

    /// The cue naming a figure in the words `from..to` before it. Vietnamese
    /// puts the head of a noun phrase first, so the earliest cue wins ("Tổng số
    /// lao động đang làm việc tại các doanh nghiệp có tổ chức Đảng là 99.570"
    /// is about workers), extended by any cue that continues it ("tổng lợi
    /// nhuận sau thuế" is profit after tax, not profit).
    pub fn before(
        &self,
        text: &Text,
        catalog: &[CatalogIndicator],
        (from, to): (usize, usize),
        unit: Option<Unit>,
        per_person: bool,
        relaxed: bool,
    ) -> Option<Match> {
        let cue = |at: usize| {
            self.cues_at(text, at, to, catalog, unit, per_person, relaxed)
                .next()
        };
        let (first, (mut index, mut last)) =
            (from..to).find_map(|at| cue(at).map(|found| (at, found)))?;
        let mut start = first;
        while let Some((at, (i, l))) = (start + 1..=last)
            .filter_map(|at| cue(at).map(|found| (at, found)))
            .find(|(_, (_, l))| *l > last)
        {
            (start, index, last) = (at, i, l);
        }
        Some(Match {
            code: catalog[index].code.clone(),
            first,
            last,
            unit_only: false,
        })
    }

    /// The cue naming a figure in its unit words `unit_first..unit_end` and the
    /// words after them up to `end` (`38 đơn vị đạt và vượt …`): the cue that
    /// says most beyond the unit word wins.
    #[allow(clippy::too_many_arguments)]
    pub fn after(
        &self,
        text: &Text,
        catalog: &[CatalogIndicator],
        (unit_first, unit_end): (usize, usize),
        end: usize,
        unit: Option<Unit>,
        per_person: bool,
        relaxed: bool,
    ) -> Option<Match> {
        let mut best: Option<((usize, usize), Match)> = None;
        for at in unit_first..end {
            for (index, last) in self.cues_at(text, at, end, catalog, unit, per_person, relaxed) {
                let beyond_unit = (last + 1).saturating_sub(at.max(unit_end));
                let score = (beyond_unit, last + 1 - at);
                if best
                    .as_ref()
                    .is_none_or(|(best_score, _)| score > *best_score)
                {
                    let code = catalog[index].code.clone();
                    let unit_only = beyond_unit == 0;
                    best = Some((
                        score,
                        Match {
                            code,
                            first: at,
                            last,
                            unit_only,
                        },
                    ));
                }
            }
        }
        best.map(|(_, found)| found)
    }
}

/// Disaggregations named just before a figure: "lao động nữ", "đảng viên nam",
/// "lao động là nhà quản lý, chuyên môn kỹ thuật bậc cao".
pub fn breakdown(text: &Text, from: usize, to: usize) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for at in from..to {
        let token = &text.tokens[at];
        let previous = at.checked_sub(1).map(|p| text.tokens[p].text.as_str());
        let after_a_person = matches!(
            previous,
            Some("động" | "viên" | "nhân" | "bộ" | "là" | "giới" | "người")
        );
        if token.is_word("nữ") && previous != Some("phụ") {
            found.insert("sex".to_owned(), "female".to_owned());
        } else if token.is_word("nam") && after_a_person {
            found.insert("sex".to_owned(), "male".to_owned());
        } else if text.words_at(at, "nhà quản lý") || text.words_at(at, "kỹ thuật bậc cao")
        {
            found.insert("skill".to_owned(), "manager_or_high_skilled".to_owned());
        }
    }
    found
}
