//! Classification: the cached classifier with the stored lexicon applied, the regulators'
//! lexicon terms, their label corrections (kept as labelled data, never overwritten by
//! re-imports), and the classifier's accuracy on the shipped labelled set and on those
//! corrections — one implementation for the web page and the CLI.

use crate::error::{ComplaintsError, Invalid, Result};
use crate::records::ComplaintRecord;
use crate::sql::{category, complaint_row, division_of, parsed_opt, COMPLAINT_COLS};
use crate::{actor, ComplaintsService};
use sqlx::Row;
use std::sync::Arc;
use yuepin_complaints::{Accuracy, Category, Classification, Classifier, Target, TermOverride};
use yuepin_domain::{Caller, Division};
use yuepin_store::{corrupt, now_text, Change};

/// Longest lexicon term, in characters.
pub const TERM_MAX_CHARS: usize = 20;

impl ComplaintsService {
    /// The classifier with the stored lexicon applied; rebuilt (on a blocking thread) only when
    /// the lexicon's fingerprint changed since the last call.
    pub(crate) async fn classifier(&self) -> Result<Arc<Classifier>> {
        let version = self.lexicon_version().await?;
        let mut guard = self.classifier.lock().await;
        if let Some((v, c)) = guard.as_ref() {
            if *v == version {
                return Ok(c.clone());
            }
        }
        let overrides = self.lexicon_overrides().await?;
        let c = tokio::task::spawn_blocking(move || {
            let mut c = Classifier::new();
            c.apply_overrides(&overrides);
            c
        })
        .await
        .map_err(|e| corrupt(format!("classifier thread: {e}")))?;
        let c = Arc::new(c);
        *guard = Some((version, c.clone()));
        Ok(c)
    }

    /// A fingerprint of the lexicon table, to know when the cached classifier is stale.
    async fn lexicon_version(&self) -> Result<String> {
        let r = sqlx::query("SELECT COUNT(*) AS n, MAX(updated_at) AS m FROM complaint_lexicon")
            .fetch_one(self.store.pool())
            .await?;
        let n: i64 = r.try_get("n")?;
        let m: Option<String> = r.try_get("m")?;
        Ok(format!("{n}:{}", m.unwrap_or_default()))
    }

    async fn lexicon_overrides(&self) -> Result<Vec<TermOverride>> {
        let rows =
            sqlx::query("SELECT term, target FROM complaint_lexicon ORDER BY updated_at, term")
                .fetch_all(self.store.pool())
                .await?;
        rows.iter()
            .map(|r| {
                let target: Option<String> = r.try_get("target")?;
                Ok(TermOverride {
                    term: r.try_get("term")?,
                    target: match target {
                        Some(t) => Some(serde_json::from_str::<Target>(&t).map_err(corrupt)?),
                        None => None,
                    },
                })
            })
            .collect()
    }

    /// The stored lexicon terms (a `None` target removes a seed term). Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn lexicon_terms(&self, caller: &Caller) -> Result<Vec<TermOverride>> {
        caller.require_administrator()?;
        self.lexicon_overrides().await
    }

    /// Adds a lexicon term (or with `None` removes one) for later classification, and returns
    /// how the term itself now classifies. Administrators only; a term has 1–20 characters
    /// and no control characters.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_lexicon_term(
        &self,
        caller: &Caller,
        term: &str,
        target: Option<Target>,
    ) -> Result<Classification> {
        caller.require_administrator()?;
        let term = check_term(term)?;
        let now = now_text();
        let t = target
            .map(|t| serde_json::to_string(&t))
            .transpose()
            .map_err(corrupt)?;
        let mut w = self.store.begin_write(actor(caller)).await?;
        sqlx::query("INSERT INTO complaint_lexicon (term, target, updated_at, updated_by) VALUES ($1, $2, $3, $4) ON CONFLICT (term) DO UPDATE SET target = excluded.target, updated_at = excluded.updated_at, updated_by = excluded.updated_by")
            .bind(term)
            .bind(t.as_deref())
            .bind(&now)
            .bind(&caller.actor)
            .execute(&mut *w.tx)
            .await?;
        w.record(Change::new("complaints.lexicon", "complaint_lexicon", term).after(target));
        self.store.commit(w).await?;
        Ok(self.classifier().await?.classify(term))
    }

    /// A regulator's label correction: the category (which implies its division) and/or the
    /// division. Kept as labelled data; re-imports never overwrite it. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn correct_labels(
        &self,
        caller: &Caller,
        id: i64,
        category: Option<Category>,
        division: Option<Division>,
    ) -> Result<ComplaintRecord> {
        caller.require_administrator()?;
        if category.is_none() && division.is_none() {
            return Err(ComplaintsError::invalid(
                "category",
                Invalid::NeedCategoryOrDivision,
            ));
        }
        if let (Some(c), Some(d)) = (category, division) {
            if c.division() != d {
                return Err(ComplaintsError::invalid(
                    "division",
                    Invalid::CategoryInOtherDivision {
                        category: c.info().name_zh.clone(),
                        division: c.division().code(),
                    },
                ));
            }
        }
        let division = division.or(category.map(Category::division));
        let mut w = self.store.begin_write(actor(caller)).await?;
        let row = sqlx::query(&format!(
            "SELECT {COMPLAINT_COLS} FROM complaints WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or(ComplaintsError::NotFound {
            what: "complaint",
            id,
        })?;
        let old = complaint_row(&row)?;
        let cat = category.map(|c| c.info().key.clone());
        let div = division.map(|d| i64::from(d.code()));
        let old_cat = old.category.map(|c| c.info().key.clone());
        let old_div = old.division.map(|d| i64::from(d.code()));
        let now = now_text();
        sqlx::query("UPDATE complaints SET category = $1, division = $2, labels_source = 'regulator', updated_at = $3 WHERE id = $4")
            .bind(cat.as_deref())
            .bind(div)
            .bind(&now)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("INSERT INTO complaint_corrections (complaint_id, old_category, old_division, category, division, corrected_by, corrected_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id)
            .bind(old_cat.as_deref())
            .bind(old_div)
            .bind(cat.as_deref())
            .bind(div)
            .bind(&caller.actor)
            .bind(&now)
            .execute(&mut *w.tx)
            .await?;
        w.record(
            Change::new("complaints.correct", "complaint", id)
                .before(serde_json::json!({"category": old_cat, "division": old_div}))
                .after(serde_json::json!({"category": cat, "division": div})),
        );
        self.store.commit(w).await?;
        self.complaint(caller, id).await
    }

    /// Regulator-labelled complaints: (text, category, division).
    async fn labelled_complaints(
        &self,
    ) -> Result<Vec<(String, Option<Category>, Option<Division>)>> {
        let rows = sqlx::query("SELECT text, category, division FROM complaints WHERE labels_source = 'regulator' ORDER BY id")
            .fetch_all(self.store.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("text")?,
                    parsed_opt(r, "category", category)?,
                    r.try_get::<Option<i64>, _>("division")?
                        .map(division_of)
                        .transpose()?,
                ))
            })
            .collect()
    }

    /// The current classifier's accuracy on the shipped labelled set and on the regulators'
    /// corrections. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn classifier_accuracy(&self, caller: &Caller) -> Result<Accuracy> {
        caller.require_administrator()?;
        let c = self.classifier().await?;
        let corrected = self.labelled_complaints().await?;
        // Classifying a few hundred texts is CPU work: off the async threads.
        tokio::task::spawn_blocking(move || yuepin_complaints::accuracy(&c, &corrected))
            .await
            .map_err(|e| corrupt(format!("accuracy thread: {e}")).into())
    }
}

/// A lexicon term as stored: trimmed, 1–20 characters, no control characters.
pub fn check_term(term: &str) -> Result<&str> {
    let term = term.trim();
    if term.is_empty()
        || term.chars().count() > TERM_MAX_CHARS
        || term.chars().any(char::is_control)
    {
        return Err(ComplaintsError::invalid(
            "term",
            Invalid::Length {
                min: 1,
                max: TERM_MAX_CHARS,
            },
        ));
    }
    Ok(term)
}

/// What a lexicon term points at, from a category (key or 中文名) or a division (13–43):
/// exactly one of the two.
pub fn term_target(category: Option<&str>, division: Option<&str>) -> Result<Target> {
    let cat = category.map(str::trim).filter(|s| !s.is_empty());
    let div = division.map(str::trim).filter(|s| !s.is_empty());
    Ok(match (cat, div) {
        (Some(c), None) => Target::Category(Category::parse(c)?),
        (None, Some(d)) => Target::Division(Division::parse(d)?),
        _ => {
            return Err(ComplaintsError::invalid(
                "category",
                Invalid::ExactlyOneOfCategoryOrDivision,
            ))
        }
    })
}
