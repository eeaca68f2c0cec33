//! CSV imports of hospitals and experts, all-or-nothing: every row is checked first and each
//! refused value reported with its row (the header is row 1) and field; only a file without
//! errors is written, in one audited transaction.
//!
//! Hospitals: `code,name,institution,city,divisions,capacity,business_hours`.
//! Experts: `username,name,divisions,qualifications,city,max_load,hospitals` (hospital codes
//! separated by `;`, a trailing `*` marks the coordinator).

use crate::error::{HospitalError, HospitalResult, Invalid, RowError};
use crate::hospitals::{
    check_expert, check_hospital, insert_checked_expert, insert_checked_hospital,
};
use crate::records::{ImportSummary, NewExpert, NewHospital};
use crate::HospitalService;
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use yuepin_domain::Caller;
use yuepin_store::{Actor, Change};

fn field_error(row: usize, e: HospitalError) -> RowError {
    match e {
        HospitalError::Invalid { field, reason } => RowError {
            row,
            field: field.to_string(),
            reason,
        },
        other => RowError {
            row,
            field: format!("{other}"),
            reason: Invalid::Malformed,
        },
    }
}

/// Parses rows into `T`; a row that does not parse is one error naming its row.
fn rows<T: DeserializeOwned>(
    data: &[u8],
    columns: &[&str],
) -> Result<Vec<(usize, T)>, Vec<RowError>> {
    let text = String::from_utf8_lossy(data);
    let text = text.trim_start_matches('\u{feff}');
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(_) => {
            return Err(vec![RowError {
                row: 1,
                field: "header".into(),
                reason: Invalid::Malformed,
            }])
        }
    };
    let missing: Vec<RowError> = columns
        .iter()
        .filter(|c| !headers.iter().any(|h| h == **c))
        .map(|c| RowError {
            row: 1,
            field: (*c).to_string(),
            reason: Invalid::Missing,
        })
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 2;
        let parsed = rec
            .map_err(|_| ())
            .and_then(|r| r.deserialize::<T>(Some(&headers)).map_err(|_| ()));
        match parsed {
            Ok(v) => out.push((row, v)),
            Err(()) => errors.push(RowError {
                row,
                field: "row".into(),
                reason: Invalid::Malformed,
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

impl HospitalService {
    /// Imports hospitals from CSV (administrators only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_hospitals(
        &self,
        caller: &Caller,
        data: &[u8],
    ) -> HospitalResult<ImportSummary> {
        caller.require_administrator()?;
        let parsed = rows::<NewHospital>(
            data,
            &[
                "code",
                "name",
                "institution",
                "city",
                "divisions",
                "capacity",
                "business_hours",
            ],
        )
        .map_err(HospitalError::Import)?;
        let mut errors = Vec::new();
        let mut checked = Vec::new();
        let mut seen = HashSet::new();
        for (row, h) in &parsed {
            match check_hospital(h) {
                Ok(c) if !seen.insert(c.code.clone()) => errors.push(RowError {
                    row: *row,
                    field: "code".into(),
                    reason: Invalid::Taken,
                }),
                Ok(c) => checked.push((*row, c)),
                Err(e) => errors.push(field_error(*row, e)),
            }
        }
        if !errors.is_empty() {
            return Err(HospitalError::Import(errors));
        }
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let mut errors = Vec::new();
        for (row, c) in &checked {
            match insert_checked_hospital(w.conn(), c).await {
                Ok(id) => w.record(
                    Change::new("import", "hospital", id)
                        .after(serde_json::json!({"code": c.code})),
                ),
                Err(e @ HospitalError::Invalid { .. }) => errors.push(field_error(*row, e)),
                Err(e) => return Err(e),
            }
        }
        if !errors.is_empty() {
            return Err(HospitalError::Import(errors));
        }
        if checked.is_empty() {
            return Ok(ImportSummary { rows: 0 });
        }
        self.store.commit(w).await?;
        Ok(ImportSummary {
            rows: checked.len(),
        })
    }

    /// Imports experts from CSV (administrators only). Each account must exist with the
    /// `expert` role, each hospital code be registered (or earlier in none: hospitals first).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_experts(
        &self,
        caller: &Caller,
        data: &[u8],
    ) -> HospitalResult<ImportSummary> {
        caller.require_administrator()?;
        let parsed = rows::<NewExpert>(
            data,
            &[
                "username",
                "name",
                "divisions",
                "qualifications",
                "city",
                "max_load",
                "hospitals",
            ],
        )
        .map_err(HospitalError::Import)?;
        let mut errors = Vec::new();
        let mut checked = Vec::new();
        let mut seen = HashSet::new();
        for (row, x) in &parsed {
            let uid = match self.expert_user_id(&x.username).await {
                Ok(u) => u,
                Err(e) => {
                    errors.push(field_error(*row, e));
                    continue;
                }
            };
            match check_expert(x, uid) {
                Ok(_) if !seen.insert(uid) => errors.push(RowError {
                    row: *row,
                    field: "username".into(),
                    reason: Invalid::Taken,
                }),
                Ok(c) => checked.push((*row, c)),
                Err(e) => errors.push(field_error(*row, e)),
            }
        }
        if !errors.is_empty() {
            return Err(HospitalError::Import(errors));
        }
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let mut errors = Vec::new();
        for (row, c) in &checked {
            match insert_checked_expert(w.conn(), c).await {
                Ok(id) => w.record(
                    Change::new("import", "hospital_expert", id)
                        .after(serde_json::json!({"user_id": c.user_id, "name": c.name})),
                ),
                Err(e @ HospitalError::Invalid { .. }) => errors.push(field_error(*row, e)),
                Err(e) => return Err(e),
            }
        }
        if !errors.is_empty() {
            return Err(HospitalError::Import(errors));
        }
        if checked.is_empty() {
            return Ok(ImportSummary { rows: 0 });
        }
        self.store.commit(w).await?;
        Ok(ImportSummary {
            rows: checked.len(),
        })
    }
}
