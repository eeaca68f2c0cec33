//! Reading enterprise, product and event rows back into domain types (re-parsed: a value that
//! no longer parses is `Corrupt`), on a given connection so that it works inside a write.

use crate::records::*;
use chrono::NaiveDate;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use yuepin_domain::{
    parse_date, Designation, Division, Enterprise, Financials, Gtin, Product, QualityEventKind,
    RegionCode, StandardCode, Uscc, Yuan,
};
use yuepin_store::{corrupt, now_text, Result, StoreError};

pub(crate) fn date_col(r: &AnyRow, col: &str) -> Result<NaiveDate> {
    parse_date("date", &r.try_get::<String, _>(col)?).map_err(corrupt)
}

/// Space-separated character bigrams of a name (lower-cased, punctuation dropped): the search
/// index terms. Names of one usable character index that character alone.
pub fn name_grams(name: &str) -> String {
    let chars: Vec<char> = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if chars.len() == 1 {
        return chars[0].to_string();
    }
    let mut grams: Vec<String> = chars.windows(2).map(|w| w.iter().collect()).collect();
    grams.sort();
    grams.dedup();
    grams.join(" ")
}

pub(crate) const ENTERPRISE_COLS: &str = "id, uscc, name, region, city, division, registered_capital_fen, employees, founded_on, listing, updated_at";

pub(crate) async fn enterprise_by_uscc_on(
    conn: &mut AnyConnection,
    uscc: &str,
) -> Result<EnterpriseRecord> {
    let row = sqlx::query(&format!(
        "SELECT {ENTERPRISE_COLS} FROM enterprises WHERE uscc = $1"
    ))
    .bind(uscc)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("enterprise {uscc}")))?;
    load_enterprise(conn, &row).await
}

/// Reads an enterprise row's designations and financials on the same connection (so it can run
/// inside a writing transaction without taking a second pooled connection).
pub(crate) async fn load_enterprise(
    conn: &mut AnyConnection,
    r: &AnyRow,
) -> Result<EnterpriseRecord> {
    let id: i64 = r.try_get("id")?;
    let designations = sqlx::query(
        "SELECT kind, awarded_on, expires_on FROM designations WHERE enterprise_id = $1 ORDER BY awarded_on, kind",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|d| {
        Ok(Designation {
            kind: d.try_get::<String, _>("kind")?.parse().map_err(corrupt)?,
            awarded_on: date_col(d, "awarded_on")?,
            expires_on: yuepin_store::get_opt_text(d, "expires_on")?
                .map(|s| parse_date("expires_on", &s).map_err(corrupt))
                .transpose()?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let financials = sqlx::query(
        "SELECT year, revenue_china_fen, revenue_world_fen FROM financials WHERE enterprise_id = $1 ORDER BY year",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|f| {
        Ok(Financials {
            year: f.try_get::<i64, _>("year")? as i32,
            revenue_china: Yuan::from_fen(f.try_get("revenue_china_fen")?),
            revenue_world: f
                .try_get::<Option<i64>, _>("revenue_world_fen")?
                .map(Yuan::from_fen),
        })
    })
    .collect::<Result<Vec<_>>>()?;
    Ok(EnterpriseRecord {
        id,
        enterprise: Enterprise {
            uscc: Uscc::parse(&r.try_get::<String, _>("uscc")?).map_err(corrupt)?,
            name: r.try_get("name")?,
            region: RegionCode::parse(&r.try_get::<String, _>("region")?).map_err(corrupt)?,
            division: Division::parse(&r.try_get::<i64, _>("division")?.to_string())
                .map_err(corrupt)?,
            registered_capital: Yuan::from_fen(r.try_get("registered_capital_fen")?),
            employees: r.try_get::<i64, _>("employees")? as u32,
            founded_on: date_col(r, "founded_on")?,
            listing: r
                .try_get::<String, _>("listing")?
                .parse()
                .map_err(corrupt)?,
            designations,
            financials,
        },
        updated_at: r.try_get("updated_at")?,
    })
}

pub(crate) async fn product_on(conn: &mut AnyConnection, id: i64) -> Result<ProductRecord> {
    let row = sqlx::query(
        "SELECT p.*, e.uscc FROM products p JOIN enterprises e ON e.id = p.enterprise_id WHERE p.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("product #{id}")))?;
    product_from_row(&row)
}

pub(crate) fn product_from_row(r: &AnyRow) -> Result<ProductRecord> {
    Ok(ProductRecord {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        product: Product {
            enterprise: Uscc::parse(&r.try_get::<String, _>("uscc")?).map_err(corrupt)?,
            name: r.try_get("name")?,
            brand: r.try_get("brand")?,
            model: r.try_get("model")?,
            gtin: yuepin_store::get_opt_text(r, "gtin")?
                .map(|g| Gtin::parse(&g).map_err(corrupt))
                .transpose()?,
            category: r.try_get("category")?,
            standard: yuepin_store::get_opt_text(r, "standard")?
                .map(|s| StandardCode::parse(&s).map_err(corrupt))
                .transpose()?,
        },
    })
}

pub(crate) fn event_from_row(r: &AnyRow) -> Result<EventRecord> {
    Ok(EventRecord {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        product_id: r.try_get("product_id")?,
        date: date_col(r, "event_date")?,
        natural_key: r.try_get("natural_key")?,
        kind: serde_json::from_str(&r.try_get::<String, _>("data")?).map_err(corrupt)?,
    })
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn upsert_product(
    conn: &mut AnyConnection,
    enterprise_id: i64,
    p: &Product,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO products (enterprise_id, name, brand, model, gtin, category, standard, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) \
         ON CONFLICT (enterprise_id, model) DO UPDATE SET name = excluded.name, brand = excluded.brand, gtin = excluded.gtin, \
         category = excluded.category, standard = excluded.standard, updated_at = excluded.updated_at RETURNING id",
    )
    .bind(enterprise_id)
    .bind(&p.name)
    .bind(&p.brand)
    .bind(&p.model)
    .bind(p.gtin.as_ref().map(|g| g.as_str().to_string()))
    .bind(&p.category)
    .bind(p.standard.as_ref().map(|s| s.as_str().to_string()))
    .bind(now_text())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get(0)?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn upsert_event(
    conn: &mut AnyConnection,
    enterprise_id: i64,
    product_id: Option<i64>,
    date: NaiveDate,
    natural_key: &str,
    kind: &QualityEventKind,
) -> Result<i64> {
    let data = serde_json::to_string(kind).map_err(corrupt)?;
    let row = sqlx::query(
        "INSERT INTO quality_events (enterprise_id, product_id, kind, event_date, natural_key, data, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7) \
         ON CONFLICT (enterprise_id, natural_key) DO UPDATE SET product_id = excluded.product_id, kind = excluded.kind, \
         event_date = excluded.event_date, data = excluded.data, updated_at = excluded.updated_at, provenance = 'confirmed' RETURNING id",
    )
    .bind(enterprise_id)
    .bind(product_id)
    .bind(kind.code())
    .bind(date.to_string())
    .bind(natural_key)
    .bind(data)
    .bind(now_text())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get(0)?)
}
