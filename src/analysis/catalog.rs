//! Committees, groups and indicators an analysis request names.
//!
//! Indicators (a few dozen) are read whole; committees (hundreds) are read
//! only as a request names them, since reading every committee on every
//! request cost more than the figures themselves (bench/RESULTS.md).

use std::collections::HashMap;

use crate::db::committees::CommitteeRow;
use crate::db::groups::GroupRow;
use crate::db::indicators::IndicatorRow;
use crate::db::{self, AnyConnection};
use crate::domain::code::{CommitteeCode, GroupCode, IndicatorCode};
use crate::error::ApiError;

/// Indicators by id, and the codes of the committees met so far.
pub struct Catalog {
    pub indicators: Vec<IndicatorRow>,
    committee_codes: HashMap<i64, String>,
    /// The id of the group named through this catalog, if one was.
    group_id: Option<i64>,
}

impl Catalog {
    pub fn load(conn: &mut AnyConnection) -> Result<Self, ApiError> {
        Ok(Self {
            indicators: db::indicators::list(conn)?,
            committee_codes: HashMap::new(),
            group_id: None,
        })
    }

    /// The code of a committee met through this catalog (see [`Catalog::learn_codes`]).
    pub fn committee_code(&self, id: i64) -> &str {
        self.committee_codes
            .get(&id)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// Reads the codes of these committees, for [`Catalog::committee_code`].
    pub fn learn_codes(&mut self, conn: &mut AnyConnection, ids: &[i64]) -> Result<(), ApiError> {
        let mut unknown: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| !self.committee_codes.contains_key(id))
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        if !unknown.is_empty() {
            self.committee_codes
                .extend(db::committees::codes_by_id(conn, &unknown)?);
        }
        Ok(())
    }

    pub fn indicator(&self, id: i64) -> Option<&IndicatorRow> {
        self.indicators.iter().find(|i| i.id == id)
    }

    /// Resolves comma-separated committee codes (query parameter `field`).
    pub fn committees_named(
        &mut self,
        conn: &mut AnyConnection,
        field: &str,
        raw: &str,
    ) -> Result<Vec<(i64, String)>, ApiError> {
        let mut found = Vec::new();
        for code in raw.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            let code = CommitteeCode::parse(code)
                .map_err(|e| ApiError::invalid_parameter(field, "invalid_code", e.to_string()))?;
            let committee = db::committees::find_by_code(conn, code.as_str())?
                .ok_or_else(|| ApiError::not_found(format!("no committee has code \"{code}\"")))?;
            self.committee_codes
                .insert(committee.id, committee.code.clone());
            found.push((committee.id, committee.code));
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

    /// A group and its members (ordered by code), by the group's code.
    pub fn group(
        &mut self,
        conn: &mut AnyConnection,
        raw: &str,
    ) -> Result<(GroupRow, Vec<CommitteeRow>), ApiError> {
        let code = GroupCode::parse(raw.trim())
            .map_err(|e| ApiError::invalid_parameter("group", "invalid_code", e.to_string()))?;
        let group = db::groups::find_by_code(conn, code.as_str())?
            .ok_or_else(|| ApiError::not_found(format!("no group has code \"{code}\"")))?;
        let members = db::groups::members(conn, group.id)?;
        self.committee_codes
            .extend(members.iter().map(|c| (c.id, c.code.clone())));
        self.group_id = Some(group.id);
        Ok((group, members))
    }

    /// The members of a group, by code.
    pub fn group_members(
        &mut self,
        conn: &mut AnyConnection,
        raw: &str,
    ) -> Result<Vec<(i64, String)>, ApiError> {
        let code = GroupCode::parse(raw.trim())
            .map_err(|e| ApiError::invalid_parameter("group", "invalid_code", e.to_string()))?;
        let group = db::groups::find_by_code(conn, code.as_str())?
            .ok_or_else(|| ApiError::not_found(format!("no group has code \"{code}\"")))?;
        let members = db::groups::member_codes(conn, group.id)?;
        self.committee_codes.extend(members.iter().cloned());
        self.group_id = Some(group.id);
        Ok(members)
    }

    /// The id of the group [`Catalog::group_members`] read.
    pub fn group_id(&self) -> Option<i64> {
        self.group_id
    }

    /// The committees a request names by `committee` or `group` (exactly one of them).
    pub fn committees_or_group(
        &mut self,
        conn: &mut AnyConnection,
        committee: Option<&str>,
        group: Option<&str>,
    ) -> Result<Vec<(i64, String)>, ApiError> {
        match (
            committee.filter(|c| !c.trim().is_empty()),
            group.filter(|g| !g.trim().is_empty()),
        ) {
            (Some(committee), None) => self.committees_named(conn, "committee", committee),
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
