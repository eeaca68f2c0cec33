//! Compact reads of every enterprise for other capabilities' bulk work: the key columns that
//! link complaints to enterprises (the complaints import, the demo's synthetic complaints).
//! They read the registry's table here so that no other service's SQL names it.

use crate::error::Result;
use crate::EnterprisesService;
use sqlx::Row;
use std::collections::HashMap;
use yuepin_domain::Caller;

/// An enterprise by its keys: what linking a complaint to it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseKey {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    /// City code (`440300`).
    pub city: String,
    pub division: i64,
}

impl EnterprisesService {
    /// Every enterprise's keys, in id order (administrators only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn keys(&self, caller: &Caller) -> Result<Vec<EnterpriseKey>> {
        caller.require_administrator()?;
        let rows =
            sqlx::query("SELECT id, uscc, name, city, division FROM enterprises ORDER BY id")
                .fetch_all(self.store.pool())
                .await?;
        rows.iter()
            .map(|r| {
                Ok(EnterpriseKey {
                    id: r.try_get("id")?,
                    uscc: r.try_get("uscc")?,
                    name: r.try_get("name")?,
                    city: r.try_get("city")?,
                    division: r.try_get("division")?,
                })
            })
            .collect()
    }

    /// Enterprise id by credit code, of every enterprise (administrators only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ids_by_uscc(&self, caller: &Caller) -> Result<HashMap<String, i64>> {
        caller.require_administrator()?;
        let rows = sqlx::query("SELECT id, uscc FROM enterprises")
            .fetch_all(self.store.pool())
            .await?;
        let mut ids = HashMap::with_capacity(rows.len());
        for r in rows {
            ids.insert(r.try_get::<String, _>("uscc")?, r.try_get::<i64, _>("id")?);
        }
        Ok(ids)
    }
}
