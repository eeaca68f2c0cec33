//! Bulk product and event imports, id lookups by credit code, and full exports.

use super::rows::*;
use crate::records::*;
use crate::EnterprisesService;
use serde::Serialize;
use sqlx::Row;
use yuepin_domain::{
    parse_date, Designation, Division, Enterprise, Financials, Product, RegionCode, Uscc, Yuan,
};
use yuepin_store::{corrupt, Change, Result};

/// A product or event row that names an enterprise (or product) the database does not have.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MissingReference {
    /// 0-based index of the row in the imported batch.
    pub index: usize,
    pub field: &'static str,
    pub value: String,
}

impl EnterprisesService {
    /// Ids of the enterprises with these codes (unknown codes are absent from the map).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn enterprise_ids(
        &self,
        usccs: &[&str],
    ) -> Result<std::collections::HashMap<String, i64>> {
        let mut map = std::collections::HashMap::new();
        for chunk in usccs.chunks(500) {
            let ph: Vec<String> = (1..=chunk.len())
                .map(|i| self.store.dialect().ph(i))
                .collect();
            let sql = format!(
                "SELECT id, uscc FROM enterprises WHERE uscc IN ({})",
                ph.join(",")
            );
            let mut q = sqlx::query(&sql);
            for u in chunk {
                q = q.bind(*u);
            }
            for r in q.fetch_all(self.store.pool()).await? {
                map.insert(r.try_get::<String, _>("uscc")?, r.try_get::<i64, _>("id")?);
            }
        }
        Ok(map)
    }

    /// Imports products all-or-nothing; rows naming an unknown enterprise are reported and
    /// nothing is written.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_products(
        &self,
        actor: yuepin_store::Actor,
        rows: &[Product],
        file_sha256: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<std::result::Result<ImportSummary, Vec<MissingReference>>> {
        let codes: Vec<&str> = rows.iter().map(|p| p.enterprise.as_str()).collect();
        let ids = self.enterprise_ids(&codes).await?;
        let missing: Vec<MissingReference> = rows
            .iter()
            .enumerate()
            .filter(|(_, p)| !ids.contains_key(p.enterprise.as_str()))
            .map(|(index, p)| MissingReference {
                index,
                field: "uscc",
                value: p.enterprise.to_string(),
            })
            .collect();
        if !missing.is_empty() {
            return Ok(Err(missing));
        }
        let mut w = self.store.begin_write(actor).await?;
        let mut summary = ImportSummary {
            rows: rows.len(),
            ..Default::default()
        };
        for (i, p) in rows.iter().enumerate() {
            let eid = ids[p.enterprise.as_str()];
            let existed =
                sqlx::query("SELECT 1 FROM products WHERE enterprise_id = $1 AND model = $2")
                    .bind(eid)
                    .bind(&p.model)
                    .fetch_optional(&mut *w.tx)
                    .await?
                    .is_some();
            if existed {
                summary.updated += 1;
            } else {
                summary.inserted += 1;
            }
            upsert_product(&mut w.tx, eid, p).await?;
            if i % 500 == 499 {
                progress(500);
            }
        }
        progress(rows.len() % 500);
        w.record(Change::new("import", "product", format!("file:{file_sha256}")).after(&summary));
        self.store.commit(w).await?;
        Ok(Ok(summary))
    }

    /// Imports quality events all-or-nothing. Each row is (event, product model); a model must
    /// name a product of the same enterprise.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_events(
        &self,
        actor: yuepin_store::Actor,
        rows: &[(yuepin_domain::QualityEvent, Option<String>)],
        file_sha256: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<std::result::Result<ImportSummary, Vec<MissingReference>>> {
        let codes: Vec<&str> = rows.iter().map(|(e, _)| e.enterprise.as_str()).collect();
        let ids = self.enterprise_ids(&codes).await?;
        let mut missing = Vec::new();
        let mut products = std::collections::HashMap::new();
        for (index, (e, model)) in rows.iter().enumerate() {
            let Some(&eid) = ids.get(e.enterprise.as_str()) else {
                missing.push(MissingReference {
                    index,
                    field: "uscc",
                    value: e.enterprise.to_string(),
                });
                continue;
            };
            if let Some(m) = model {
                match self.product_by_model(eid, m).await? {
                    Some(pid) => {
                        products.insert(index, pid);
                    }
                    None => missing.push(MissingReference {
                        index,
                        field: "product_model",
                        value: m.clone(),
                    }),
                }
            }
        }
        if !missing.is_empty() {
            return Ok(Err(missing));
        }
        let mut w = self.store.begin_write(actor).await?;
        let mut summary = ImportSummary {
            rows: rows.len(),
            ..Default::default()
        };
        for (i, (e, _)) in rows.iter().enumerate() {
            let eid = ids[e.enterprise.as_str()];
            let key = e.natural_key();
            let existed = sqlx::query(
                "SELECT 1 FROM quality_events WHERE enterprise_id = $1 AND natural_key = $2",
            )
            .bind(eid)
            .bind(&key)
            .fetch_optional(&mut *w.tx)
            .await?
            .is_some();
            if existed {
                summary.updated += 1;
            } else {
                summary.inserted += 1;
            }
            upsert_event(
                &mut w.tx,
                eid,
                products.get(&i).copied(),
                e.date,
                &key,
                &e.kind,
            )
            .await?;
            if i % 500 == 499 {
                progress(500);
            }
        }
        progress(rows.len() % 500);
        w.record(
            Change::new("import", "quality_event", format!("file:{file_sha256}")).after(&summary),
        );
        self.store.commit(w).await?;
        Ok(Ok(summary))
    }

    /// Every enterprise, in id order, for exports.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn all_enterprises(&self) -> Result<Vec<Enterprise>> {
        let rows = sqlx::query(&format!(
            "SELECT {ENTERPRISE_COLS} FROM enterprises ORDER BY id"
        ))
        .fetch_all(self.store.pool())
        .await?;
        let mut designations: std::collections::HashMap<i64, Vec<Designation>> =
            std::collections::HashMap::new();
        for d in sqlx::query("SELECT enterprise_id, kind, awarded_on, expires_on FROM designations ORDER BY awarded_on, kind")
            .fetch_all(self.store.pool())
            .await?
        {
            designations.entry(d.try_get("enterprise_id")?).or_default().push(Designation {
                kind: d.try_get::<String, _>("kind")?.parse().map_err(corrupt)?,
                awarded_on: date_col(&d, "awarded_on")?,
                expires_on: yuepin_store::get_opt_text(&d, "expires_on")?
                    .map(|s| parse_date("expires_on", &s).map_err(corrupt))
                    .transpose()?,
            });
        }
        let mut financials: std::collections::HashMap<i64, Vec<Financials>> =
            std::collections::HashMap::new();
        for f in sqlx::query("SELECT enterprise_id, year, revenue_china_fen, revenue_world_fen FROM financials ORDER BY year")
            .fetch_all(self.store.pool())
            .await?
        {
            financials.entry(f.try_get("enterprise_id")?).or_default().push(Financials {
                year: f.try_get::<i64, _>("year")? as i32,
                revenue_china: Yuan::from_fen(f.try_get("revenue_china_fen")?),
                revenue_world: f.try_get::<Option<i64>, _>("revenue_world_fen")?.map(Yuan::from_fen),
            });
        }
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                Ok(Enterprise {
                    uscc: Uscc::parse(&r.try_get::<String, _>("uscc")?).map_err(corrupt)?,
                    name: r.try_get("name")?,
                    region: RegionCode::parse(&r.try_get::<String, _>("region")?)
                        .map_err(corrupt)?,
                    division: Division::parse(&r.try_get::<i64, _>("division")?.to_string())
                        .map_err(corrupt)?,
                    registered_capital: Yuan::from_fen(r.try_get("registered_capital_fen")?),
                    employees: r.try_get::<i64, _>("employees")? as u32,
                    founded_on: date_col(r, "founded_on")?,
                    listing: r
                        .try_get::<String, _>("listing")?
                        .parse()
                        .map_err(corrupt)?,
                    designations: designations.remove(&id).unwrap_or_default(),
                    financials: financials.remove(&id).unwrap_or_default(),
                })
            })
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn all_products(&self) -> Result<Vec<ProductRecord>> {
        sqlx::query("SELECT p.*, e.uscc FROM products p JOIN enterprises e ON e.id = p.enterprise_id ORDER BY p.id")
            .fetch_all(self.store.pool())
            .await?
            .iter()
            .map(product_from_row)
            .collect()
    }

    /// Every event with its enterprise code and product model.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn all_events(&self) -> Result<Vec<(String, Option<String>, EventRecord)>> {
        sqlx::query(
            "SELECT q.id, q.enterprise_id, q.product_id, q.event_date, q.natural_key, q.data, e.uscc, p.model \
             FROM quality_events q JOIN enterprises e ON e.id = q.enterprise_id LEFT JOIN products p ON p.id = q.product_id ORDER BY q.id",
        )
        .fetch_all(self.store.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("uscc")?, yuepin_store::get_opt_text(r, "model")?, event_from_row(r)?)))
        .collect()
    }
}
