//! chitieu benchmark harness (see bench/README.md).
//!
//! Generates a deterministic national-scale data set, then for each backend
//! (SQLite, PostgreSQL) starts the real server binary on a fresh database and
//! measures: import through the API against `psql \copy` / `sqlite3 .import`,
//! HTTP throughput and latency with its own keep-alive load generator against
//! the framework ceiling (`/healthz`) and against `pgbench`, peak memory
//! (VmHWM) and start-to-ready time. Writes a Markdown report.
//!
//! Only `std::process::Command` is used to run `psql`, `pgbench`, `sqlite3`,
//! `kill` and the server; the load generator is a plain HTTP/1.1 client on a
//! current-thread tokio runtime.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

/// Benchmark chitieu on SQLite and PostgreSQL and write a Markdown report.
#[derive(Parser, Debug, Clone)]
#[command(name = "bench")]
struct Args {
    /// Observations to generate, rounded up to whole committees (40 indicators × 190 periods
    /// = 7,600 per committee).
    #[arg(long, default_value_t = 1_000_000)]
    observations: usize,
    /// Runs of every measurement (median and min–max are reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Import runs (each on a fresh database); defaults to --runs.
    #[arg(long)]
    import_runs: Option<usize>,
    /// Seconds of each HTTP load and pgbench run.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Seconds of unrecorded warm-up before each HTTP load.
    #[arg(long, default_value_t = 1)]
    warmup_secs: u64,
    /// Concurrent keep-alive connections of the throughput loads.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Where to write the report.
    #[arg(long, default_value = "bench/RESULTS.md")]
    out: PathBuf,
    /// Backends to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,
    /// The server binary.
    #[arg(long, default_value = "target/release/chitieu")]
    binary: PathBuf,
    /// PostgreSQL maintenance URL: bench databases are created and dropped through it.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg_url: String,
    /// Give up on one import request after this many seconds.
    #[arg(long, default_value_t = 3600)]
    import_timeout_secs: u64,
    /// A free-form note printed in the report (e.g. why runs were reduced).
    #[arg(long)]
    note: Option<String>,
    /// Diagnostics: log statements slower than this many ms from the bench
    /// databases (ALTER DATABASE … SET log_min_duration_statement) to the PostgreSQL server log.
    #[arg(long)]
    pg_log_min_duration_ms: Option<u64>,
    /// GETs of each web app page (home, entry form, dashboard, group view,
    /// history, checks) whose server time is measured.
    #[arg(long, default_value_t = 300)]
    page_requests: usize,
    /// Dashboard users of the open-loop load (connections).
    #[arg(long, default_value_t = 200)]
    dashboard_users: usize,
    /// Requests per second the dashboard users send in all (open loop).
    #[arg(long, default_value_t = 400.0)]
    dashboard_rate: f64,
    /// Measure only this part: `import` stops after the import and its baseline.
    #[arg(long, value_enum)]
    only: Option<Only>,
    /// After the measured runs, run these loads (comma-separated keys such
    /// as `yoy_u,dash_open_u`, `import`, or `all`) once more under `perf record`
    /// and write `perf report` of the server to
    /// bench/profiles/<backend>[-<size>]-<load>.perf.txt (the size tag when
    /// the data set is not the default 1M, e.g. `10M`). `import` is one more,
    /// unmeasured import on a fresh database.
    #[arg(long, value_delimiter = ',')]
    profile: Vec<String>,
}

/// A part of the benchmark that can be run alone (`--only`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Only {
    /// The import through the API and its baseline (steps 1 and 2).
    Import,
}

// ---------------------------------------------------------------------------
// Deterministic data set
// ---------------------------------------------------------------------------

const SEED: u64 = 0x6368_6974_6965_7521; // "chitieu!"
const FIRST_YEAR: i32 = 2015;
const LAST_YEAR: i32 = 2024;
const YEARS: usize = (LAST_YEAR - FIRST_YEAR + 1) as usize;
const MONTHS: usize = YEARS * 12;
/// Quarters are stored from this year on (halves and years for every year).
const INDICATORS: usize = 40;
const PERIODS: usize = 190;
const PER_COMMITTEE: usize = INDICATORS * PERIODS;
/// Seasonal shares of a flow's year, Q1..Q4.
const SEASON: [f64; 4] = [0.22, 0.24, 0.25, 0.29];

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xorshift64*: tiny, fixed, and the same on every platform. Only +, ×, ÷ on
/// f64 are used afterwards (no powf/exp), so values are bit-for-bit reproducible.
struct Rng(u64);

impl Rng {
    fn new(stream: u64) -> Self {
        Rng(splitmix(SEED ^ splitmix(stream)) | 1)
    }
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// 1 ± amp, uniform.
    fn noise(&mut self, amp: f64) -> f64 {
        1.0 + amp * (2.0 * self.unit() - 1.0)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Flow,
    Stock,
    Ratio,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Flow => "flow",
            Kind::Stock => "stock",
            Kind::Ratio => "ratio",
        }
    }
}

#[derive(Clone, Debug)]
struct Ind {
    code: &'static str,
    vi: &'static str,
    en: &'static str,
    unit: &'static str,
    scale: i32,
    kind: Kind,
    direction: &'static str,
    /// Decimals written (values are generated as integers of 10^-decimals).
    decimals: u32,
    /// Level in 2015 for a committee of size 1: a flow's year, a stock's level.
    base: f64,
    /// Yearly growth.
    growth: f64,
    /// A share of another indicator (parent, low, high) instead of its own level.
    derive: Option<(&'static str, f64, f64)>,
    /// A ratio: numerator / denominator × 100.
    ratio: Option<(&'static str, &'static str)>,
}

#[allow(clippy::too_many_arguments)]
fn own(
    code: &'static str,
    vi: &'static str,
    en: &'static str,
    unit: &'static str,
    scale: i32,
    kind: Kind,
    decimals: u32,
    base: f64,
    growth: f64,
) -> Ind {
    Ind {
        code,
        vi,
        en,
        unit,
        scale,
        kind,
        direction: "higher_is_better",
        decimals,
        base,
        growth,
        derive: None,
        ratio: None,
    }
}

fn share_of(
    list: &[Ind],
    code: &'static str,
    vi: &'static str,
    en: &'static str,
    parent: &'static str,
    lo: f64,
    hi: f64,
) -> Ind {
    let p = list
        .iter()
        .find(|i| i.code == parent)
        .expect("parent first");
    Ind {
        code,
        vi,
        en,
        derive: Some((parent, lo, hi)),
        base: 0.0,
        growth: 0.0,
        ..p.clone()
    }
}

fn ratio(
    code: &'static str,
    vi: &'static str,
    en: &'static str,
    num: &'static str,
    den: &'static str,
    direction: &'static str,
) -> Ind {
    Ind {
        code,
        vi,
        en,
        unit: "percent",
        scale: 0,
        kind: Kind::Ratio,
        direction,
        decimals: 2,
        base: 0.0,
        growth: 0.0,
        derive: None,
        ratio: Some((num, den)),
    }
}

/// The 40 indicators: flows in VND (tỷ, scale 9) and USD (triệu, scale 6),
/// stocks, whole counts and percent ratios recomputable from their parts.
fn indicators() -> Vec<Ind> {
    use Kind::*;
    let mut l: Vec<Ind> = Vec::new();
    // Flows, VND scale 9, one decimal.
    l.push(own(
        "revenue",
        "Tổng doanh thu",
        "Total revenue",
        "VND",
        9,
        Flow,
        1,
        4000.0,
        0.08,
    ));
    l.push(own(
        "production_value",
        "Giá trị sản xuất",
        "Production value",
        "VND",
        9,
        Flow,
        1,
        3500.0,
        0.07,
    ));
    let x = share_of(
        &l,
        "profit_before_tax",
        "Lợi nhuận trước thuế",
        "Profit before tax",
        "revenue",
        0.03,
        0.12,
    );
    l.push(x);
    let x = share_of(
        &l,
        "budget_contribution",
        "Nộp ngân sách nhà nước",
        "Contribution to the state budget",
        "revenue",
        0.05,
        0.12,
    );
    l.push(x);
    l.push(own(
        "investment_capital",
        "Vốn đầu tư thực hiện",
        "Investment capital disbursed",
        "VND",
        9,
        Flow,
        1,
        900.0,
        0.06,
    ));
    let x = share_of(
        &l,
        "wage_fund",
        "Quỹ tiền lương",
        "Wage fund",
        "revenue",
        0.06,
        0.10,
    );
    l.push(x);
    let x = share_of(
        &l,
        "social_insurance_paid",
        "Bảo hiểm xã hội đã nộp",
        "Social insurance paid",
        "wage_fund",
        0.20,
        0.25,
    );
    l.push(x);
    let x = share_of(
        &l,
        "tax_paid",
        "Thuế đã nộp",
        "Taxes paid",
        "budget_contribution",
        0.50,
        0.80,
    );
    l.push(x);
    let x = share_of(
        &l,
        "operating_costs",
        "Chi phí hoạt động",
        "Operating costs",
        "revenue",
        0.80,
        0.92,
    );
    l.push(x);
    let x = share_of(
        &l,
        "dividends_paid",
        "Cổ tức đã chi",
        "Dividends paid",
        "profit_before_tax",
        0.20,
        0.50,
    );
    l.push(x);
    l.push(own(
        "credit_disbursed",
        "Doanh số cho vay",
        "Loans disbursed",
        "VND",
        9,
        Flow,
        1,
        2500.0,
        0.09,
    ));
    l.push(own(
        "social_welfare_contributions",
        "Đóng góp an sinh xã hội",
        "Social welfare contributions",
        "VND",
        9,
        Flow,
        1,
        3.0,
        0.05,
    ));
    // Flows, USD scale 6, one decimal.
    l.push(own(
        "export_turnover",
        "Kim ngạch xuất khẩu",
        "Export turnover",
        "USD",
        6,
        Flow,
        1,
        150.0,
        0.10,
    ));
    l.push(own(
        "import_turnover",
        "Kim ngạch nhập khẩu",
        "Import turnover",
        "USD",
        6,
        Flow,
        1,
        120.0,
        0.09,
    ));
    l.push(own(
        "fdi_disbursed",
        "Vốn FDI giải ngân",
        "FDI disbursed",
        "USD",
        6,
        Flow,
        1,
        40.0,
        0.07,
    ));
    l.push(own(
        "fdi_registered",
        "Vốn FDI đăng ký",
        "FDI registered",
        "USD",
        6,
        Flow,
        1,
        60.0,
        0.06,
    ));
    // Stocks, VND scale 9.
    l.push(own(
        "loans_outstanding",
        "Dư nợ cho vay",
        "Loans outstanding",
        "VND",
        9,
        Stock,
        1,
        3000.0,
        0.10,
    ));
    l.push(own(
        "bank_capital_mobilised",
        "Tổng huy động vốn",
        "Capital mobilised by banks",
        "VND",
        9,
        Stock,
        1,
        4500.0,
        0.09,
    ));
    let x = share_of(
        &l,
        "bad_debt",
        "Nợ xấu",
        "Non-performing loans",
        "loans_outstanding",
        0.005,
        0.04,
    );
    l.push(x);
    l.push(own(
        "total_assets",
        "Tổng tài sản",
        "Total assets",
        "VND",
        9,
        Stock,
        1,
        8000.0,
        0.07,
    ));
    let x = share_of(
        &l,
        "equity",
        "Vốn chủ sở hữu",
        "Equity",
        "total_assets",
        0.25,
        0.50,
    );
    l.push(x);
    let x = share_of(
        &l,
        "state_capital",
        "Vốn nhà nước",
        "State capital",
        "equity",
        0.30,
        0.80,
    );
    l.push(x);
    let x = share_of(
        &l,
        "liabilities",
        "Nợ phải trả",
        "Liabilities",
        "total_assets",
        0.50,
        0.75,
    );
    l.push(x);
    let x = share_of(
        &l,
        "receivables",
        "Các khoản phải thu",
        "Receivables",
        "total_assets",
        0.05,
        0.15,
    );
    l.push(x);
    // Stock, USD scale 6.
    l.push(own(
        "foreign_currency_deposits",
        "Tiền gửi ngoại tệ",
        "Foreign-currency deposits",
        "USD",
        6,
        Stock,
        1,
        80.0,
        0.05,
    ));
    // Whole counts (stocks).
    l.push(own(
        "workers",
        "Số lao động",
        "Workers",
        "persons",
        0,
        Stock,
        0,
        25000.0,
        0.02,
    ));
    let x = share_of(
        &l,
        "female_workers",
        "Lao động nữ",
        "Female workers",
        "workers",
        0.30,
        0.60,
    );
    l.push(x);
    let x = share_of(
        &l,
        "party_members",
        "Số đảng viên",
        "Party members",
        "workers",
        0.05,
        0.15,
    );
    l.push(x);
    let x = share_of(
        &l,
        "trade_union_members",
        "Đoàn viên công đoàn",
        "Trade-union members",
        "workers",
        0.70,
        0.95,
    );
    l.push(x);
    l.push(own(
        "nonstate_enterprises",
        "Doanh nghiệp ngoài nhà nước",
        "Non-state enterprises",
        "enterprises",
        0,
        Stock,
        0,
        700.0,
        0.05,
    ));
    let x = share_of(
        &l,
        "enterprises_with_party_organisation",
        "Doanh nghiệp có tổ chức đảng",
        "Enterprises with a party organisation",
        "nonstate_enterprises",
        0.05,
        0.12,
    );
    l.push(x);
    l.push(own(
        "grassroots_party_organisations",
        "Tổ chức cơ sở đảng",
        "Grassroots party organisations",
        "organisations",
        0,
        Stock,
        0,
        120.0,
        0.01,
    ));
    l.push(own(
        "member_units",
        "Đơn vị trực thuộc",
        "Member units",
        "units",
        0,
        Stock,
        0,
        150.0,
        0.01,
    ));
    // Whole counts (flows).
    l.push(own(
        "new_party_members",
        "Kết nạp đảng viên mới",
        "New party members",
        "persons",
        0,
        Flow,
        0,
        200.0,
        0.03,
    ));
    l.push(own(
        "new_enterprises",
        "Doanh nghiệp thành lập mới",
        "New enterprises",
        "enterprises",
        0,
        Flow,
        0,
        60.0,
        0.04,
    ));
    l.push(own(
        "jobs_created",
        "Việc làm mới",
        "Jobs created",
        "persons",
        0,
        Flow,
        0,
        1500.0,
        0.03,
    ));
    // Percent ratios.
    l.push(ratio(
        "npl_ratio",
        "Tỷ lệ nợ xấu",
        "Non-performing loan ratio",
        "bad_debt",
        "loans_outstanding",
        "lower_is_better",
    ));
    l.push(ratio(
        "profit_margin",
        "Tỷ suất lợi nhuận",
        "Profit margin",
        "profit_before_tax",
        "revenue",
        "higher_is_better",
    ));
    l.push(ratio(
        "equity_ratio",
        "Tỷ lệ vốn chủ sở hữu",
        "Equity ratio",
        "equity",
        "total_assets",
        "neutral",
    ));
    l.push(ratio(
        "female_worker_share",
        "Tỷ lệ lao động nữ",
        "Share of female workers",
        "female_workers",
        "workers",
        "neutral",
    ));
    assert_eq!(l.len(), INDICATORS);
    l
}

#[derive(Clone, Copy, Debug)]
enum Period {
    Year(i32),
    Half(i32, usize),
    Quarter(i32, usize),
    Month(i32, usize),
}

impl Period {
    fn code(self) -> String {
        match self {
            Period::Year(y) => format!("{y}"),
            Period::Half(y, h) => format!("{y}-S{h}"),
            Period::Quarter(y, q) => format!("{y}-Q{q}"),
            Period::Month(y, m) => format!("{y}-M{m:02}"),
        }
    }
    /// Month indexes (0 = 2015-M01) the period covers.
    fn months(self) -> std::ops::Range<usize> {
        let y0 = |y: i32| (y - FIRST_YEAR) as usize * 12;
        match self {
            Period::Year(y) => y0(y)..y0(y) + 12,
            Period::Half(y, h) => y0(y) + (h - 1) * 6..y0(y) + h * 6,
            Period::Quarter(y, q) => y0(y) + (q - 1) * 3..y0(y) + q * 3,
            Period::Month(y, m) => y0(y) + m - 1..y0(y) + m,
        }
    }
}

/// The 190 periods of every committee × indicator, 2015–2024: years (10),
/// halves (20), quarters (40) and months (120).
fn periods() -> Vec<Period> {
    let mut p = Vec::new();
    for y in FIRST_YEAR..=LAST_YEAR {
        p.push(Period::Year(y));
    }
    for y in FIRST_YEAR..=LAST_YEAR {
        p.push(Period::Half(y, 1));
        p.push(Period::Half(y, 2));
    }
    for y in FIRST_YEAR..=LAST_YEAR {
        for q in 1..=4 {
            p.push(Period::Quarter(y, q));
        }
    }
    for y in FIRST_YEAR..=LAST_YEAR {
        for m in 1..=12 {
            p.push(Period::Month(y, m));
        }
    }
    assert_eq!(p.len(), PERIODS);
    p
}

fn pow10(d: u32) -> i64 {
    10i64.pow(d)
}

/// Monthly values (in 10^-decimals units) of every indicator of committee `c`.
fn committee_months(c: usize, inds: &[Ind]) -> Vec<[i64; MONTHS]> {
    let mut r = Rng::new(0xC0_0000 + c as u64);
    // Skewed sizes: most committees are small, a few large.
    let u = r.unit();
    let size = 0.2 + 4.8 * u * u;
    let mut out: Vec<[i64; MONTHS]> = Vec::with_capacity(inds.len());
    for (i, ind) in inds.iter().enumerate() {
        let mut r = Rng::new(((c as u64) << 16) ^ (i as u64 + 1) ^ 0xD000_0000);
        let unit = pow10(ind.decimals) as f64;
        let mut m = [0i64; MONTHS];
        if ind.kind == Kind::Ratio {
            out.push(m);
            continue;
        }
        if let Some((parent, lo, hi)) = ind.derive {
            let p = inds.iter().position(|x| x.code == parent).unwrap();
            let share = r.range(lo, hi);
            for t in 0..MONTHS {
                m[t] = ((out[p][t] as f64) * share * r.noise(0.02))
                    .round()
                    .max(0.0) as i64;
            }
            out.push(m);
            continue;
        }
        let mut level = ind.base * size * r.range(0.7, 1.3);
        let growth = ind.growth + r.range(-0.03, 0.03);
        match ind.kind {
            Kind::Flow => {
                for y in 0..YEARS {
                    let year = level * r.noise(0.04);
                    for (k, w) in SEASON.iter().enumerate() {
                        let quarter = year * w * r.noise(0.03);
                        for j in 0..3 {
                            m[y * 12 + k * 3 + j] =
                                (quarter / 3.0 * r.noise(0.05) * unit).round().max(0.0) as i64;
                        }
                    }
                    level *= 1.0 + growth;
                }
            }
            Kind::Stock => {
                for v in m.iter_mut() {
                    *v = (level * r.noise(0.015) * unit).round().max(0.0) as i64;
                    level *= 1.0 + growth / 12.0;
                }
            }
            Kind::Ratio => unreachable!(),
        }
        out.push(m);
    }
    out
}

/// The value of indicator `i` for a period, in 10^-decimals units: flows sum
/// their months, stocks take the last, ratios are recomputed (2 decimals).
fn period_value(i: usize, p: Period, inds: &[Ind], q: &[[i64; MONTHS]]) -> i64 {
    let ind = &inds[i];
    match ind.kind {
        Kind::Flow => p.months().map(|t| q[i][t]).sum(),
        Kind::Stock => q[i][p.months().end - 1],
        Kind::Ratio => {
            let (n, d) = ind.ratio.unwrap();
            let n = inds.iter().position(|x| x.code == n).unwrap();
            let d = inds.iter().position(|x| x.code == d).unwrap();
            let num = period_value(n, p, inds, q) as i128;
            let den = period_value(d, p, inds, q) as i128;
            if den == 0 {
                0
            } else {
                ((num * 10_000 + den / 2) / den) as i64
            }
        }
    }
}

fn fmt_units(v: i64, decimals: u32) -> String {
    if decimals == 0 {
        return v.to_string();
    }
    let p = pow10(decimals);
    let sign = if v < 0 { "-" } else { "" };
    let a = v.abs();
    format!("{sign}{}.{:0w$}", a / p, a % p, w = decimals as usize)
}

struct Group {
    code: String,
    vi: String,
    en: String,
    members: Vec<String>,
}

struct Dataset {
    inds: Vec<Ind>,
    committees: Vec<String>,
    groups: Vec<Group>,
    /// (committee, indicator, period, value)
    targets: Vec<(String, &'static str, &'static str, String)>,
    rows: usize,
    csv_bytes: u64,
    /// Indicator values of c001 for the sanity checks: revenue 2024-Q4 and 2023-Q4.
    c001_revenue_q4: (String, String),
    /// Revenue of 2024 summed over every committee (the group total).
    revenue_2024_total: String,
}

/// Vietnam's 63 provinces and centrally-run cities (before the 2025 merger).
const PROVINCES: usize = 63;
const ALL_GROUP: &str = "all-committees";

/// `c0001` …: fixed width, so pgbench builds the same codes (`lpad`).
fn committee_code(c: usize) -> String {
    format!("c{c:04}")
}

fn generate(committees: usize, csv: &Path) -> Result<Dataset> {
    let inds = indicators();
    let periods = periods();
    let codes: Vec<String> = (1..=committees).map(committee_code).collect();
    let mut groups: Vec<Group> = (1..=PROVINCES.min(committees))
        .map(|p| Group {
            code: format!("province-{p:02}"),
            vi: format!("Các Đảng ủy khối doanh nghiệp của tỉnh số {p:02}"),
            en: format!("Business bloc committees of province {p:02}"),
            members: Vec::new(),
        })
        .collect();
    let provinces = groups.len();
    for (c, code) in codes.iter().enumerate() {
        groups[c % provinces].members.push(code.clone());
    }
    groups.push(Group {
        code: ALL_GROUP.into(),
        vi: "Tất cả các Đảng ủy".into(),
        en: "Every committee".into(),
        members: codes.clone(),
    });
    let pcodes: Vec<String> = periods.iter().map(|p| p.code()).collect();
    let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(csv)?);
    writeln!(w, "committee,indicator,period,value")?;
    let mut rows = 0usize;
    let mut targets = Vec::new();
    let revenue = inds.iter().position(|i| i.code == "revenue").unwrap();
    let members = inds
        .iter()
        .position(|i| i.code == "new_party_members")
        .unwrap();
    let mut c001 = (String::new(), String::new());
    let mut total_2024 = 0i64;
    for (c, code) in codes.iter().enumerate() {
        let q = committee_months(c, &inds);
        total_2024 += period_value(revenue, Period::Year(2024), &inds, &q);
        for (i, ind) in inds.iter().enumerate() {
            for (p, pc) in periods.iter().zip(&pcodes) {
                let v = period_value(i, *p, &inds, &q);
                writeln!(w, "{code},{},{pc},{}", ind.code, fmt_units(v, ind.decimals))?;
                rows += 1;
            }
        }
        // Targets for 2024: revenue +8 % and new party members +5 % on 2023.
        let r23 = period_value(revenue, Period::Year(2023), &inds, &q);
        targets.push((
            code.clone(),
            "revenue",
            "2024",
            fmt_units(r23 * 108 / 100, 1),
        ));
        let m23 = period_value(members, Period::Year(2023), &inds, &q);
        targets.push((
            code.clone(),
            "new_party_members",
            "2024",
            (m23 * 105 / 100).to_string(),
        ));
        if c == 0 {
            c001 = (
                fmt_units(
                    period_value(revenue, Period::Quarter(2024, 4), &inds, &q),
                    1,
                ),
                fmt_units(
                    period_value(revenue, Period::Quarter(2023, 4), &inds, &q),
                    1,
                ),
            );
        }
    }
    w.flush()?;
    drop(w);
    Ok(Dataset {
        inds,
        committees: codes,
        groups,
        targets,
        rows,
        csv_bytes: fs::metadata(csv)?.len(),
        c001_revenue_q4: c001,
        revenue_2024_total: fmt_units(total_2024, 1),
    })
}

// ---------------------------------------------------------------------------
// Processes: databases, the server, psql / sqlite3 / pgbench
// ---------------------------------------------------------------------------

fn log(msg: impl AsRef<str>) {
    let now = chrono::Local::now().format("%H:%M:%S");
    eprintln!("[bench {now}] {}", msg.as_ref());
}

/// Runs a command, fails with its stderr unless it succeeds, returns stdout.
fn run(cmd: &mut Command) -> Result<String> {
    let desc = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {desc}"))?;
    if !out.status.success() {
        bail!(
            "{desc} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout)
                .chars()
                .take(2000)
                .collect::<String>()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn first_line(cmd: &mut Command) -> String {
    run(cmd)
        .ok()
        .and_then(|s| s.lines().next().map(str::trim).map(String::from))
        .unwrap_or_else(|| "unknown".into())
}

fn psql(url: &str, sql: &str) -> Result<String> {
    run(Command::new("psql").args([
        "-X",
        "-q",
        "-tA",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        url,
        "-c",
        sql,
    ]))
}

fn sqlite(file: &Path, sql: &str) -> Result<String> {
    run(Command::new("sqlite3").arg("-bail").arg(file).arg(sql))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A database the harness created; dropped (or deleted) when it goes.
struct Db {
    backend: Backend,
    url: String,
    file: Option<PathBuf>,
    pg_name: Option<String>,
    pg_admin: String,
}

impl Db {
    fn create(backend: Backend, args: &Args, dir: &Path, name: &str) -> Result<Db> {
        match backend {
            Backend::Sqlite => {
                let file = dir.join(format!("{name}.db"));
                for suffix in ["", "-wal", "-shm"] {
                    let _ = fs::remove_file(format!("{}{suffix}", file.display()));
                }
                Ok(Db {
                    backend,
                    url: file.display().to_string(),
                    file: Some(file),
                    pg_name: None,
                    pg_admin: args.pg_url.clone(),
                })
            }
            Backend::Postgres => {
                let db = format!("bench_{}_{name}", std::process::id()).replace('-', "_");
                psql(&args.pg_url, &format!("DROP DATABASE IF EXISTS {db}"))?;
                psql(&args.pg_url, &format!("CREATE DATABASE {db}"))?;
                if let Some(ms) = args.pg_log_min_duration_ms {
                    psql(
                        &args.pg_url,
                        &format!("ALTER DATABASE {db} SET log_min_duration_statement = {ms}"),
                    )?;
                }
                let base = args
                    .pg_url
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .ok_or_else(|| anyhow!("--pg-url has no database"))?;
                Ok(Db {
                    backend,
                    url: format!("{base}/{db}"),
                    file: None,
                    pg_name: Some(db),
                    pg_admin: args.pg_url.clone(),
                })
            }
        }
    }

    /// PostgreSQL: a new database made from `template` (which nobody may be using).
    fn create_from_template(args: &Args, name: &str, template: &Db) -> Result<Db> {
        let db = Db::create(Backend::Postgres, args, Path::new("."), name)?;
        let (Some(new), Some(from)) = (&db.pg_name, &template.pg_name) else {
            bail!("create_from_template is for PostgreSQL databases");
        };
        psql(&args.pg_url, &format!("DROP DATABASE {new}"))?;
        psql(
            &args.pg_url,
            &format!("CREATE DATABASE {new} TEMPLATE {from}"),
        )?;
        Ok(db)
    }

    /// Runs SQL, returns the rows as text (`|`-separated for SQLite and psql -tA).
    fn sql(&self, sql: &str) -> Result<String> {
        match self.backend {
            Backend::Sqlite => sqlite(self.file.as_ref().unwrap(), sql),
            Backend::Postgres => psql(&self.url, sql),
        }
    }

    fn scalar(&self, sql: &str) -> Result<String> {
        Ok(self.sql(sql)?.trim().to_string())
    }

    fn size_bytes(&self) -> Option<u64> {
        match self.backend {
            Backend::Sqlite => {
                let f = self.file.as_ref()?;
                let mut total = 0;
                for suffix in ["", "-wal"] {
                    total += fs::metadata(format!("{}{suffix}", f.display()))
                        .map(|m| m.len())
                        .unwrap_or(0);
                }
                Some(total)
            }
            Backend::Postgres => self
                .scalar("SELECT pg_database_size(current_database())")
                .ok()?
                .parse()
                .ok(),
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(f) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = fs::remove_file(format!("{}{suffix}", f.display()));
            }
        }
        if let Some(name) = &self.pg_name {
            if let Err(e) = psql(
                &self.pg_admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ) {
                log(format!("warning: could not drop {name}: {e}"));
            }
        }
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Blocking one-shot GET; returns the status code.
fn quick_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    s.set_nodelay(true).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    text.split(' ').nth(1)?.parse().ok()
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Clock ticks per second of /proc/<pid>/stat times.
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        run(Command::new("getconf").arg("CLK_TCK"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// (comm, user + system CPU seconds) of a process.
fn proc_cpu(stat_path: &str) -> Option<(String, f64)> {
    let stat = fs::read_to_string(stat_path).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_string();
    let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((comm, (utime + stime) / clock_ticks()))
}

/// CPU seconds used so far by the server, by every PostgreSQL process, and by this harness.
#[derive(Clone, Copy, Debug, Default)]
struct Cpu {
    server: f64,
    postgres: f64,
    bench: f64,
}

impl Cpu {
    fn now(server_pid: u32) -> Cpu {
        let mut postgres = 0.0;
        if let Ok(dir) = fs::read_dir("/proc") {
            for entry in dir.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if !name.bytes().all(|b| b.is_ascii_digit()) {
                    continue;
                }
                if let Some((comm, secs)) = proc_cpu(&format!("/proc/{name}/stat")) {
                    if comm == "postgres" {
                        postgres += secs;
                    }
                }
            }
        }
        Cpu {
            server: proc_cpu(&format!("/proc/{server_pid}/stat")).map_or(0.0, |c| c.1),
            postgres,
            bench: proc_cpu("/proc/self/stat").map_or(0.0, |c| c.1),
        }
    }

    fn since(self, before: Cpu) -> Cpu {
        Cpu {
            server: self.server - before.server,
            postgres: self.postgres - before.postgres,
            bench: self.bench - before.bench,
        }
    }

    fn text(self, wall: f64) -> String {
        format!(
            "server {:.1} s CPU ({:.0} % of one core), PostgreSQL processes {:.1} s, harness {:.1} s, over {wall:.1} s",
            self.server,
            100.0 * self.server / wall,
            self.postgres,
            self.bench
        )
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A running server.
struct Server {
    child: Option<Child>,
    pid: u32,
    addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    /// Starts the binary on `db_url` and waits for /readyz (polled every 5 ms);
    /// returns the server and the time from spawn to the first 200.
    fn start(bin: &Path, db_url: &str, log_path: &Path) -> Result<(Server, Duration)> {
        Self::start_with(bin, db_url, log_path, &[])
    }

    /// As [`Server::start`], with extra environment variables.
    fn start_with(
        bin: &Path,
        db_url: &str,
        log_path: &Path,
        env: &[(&str, &str)],
    ) -> Result<(Server, Duration)> {
        let port = free_port()?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let logf = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)?;
        let t0 = Instant::now();
        let child = Command::new(bin)
            .arg("serve")
            .env("DATABASE_URL", db_url)
            .env("BIND_ADDR", addr.to_string())
            .env("CHITIEU_SEED", "false")
            .env("RUST_LOG", "warn")
            .env("CHITIEU_MAX_IMPORT_BYTES", "4294967296")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(logf.try_clone()?)
            .stderr(logf)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let pid = child.id();
        let mut server = Server {
            child: Some(child),
            pid,
            addr,
            log: log_path.to_path_buf(),
        };
        loop {
            if quick_status(addr, "/readyz") == Some(200) {
                return Ok((server, t0.elapsed()));
            }
            if let Some(status) = server.child.as_mut().unwrap().try_wait()? {
                bail!(
                    "the server exited before it was ready ({status}); log:\n{}",
                    tail(&server.log, 30)
                );
            }
            if t0.elapsed() > Duration::from_secs(120) {
                bail!(
                    "the server was not ready after 120 s; log:\n{}",
                    tail(&server.log, 30)
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn hwm_kib(&self) -> Result<u64> {
        vm_hwm_kib(self.pid).ok_or_else(|| anyhow!("cannot read VmHWM of pid {}", self.pid))
    }

    /// SIGTERM, then wait (the server drains for up to 30 s); SIGKILL after 40 s.
    fn stop(mut self) -> Result<()> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let t0 = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                if !status.success() {
                    log(format!(
                        "note: the server exited with {status} after SIGTERM; log tail:\n{}",
                        tail(&self.log, 10)
                    ));
                }
                return Ok(());
            }
            if t0.elapsed() > Duration::from_secs(40) {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the server did not stop within 40 s of SIGTERM (killed)");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop_inner();
    }
}

fn create_token(bin: &Path, db_url: &str) -> Result<String> {
    let out = run(Command::new(bin)
        .args(["token", "create", "--name", "bench", "--role", "admin"])
        .env("DATABASE_URL", db_url)
        .env("CHITIEU_SEED", "false")
        .env("RUST_LOG", "warn"))?;
    let token = out.trim().to_string();
    if token.is_empty() || token.contains(char::is_whitespace) {
        bail!("unexpected output of token create: {out:?}");
    }
    Ok(token)
}

// ---------------------------------------------------------------------------
// The API as a client (reference data, import, sanity checks)
// ---------------------------------------------------------------------------

#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    fn new(addr: SocketAddr, token: String, timeout: Duration) -> Result<Api> {
        Ok(Api {
            client: reqwest::Client::builder().timeout(timeout).build()?,
            base: format!("http://{addr}"),
            token,
        })
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            bail!(
                "POST {path} answered {status}: {}",
                text.chars().take(1500).collect::<String>()
            );
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Result<Value> {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = resp.status();
        let text = resp.text().await?;
        if status.as_u16() != 200 {
            bail!(
                "GET {path} answered {status}: {}",
                text.chars().take(1500).collect::<String>()
            );
        }
        serde_json::from_str(&text).with_context(|| format!("GET {path}: not JSON"))
    }

    /// Downloads `path` as it streams in: the time, its lines and bytes.
    async fn download(&self, path: &str) -> Result<(Duration, usize, usize)> {
        let t0 = Instant::now();
        let mut resp = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        if resp.status().as_u16() != 200 {
            bail!("GET {path} answered {}", resp.status());
        }
        let (mut lines, mut bytes) = (0, 0);
        while let Some(chunk) = resp.chunk().await? {
            lines += chunk.iter().filter(|b| **b == b'\n').count();
            bytes += chunk.len();
        }
        Ok((t0.elapsed(), lines, bytes))
    }

    async fn import(&self, body: Vec<u8>) -> Result<(Duration, Value)> {
        let t0 = Instant::now();
        let resp = self
            .client
            .post(format!("{}/api/v1/imports?reason=bench", self.base))
            .bearer_auth(&self.token)
            .header("Content-Type", "text/csv")
            .body(body)
            .send()
            .await
            .context("POST /api/v1/imports")?;
        let status = resp.status();
        let text = resp.text().await?;
        let took = t0.elapsed();
        if status.as_u16() != 200 {
            bail!(
                "POST /api/v1/imports answered {status} after {:.1} s: {}",
                took.as_secs_f64(),
                text.chars().take(3000).collect::<String>()
            );
        }
        Ok((took, serde_json::from_str(&text)?))
    }
}

async fn in_parallel(api: &Api, path: &str, bodies: Vec<Value>, width: usize) -> Result<()> {
    use futures_util::stream::{self, StreamExt};
    let results: Vec<Result<Value>> = stream::iter(bodies)
        .map(|b| {
            let api = api.clone();
            let path = path.to_string();
            async move { api.post(&path, b).await }
        })
        .buffer_unordered(width)
        .collect()
        .await;
    for r in results {
        r?;
    }
    Ok(())
}

/// Indicators, committees, groups and targets, through the API with an admin token.
async fn create_reference_data(api: &Api, data: &Dataset) -> Result<()> {
    for ind in &data.inds {
        let mut body = json!({
            "code": ind.code, "name_vi": ind.vi, "name_en": ind.en,
            "unit": ind.unit, "scale": ind.scale,
            "measure_kind": ind.kind.as_str(), "direction": ind.direction,
        });
        if let Some((n, d)) = ind.ratio {
            body["numerator"] = json!(n);
            body["denominator"] = json!(d);
        }
        api.post("/api/v1/indicators", body).await?;
    }
    let committees: Vec<Value> = data
        .committees
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let n = &code[1..];
            let zone = i % 10 == 9;
            json!({
                "code": code,
                "name_vi": if zone { format!("Đảng ủy Khu kinh tế số {n}") } else { format!("Đảng ủy Khối Doanh nghiệp số {n}") },
                "name_en": if zone { format!("Economic Zone Party Committee no. {n}") } else { format!("Business Bloc Party Committee no. {n}") },
                "kind": if zone { "economic_zone" } else { "business_bloc" },
            })
        })
        .collect();
    in_parallel(api, "/api/v1/committees", committees, 4).await?;
    for g in &data.groups {
        api.post(
            "/api/v1/groups",
            json!({"code": g.code, "name_vi": g.vi, "name_en": g.en, "members": g.members}),
        )
        .await?;
    }
    let targets: Vec<Value> = data
        .targets
        .iter()
        .map(|(c, i, p, v)| {
            json!({"committee": c, "indicator": i, "period": p, "value": v,
                   "assigned_by": "Tỉnh ủy (Provincial Party Committee)"})
        })
        .collect();
    in_parallel(api, "/api/v1/targets", targets, 4).await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// The load generator: K keep-alive connections on one current-thread runtime
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Clone)]
struct LoadResult {
    /// Responses completed inside the measured window.
    requests: u64,
    /// Of those, not 200.
    non_200: u64,
    /// Connection errors, timeouts, malformed responses (whole run).
    io_errors: u64,
    statuses: BTreeMap<u16, u64>,
    first_error: Option<String>,
    secs: f64,
    /// Latency of every 200 response in the window, sorted, microseconds
    /// (open loop: from the scheduled send time).
    latencies_us: Vec<u32>,
    /// Answers the server marked `x-chitieu-cache: hit` / `miss`.
    cache_hits: u64,
    cache_misses: u64,
}

impl LoadResult {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.secs
    }
    fn pct_ms(&self, p: f64) -> f64 {
        percentile(&self.latencies_us, p) as f64 / 1000.0
    }
    fn errors(&self) -> u64 {
        self.non_200 + self.io_errors
    }
    /// Share of answers served from the answer cache, when the server says.
    fn hit_rate(&self) -> Option<f64> {
        let all = self.cache_hits + self.cache_misses;
        (all > 0).then(|| self.cache_hits as f64 / all as f64)
    }
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

struct Response {
    status: u16,
    close: bool,
    body: Vec<u8>,
    /// `x-chitieu-cache`: hit (true) or miss (false), if the header is there.
    cache: Option<bool>,
}

async fn fill(
    s: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
    scratch: &mut [u8],
) -> std::io::Result<()> {
    use tokio::io::AsyncReadExt;
    let n = s.read(scratch).await?;
    if n == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed by the server",
        ));
    }
    buf.extend_from_slice(&scratch[..n]);
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads one HTTP/1.1 response (Content-Length or chunked). Keeps the body
/// only when it is not a 200, to report it.
async fn read_response(
    s: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
    scratch: &mut [u8],
) -> std::io::Result<Response> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let mut searched = 0;
    let head_end = loop {
        if let Some(i) = find(&buf[searched..], b"\r\n\r\n") {
            break searched + i + 4;
        }
        searched = buf.len().saturating_sub(3);
        fill(s, buf, scratch).await?;
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| bad("non-UTF-8 head"))?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let (mut length, mut chunked, mut close) = (None::<usize>, false, false);
    let mut cache = None;
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                length = v.parse().ok();
            } else if k.eq_ignore_ascii_case("transfer-encoding") {
                chunked = v.to_ascii_lowercase().contains("chunked");
            } else if k.eq_ignore_ascii_case("connection") {
                close = v.eq_ignore_ascii_case("close");
            } else if k.eq_ignore_ascii_case("x-chitieu-cache") {
                cache = Some(v.eq_ignore_ascii_case("hit"));
            }
        }
    }
    let keep = status != 200;
    let mut body = Vec::new();
    if chunked {
        let mut pos = head_end;
        loop {
            let line_end = loop {
                if let Some(i) = find(&buf[pos..], b"\r\n") {
                    break pos + i;
                }
                fill(s, buf, scratch).await?;
            };
            let size_text =
                std::str::from_utf8(&buf[pos..line_end]).map_err(|_| bad("chunk size"))?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
                .map_err(|_| bad("chunk size"))?;
            pos = line_end + 2;
            while buf.len() < pos + size + 2 {
                fill(s, buf, scratch).await?;
            }
            if keep {
                body.extend_from_slice(&buf[pos..pos + size]);
            }
            pos += size + 2;
            if size == 0 {
                break;
            }
        }
        buf.drain(..pos);
    } else {
        let len = length.unwrap_or(0);
        while buf.len() < head_end + len {
            fill(s, buf, scratch).await?;
        }
        if keep {
            body.extend_from_slice(&buf[head_end..head_end + len]);
        }
        buf.drain(..head_end + len);
    }
    Ok(Response {
        status,
        close,
        body,
        cache,
    })
}

/// How a load draws its keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Spread {
    /// Every key equally likely.
    Uniform,
    /// Zipf with exponent [`ZIPF_S`] over ranks, the ranks shuffled over the
    /// keys so that the hot keys are spread over committees and periods.
    Zipf,
}

/// The Zipf exponent, the same in pgbench's `random_zipfian` (which needs s > 1).
const ZIPF_S: f64 = 1.1;

impl Spread {
    fn name(self) -> &'static str {
        match self {
            Spread::Uniform => "uniform",
            Spread::Zipf => "Zipf s=1.1",
        }
    }
}

/// A family of requests, numbered `0..count`, with the path of each.
struct Keys {
    what: String,
    count: usize,
    path: Box<dyn Fn(usize) -> String + Send + Sync>,
    zipf: std::sync::OnceLock<Arc<Zipf>>,
}

/// The cumulative Zipf distribution over ranks and the rank → key shuffle.
struct Zipf {
    cdf: Vec<f64>,
    key_of_rank: Vec<u32>,
}

impl Keys {
    fn new(
        what: impl Into<String>,
        count: usize,
        path: impl Fn(usize) -> String + Send + Sync + 'static,
    ) -> Arc<Self> {
        assert!(count > 0 && count < u32::MAX as usize);
        Arc::new(Keys {
            what: what.into(),
            count,
            path: Box::new(path),
            zipf: std::sync::OnceLock::new(),
        })
    }

    fn zipf(&self) -> Arc<Zipf> {
        self.zipf
            .get_or_init(|| {
                let mut cdf = Vec::with_capacity(self.count);
                let mut sum = 0.0;
                for rank in 1..=self.count {
                    sum += (rank as f64).powf(-ZIPF_S);
                    cdf.push(sum);
                }
                for c in &mut cdf {
                    *c /= sum;
                }
                let mut key_of_rank: Vec<u32> = (0..self.count as u32).collect();
                let mut r = Rng::new(0x21FF);
                for i in (1..key_of_rank.len()).rev() {
                    let j = (r.next_u64() % (i as u64 + 1)) as usize;
                    key_of_rank.swap(i, j);
                }
                Arc::new(Zipf { cdf, key_of_rank })
            })
            .clone()
    }
}

/// Draws key numbers for one connection.
struct Sampler {
    count: usize,
    zipf: Option<Arc<Zipf>>,
    rng: Rng,
}

impl Sampler {
    fn draw(&mut self) -> usize {
        match &self.zipf {
            None => (self.rng.next_u64() % self.count as u64) as usize,
            Some(z) => {
                let u = self.rng.unit();
                let rank = z.cdf.partition_point(|c| *c < u).min(self.count - 1);
                z.key_of_rank[rank] as usize
            }
        }
    }
}

/// One HTTP load: which requests, how they are spread, how many connections,
/// and whether requests arrive at a fixed rate (open loop) or as fast as the
/// answers come back (closed loop).
#[derive(Clone)]
struct LoadSpec {
    keys: Arc<Keys>,
    spread: Spread,
    conns: usize,
    /// Open loop: requests per second in all, spread evenly over the
    /// connections (each connection sends on its own fixed schedule, as wrk2
    /// does); latency counts from the scheduled send time, so a slow answer
    /// delays the measurement of the requests queued behind it
    /// (no coordinated omission).
    rate: Option<f64>,
}

impl LoadSpec {
    fn closed(keys: &Arc<Keys>, spread: Spread, conns: usize) -> Self {
        LoadSpec {
            keys: keys.clone(),
            spread,
            conns,
            rate: None,
        }
    }
    fn open(keys: &Arc<Keys>, spread: Spread, conns: usize, rate: f64) -> Self {
        LoadSpec {
            rate: Some(rate),
            ..LoadSpec::closed(keys, spread, conns)
        }
    }
    fn label(&self) -> String {
        match self.rate {
            None => format!(
                "{} ({} keys, {}), closed loop ×{}",
                self.keys.what,
                self.keys.count,
                self.spread.name(),
                self.conns
            ),
            Some(r) => format!(
                "{} ({} keys, {}), open loop {r:.0} req/s over {} connections",
                self.keys.what,
                self.keys.count,
                self.spread.name(),
                self.conns
            ),
        }
    }
}

struct ConnStats {
    latencies: Vec<u32>,
    statuses: BTreeMap<u16, u64>,
    io_errors: u64,
    first_error: Option<String>,
    cache_hits: u64,
    cache_misses: u64,
    sent: u64,
}

#[allow(clippy::too_many_arguments)]
async fn connection(
    addr: SocketAddr,
    keys: Arc<Keys>,
    mut sampler: Sampler,
    schedule: Option<(Duration, Duration)>,
    start: tokio::time::Instant,
    record_from: tokio::time::Instant,
    end: tokio::time::Instant,
) -> ConnStats {
    use tokio::io::AsyncWriteExt;
    let hard_end = end + Duration::from_secs(10);
    let mut st = ConnStats {
        latencies: Vec::with_capacity(1 << 14),
        statuses: BTreeMap::new(),
        io_errors: 0,
        first_error: None,
        cache_hits: 0,
        cache_misses: 0,
        sent: 0,
    };
    let mut buf = Vec::with_capacity(1 << 16);
    let mut scratch = vec![0u8; 1 << 16];
    let mut request = Vec::with_capacity(512);
    let mut stream: Option<tokio::net::TcpStream> = None;
    let mut n: u32 = 0;
    loop {
        // When this request is due: now (closed loop) or on the schedule.
        let due = match schedule {
            None => tokio::time::Instant::now(),
            Some((offset, every)) => start + offset + every * n,
        };
        n += 1;
        if due >= end {
            break;
        }
        if schedule.is_some() {
            tokio::time::sleep_until(due).await;
        }
        if stream.is_none() {
            match tokio::time::timeout_at(hard_end, tokio::net::TcpStream::connect(addr)).await {
                Ok(Ok(s)) => {
                    let _ = s.set_nodelay(true);
                    buf.clear();
                    stream = Some(s);
                }
                Ok(Err(e)) => {
                    st.io_errors += 1;
                    st.first_error
                        .get_or_insert_with(|| format!("connect: {e}"));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                Err(_) => {
                    st.io_errors += 1;
                    break;
                }
            }
        }
        let key = sampler.draw();
        request.clear();
        let _ = write!(
            request,
            "GET {} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n\r\n",
            (keys.path)(key)
        );
        let s = stream.as_mut().unwrap();
        st.sent += 1;
        let outcome = tokio::time::timeout_at(hard_end, async {
            s.write_all(&request).await?;
            read_response(s, &mut buf, &mut scratch).await
        })
        .await;
        let done = tokio::time::Instant::now();
        match outcome {
            Ok(Ok(resp)) => {
                if due >= record_from && done <= end + Duration::from_secs(5) {
                    *st.statuses.entry(resp.status).or_default() += 1;
                    match resp.cache {
                        Some(true) => st.cache_hits += 1,
                        Some(false) => st.cache_misses += 1,
                        None => {}
                    }
                    if resp.status == 200 {
                        st.latencies
                            .push(u32::try_from((done - due).as_micros()).unwrap_or(u32::MAX));
                    }
                }
                if resp.status != 200 && st.first_error.is_none() {
                    st.first_error = Some(format!(
                        "HTTP {} for {}: {}",
                        resp.status,
                        (keys.path)(key),
                        String::from_utf8_lossy(&resp.body)
                            .chars()
                            .take(600)
                            .collect::<String>()
                    ));
                }
                if resp.close {
                    stream = None;
                }
            }
            Ok(Err(e)) => {
                st.io_errors += 1;
                st.first_error.get_or_insert_with(|| format!("I/O: {e}"));
                stream = None;
            }
            Err(_) => {
                st.io_errors += 1;
                st.first_error
                    .get_or_insert_with(|| "timed out 10 s after the end of the run".into());
                break;
            }
        }
    }
    st
}

/// Runs one load for `warmup` (unrecorded) + `secs` on one client thread.
fn load(addr: SocketAddr, spec: &LoadSpec, warmup: Duration, secs: Duration) -> Result<LoadResult> {
    let spec = spec.clone();
    let zipf = (spec.spread == Spread::Zipf).then(|| spec.keys.zipf());
    let handle = std::thread::spawn(move || -> Result<LoadResult> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let start = tokio::time::Instant::now();
            let record_from = start + warmup;
            let end = record_from + secs;
            let conns = spec.conns.max(1);
            let tasks: Vec<_> = (0..conns)
                .map(|j| {
                    // Open loop: connection j sends at j/rate, (j+K)/rate, …
                    let schedule = spec.rate.map(|rate| {
                        (
                            Duration::from_secs_f64(j as f64 / rate),
                            Duration::from_secs_f64(conns as f64 / rate),
                        )
                    });
                    let sampler = Sampler {
                        count: spec.keys.count,
                        zipf: zipf.clone(),
                        rng: Rng::new(0xB0_0000 + j as u64),
                    };
                    tokio::spawn(connection(
                        addr,
                        spec.keys.clone(),
                        sampler,
                        schedule,
                        start,
                        record_from,
                        end,
                    ))
                })
                .collect();
            let mut result = LoadResult {
                secs: secs.as_secs_f64(),
                ..LoadResult::default()
            };
            for t in tasks {
                let st = t.await?;
                result.latencies_us.extend(st.latencies);
                for (k, v) in st.statuses {
                    *result.statuses.entry(k).or_default() += v;
                }
                result.io_errors += st.io_errors;
                result.cache_hits += st.cache_hits;
                result.cache_misses += st.cache_misses;
                if result.first_error.is_none() {
                    result.first_error = st.first_error;
                }
            }
            result.requests = result.statuses.values().sum();
            result.non_200 = result.requests - result.statuses.get(&200).copied().unwrap_or(0);
            result.latencies_us.sort_unstable();
            Ok(result)
        })
    });
    handle
        .join()
        .map_err(|_| anyhow!("the load generator panicked"))?
}

// ---------------------------------------------------------------------------
// Measures and the report
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Fmt {
    Rate,
    Ms,
    MiB,
    Secs,
}

fn fmt_num(v: f64, f: Fmt) -> String {
    match f {
        Fmt::Rate => {
            let n = v.round() as i64;
            let s = n.to_string();
            let mut out = String::new();
            for (i, ch) in s.chars().enumerate() {
                if i > 0 && (s.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(ch);
            }
            out
        }
        Fmt::Ms => format!("{v:.2} ms"),
        Fmt::MiB => format!("{v:.1} MiB"),
        Fmt::Secs => format!("{v:.3} s"),
    }
}

#[derive(Clone, Debug)]
enum Target {
    Info,
    /// median / baseline median ≥ x
    RatioAtLeast(f64),
    /// median < x
    Below(f64),
    /// max of the runs ≤ x (a cap)
    MaxAtMost(f64),
}

#[derive(Clone, Debug)]
struct Measure {
    name: String,
    fmt: Fmt,
    samples: Vec<f64>,
    baseline: Option<(String, Vec<f64>)>,
    target: Target,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if s.is_empty() {
        return f64::NAN;
    }
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        })
}

impl Measure {
    fn new(name: impl Into<String>, fmt: Fmt, samples: Vec<f64>, target: Target) -> Measure {
        Measure {
            name: name.into(),
            fmt,
            samples,
            baseline: None,
            target,
        }
    }
    fn against(mut self, label: impl Into<String>, samples: Vec<f64>) -> Measure {
        self.baseline = Some((label.into(), samples));
        self
    }
    fn ratio(&self) -> Option<f64> {
        let (_, b) = self.baseline.as_ref()?;
        Some(median(&self.samples) / median(b))
    }
    /// None: nothing to judge.
    fn met(&self) -> Option<bool> {
        if self.samples.is_empty() {
            return Some(false);
        }
        match self.target {
            Target::Info => None,
            Target::RatioAtLeast(x) => self.ratio().map(|r| r >= x),
            Target::Below(x) => Some(median(&self.samples) < x),
            Target::MaxAtMost(x) => Some(min_max(&self.samples).1 <= x),
        }
    }
    fn target_text(&self) -> String {
        match self.target {
            Target::Info => "—".into(),
            Target::RatioAtLeast(x) => format!("ratio ≥ {x}"),
            Target::Below(x) => format!("median < {}", fmt_num(x, self.fmt)),
            Target::MaxAtMost(x) => format!("max ≤ {}", fmt_num(x, self.fmt)),
        }
    }
    fn row(&self) -> String {
        let spread = |v: &[f64]| {
            if v.is_empty() {
                return "—".to_string();
            }
            let (lo, hi) = min_max(v);
            format!(
                "{} – {} (n={})",
                fmt_num(lo, self.fmt),
                fmt_num(hi, self.fmt),
                v.len()
            )
        };
        let med = if self.samples.is_empty() {
            "not measured".into()
        } else {
            fmt_num(median(&self.samples), self.fmt)
        };
        let (bl, bm) = match &self.baseline {
            Some((label, b)) => (
                label.clone(),
                format!("{} ({})", fmt_num(median(b), self.fmt), spread(b)),
            ),
            None => ("—".into(), "—".into()),
        };
        let ratio = self
            .ratio()
            .map(|r| format!("{r:.2}"))
            .unwrap_or_else(|| "—".into());
        let met = match self.met() {
            None => "—",
            Some(true) => "✅",
            Some(false) => "❌",
        };
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            self.name,
            med,
            spread(&self.samples),
            bl,
            bm,
            ratio,
            self.target_text(),
            met
        )
    }
}

#[derive(Default)]
struct Report {
    backend: String,
    measures: Vec<Measure>,
    notes: Vec<String>,
    errors: Vec<String>,
    loads: Vec<(String, usize, LoadResult, Cpu, f64)>,
}

impl Report {
    fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "### {}\n", self.backend);
        let _ = writeln!(
            s,
            "| measure | median | spread (min – max, runs) | baseline | baseline median (spread) | ratio | target | met |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
        for m in &self.measures {
            let _ = writeln!(s, "{}", m.row());
        }
        if !self.errors.is_empty() {
            let _ = writeln!(
                s,
                "\n**Errors ({}): the figures above are incomplete or invalid.**\n",
                self.errors.len()
            );
            for e in &self.errors {
                let _ = writeln!(s, "- {}", e.replace('\n', "\n  "));
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(s, "\nNotes:\n");
            for n in &self.notes {
                let _ = writeln!(s, "- {n}");
            }
        }
        if !self.loads.is_empty() {
            let _ = writeln!(s, "\n<details><summary>Every HTTP load run</summary>\n");
            let _ = writeln!(s, "CPU seconds are those used during the whole load (warm-up included) by the server process, all PostgreSQL processes and the harness (load generator); 2 cores give at most 2 CPU-seconds per second. VmHWM is a high-water mark: the column shows the peak so far, so a jump points at the load that caused it.\n");
            let _ = writeln!(s, "| URL | connections | requests | req/s | p50 | p90 | p99 | max | non-200 | I/O errors | CPU s: server / PostgreSQL / harness | server VmHWM after |");
            let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|---|");
            for (url, c, r, cpu, hwm) in &self.loads {
                let _ = writeln!(
                    s,
                    "| `{url}` | {c} | {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {} | {} | {:.1} / {:.1} / {:.1} | {hwm:.1} MiB |",
                    r.requests,
                    fmt_num(r.rps(), Fmt::Rate),
                    r.pct_ms(50.0),
                    r.pct_ms(90.0),
                    r.pct_ms(99.0),
                    r.pct_ms(100.0),
                    r.non_200,
                    r.io_errors,
                    cpu.server,
                    cpu.postgres,
                    cpu.bench
                );
            }
            let _ = writeln!(s, "\n</details>");
        }
        s
    }
}

// ---------------------------------------------------------------------------
// One backend
// ---------------------------------------------------------------------------

struct Ctx {
    args: Args,
    bin: PathBuf,
    work: PathBuf,
    csv_body: Vec<u8>,
    data: Dataset,
    rt: tokio::runtime::Runtime,
}

const BASELINE_COLUMNS: &str = "committee_id, indicator_id, period_code, frequency, period_start, period_end, breakdown, value, status, qualifier, revision, created_at, updated_at";

fn run_backend(ctx: &Ctx, backend: Backend, report: &mut Report) -> Result<()> {
    let args = &ctx.args;
    let n = ctx.data.rows as f64;
    let import_runs = args.import_runs.unwrap_or(args.runs).max(1);
    let runs = args.runs.max(1);
    let tag = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "pg",
    };
    let timeout = Duration::from_secs(args.import_timeout_secs);

    // 1. Import through the API, each run on a fresh database.
    let mut rates = Vec::new();
    let mut secs = Vec::new();
    let mut hwm_import = Vec::new();
    let mut import_cpu = Vec::new();
    let mut kept: Option<Db> = None;
    let profile_import = args.profile.iter().any(|p| p == "import" || p == "all");
    for run_no in 1..=import_runs + usize::from(profile_import) {
        // The run after the measured ones, if any, is the profiled one.
        let profiled = run_no > import_runs;
        let db = Db::create(backend, args, &ctx.work, &format!("{tag}-run{run_no}"))?;
        let logp = ctx.work.join(format!("server-{tag}-import{run_no}.log"));
        let (server, _) = Server::start(&ctx.bin, &db.url, &logp)?;
        let token = create_token(&ctx.bin, &db.url)?;
        let api = Api::new(server.addr, token, timeout)?;
        let t = Instant::now();
        ctx.rt.block_on(create_reference_data(&api, &ctx.data))?;
        log(format!(
            "{}: reference data ({} committees, {} indicators, {} groups, {} targets) in {:.1} s",
            backend.name(),
            ctx.data.committees.len(),
            ctx.data.inds.len(),
            ctx.data.groups.len(),
            ctx.data.targets.len(),
            t.elapsed().as_secs_f64()
        ));
        let hwm_before = server.hwm_kib()?;
        log(format!(
            "{}: import run {run_no}/{import_runs}: POST {} rows …",
            backend.name(),
            ctx.data.rows
        ));
        let perf = profiled.then(|| Perf::record(server.pid, 99)).transpose()?;
        let cpu0 = Cpu::now(server.pid);
        let (took, summary) = ctx.rt.block_on(api.import(ctx.csv_body.clone()))?;
        let cpu = Cpu::now(server.pid).since(cpu0);
        let hwm = server.hwm_kib()?;
        let created = summary["created"].as_i64().unwrap_or(-1);
        let rejected = summary["rejected"].as_i64().unwrap_or(-1);
        if created != ctx.data.rows as i64 || rejected != 0 || summary["committed"] != json!(true) {
            bail!("import run {run_no}: unexpected summary {summary}");
        }
        let rate = n / took.as_secs_f64();
        if let Some(perf) = perf {
            let path = perf.report(
                &profile_path(backend, &ctx.data, "import"),
                &format!(
                    "the import of {} rows through the API, one more run on a fresh database after the measured ones\n\
                     # Recorded by `bench/run.sh --profile import`: perf record -F 99 --call-graph dwarf,8192 -p <server pid> for the POST\n\
                     # The import meanwhile: {:.1} s, {rate:.0} rows/s; {}.",
                    ctx.data.rows,
                    took.as_secs_f64(),
                    cpu.text(took.as_secs_f64())
                ),
            )?;
            log(format!(
                "{}: profile of the import written to {}",
                backend.name(),
                path.display()
            ));
            server.stop()?;
            continue;
        }
        log(format!(
            "{}: import run {run_no}: {:.1} s, {:.0} rows/s, VmHWM {:.1} MiB (before the import {:.1} MiB)",
            backend.name(),
            took.as_secs_f64(),
            rate,
            hwm as f64 / 1024.0,
            hwm_before as f64 / 1024.0
        ));
        log(format!(
            "{}: import run {run_no}: {}",
            backend.name(),
            cpu.text(took.as_secs_f64())
        ));
        import_cpu.push(cpu.text(took.as_secs_f64()));
        rates.push(rate);
        secs.push(took.as_secs_f64());
        hwm_import.push(hwm as f64 / 1024.0);
        server.stop()?;
        if run_no == import_runs {
            kept = Some(db);
        }
    }
    let db = kept.unwrap();
    for (i, c) in import_cpu.iter().enumerate() {
        report.notes.push(format!("Import run {}: {c}.", i + 1));
    }
    let obs = db.scalar("SELECT count(*) FROM observations")?;
    let revs = db.scalar("SELECT count(*) FROM observation_revisions")?;
    report.notes.push(format!(
        "After the import: {obs} observations and {revs} observation revisions stored; database size {:.0} MiB.",
        db.size_bytes().unwrap_or(0) as f64 / 1048576.0
    ));
    if obs != ctx.data.rows.to_string() || revs != ctx.data.rows.to_string() {
        report.errors.push(format!(
            "expected {} observations and as many revisions, found {obs} and {revs}",
            ctx.data.rows
        ));
    }

    // 2. Baselines: the same rows, exported with the ids and columns the API
    //    stored, loaded by the database's own bulk loader.
    let baseline_csv = ctx.work.join(format!("baseline-{tag}.csv"));
    let export_sql = format!("SELECT {BASELINE_COLUMNS} FROM observations ORDER BY id");
    match backend {
        Backend::Postgres => {
            psql(
                &db.url,
                &format!(
                    "\\copy ({export_sql}) TO '{}' WITH (FORMAT csv, HEADER true)",
                    baseline_csv.display()
                ),
            )?;
        }
        Backend::Sqlite => {
            let out = fs::File::create(&baseline_csv)?;
            let status = Command::new("sqlite3")
                .args(["-bail", "-csv", "-header"])
                .arg(db.file.as_ref().unwrap())
                .arg(&export_sql)
                .stdin(Stdio::null())
                .stdout(out)
                .status()?;
            if !status.success() {
                bail!("sqlite3 export of the baseline CSV failed: {status}");
            }
        }
    }
    // Each baseline run loads into the real `observations` table of a database
    // with the same reference data (same ids) as the one the API filled, and
    // with no observation or revision: indexes, the unique key and the foreign
    // keys all apply, as they do for the API.
    let mut base_rates = Vec::new();
    let baseline_label;
    match backend {
        Backend::Postgres => {
            baseline_label =
                "psql `\\copy` into `observations` (same indexes, key and foreign keys)"
                    .to_string();
            // A copy of the API's database (the server is stopped, so it can be a
            // template), emptied of observations and revisions before each run.
            let copy = Db::create_from_template(args, "copy", &db)?;
            for r in 1..=import_runs {
                copy.sql("TRUNCATE observation_revisions, observations RESTART IDENTITY")?;
                let cmd = format!(
                    "\\copy observations ({BASELINE_COLUMNS}) FROM '{}' WITH (FORMAT csv, HEADER true)",
                    baseline_csv.display()
                );
                let t = Instant::now();
                psql(&copy.url, &cmd)?;
                let took = t.elapsed().as_secs_f64();
                let count = copy.scalar("SELECT count(*) FROM observations")?;
                if count != ctx.data.rows.to_string() {
                    bail!("\\copy loaded {count} rows, expected {}", ctx.data.rows);
                }
                log(format!(
                    "PostgreSQL: \\copy run {r}: {took:.2} s, {:.0} rows/s",
                    n / took
                ));
                base_rates.push(n / took);
            }
        }
        Backend::Sqlite => {
            baseline_label =
                "`sqlite3`: `.import` into a plain table, then one `INSERT … SELECT` into `observations` (same indexes, key and foreign keys), one transaction"
                    .to_string();
            // A freshly migrated file with the API database's reference data,
            // copied once; each run loads a fresh copy of it.
            let template = Db::create(backend, args, &ctx.work, "copy-template")?;
            run(Command::new(&ctx.bin)
                .arg("migrate")
                .env("DATABASE_URL", &template.url)
                .env("RUST_LOG", "warn"))?;
            let tables = db.sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name NOT IN ('observations', 'observation_revisions', '__diesel_schema_migrations') \
                 ORDER BY name",
            )?;
            let mut copy_sql = format!(
                "ATTACH '{}' AS api; BEGIN;",
                db.file.as_ref().unwrap().display()
            );
            for table in tables.lines().map(str::trim).filter(|t| !t.is_empty()) {
                let _ = write!(
                    copy_sql,
                    " INSERT INTO main.\"{table}\" SELECT * FROM api.\"{table}\";"
                );
            }
            copy_sql.push_str(" COMMIT;");
            template.sql(&copy_sql)?;
            template.sql("PRAGMA wal_checkpoint(TRUNCATE)")?;
            for r in 1..=import_runs {
                let copy = Db::create(backend, args, &ctx.work, &format!("copy{r}"))?;
                fs::copy(template.file.as_ref().unwrap(), copy.file.as_ref().unwrap())?;
                // The fastest way the sqlite3 shell loads these rows: `.import`
                // into a plain table of the 13 columns (no trigger, no index),
                // then one `INSERT … SELECT` into `observations`, whose other
                // columns get NULL as they do through the API; one transaction,
                // the server's own pragmas (src/db/connection.rs).
                let script = format!(
                    ".bail on\n\
                     PRAGMA foreign_keys = ON;\n\
                     PRAGMA synchronous = NORMAL;\n\
                     BEGIN;\n\
                     CREATE TEMP TABLE bench_load ({BASELINE_COLUMNS});\n\
                     .import --csv --skip 1 '{}' bench_load\n\
                     INSERT INTO observations ({BASELINE_COLUMNS}) SELECT {BASELINE_COLUMNS} FROM bench_load;\n\
                     COMMIT;\n",
                    baseline_csv.display()
                );
                let t = Instant::now();
                let mut child = Command::new("sqlite3")
                    .arg(copy.file.as_ref().unwrap())
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()?;
                child.stdin.take().unwrap().write_all(script.as_bytes())?;
                let out = child.wait_with_output()?;
                let took = t.elapsed().as_secs_f64();
                if !out.status.success() || !out.stderr.is_empty() {
                    bail!(
                        "sqlite3 .import failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                let count = copy.scalar("SELECT count(*) FROM observations")?;
                if count != ctx.data.rows.to_string() {
                    bail!(".import loaded {count} rows, expected {}", ctx.data.rows);
                }
                log(format!(
                    "SQLite: .import run {r}: {took:.2} s, {:.0} rows/s",
                    n / took
                ));
                base_rates.push(n / took);
            }
        }
    }
    let _ = fs::remove_file(&baseline_csv);
    report.measures.push(
        Measure::new(
            format!("import {} rows through the API (rows/s)", ctx.data.rows),
            Fmt::Rate,
            rates,
            Target::RatioAtLeast(0.5),
        )
        .against(baseline_label, base_rates),
    );
    report.measures.push(Measure::new(
        "import: wall time of the POST",
        Fmt::Secs,
        secs,
        Target::Info,
    ));
    if args.only == Some(Only::Import) {
        report.measures.push(Measure::new(
            "peak memory (VmHWM) importing",
            Fmt::MiB,
            hwm_import,
            Target::MaxAtMost(256.0),
        ));
        return Ok(());
    }

    // 3. Start to ready on the full database; the last server stays up.
    let mut ready = Vec::new();
    let mut server = None;
    for r in 1..=runs {
        if let Some(s) = server.take() {
            Server::stop(s)?;
        }
        let logp = ctx.work.join(format!("server-{tag}-serve{r}.log"));
        let (s, took) = Server::start_with(
            &ctx.bin,
            &db.url,
            &logp,
            &[("CHITIEU_ANSWER_CACHE_MIB", "0")],
        )?;
        log(format!(
            "{}: start to ready {r}: {:.0} ms",
            backend.name(),
            took.as_secs_f64() * 1000.0
        ));
        ready.push(took.as_secs_f64());
        server = Some(s);
    }
    let server = server.unwrap();
    let hwm_idle = server.hwm_kib()? as f64 / 1024.0;

    // 4. Sanity checks of the URLs under load: 200s with the expected content.
    let c1 = committee_code(1);
    let yoy = format!("/api/v1/comparisons/yoy?committee={c1}&indicator=revenue&period=2024-Q4");
    let dash = format!("/api/v1/committees/{c1}/dashboard?period=2024");
    let total = format!("/api/v1/series?group={ALL_GROUP}&indicator=revenue&from=2024&to=2024");
    let api = Api::new(server.addr, String::new(), Duration::from_secs(60))?;
    let v = ctx.rt.block_on(api.get(&yoy))?;
    let item = &v["items"][0];
    let (cur, prev) = &ctx.data.c001_revenue_q4;
    let got_cur = item["current"]["value"].as_str().unwrap_or("");
    let got_prev = item["previous"]["value"].as_str().unwrap_or("");
    let same = |a: &str, b: &str| a.parse::<f64>().ok() == b.parse::<f64>().ok() && !a.is_empty();
    if !same(got_cur, cur) || !same(got_prev, prev) {
        report.errors.push(format!(
            "YoY sanity check: expected current {cur} and previous {prev}, got {got_cur:?} and {got_prev:?}"
        ));
    }
    report.notes.push(format!(
        "YoY URL `{yoy}` answers current {got_cur}, previous {got_prev}, change {} %.",
        item["percent_change"].as_str().unwrap_or("?")
    ));
    let v = ctx.rt.block_on(api.get(&dash))?;
    let items = v["items"].as_array().map(|a| a.len()).unwrap_or(0);
    let with_target = v["items"]
        .as_array()
        .map(|a| a.iter().filter(|i| !i["progress"].is_null()).count())
        .unwrap_or(0);
    report.notes.push(format!(
        "Dashboard URL `{dash}` lists {items} indicators, {with_target} with target progress."
    ));
    if items != INDICATORS {
        report.errors.push(format!(
            "dashboard sanity check: {items} indicators, expected {INDICATORS}"
        ));
    }
    let v = ctx.rt.block_on(api.get(&total))?;
    let point = v["points"].get(0).cloned().unwrap_or(Value::Null);
    report.notes.push(format!(
        "Group-total URL `{total}` answers: {}",
        point.to_string().chars().take(400).collect::<String>()
    ));
    let got_total = point["value"].as_str().unwrap_or("");
    let reported = point["members_reported"].as_u64().unwrap_or(0) as usize;
    if !same(got_total, &ctx.data.revenue_2024_total) || reported != ctx.data.committees.len() {
        report.errors.push(format!(
            "group-total sanity check: expected {} from {} members, got {got_total:?} from {reported}",
            ctx.data.revenue_2024_total,
            ctx.data.committees.len()
        ));
    }

    // 5. HTTP loads over keys drawn from the data set, interleaved run by run,
    //    on a server with the answer cache off (the computation itself).
    let plan = load_plan(&ctx.data, args);
    let dur = Duration::from_secs(args.duration_secs);
    let warm = Duration::from_secs(args.warmup_secs);
    let mut by: BTreeMap<&'static str, Vec<LoadResult>> = BTreeMap::new();
    let run_plan = |server: &Server,
                    what: &str,
                    plan: &[(&'static str, LoadSpec)],
                    by: &mut BTreeMap<&'static str, Vec<LoadResult>>,
                    report: &mut Report|
     -> Result<()> {
        for r in 1..=runs {
            for (key, spec) in plan {
                let cpu0 = Cpu::now(server.pid);
                let res = load(server.addr, spec, warm, dur)?;
                let cpu = Cpu::now(server.pid).since(cpu0);
                let label = format!("{}{what}", spec.label());
                log(format!(
                    "{}: load {r}/{runs} {label}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, non-200 {}, I/O errors {}{}",
                    backend.name(),
                    res.rps(),
                    res.pct_ms(50.0),
                    res.pct_ms(99.0),
                    res.non_200,
                    res.io_errors,
                    res.hit_rate()
                        .map(|h| format!(", cache hits {:.1} %", h * 100.0))
                        .unwrap_or_default()
                ));
                if res.errors() > 0 || res.requests == 0 {
                    report.errors.push(format!(
                        "load run {r} of {label}: {} requests, {} non-200 ({:?}), {} I/O errors; first: {}",
                        res.requests,
                        res.non_200,
                        res.statuses,
                        res.io_errors,
                        res.first_error.clone().unwrap_or_default()
                    ));
                }
                let hwm = server.hwm_kib()? as f64 / 1024.0;
                report
                    .loads
                    .push((label, spec.conns, res.clone(), cpu, hwm));
                by.entry(key).or_default().push(res);
            }
        }
        Ok(())
    };
    run_plan(&server, "", &plan.main, &mut by, report)?;
    let hwm_serving = server.hwm_kib()? as f64 / 1024.0;
    for (key, spec) in &plan.main {
        if args.profile.iter().any(|p| p == key || p == "all") {
            profile_load(backend, &server, &ctx.data, key, spec, warm)?;
        }
    }

    // 5a. The whole data set as one CSV export, streamed: its rate, and the
    // memory it costs (the serving figure above is taken before it).
    let mut export_rate = Vec::new();
    let exporter = Api::new(server.addr, String::new(), Duration::from_secs(3600))?;
    for r in 1..=runs {
        let (took, lines, bytes) = ctx
            .rt
            .block_on(exporter.download("/api/v1/observations?format=csv"))?;
        let rows = lines.saturating_sub(1);
        if rows != ctx.data.rows {
            report.errors.push(format!(
                "export run {r}: {rows} rows in the CSV, expected {}",
                ctx.data.rows
            ));
        }
        let rate = rows as f64 / took.as_secs_f64();
        log(format!(
            "{}: export {r}/{runs}: {rows} rows, {:.1} MiB in {:.1} s ({rate:.0} rows/s)",
            backend.name(),
            bytes as f64 / 1048576.0,
            took.as_secs_f64()
        ));
        export_rate.push(rate);
    }
    let hwm_export = server.hwm_kib()? as f64 / 1024.0;

    // 5c. The web app's pages as a signed-in person (see `web_pages`).
    ctx.rt.block_on(web_pages(ctx, &server, &db.url, report))?;
    server.stop()?;

    // 5b. The same reads with the answer cache on (8 MiB), to see whether it
    //     earns its place on keys spread over the data, and how often it hits.
    {
        let logp = ctx.work.join(format!("server-{tag}-cached.log"));
        let (cached, _) = Server::start_with(
            &ctx.bin,
            &db.url,
            &logp,
            &[("CHITIEU_ANSWER_CACHE_MIB", "8")],
        )?;
        run_plan(
            &cached,
            ", answer cache 8 MiB",
            &plan.cached,
            &mut by,
            report,
        )?;
        cached.stop()?;
    }

    let rps = |k: &str| by[k].iter().map(LoadResult::rps).collect::<Vec<_>>();
    let pct = |k: &str, p: f64| by[k].iter().map(|r| r.pct_ms(p)).collect::<Vec<_>>();
    let hits = |k: &str| {
        by[k]
            .iter()
            .map(|r| r.hit_rate().unwrap_or(0.0) * 100.0)
            .collect::<Vec<_>>()
    };

    // 6. pgbench: the YoY request's one statement (`pair_by_codes` in
    //    src/db/observations.rs), prepared as the server prepares it, with the
    //    same keys drawn the same way, same client count, one thread.
    let mut pgbench_tps: BTreeMap<Spread, Vec<f64>> = BTreeMap::new();
    if backend == Backend::Postgres {
        for spread in [Spread::Uniform, Spread::Zipf] {
            let script = ctx
                .work
                .join(format!("yoy-{}.sql", spread.name().replace(' ', "-")));
            fs::write(&script, pgbench_yoy_script(&ctx.data, spread))?;
            for r in 1..=runs {
                let text = run(Command::new("pgbench")
                    .args([
                        "-n",
                        "-M",
                        "prepared",
                        "-c",
                        &args.connections.to_string(),
                        "-j",
                        "1",
                        "-T",
                        &args.duration_secs.to_string(),
                        "-f",
                    ])
                    .arg(&script)
                    .arg(&db.url))?;
                let tps = text
                    .lines()
                    .find(|l| l.trim_start().starts_with("tps ="))
                    .and_then(|l| l.split_whitespace().nth(2))
                    .and_then(|v| v.parse::<f64>().ok())
                    .ok_or_else(|| anyhow!("no tps line in pgbench output:\n{text}"))?;
                let failed = text
                    .lines()
                    .find(|l| l.contains("number of failed transactions"))
                    .and_then(|l| l.split(':').nth(1))
                    .and_then(|v| v.split_whitespace().next())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
                if failed > 0 {
                    report.errors.push(format!(
                        "pgbench run {r} ({}): {failed} failed transactions",
                        spread.name()
                    ));
                }
                log(format!(
                    "PostgreSQL: pgbench {r}/{runs} YoY statement, {} keys: {tps:.0} tps",
                    spread.name()
                ));
                pgbench_tps.entry(spread).or_default().push(tps);
            }
        }
    }
    drop(db);

    // 7. The table.
    let conns = args.connections;
    for (spread, key) in [(Spread::Uniform, "yoy_u"), (Spread::Zipf, "yoy_z")] {
        let m = Measure::new(
            format!(
                "YoY over HTTP, {} keys, closed loop ×{conns}, answer cache off (req/s)",
                spread.name()
            ),
            Fmt::Rate,
            rps(key),
            match backend {
                Backend::Postgres => Target::RatioAtLeast(0.5),
                Backend::Sqlite => Target::Info,
            },
        );
        report.measures.push(match backend {
            Backend::Postgres => m.against(
                format!(
                    "pgbench -M prepared -c {conns} -j 1: the request's statement, same keys ({})",
                    spread.name()
                ),
                pgbench_tps.get(&spread).cloned().unwrap_or_default(),
            ),
            Backend::Sqlite => m.against(
                "GET /healthz, same load (framework ceiling)",
                rps("healthz"),
            ),
        });
        report.measures.push(Measure::new(
            format!("YoY, {} keys ×{conns}: p99 (closed loop)", spread.name()),
            Fmt::Ms,
            pct(key, 99.0),
            Target::Info,
        ));
    }
    for (spread, off, on) in [
        (Spread::Uniform, "yoy_u", "yoy_u_cache"),
        (Spread::Zipf, "yoy_z", "yoy_z_cache"),
    ] {
        report.measures.push(
            Measure::new(
                format!(
                    "YoY, {} keys ×{conns}, answer cache 8 MiB (req/s), against cache off",
                    spread.name()
                ),
                Fmt::Rate,
                rps(on),
                Target::RatioAtLeast(1.0),
            )
            .against("same load, answer cache off", rps(off)),
        );
        report.measures.push(Measure::new(
            format!("answer cache hit rate, YoY {} keys (%)", spread.name()),
            Fmt::Rate,
            hits(on),
            Target::Info,
        ));
    }
    report.measures.push(Measure::new(
        format!("GET /healthz ×{conns} (req/s)"),
        Fmt::Rate,
        rps("healthz"),
        Target::Info,
    ));
    report.measures.push(Measure::new(
        "dashboard (40 indicators, YoY, targets), 1 connection, uniform keys: p50",
        Fmt::Ms,
        pct("dash1", 50.0),
        Target::Info,
    ));
    for (spread, key) in [
        (Spread::Uniform, "dash_open_u"),
        (Spread::Zipf, "dash_open_z"),
    ] {
        report.measures.push(Measure::new(
            format!(
                "dashboard, {} users, open loop {:.0} req/s, {} keys: p50",
                args.dashboard_users,
                args.dashboard_rate,
                spread.name()
            ),
            Fmt::Ms,
            pct(key, 50.0),
            Target::Info,
        ));
        report.measures.push(Measure::new(
            format!(
                "dashboard, {} users, open loop {:.0} req/s, {} keys: p99",
                args.dashboard_users,
                args.dashboard_rate,
                spread.name()
            ),
            Fmt::Ms,
            pct(key, 99.0),
            Target::Below(20.0),
        ));
    }
    report.measures.push(Measure::new(
        format!(
            "dashboard, open loop, Zipf keys, answer cache 8 MiB: p99 (hit rate {:.0} %)",
            median(&hits("dash_open_z_cache"))
        ),
        Fmt::Ms,
        pct("dash_open_z_cache", 99.0),
        Target::Info,
    ));
    report.measures.push(Measure::new(
        format!(
            "group total over all {} committees, 1 connection, uniform keys: p50",
            ctx.data.committees.len()
        ),
        Fmt::Ms,
        pct("total1", 50.0),
        Target::Info,
    ));
    for (spread, key) in [(Spread::Uniform, "total_u"), (Spread::Zipf, "total_z")] {
        report.measures.push(Measure::new(
            format!(
                "group total over all committees, {} keys, closed loop ×{conns}: p99",
                spread.name()
            ),
            Fmt::Ms,
            pct(key, 99.0),
            Target::Below(20.0),
        ));
        report.measures.push(Measure::new(
            format!("group total, {} keys ×{conns}: req/s", spread.name()),
            Fmt::Rate,
            rps(key),
            Target::Info,
        ));
    }
    report.measures.push(Measure::new(
        format!(
            "checks of one committee and period, uniform keys, closed loop ×{CHECK_CLIENTS}: p99"
        ),
        Fmt::Ms,
        pct("checks_u", 99.0),
        Target::Below(100.0),
    ));
    report.measures.push(Measure::new(
        format!(
            "checks of every committee for a period, a page (10 committees) from a random cursor, closed loop ×{CHECK_CLIENTS}: p99"
        ),
        Fmt::Ms,
        pct("checks_pages_period_u", 99.0),
        Target::Below(100.0),
    ));
    report.measures.push(Measure::new(
        format!(
            "checks of every committee and period, a page (the default: 1 committee, all its figures) from a random cursor, closed loop ×{CHECK_CLIENTS}: p99"
        ),
        Fmt::Ms,
        pct("checks_pages_all_u", 99.0),
        Target::Below(100.0),
    ));
    report.measures.push(Measure::new(
        format!("a page of 100 figures of the unfiltered list from a random cursor, closed loop ×{conns}: p99"),
        Fmt::Ms,
        pct("list_u", 99.0),
        Target::Info,
    ));
    report.measures.push(Measure::new(
        "peak memory (VmHWM) after serving every load above",
        Fmt::MiB,
        vec![hwm_serving],
        Target::MaxAtMost(64.0),
    ));
    report.measures.push(Measure::new(
        format!(
            "export of all {} figures as CSV, streamed (rows/s)",
            ctx.data.rows
        ),
        Fmt::Rate,
        export_rate,
        Target::Info,
    ));
    report.measures.push(Measure::new(
        "peak memory (VmHWM) after the exports too",
        Fmt::MiB,
        vec![hwm_export],
        Target::Info,
    ));
    report.measures.push(Measure::new(
        "peak memory (VmHWM) importing",
        Fmt::MiB,
        hwm_import,
        Target::MaxAtMost(256.0),
    ));
    report.measures.push(Measure::new(
        "start to ready (/readyz 200) on the full database",
        Fmt::Secs,
        ready,
        Target::Below(1.0),
    ));
    report.notes.push(format!(
        "VmHWM of the serving process was {hwm_idle:.1} MiB when it became ready, {hwm_serving:.1} MiB after {} load runs (one process served them all, so this is one sample).",
        runs * plan.main.len()
    ));
    Ok(())
}

/// Runs one load again (unrecorded) while `perf record` samples the server,
/// and writes the report (children and self time per symbol, above 0.5 %)
/// to `bench/profiles/<backend>-<load>.perf.txt`.
fn profile_load(
    backend: Backend,
    server: &Server,
    data: &Dataset,
    key: &str,
    spec: &LoadSpec,
    warm: Duration,
) -> Result<()> {
    const SECS: u64 = 4;
    let perf = Perf::record(server.pid, 499)?;
    let result = load(server.addr, spec, warm, Duration::from_secs(SECS + 1))?;
    let path = perf.report(
        &profile_path(backend, data, key),
        &format!(
            "the load {key}: {}\n\
             # Recorded by `bench/run.sh --profile` after the measured runs: perf record -F 499 --call-graph dwarf,8192 -p <server pid> for {SECS} s of the load\n\
             # The load meanwhile: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({} connections).",
            spec.label(),
            result.rps(),
            result.pct_ms(50.0),
            result.pct_ms(99.0),
            spec.conns,
        ),
    )?;
    log(format!(
        "{}: profile of {key} written to {}",
        backend.name(),
        path.display()
    ));
    Ok(())
}

/// Where the profile of `what` goes: `bench/profiles/<backend>[-<size>]-<what>.perf.txt`,
/// the size tag (`10M`) only when the data set is not the default 1M, so that
/// the national run keeps the 1M profiles.
fn profile_path(backend: Backend, data: &Dataset, what: &str) -> PathBuf {
    let millions = (data.rows as f64 / 1e6).round() as usize;
    let size = if millions == 1 {
        String::new()
    } else if millions == 0 {
        format!("-{}k", data.rows / 1000)
    } else {
        format!("-{millions}M")
    };
    PathBuf::from("bench/profiles").join(format!("{}{size}-{what}.perf.txt", backend.name()))
}

/// `perf record` of one process, from `record` until `report`.
struct Perf {
    child: Child,
    data: PathBuf,
}

impl Perf {
    fn record(pid: u32, hz: u32) -> Result<Perf> {
        let data = std::env::temp_dir().join(format!("chitieu-bench-{pid}-{hz}.perf.data"));
        let child = Command::new("perf")
            .args([
                "record",
                "-F",
                &hz.to_string(),
                "--call-graph",
                "dwarf,8192",
                "-o",
            ])
            .arg(&data)
            .args(["-p", &pid.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("perf record (Debian's linux-perf)")?;
        // perf attaches asynchronously; give it a moment before the work starts.
        std::thread::sleep(Duration::from_millis(300));
        Ok(Perf { child, data })
    }

    /// Stops the recording and writes the top of `perf report` under `header`.
    fn report(mut self, path: &Path, header: &str) -> Result<PathBuf> {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        self.child.wait()?;
        let out = Command::new("perf")
            .args([
                "report",
                "--stdio",
                "--children",
                "-g",
                "none",
                "--percent-limit",
                "0.5",
                "--sort",
                "symbol",
                "-i",
            ])
            .arg(&self.data)
            .stderr(Stdio::null())
            .output()
            .context("perf report")?;
        let _ = std::fs::remove_file(&self.data);
        let lines: Vec<&str> = std::str::from_utf8(&out.stdout)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            // perf pads the symbol column and ends it with empty columns ("-").
            .map(|l| {
                let mut l = l.trim_end();
                while let Some(rest) = l.strip_suffix('-') {
                    l = rest.trim_end();
                }
                l
            })
            .take(80)
            .collect();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(
            path,
            format!(
                "# perf report (children, self, symbol; top 80 above 0.5 %) of the server during {header}\n{}\n",
                lines.join("\n")
            ),
        )?;
        Ok(path.to_path_buf())
    }
}

/// Analysts asking for checks at once.
const CHECK_CLIENTS: usize = 8;

/// The loads: on the server with the answer cache off, and with it on.
struct LoadPlan {
    main: Vec<(&'static str, LoadSpec)>,
    cached: Vec<(&'static str, LoadSpec)>,
}

/// Years, then quarters, then months of 2016–2024: every period with a
/// same-period-last-year in the data.
fn comparable_periods(months: bool) -> Vec<String> {
    periods()
        .into_iter()
        .filter(|p| match p {
            Period::Year(y) | Period::Half(y, _) | Period::Quarter(y, _) | Period::Month(y, _) => {
                *y > FIRST_YEAR
            }
        })
        .filter(|p| match p {
            Period::Year(_) | Period::Quarter(..) => true,
            Period::Month(..) => months,
            Period::Half(..) => false,
        })
        .map(|p| p.code())
        .collect()
}

/// YoY keys: every committee × indicator × quarter and month with a previous
/// year. Key k decodes as committee k / (40·P), indicator (k / P) mod 40,
/// period k mod P (pgbench decodes it the same way).
fn yoy_keys(data: &Dataset) -> Arc<Keys> {
    let committees = data.committees.clone();
    let inds: Vec<&'static str> = data.inds.iter().map(|i| i.code).collect();
    let periods: Vec<String> = comparable_periods(true)
        .into_iter()
        .filter(|p| p.contains('-'))
        .collect();
    let p = periods.len();
    let n = committees.len() * inds.len() * p;
    Keys::new("YoY comparison", n, move |k| {
        format!(
            "/api/v1/comparisons/yoy?committee={}&indicator={}&period={}",
            committees[k / (inds.len() * p)],
            inds[(k / p) % inds.len()],
            periods[k % p]
        )
    })
}

fn load_plan(data: &Dataset, args: &Args) -> LoadPlan {
    use Spread::{Uniform, Zipf};
    let conns = args.connections;
    let (users, rate) = (args.dashboard_users, args.dashboard_rate);
    let yoy = yoy_keys(data);
    let healthz = Keys::new("GET /healthz", 1, |_| "/healthz".into());
    let committees = data.committees.clone();
    let year_quarters = comparable_periods(false);
    let dash = {
        let (c, p) = (committees.clone(), year_quarters.clone());
        Keys::new("dashboard", c.len() * p.len(), move |k| {
            format!(
                "/api/v1/committees/{}/dashboard?period={}",
                c[k / p.len()],
                p[k % p.len()]
            )
        })
    };
    let total = {
        let inds: Vec<&'static str> = data.inds.iter().map(|i| i.code).collect();
        let p = year_quarters.clone();
        Keys::new(
            "group total over all committees",
            inds.len() * p.len(),
            move |k| {
                let period = &p[k % p.len()];
                format!(
                    "/api/v1/series?group={ALL_GROUP}&indicator={}&from={period}&to={period}",
                    inds[k / p.len()]
                )
            },
        )
    };
    // A page of checks over every committee (default page: 10 committees),
    // starting after a committee drawn from the data, for one period or for
    // every period of those committees (walking the whole database a page at
    // a time). The cursor is the hex of the last committee code of the page
    // before, as the server gives it.
    let cursor_after = |committees: &[String], k: usize| -> String {
        match k {
            0 => String::new(),
            k => format!("&cursor={}", hex::encode(committees[k - 1].as_bytes())),
        }
    };
    let checks_pages_period = {
        let (c, p) = (committees.clone(), year_quarters.clone());
        Keys::new(
            "a page of checks of every committee for a period",
            c.len() * p.len(),
            move |k| {
                format!(
                    "/api/v1/checks?period={}{}",
                    p[k % p.len()],
                    cursor_after(&c, k / p.len())
                )
            },
        )
    };
    let checks_pages_all = {
        let c = committees.clone();
        Keys::new(
            "a page of checks of every committee, all periods",
            c.len(),
            move |k| match k {
                0 => "/api/v1/checks".to_owned(),
                k => format!("/api/v1/checks?{}", &cursor_after(&c, k)[1..]),
            },
        )
    };
    // A page of the figure list starting anywhere in it (keyset paging: the
    // cursor is the hex of the id before the page).
    let list_pages = {
        let rows = data.rows;
        Keys::new("a page of the figure list", rows, move |k| match k {
            0 => "/api/v1/observations?limit=100".to_owned(),
            k => format!(
                "/api/v1/observations?limit=100&cursor={}",
                hex::encode((k as i64).to_be_bytes())
            ),
        })
    };
    let checks = {
        let (c, p) = (committees, year_quarters);
        Keys::new(
            "checks of a committee and period",
            c.len() * p.len(),
            move |k| {
                format!(
                    "/api/v1/checks?committee={}&period={}",
                    c[k / p.len()],
                    p[k % p.len()]
                )
            },
        )
    };
    LoadPlan {
        main: vec![
            ("healthz", LoadSpec::closed(&healthz, Uniform, conns)),
            ("yoy_u", LoadSpec::closed(&yoy, Uniform, conns)),
            ("yoy_z", LoadSpec::closed(&yoy, Zipf, conns)),
            ("dash1", LoadSpec::closed(&dash, Uniform, 1)),
            ("dash_open_u", LoadSpec::open(&dash, Uniform, users, rate)),
            ("dash_open_z", LoadSpec::open(&dash, Zipf, users, rate)),
            ("total1", LoadSpec::closed(&total, Uniform, 1)),
            ("total_u", LoadSpec::closed(&total, Uniform, conns)),
            ("total_z", LoadSpec::closed(&total, Zipf, conns)),
            (
                "checks_u",
                LoadSpec::closed(&checks, Uniform, CHECK_CLIENTS),
            ),
            (
                "checks_pages_period_u",
                LoadSpec::closed(&checks_pages_period, Uniform, CHECK_CLIENTS),
            ),
            (
                "checks_pages_all_u",
                LoadSpec::closed(&checks_pages_all, Uniform, CHECK_CLIENTS),
            ),
            ("list_u", LoadSpec::closed(&list_pages, Uniform, conns)),
        ],
        cached: vec![
            ("yoy_u_cache", LoadSpec::closed(&yoy, Uniform, conns)),
            ("yoy_z_cache", LoadSpec::closed(&yoy, Zipf, conns)),
            (
                "dash_open_z_cache",
                LoadSpec::open(&dash, Zipf, users, rate),
            ),
        ],
    }
}

/// The pgbench script of the YoY statement with the same key space and the
/// same spread as the HTTP load: a key drawn uniformly or by Zipf (ranks
/// shuffled by `permute`), decoded into committee, indicator and period codes
/// as [`yoy_keys`] decodes it.
fn pgbench_yoy_script(data: &Dataset, spread: Spread) -> String {
    let inds: Vec<&'static str> = data.inds.iter().map(|i| i.code).collect();
    let periods: Vec<String> = comparable_periods(true)
        .into_iter()
        .filter(|p| p.contains('-'))
        .collect();
    // The codes the server reads for a YoY tile whose periods are stored
    // (`same_span_periods` of the period and of the year before: a first
    // quarter or month is also stored as the year to date), as one
    // comma-separated list per period.
    let span = |p: &str| -> Vec<String> {
        let mut codes = vec![p.to_owned()];
        let (y, rest) = p.split_once('-').unwrap();
        match rest {
            "Q1" => codes.push(format!("{y}-YTD-M03")),
            "M01" => codes.push(format!("{y}-YTD-M01")),
            _ => {}
        }
        codes
    };
    let codes: Vec<String> = periods
        .iter()
        .map(|p| {
            let (y, rest) = p.split_once('-').unwrap();
            let previous = format!("{}-{rest}", y.parse::<i32>().unwrap() - 1);
            let mut codes = span(p);
            codes.extend(span(&previous));
            codes.join(",")
        })
        .collect();
    let p = periods.len();
    let n = data.committees.len() * inds.len() * p;
    let list = |v: &[String]| {
        v.iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let draw = match spread {
        Spread::Uniform => format!("\\set k random(0, {})\n", n - 1),
        Spread::Zipf => format!(
            "\\set r random_zipfian(1, {n}, {ZIPF_S})\n\\set k permute(:r - 1, {n}, 8609)\n"
        ),
    };
    format!(
        "{draw}\\set c 1 + :k / {cp}\n\\set i 1 + (:k / {p}) % {ni}\n\\set p 1 + :k % {p}\n\
         SELECT observations.*, indicators.* FROM observations \
         INNER JOIN committees ON committees.id = observations.committee_id \
         INNER JOIN indicators ON indicators.id = observations.indicator_id \
         WHERE committees.code = 'c' || lpad(:c::text, 4, '0') \
         AND indicators.code = (ARRAY[{inds}])[:i] \
         AND observations.period_code = ANY (string_to_array((ARRAY[{codes}])[:p], ',')) \
         AND observations.breakdown = '' AND observations.deleted_at IS NULL;\n",
        cp = inds.len() * p,
        ni = inds.len(),
        inds = list(&inds.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        codes = list(&codes),
    )
}

// ---------------------------------------------------------------------------
// The web app's pages: server time of each page for a signed-in person
// ---------------------------------------------------------------------------

/// A person signed in to the web app: the session cookie it sends back.
struct WebSession {
    client: reqwest::Client,
    base: String,
    cookie: String,
}

/// `name=value` of every `Set-Cookie` of a response.
fn cookies_of(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_owned)
        .collect()
}

impl WebSession {
    /// Opens the sign-in form and posts it, as a browser does.
    async fn sign_in(addr: SocketAddr, username: &str, password: &str) -> Result<WebSession> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()?;
        let base = format!("http://{addr}");
        let form = client.get(format!("{base}/sign-in")).send().await?;
        let mut cookies = cookies_of(&form);
        let html = form.text().await?;
        let csrf = html
            .split(r#"name="csrf" value=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .ok_or_else(|| anyhow!("no CSRF token on the sign-in page"))?
            .to_owned();
        let answer = client
            .post(format!("{base}/sign-in"))
            .header("cookie", cookies.join("; "))
            .form(&[
                ("username", username),
                ("password", password),
                ("csrf", &csrf),
                ("next", "/"),
            ])
            .send()
            .await?;
        if answer.status().as_u16() != 303 {
            bail!("signing in to the web app answered {}", answer.status());
        }
        cookies.extend(cookies_of(&answer));
        Ok(WebSession {
            client,
            base,
            cookie: cookies.join("; "),
        })
    }

    /// GETs a page; its status, the time to its last byte and its size.
    async fn get(&self, path: &str) -> Result<(u16, Duration, usize)> {
        let t0 = Instant::now();
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = response.status().as_u16();
        let body = response.bytes().await?;
        Ok((status, t0.elapsed(), body.len()))
    }
}

/// The pages measured, each with URLs spread over committees, periods and
/// figures (deterministic): what statisticians and analysts open.
fn web_page_urls(data: &Dataset, per_page: usize, group: &str) -> Vec<(&'static str, Vec<String>)> {
    let mut rng = Rng::new(0x0077_6562); // "web"
    let periods: Vec<String> = periods().iter().map(|p| p.code()).collect();
    let quarters: Vec<&String> = periods.iter().filter(|p| p.contains("-Q")).collect();
    let mut pick = |n: usize| (rng.next_u64() % n as u64) as usize;
    let mut urls: Vec<(&'static str, Vec<String>)> = vec![
        ("home", Vec::new()),
        ("entry form", Vec::new()),
        ("dashboard", Vec::new()),
        ("group view", Vec::new()),
        ("history", Vec::new()),
        ("checks", Vec::new()),
    ];
    for _ in 0..per_page {
        let committee = &data.committees[pick(data.committees.len())];
        let quarter = quarters[pick(quarters.len())];
        let period = &periods[pick(periods.len())];
        let figure = 1 + pick(data.rows);
        urls[0].1.push(format!("/?period={quarter}"));
        urls[1].1.push(format!("/entry/{committee}/{quarter}"));
        urls[2]
            .1
            .push(format!("/dashboard/{committee}?period={period}"));
        urls[3]
            .1
            .push(format!("/dashboard/group/{group}?period={period}"));
        urls[4].1.push(format!("/figures/{figure}/history"));
        urls[5]
            .1
            .push(format!("/checks?committee={committee}&period={period}"));
    }
    urls
}

/// Signs in once (an admin person, who sees every committee: Home's largest
/// page) and GETs each page's URLs one after another on one keep-alive
/// connection, so the time is the server's (localhost adds ~0.1 ms). Adds a
/// group of seven committees, as the seven northern provinces' group, which
/// Home shows at a glance and the group view compares.
async fn web_pages(ctx: &Ctx, server: &Server, db_url: &str, report: &mut Report) -> Result<()> {
    const GROUP: &str = "bench-seven";
    let password = "bench-web-password";
    run(Command::new(&ctx.bin)
        .args([
            "user",
            "create",
            "--username",
            "bench-web",
            "--name",
            "Bench",
        ])
        .args(["--role", "admin"])
        .env("CHITIEU_PASSWORD", password)
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn"))?;
    let api = Api::new(
        server.addr,
        create_token(&ctx.bin, db_url)?,
        Duration::from_secs(60),
    )?;
    let step = (ctx.data.committees.len() / 7).max(1);
    let members: Vec<&String> = ctx.data.committees.iter().step_by(step).take(7).collect();
    api.post(
        "/api/v1/groups",
        json!({"code": GROUP, "name_vi": "Bảy đảng bộ", "name_en": "Seven committees", "members": members}),
    )
    .await?;
    let session = WebSession::sign_in(server.addr, "bench-web", password).await?;
    let per_page = ctx.args.page_requests.max(1);
    for (page, urls) in web_page_urls(&ctx.data, per_page, GROUP) {
        // One unrecorded request warms the connection and the statements.
        session.get(&urls[0]).await?;
        let mut times_us = Vec::with_capacity(urls.len());
        let mut largest = 0;
        for url in &urls {
            let (status, took, bytes) = session.get(url).await?;
            if status != 200 {
                report
                    .errors
                    .push(format!("web page {page}: GET {url} answered {status}"));
                continue;
            }
            times_us.push(took.as_micros().min(u32::MAX as u128) as u32);
            largest = largest.max(bytes);
        }
        times_us.sort_unstable();
        let p50 = percentile(&times_us, 50.0) as f64 / 1000.0;
        let p99 = percentile(&times_us, 99.0) as f64 / 1000.0;
        log(format!(
            "web page {page}: {} requests, p50 {p50:.2} ms, p99 {p99:.2} ms, largest {largest} bytes",
            times_us.len()
        ));
        report.measures.push(Measure::new(
            format!("web page: {page}, 1 connection: p50"),
            Fmt::Ms,
            vec![p50],
            Target::Below(50.0),
        ));
        report.measures.push(Measure::new(
            format!("web page: {page}, 1 connection: p99"),
            Fmt::Ms,
            vec![p99],
            Target::Below(50.0),
        ));
    }
    report.notes.push(format!(
        "Web pages: {per_page} GETs per page as one signed-in admin (who sees all {} committees), \
         one keep-alive connection, spread over committees, periods and figures; `{}` etc. \
         The group view compares a group of {} committees.",
        ctx.data.committees.len(),
        web_page_urls(&ctx.data, 1, GROUP)
            .iter()
            .map(|(_, u)| u[0].as_str())
            .collect::<Vec<_>>()
            .join("`, `"),
        members.len()
    ));
    Ok(())
}

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------

fn machine() -> Vec<(String, String)> {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map(|k| format!("{:.1} GiB", k / 1048576.0))
        .unwrap_or_else(|| "unknown".into());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    vec![
        ("CPU".into(), format!("{cpu}, {cores} cores (nproc)")),
        ("memory".into(), mem),
        ("kernel".into(), format!("Linux {kernel}")),
    ]
}

fn versions(args: &Args) -> Vec<(String, String)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let commit = first_line(Command::new("git").args(["-C", root, "rev-parse", "--short", "HEAD"]));
    let dirty = run(Command::new("git").args([
        "-C",
        root,
        "status",
        "--porcelain",
        "--",
        "src",
        "migrations",
        "Cargo.toml",
        "Cargo.lock",
    ]))
    .map(|s| !s.trim().is_empty())
    .unwrap_or(false);
    let pg_server = psql(&args.pg_url, "SHOW server_version")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unreachable".into());
    vec![
        (
            "chitieu".into(),
            format!(
                "git {commit}{}, binary `{}`",
                if dirty {
                    " with uncommitted changes in src/ or migrations/"
                } else {
                    ""
                },
                args.binary.display()
            ),
        ),
        (
            "rustc".into(),
            first_line(Command::new("rustc").arg("--version")),
        ),
        ("PostgreSQL server".into(), pg_server),
        (
            "psql".into(),
            first_line(Command::new("psql").arg("--version")),
        ),
        (
            "pgbench".into(),
            first_line(Command::new("pgbench").arg("--version")),
        ),
        (
            "sqlite3".into(),
            first_line(Command::new("sqlite3").arg("--version")),
        ),
    ]
}

fn write_report(
    args: &Args,
    header: &str,
    reports: &[Report],
    pending: &[Backend],
) -> Result<String> {
    let mut s = String::from(header);
    for r in reports {
        s.push_str(&r.markdown());
        s.push('\n');
    }
    for b in pending {
        let _ = writeln!(
            s,
            "### {}\n\nNot measured yet (the run is still going, or it stopped before).\n",
            b.name()
        );
    }
    if let Some(dir) = args.out.parent() {
        if !dir.as_os_str().is_empty() {
            fs::create_dir_all(dir)?;
        }
    }
    fs::write(&args.out, &s)?;
    Ok(s)
}

fn main() {
    match real_main() {
        Ok(ok) => std::process::exit(if ok { 0 } else { 1 }),
        Err(e) => {
            eprintln!("bench: {e:#}");
            std::process::exit(2);
        }
    }
}

fn real_main() -> Result<bool> {
    let args = Args::parse();
    if args.observations == 0 {
        bail!("--observations must be positive");
    }
    let backends: Vec<Backend> = args
        .backends
        .iter()
        .map(|b| match b.trim().to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" | "pg" => Ok(Backend::Postgres),
            other => Err(anyhow!(
                "unknown backend {other:?}: use sqlite and/or postgres"
            )),
        })
        .collect::<Result<_>>()?;
    let bin = fs::canonicalize(&args.binary).with_context(|| {
        format!(
            "no server binary at {} (build it first: bench/run.sh does)",
            args.binary.display()
        )
    })?;
    let work_dir = tempfile::Builder::new()
        .prefix("chitieu-bench-")
        .tempdir()?;
    let work = work_dir.path().to_path_buf();
    let committees = args.observations.div_ceil(PER_COMMITTEE);
    let csv = work.join("observations.csv");
    let t = Instant::now();
    let data = generate(committees, &csv)?;
    log(format!(
        "generated {} observations ({committees} committees × {INDICATORS} indicators × {PERIODS} periods, {:.1} MiB CSV) in {:.1} s",
        data.rows,
        data.csv_bytes as f64 / 1048576.0,
        t.elapsed().as_secs_f64()
    ));
    let csv_body = fs::read(&csv)?;
    let started = chrono::Local::now();

    let mut header = String::new();
    let _ = writeln!(header, "# chitieu benchmark results\n");
    let _ = writeln!(
        header,
        "Written by `bench/run.sh` ({}), started {}. How to read this: see [README.md](README.md).\n",
        std::env::args().skip(1).collect::<Vec<_>>().join(" ").trim().to_string().chars().take(200).collect::<String>().replace('|', "/"),
        started.format("%Y-%m-%d %H:%M:%S %z")
    );
    let _ = writeln!(header, "| | |\n|---|---|");
    for (k, v) in machine().into_iter().chain(versions(&args)) {
        let _ = writeln!(header, "| {k} | {v} |");
    }
    let _ = writeln!(
        header,
        "| data set | {} observations: {committees} committees ({} province groups + `{ALL_GROUP}`) × {INDICATORS} indicators × {PERIODS} periods (years, halves, quarters and months of 2015–2024); {} targets; CSV {:.1} MiB; fixed seed |",
        data.rows,
        data.groups.len() - 1,
        data.targets.len(),
        data.csv_bytes as f64 / 1048576.0
    );
    let _ = writeln!(
        header,
        "| runs | {} import runs (each on a fresh database), {} runs of every other measure; HTTP loads {} s each after {} s warm-up; throughput loads 1 thread × {} keep-alive connections |",
        args.import_runs.unwrap_or(args.runs),
        args.runs,
        args.duration_secs,
        args.warmup_secs,
        args.connections
    );
    if let Some(note) = &args.note {
        let _ = writeln!(header, "| note | {note} |");
    }
    header.push('\n');

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let ctx = Ctx {
        args: args.clone(),
        bin,
        work: work.clone(),
        csv_body,
        data,
        rt,
    };
    let mut reports = Vec::new();
    let mut ok = true;
    for (i, backend) in backends.iter().enumerate() {
        let t = Instant::now();
        let mut report = Report {
            backend: backend.name().to_string(),
            ..Report::default()
        };
        if let Err(e) = run_backend(&ctx, *backend, &mut report) {
            log(format!("{}: FAILED: {e:#}", backend.name()));
            report.errors.push(format!("the run stopped: {e:#}"));
        }
        report.notes.push(format!(
            "This backend took {:.0} s in all.",
            t.elapsed().as_secs_f64()
        ));
        if !report.errors.is_empty() {
            ok = false;
        }
        reports.push(report);
        write_report(&args, &header, &reports, &backends[i + 1..])?;
    }
    let text = write_report(&args, &header, &reports, &[])?;
    println!("{text}");
    log(format!("report written to {}", args.out.display()));
    drop(ctx);
    drop(work_dir);
    Ok(ok)
}
