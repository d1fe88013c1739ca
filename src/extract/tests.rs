//! The extractor on sentences in the manner of the reports; the seed reports
//! and the unseen set are measured in `tests/api/extractions.rs`.

use chrono::NaiveDate;
use serde::Deserialize;

use super::*;

#[derive(Deserialize)]
struct SeedIndicator {
    code: String,
    name_vi: String,
    unit: Unit,
    scale: i32,
    measure_kind: MeasureKind,
    denominator: Option<String>,
}

/// The catalog chitieu seeds, so the lexicon is tried on the real codes.
pub(super) fn catalog() -> Vec<CatalogIndicator> {
    let seeds: Vec<SeedIndicator> =
        serde_json::from_str(include_str!("../../seed-data/indicators.json")).unwrap();
    seeds
        .into_iter()
        .map(|s| CatalogIndicator {
            code: s.code,
            name_vi: s.name_vi,
            unit: s.unit,
            scale: s.scale,
            measure_kind: s.measure_kind,
            denominator: s.denominator,
        })
        .collect()
}

fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn run(text: &str, published: Option<NaiveDate>) -> Extraction {
    extract(text, published, None, &catalog())
}

/// One line per candidate: indicator period value unit scale status qualifier yoy share.
fn lines(extraction: &Extraction) -> Vec<String> {
    extraction
        .candidates
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {} {} {} {} yoy={} share={}",
                c.indicator.as_deref().unwrap_or("?"),
                c.period.as_deref().unwrap_or("?"),
                c.value,
                c.unit.as_str(),
                c.scale,
                c.status.as_str(),
                c.qualifier.as_str(),
                c.reported_yoy_pct
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                c.reported_share_pct
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn a_seed_sentence_with_its_comparisons() {
    let found = run(
        "Năm 2021, các doanh nghiệp ổn định. Tổng doanh thu 27.701 tỷ đồng, tăng 7,7% so cùng kỳ, \
         có 38 đơn vị đạt và vượt 100% kế hoạch năm 2021. Tổng số nộp ngân sách nhà nước 975,9 tỷ \
         đồng, tăng 6,8% so cùng kỳ; 68 doanh nghiệp nộp ngân sách từ 1 tỷ đồng trở lên (chiếm 73,1%).",
        day(2021, 12, 28),
    );
    assert_eq!(
        lines(&found),
        [
            "revenue 2021 27701 VND 9 A exact yoy=7.7 share=",
            "units_meeting_plan 2021 38 units 0 A exact yoy= share=",
            "budget_contribution 2021 975.9 VND 9 A exact yoy=6.8 share=",
            "enterprises_budget_over_1bn 2021 68 enterprises 0 A exact yoy= share=73.1",
        ]
    );
    let reasons: Vec<IgnoreReason> = found.ignored.iter().map(|i| i.reason).collect();
    assert!(reasons.contains(&IgnoreReason::Threshold), "{reasons:?}");
    let revenue = &found.candidates[0];
    assert_eq!(
        revenue.quote,
        "Tổng doanh thu 27.701 tỷ đồng, tăng 7,7% so cùng kỳ"
    );
    assert_eq!(revenue.reported_yoy_qualifier, Some(Qualifier::Exact));
}

#[test]
fn spans_are_character_offsets_of_the_text_as_sent() {
    let text = "Quý I/2022, lợi nhuận ước đạt hơn 1.315 tỷ đồng.";
    let found = run(text, day(2022, 4, 10));
    let candidate = &found.candidates[0];
    let chars: Vec<char> = text.chars().collect();
    let slice = |s: Span| chars[s.start..s.end].iter().collect::<String>();
    assert_eq!(slice(candidate.value_span), "1.315");
    assert_eq!(slice(candidate.span), candidate.quote);
    assert_eq!(
        candidate.quote,
        "Quý I/2022, lợi nhuận ước đạt hơn 1.315 tỷ đồng"
    );
    assert_eq!(candidate.status, ObservationStatus::Estimated);
    assert_eq!(candidate.qualifier, Qualifier::LowerBound);
    assert_eq!(candidate.period.as_deref(), Some("2022-Q1"));
}

#[test]
fn what_the_issue_asks_to_understand() {
    let found = run(
        "6 tháng đầu năm 2023, tổng doanh thu ước đạt trên 18.450 tỷ đồng, tăng 800 tỷ đồng so cùng \
         kỳ; xuất khẩu đạt gần 85 triệu USD, chiếm khoảng 25%. Thu nhập bình quân của người lao động \
         đạt 8,2 triệu đồng/người/tháng. Đảng bộ kết nạp 95 quần chúng ưu tú vào Đảng. Doanh thu \
         9 tháng ước đạt hơn 12.300 tỷ đồng, bằng 76% kế hoạch năm.",
        day(2023, 10, 5),
    );
    assert_eq!(
        lines(&found),
        [
            "revenue 2023-S1 18450 VND 9 E lower_bound yoy= share=",
            "export_turnover 2023-S1 85 USD 6 A approximate yoy= share=25",
            "average_income 2023-S1 8.2 VND 6 A exact yoy= share=",
            "new_party_members 2023-S1 95 persons 0 A exact yoy= share=",
            "revenue 2023-YTD-M09 12300 VND 9 E lower_bound yoy= share=",
        ]
    );
    let change = found.candidates[0].reported_change.as_ref().unwrap();
    assert_eq!(
        (change.value.to_string().as_str(), change.unit, change.scale),
        ("800", Unit::Vnd, 9)
    );
    assert_eq!(change.direction, ChangeDirection::Increase);
    assert!(found.candidates[2].per_person);
    assert_eq!(
        found.candidates[4]
            .reported_plan_pct
            .map(|v| v.to_string())
            .as_deref(),
        Some("76")
    );
}

#[test]
fn numbers_that_are_not_figures_are_set_aside_with_a_reason() {
    let found = run(
        "Chiều 28/12, Đảng ủy Khối tổ chức Hội nghị Ban Chấp hành lần thứ 9 triển khai Nghị quyết \
         số 12-NQ/TW ngày 01/12/2020, nhiệm kỳ 2020 - 2025, phòng chống Covid-19, kỷ niệm 67 năm \
         Ngày Giải phóng; khen thưởng 41 tập thể. Điện thoại: 0225.3821.055. Còn lại 7 tỉnh.",
        day(2021, 12, 28),
    );
    assert!(found.candidates.is_empty(), "{:?}", lines(&found));
    let reasons: Vec<IgnoreReason> = found.ignored.iter().map(|i| i.reason).collect();
    for reason in [
        IgnoreReason::Date,
        IgnoreReason::Ordinal,
        IgnoreReason::DocumentNumber,
        IgnoreReason::Term,
        IgnoreReason::Name,
        IgnoreReason::Duration,
        IgnoreReason::AwardCount,
        IgnoreReason::Malformed,
        IgnoreReason::UnknownUnit,
    ] {
        assert!(
            reasons.contains(&reason),
            "{reason:?} missing from {reasons:?}"
        );
    }
}

#[test]
fn a_period_from_the_publication_date_is_flagged() {
    let found = run("Tổng doanh thu đạt 500 tỷ đồng, tăng 5%.", day(2024, 1, 20));
    let candidate = &found.candidates[0];
    assert_eq!(candidate.period.as_deref(), Some("2023"));
    assert_eq!(
        candidate.reported_yoy_pct.map(|v| v.to_string()).as_deref(),
        Some("5")
    );
    assert!(candidate
        .warnings
        .iter()
        .any(|w| w.code == WarningCode::PeriodFromPublicationDate));
    assert!(candidate.confidence < 0.95);
}

#[test]
fn a_money_figure_with_no_unit_word_and_an_unknown_indicator_are_flagged() {
    let found = run(
        "Năm 2022, doanh thu đạt 27.701 tỷ; giá trị hợp đồng ký mới đạt 120 tỷ đồng.",
        None,
    );
    let codes: Vec<Vec<WarningCode>> = found
        .candidates
        .iter()
        .map(|c| c.warnings.iter().map(|w| w.code).collect())
        .collect();
    assert_eq!(
        codes,
        [
            vec![WarningCode::NoCurrencyWord],
            vec![WarningCode::NoIndicator]
        ]
    );
    assert_eq!(found.candidates[1].indicator, None);
    assert!(
        found.candidates[1].label_vi.contains("hợp đồng"),
        "{}",
        found.candidates[1].label_vi
    );
}

#[test]
fn odd_text_is_no_trouble() {
    for text in [
        "",
        "%%%",
        "1/",
        "/2",
        "năm",
        "quý",
        "9 tháng",
        "tăng 5%",
        "(",
        "1.000.000.000.000.000.000.000.000.000.000 tỷ đồng",
    ] {
        let _ = run(text, None);
    }
}

#[test]
fn parts_as_of_dates_and_a_status_opening_the_sentence() {
    let found = run(
        "Ước tính cả năm, doanh thu đạt 4.100 tỷ đồng, nộp ngân sách 230 tỷ đồng. Đến ngày \
         30/9/2022, dư nợ cho vay đạt 59.310 tỷ đồng. Trong năm kết nạp 92 đảng viên, trong đó \
         có 31 đảng viên nữ; Ủy ban Kiểm tra thi hành kỷ luật 4 đảng viên.",
        day(2022, 12, 22),
    );
    assert_eq!(
        lines(&found),
        [
            "revenue 2022 4100 VND 9 E exact yoy= share=",
            "budget_contribution 2022 230 VND 9 E exact yoy= share=",
            "loans_outstanding 2022-09-30 59310 VND 9 A exact yoy= share=",
            "new_party_members 2022 92 persons 0 A exact yoy= share=",
            "new_party_members 2022 31 persons 0 A exact yoy= share=",
            "party_members_disciplined 2022 4 persons 0 A exact yoy= share=",
        ]
    );
    let female: BTreeMap<String, String> = [("sex".to_owned(), "female".to_owned())].into();
    assert_eq!(found.candidates[4].breakdown, female);
}
