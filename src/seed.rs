//! Loading `seed-data/`: committees, groups, indicators, sources, figures and
//! targets. Loading is idempotent and only adds what is missing, so a restart
//! never undoes a statistician's correction. Figures go through the same
//! parsers and rules as the API (`ingest`).

use std::fs;
use std::path::Path;

use anyhow::Context;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::db::committees::CommitteeChanges;
use crate::db::decimal::StoredDecimal;
use crate::db::groups::GroupChanges;
use crate::db::indicators::IndicatorChanges;
use crate::db::observations::{Author, WriteMode, WriteOutcome};
use crate::db::sources::NewSource;
use crate::db::{self, AnyConnection};
use crate::domain::code::{CommitteeCode, GroupCode, IndicatorCode, SourceCode};
use crate::domain::committee::CommitteeKind;
use crate::domain::indicator::{
    check_kind_fits_unit, check_scale, Bounds, Direction, MeasureKind, Unit,
};
use crate::domain::value::ExactDecimal;
use crate::ingest::{self, ObservationInput, ReferenceData, TargetInput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedCommittee {
    code: CommitteeCode,
    name_vi: String,
    name_en: String,
    kind: CommitteeKind,
    parent: Option<CommitteeCode>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedGroup {
    code: GroupCode,
    name_vi: String,
    name_en: String,
    description: Option<String>,
    source: Option<SourceCode>,
    members: Vec<CommitteeCode>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedIndicator {
    code: IndicatorCode,
    name_vi: String,
    name_en: String,
    unit: Unit,
    scale: i32,
    measure_kind: MeasureKind,
    direction: Direction,
    denominator: Option<IndicatorCode>,
    #[serde(default)]
    numerator: Option<IndicatorCode>,
    description: Option<String>,
    #[serde(default)]
    min_value: Option<ExactDecimal>,
    #[serde(default)]
    max_value: Option<ExactDecimal>,
    #[serde(default)]
    whole_number: bool,
}

impl SeedIndicator {
    fn bounds(&self) -> Bounds {
        Bounds {
            min: self.min_value.map(ExactDecimal::into_inner),
            max: self.max_value.map(ExactDecimal::into_inner),
            whole: self.whole_number,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedSource {
    code: SourceCode,
    title: String,
    publisher: Option<String>,
    published_on: Option<NaiveDate>,
    url: Option<String>,
    author: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedDocument {
    source: SeedSource,
    #[serde(default)]
    observations: Vec<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    targets: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// What a load added.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub committees: usize,
    pub groups: usize,
    pub indicators: usize,
    pub sources: usize,
    pub observations: usize,
    pub targets: usize,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<T> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid seed data", path.display()))
}

/// A seed figure names its source by the document it sits in, and its quote `quote`.
fn as_input(
    mut item: serde_json::Map<String, serde_json::Value>,
    source: &SourceCode,
) -> serde_json::Map<String, serde_json::Value> {
    if let Some(quote) = item.remove("quote") {
        item.insert("source_quote".into(), quote);
    }
    item.entry("source")
        .or_insert_with(|| source.as_str().into());
    item
}

/// Loads every file of `dir`; safe to run any number of times.
pub fn load_dir(conn: &mut AnyConnection, dir: &Path) -> anyhow::Result<SeedReport> {
    let mut report = SeedReport::default();
    let mut documents: Vec<_> = fs::read_dir(dir.join("documents"))
        .with_context(|| format!("cannot list {}/documents", dir.display()))?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    documents.sort();
    let documents: Vec<SeedDocument> = documents
        .iter()
        .map(|p| read_json(p))
        .collect::<anyhow::Result<_>>()?;

    for document in &documents {
        let s = &document.source;
        if db::sources::find_by_code(conn, s.code.as_str())?.is_none() {
            db::sources::insert(
                conn,
                &NewSource {
                    code: s.code.as_str(),
                    title: &s.title,
                    publisher: s.publisher.as_deref(),
                    published_on: s.published_on,
                    url: s.url.as_deref(),
                    author: s.author.as_deref(),
                },
            )?;
            report.sources += 1;
        }
    }

    let committees: Vec<SeedCommittee> = read_json(&dir.join("committees.json"))?;
    // Parents first: a committee may name any other as its parent.
    for pass in [false, true] {
        for c in committees.iter().filter(|c| c.parent.is_some() == pass) {
            if db::committees::find_by_code(conn, c.code.as_str())?.is_some() {
                continue;
            }
            let parent_id = match &c.parent {
                None => None,
                Some(parent) => Some(
                    db::committees::find_by_code(conn, parent.as_str())?
                        .with_context(|| {
                            format!("committee {} names unknown parent {parent}", c.code)
                        })?
                        .id,
                ),
            };
            db::committees::insert(
                conn,
                c.code.as_str(),
                CommitteeChanges {
                    name_vi: &c.name_vi,
                    name_en: &c.name_en,
                    kind: c.kind,
                    parent_id,
                },
            )?;
            report.committees += 1;
        }
    }

    let indicators: Vec<SeedIndicator> = read_json(&dir.join("indicators.json"))?;
    for pass in [false, true] {
        for i in indicators
            .iter()
            .filter(|i| i.denominator.is_some() == pass)
        {
            check_scale(i.scale).map_err(anyhow::Error::msg)?;
            check_kind_fits_unit(i.measure_kind, i.unit)
                .map_err(|e| anyhow::anyhow!("indicator {}: {e}", i.code))?;
            i.bounds()
                .check_definition()
                .map_err(|e| anyhow::anyhow!("indicator {}: {e}", i.code))?;
            if let Some(existing) = db::indicators::find_by_code(conn, i.code.as_str())? {
                // Bounds came after the first indicators: an indicator that
                // has none gets the seed's (an admin's own are kept).
                if existing.bounds().is_unbounded() && !i.bounds().is_unbounded() {
                    db::indicators::set_bounds(conn, existing.id, i.bounds())?;
                }
                continue;
            }
            let mut reference = |code: &Option<IndicatorCode>| -> anyhow::Result<Option<i64>> {
                match code {
                    None => Ok(None),
                    Some(code) => Ok(Some(
                        db::indicators::find_by_code(conn, code.as_str())?
                            .with_context(|| {
                                format!("indicator {} refers to unknown indicator {code}", i.code)
                            })?
                            .id,
                    )),
                }
            };
            let denominator_id = reference(&i.denominator)?;
            let numerator_id = reference(&i.numerator)?;
            db::indicators::insert(
                conn,
                i.code.as_str(),
                IndicatorChanges {
                    name_vi: &i.name_vi,
                    name_en: &i.name_en,
                    unit: i.unit,
                    scale: i.scale,
                    measure_kind: i.measure_kind,
                    direction: i.direction,
                    denominator_id,
                    numerator_id,
                    description: i.description.as_deref(),
                    min_value: i.min_value.map(|d| StoredDecimal(d.0)),
                    max_value: i.max_value.map(|d| StoredDecimal(d.0)),
                    whole_number: i.whole_number,
                },
            )?;
            report.indicators += 1;
        }
    }

    let groups: Vec<SeedGroup> = read_json(&dir.join("groups.json"))?;
    for g in &groups {
        // Members are added only to a group this load creates: a group edited
        // through the API keeps its members.
        let (group, created) = match db::groups::find_by_code(conn, g.code.as_str())? {
            Some(existing) => (existing, false),
            None => {
                let source_id = match &g.source {
                    None => None,
                    Some(code) => Some(
                        db::sources::find_by_code(conn, code.as_str())?
                            .with_context(|| {
                                format!("group {} names unknown source {code}", g.code)
                            })?
                            .id,
                    ),
                };
                report.groups += 1;
                let changes = GroupChanges {
                    name_vi: &g.name_vi,
                    name_en: &g.name_en,
                    description: g.description.as_deref(),
                    source_id,
                };
                (db::groups::insert(conn, g.code.as_str(), changes)?, true)
            }
        };
        if created {
            let mut member_ids = Vec::with_capacity(g.members.len());
            for member in &g.members {
                let committee = db::committees::find_by_code(conn, member.as_str())?
                    .with_context(|| format!("group {} names unknown member {member}", g.code))?;
                member_ids.push(committee.id);
            }
            db::groups::add_members(conn, group.id, &member_ids)?;
        }
    }

    let refs = ReferenceData::load(conn)?;
    let author = Author {
        changed_by: "seed",
        token_id: None,
        reason: Some("seed-data"),
    };
    for document in documents {
        let code = document.source.code;
        let inputs = document
            .observations
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                serde_json::from_value::<ObservationInput>(as_input(item, &code).into())
                    .with_context(|| format!("seed document {code}, figure {i}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let figures = ingest::validate_batch(&inputs, &refs).map_err(|errors| {
            anyhow::anyhow!(
                "seed document {code} has invalid figures: {}",
                serde_json::to_string(&errors).unwrap_or_default()
            )
        })?;
        let written =
            db::observations::write_many(conn, &figures, WriteMode::CreateMissing, author)?;
        report.observations += written
            .iter()
            .filter(|w| w.outcome == WriteOutcome::Created)
            .count();

        for (i, item) in document.targets.into_iter().enumerate() {
            let input: TargetInput = serde_json::from_value(as_input(item, &code).into())
                .with_context(|| format!("seed document {code}, target {i}"))?;
            let target = ingest::validate_target(&input, &refs).map_err(|errors| {
                anyhow::anyhow!(
                    "seed document {code}, target {i}: {}",
                    serde_json::to_string(&errors).unwrap_or_default()
                )
            })?;
            let missing = db::targets::list(
                conn,
                &db::targets::TargetFilter {
                    committees: vec![input.committee.clone()],
                    indicators: vec![input.indicator.clone()],
                    period: Some(target.period),
                },
                1,
                None,
            )?
            .is_empty();
            if missing {
                db::targets::upsert(conn, &target, author)?;
                report.targets += 1;
            }
        }
    }
    Ok(report)
}
