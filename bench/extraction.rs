//! Times `extract::extract` on a 10,000-character report and writes
//! `bench/EXTRACTION.md`. A timing loop, not a test: a timed unit test fails
//! on a busy machine for reasons that have nothing to do with the code.
//!
//! `cargo run --example extraction_bench` (the debug build the tests use; add
//! `--release` for the production build). The table records which.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use chitieu::domain::indicator::{MeasureKind, Unit};
use chitieu::extract::{extract, CatalogIndicator};
use serde::Deserialize;

#[derive(Deserialize)]
struct SeedIndicator {
    code: String,
    name_vi: String,
    unit: Unit,
    scale: i32,
    measure_kind: MeasureKind,
    denominator: Option<String>,
}

const TARGET_CHARS: usize = 10_000;
const RUNS: usize = 300;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds: Vec<SeedIndicator> = serde_json::from_str(
        &std::fs::read_to_string(root.join("seed-data/indicators.json")).expect("indicators.json"),
    )
    .expect("indicators");
    let catalog: Vec<CatalogIndicator> = seeds
        .into_iter()
        .map(|s| CatalogIndicator {
            code: s.code,
            name_vi: s.name_vi,
            unit: s.unit,
            scale: s.scale,
            measure_kind: s.measure_kind,
            denominator: s.denominator,
        })
        .collect();

    // Real report text: the seed reports, then the unseen set, cut to 10,000 characters.
    let mut sources: Vec<_> = ["tests/fixtures/seeds", "tests/fixtures/reports"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root.join(dir)).expect("fixtures"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    sources.sort();
    let mut text = String::new();
    for path in &sources {
        text.push_str(&std::fs::read_to_string(path).expect("report"));
        text.push('\n');
        if text.chars().count() >= TARGET_CHARS {
            break;
        }
    }
    let text: String = text.chars().take(TARGET_CHARS).collect();
    let published = chrono::NaiveDate::from_ymd_opt(2022, 4, 14);

    let first = extract(&text, published, None, &catalog);
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let found = extract(&text, published, None, &catalog);
            std::hint::black_box(found);
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let profile = if cfg!(debug_assertions) {
        "debug (dev profile)"
    } else {
        "release"
    };
    let mut report = String::new();
    writeln!(report, "# Extraction speed\n").unwrap();
    writeln!(
        report,
        "`cargo run {}--example extraction_bench`: `extract::extract` on the first {} characters \
         of the seed reports and the unseen set ({} candidates, {} numbers set aside), {RUNS} runs \
         after one warm-up, catalog of {} indicators, one thread. Target: under 10 ms.\n",
        if cfg!(debug_assertions) {
            ""
        } else {
            "--release "
        },
        text.chars().count(),
        first.candidates.len(),
        first.ignored.len(),
        catalog.len(),
    )
    .unwrap();
    writeln!(
        report,
        "| build | median | p90 | p99 | max |\n|---|---|---|---|---|"
    )
    .unwrap();
    writeln!(
        report,
        "| {profile} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    )
    .unwrap();
    print!("{report}");
    let out = root.join("bench/EXTRACTION.md");
    std::fs::write(&out, report).expect("write results");
    eprintln!("written to {}", out.display());
}
