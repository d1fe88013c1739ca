//! Committees, groups and indicators an analysis request names, resolved once.

use std::collections::HashMap;

use crate::db::indicators::IndicatorRow;
use crate::db::{self, AnyConnection};
use crate::domain::code::{CommitteeCode, GroupCode, IndicatorCode};
use crate::error::ApiError;

/// Every committee and indicator by id and code (small tables, read once per request).
pub struct Catalog {
    pub committees: Vec<(i64, String)>,
    pub indicators: Vec<IndicatorRow>,
    committee_ids: HashMap<String, i64>,
}

impl Catalog {
    pub fn load(conn: &mut AnyConnection) -> Result<Self, ApiError> {
        let committees: Vec<(i64, String)> = db::committees::list(conn)?
            .into_iter()
            .map(|c| (c.id, c.code))
            .collect();
        let committee_ids = committees
            .iter()
            .map(|(id, code)| (code.clone(), *id))
            .collect();
        Ok(Self {
            committees,
            indicators: db::indicators::list(conn)?,
            committee_ids,
        })
    }

    pub fn committee_code(&self, id: i64) -> &str {
        self.committees
            .iter()
            .find(|(c, _)| *c == id)
            .map(|(_, code)| code.as_str())
            .unwrap_or_default()
    }

    pub fn indicator(&self, id: i64) -> Option<&IndicatorRow> {
        self.indicators.iter().find(|i| i.id == id)
    }

    /// Resolves comma-separated committee codes (query parameter `field`).
    pub fn committees_named(&self, field: &str, raw: &str) -> Result<Vec<(i64, String)>, ApiError> {
        let mut found = Vec::new();
        for code in raw.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            let code = CommitteeCode::parse(code)
                .map_err(|e| ApiError::invalid_parameter(field, "invalid_code", e.to_string()))?;
            let id = self
                .committee_ids
                .get(code.as_str())
                .ok_or_else(|| ApiError::not_found(format!("no committee has code \"{code}\"")))?;
            found.push((*id, code.to_string()));
        }
        Ok(found)
    }

    /// Resolves comma-separated indicator codes.
    pub fn indicators_named(&self, field: &str, raw: &str) -> Result<Vec<IndicatorRow>, ApiError> {
        let mut found = Vec::new();
        for code in raw.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            let code = IndicatorCode::parse(code)
                .map_err(|e| ApiError::invalid_parameter(field, "invalid_code", e.to_string()))?;
            let row = self
                .indicators
                .iter()
                .find(|i| i.code == code.as_str())
                .ok_or_else(|| ApiError::not_found(format!("no indicator has code \"{code}\"")))?;
            found.push(row.clone());
        }
        Ok(found)
    }

    /// The members of a group, by code.
    pub fn group_members(
        &self,
        conn: &mut AnyConnection,
        raw: &str,
    ) -> Result<Vec<(i64, String)>, ApiError> {
        let code = GroupCode::parse(raw.trim())
            .map_err(|e| ApiError::invalid_parameter("group", "invalid_code", e.to_string()))?;
        let group = db::groups::find_by_code(conn, code.as_str())?
            .ok_or_else(|| ApiError::not_found(format!("no group has code \"{code}\"")))?;
        Ok(db::groups::members(conn, group.id)?
            .into_iter()
            .map(|c| (c.id, c.code))
            .collect())
    }

    /// The committees a request names by `committee` or `group` (exactly one of them).
    pub fn committees_or_group(
        &self,
        conn: &mut AnyConnection,
        committee: Option<&str>,
        group: Option<&str>,
    ) -> Result<Vec<(i64, String)>, ApiError> {
        match (
            committee.filter(|c| !c.trim().is_empty()),
            group.filter(|g| !g.trim().is_empty()),
        ) {
            (Some(committee), None) => self.committees_named("committee", committee),
            (None, Some(group)) => self.group_members(conn, group),
            (Some(_), Some(_)) => Err(ApiError::invalid_parameter(
                "group",
                "conflicting_parameters",
                "give committee or group, not both",
            )),
            (None, None) => Err(ApiError::invalid_parameter(
                "committee",
                "missing_parameter",
                "give committee (codes) or group (a code)",
            )),
        }
    }
}
