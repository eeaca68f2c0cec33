//! Grants paid for the money measures: the list (regulators everything, an enterprise its
//! own) and the regulators' totals by measure, city and year with a roll-up by each.

use crate::records::{Grant, GrantTotal};
use crate::{listing_scope, measure_id, PolicyService, Result};
use std::collections::BTreeMap;
use yuepin_domain::Caller;

/// Grants listed at most.
const GRANTS: i64 = 1000;

/// Totals by measure, city and year, with roll-ups by each: (grants, amount in fen).
#[derive(Debug, Clone, Default)]
pub struct GrantTotals {
    pub rows: Vec<GrantTotal>,
    /// By measure id ("M18").
    pub by_measure: BTreeMap<String, (i64, i64)>,
    /// By city code ("440300").
    pub by_city: BTreeMap<String, (i64, i64)>,
    pub by_year: BTreeMap<i64, (i64, i64)>,
    pub grants: i64,
    pub amount_fen: i64,
}

impl PolicyService {
    /// Grants the caller may see, newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn grants(&self, caller: &Caller) -> Result<Vec<Grant>> {
        let scope = listing_scope(caller)?;
        Ok(self.grant_rows(scope, GRANTS).await?)
    }

    /// Totals of every grant (administrators only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn grant_totals(&self, caller: &Caller) -> Result<GrantTotals> {
        caller.require_administrator()?;
        let rows = self.grant_total_rows().await?;
        let mut t = GrantTotals::default();
        for r in &rows {
            let e = t
                .by_measure
                .entry(measure_id(&r.measure).to_string())
                .or_default();
            e.0 += r.grants;
            e.1 += r.amount_fen;
            let c = t.by_city.entry(r.city.as_str().to_string()).or_default();
            c.0 += r.grants;
            c.1 += r.amount_fen;
            let y = t.by_year.entry(r.year).or_default();
            y.0 += r.grants;
            y.1 += r.amount_fen;
            t.grants += r.grants;
            t.amount_fen += r.amount_fen;
        }
        t.rows = rows;
        Ok(t)
    }
}
