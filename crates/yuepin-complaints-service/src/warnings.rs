//! Consumer warnings (消费提示/警示): who may see which (administrators all, a named enterprise
//! its own once approved, everyone the published ones), and the workflow — a regulator edits a
//! draft, approves it (the named enterprises are notified and may comment until a deadline),
//! publishes it once the window has closed or every named enterprise has commented, or
//! withdraws it. Also the published warnings naming an enterprise, for its quality file.

use crate::error::{ComplaintsError, Invalid, Result, WarningAction};
use crate::records::{
    NamedEnterprise, Severity, WarningComment, WarningEdit, WarningRecord, WarningRef,
    WarningScope, WarningStatus,
};
use crate::sql::parsed;
use crate::{actor, ComplaintsService};
use chrono::Duration;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use yuepin_domain::{Caller, Denied, Role};
use yuepin_store::{corrupt, now_text, Change};

/// Days an enterprise named in a warning may comment before publication (default).
pub const COMMENT_DAYS_DEFAULT: i64 = 5;
/// Longest comment window a regulator may set, in days.
pub const COMMENT_DAYS_MAX: i64 = 30;
const TITLE_MAX_CHARS: usize = 200;
const BODY_MAX_CHARS: usize = 10_000;
const COMMENT_MAX_CHARS: usize = 5_000;

const WARNING_COLS: &str = "id, alarm_id, status, severity, title, body, evidence, comment_deadline, created_at, updated_at, approved_at, approved_by, published_at";

fn not_found(id: i64) -> ComplaintsError {
    ComplaintsError::NotFound {
        what: "warning",
        id,
    }
}

async fn load_warning(conn: &mut AnyConnection, id: i64) -> Result<WarningRecord> {
    let r = sqlx::query(&format!(
        "SELECT {WARNING_COLS} FROM complaint_warnings WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| not_found(id))?;
    let mut w = warning_head(&r)?;
    // The named enterprises' names come by a read-only join in the same statement (one
    // query for the page); nothing here writes the registry's table.
    let ents = sqlx::query("SELECT w.enterprise_id, e.uscc, e.name, w.complaints, w.notified_at FROM complaint_warning_enterprises w JOIN enterprises e ON e.id = w.enterprise_id WHERE w.warning_id = $1 ORDER BY w.complaints DESC, e.id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    w.enterprises = ents
        .iter()
        .map(|r| {
            Ok(NamedEnterprise {
                enterprise_id: r.try_get("enterprise_id")?,
                uscc: r.try_get("uscc")?,
                name: r.try_get("name")?,
                complaints: r.try_get("complaints")?,
                notified_at: r.try_get("notified_at")?,
            })
        })
        .collect::<std::result::Result<_, sqlx::Error>>()?;
    let comments = sqlx::query("SELECT c.id, c.enterprise_id, e.name, c.author, c.body, c.created_at FROM complaint_warning_comments c JOIN enterprises e ON e.id = c.enterprise_id WHERE c.warning_id = $1 ORDER BY c.id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    w.comments = comments
        .iter()
        .map(|r| {
            Ok(WarningComment {
                id: r.try_get("id")?,
                enterprise_id: r.try_get("enterprise_id")?,
                enterprise_name: r.try_get("name")?,
                author: r.try_get("author")?,
                body: r.try_get("body")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<std::result::Result<_, sqlx::Error>>()?;
    Ok(w)
}

fn warning_head(r: &AnyRow) -> yuepin_store::Result<WarningRecord> {
    let ev: String = r.try_get("evidence")?;
    Ok(WarningRecord {
        id: r.try_get("id")?,
        alarm_id: r.try_get("alarm_id")?,
        status: parsed(r, "status", WarningStatus::parse)?,
        severity: parsed(r, "severity", Severity::parse)?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        evidence: serde_json::from_str(&ev).map_err(corrupt)?,
        comment_deadline: r.try_get("comment_deadline")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        approved_at: r.try_get("approved_at")?,
        approved_by: r.try_get("approved_by")?,
        published_at: r.try_get("published_at")?,
        enterprises: vec![],
        comments: vec![],
    })
}

/// The enterprise of an enterprise user, or `None` for every other caller.
fn enterprise_user(caller: &Caller) -> Option<i64> {
    (caller.role() == Some(Role::Enterprise))
        .then(|| caller.enterprise_id())
        .flatten()
}

fn check_length(field: &'static str, s: &str, max: usize) -> Result<()> {
    if s.is_empty() || s.chars().count() > max {
        return Err(ComplaintsError::invalid(
            field,
            Invalid::Length { min: 1, max },
        ));
    }
    Ok(())
}

impl ComplaintsService {
    async fn stored_warning(&self, id: i64) -> Result<WarningRecord> {
        load_warning(&mut *self.store.pool().acquire().await?, id).await
    }

    /// The list scope a caller gets: administrators all, an enterprise user the warnings
    /// naming its enterprise, everyone else the published ones.
    pub fn scope_of(caller: &Caller) -> WarningScope {
        if caller.is_administrator() {
            WarningScope::All
        } else if caller.role() == Some(Role::Enterprise) {
            WarningScope::Enterprise(caller.enterprise_id().unwrap_or(-1))
        } else {
            WarningScope::Published
        }
    }

    /// One warning as the caller may see it: published ones to everyone; drafts and the rest
    /// to administrators; an approved one to the enterprise users it names. Everything else is
    /// `NotFound` (no probing for drafts). Non-administrators get it without audit details.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn warning(&self, caller: &Caller, id: i64) -> Result<WarningRecord> {
        let w = self.stored_warning(id).await?;
        if caller.is_administrator() {
            return Ok(w);
        }
        let named = enterprise_user(caller).is_some_and(|e| w.names(e));
        if w.status == WarningStatus::Published || (w.status == WarningStatus::Approved && named) {
            return Ok(w.redacted());
        }
        Err(not_found(id))
    }

    /// A published warning (the public pages), without audit details.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn published_warning(&self, id: i64) -> Result<WarningRecord> {
        let w = self.stored_warning(id).await?;
        if w.status == WarningStatus::Published {
            Ok(w.redacted())
        } else {
            Err(not_found(id))
        }
    }

    /// The warnings of [`ComplaintsService::scope_of`] the caller (the API's list).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn warnings(&self, caller: &Caller) -> Result<Vec<WarningRecord>> {
        let list = self.scoped(Self::scope_of(caller)).await?;
        Ok(if caller.is_administrator() {
            list
        } else {
            list.into_iter().map(WarningRecord::redacted).collect()
        })
    }

    /// The workflow list (the warnings page): for administrators and enterprise users only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn workflow_warnings(&self, caller: &Caller) -> Result<Vec<WarningRecord>> {
        caller.require_role(&[Role::Regulator, Role::Enterprise])?;
        self.warnings(caller).await
    }

    /// Published warnings, newest first (the public list, the API and the Atom feed).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn published_warnings(&self) -> Result<Vec<WarningRecord>> {
        Ok(self
            .scoped(WarningScope::Published)
            .await?
            .into_iter()
            .map(WarningRecord::redacted)
            .collect())
    }

    async fn scoped(&self, scope: WarningScope) -> Result<Vec<WarningRecord>> {
        let (sql, bind) = match scope {
            WarningScope::All => (
                format!("SELECT {WARNING_COLS} FROM complaint_warnings ORDER BY id DESC LIMIT 500"),
                None,
            ),
            WarningScope::Published => (
                format!(
                    "SELECT {WARNING_COLS} FROM complaint_warnings WHERE status = 'published' ORDER BY published_at DESC, id DESC LIMIT 200"
                ),
                None,
            ),
            WarningScope::Enterprise(e) => (
                format!(
                    "SELECT {WARNING_COLS} FROM complaint_warnings WHERE status IN ('approved', 'published') AND id IN (SELECT warning_id FROM complaint_warning_enterprises WHERE enterprise_id = $1) ORDER BY id DESC"
                ),
                Some(e),
            ),
        };
        let mut q = sqlx::query(&sql);
        if let Some(e) = bind {
            q = q.bind(e);
        }
        let rows = q.fetch_all(self.store.pool()).await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut conn = self.store.pool().acquire().await?;
        for r in &rows {
            out.push(load_warning(&mut conn, r.try_get("id")?).await?);
        }
        Ok(out)
    }

    /// Published warnings naming an enterprise, newest first, for its quality file and page.
    ///
    /// No caller: published warnings are public, and so is which enterprises they name.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn complaint_warnings_for_enterprise(
        &self,
        enterprise_id: i64,
    ) -> Result<Vec<WarningRef>> {
        let rows = sqlx::query("SELECT w.id, w.title, w.severity, w.published_at FROM complaint_warnings w JOIN complaint_warning_enterprises e ON e.warning_id = w.id WHERE e.enterprise_id = $1 AND w.status = 'published' ORDER BY w.published_at DESC")
            .bind(enterprise_id)
            .fetch_all(self.store.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(WarningRef {
                    id: r.try_get("id")?,
                    title: r.try_get("title")?,
                    severity: parsed(r, "severity", Severity::parse)?,
                    published_at: r
                        .try_get::<Option<String>, _>("published_at")?
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    /// May the caller comment on this warning now? (An enterprise user it names, while the
    /// window is open at `now`.)
    pub fn may_comment(caller: &Caller, w: &WarningRecord, now: &str) -> bool {
        w.window_open(now) && enterprise_user(caller).is_some_and(|e| w.names(e))
    }

    /// Edits a draft's or an approved warning's title (1–200 characters), body (1–10 000) and
    /// severity. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn edit_warning(
        &self,
        caller: &Caller,
        id: i64,
        edit: &WarningEdit,
    ) -> Result<WarningRecord> {
        caller.require_administrator()?;
        let title = edit.title.trim();
        let body = edit.body.trim();
        let severity = Severity::parse_input(&edit.severity).ok_or_else(|| {
            ComplaintsError::invalid(
                "severity",
                Invalid::Unknown {
                    value: edit.severity.clone(),
                    expected: &["tip", "alert"],
                },
            )
        })?;
        check_length("title", title, TITLE_MAX_CHARS)?;
        check_length("body", body, BODY_MAX_CHARS)?;
        let mut w = self.store.begin_write(actor(caller)).await?;
        let before = load_warning(&mut w.tx, id).await?;
        if !matches!(
            before.status,
            WarningStatus::Draft | WarningStatus::Approved
        ) {
            return Err(ComplaintsError::WrongStatus {
                action: WarningAction::Edit,
                status: before.status,
            });
        }
        sqlx::query("UPDATE complaint_warnings SET title = $1, body = $2, severity = $3, updated_at = $4 WHERE id = $5")
            .bind(title)
            .bind(body)
            .bind(severity.as_str())
            .bind(now_text())
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.record(
            Change::new("complaints.warning.edit", "complaint_warning", id)
                .before(serde_json::json!({"title": before.title, "body": before.body, "severity": before.severity}))
                .after(serde_json::json!({"title": title, "body": body, "severity": severity})),
        );
        self.store.commit(w).await?;
        self.stored_warning(id).await
    }

    /// Approves a draft: the named enterprises are notified and may comment for `comment_days`
    /// (0–30, default 5). Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn approve_warning(
        &self,
        caller: &Caller,
        id: i64,
        comment_days: Option<i64>,
    ) -> Result<WarningRecord> {
        caller.require_administrator()?;
        let comment_days = comment_days.unwrap_or(COMMENT_DAYS_DEFAULT);
        if !(0..=COMMENT_DAYS_MAX).contains(&comment_days) {
            return Err(ComplaintsError::invalid(
                "comment_days",
                Invalid::Range {
                    min: 0,
                    max: COMMENT_DAYS_MAX,
                },
            ));
        }
        let mut w = self.store.begin_write(actor(caller)).await?;
        let before = load_warning(&mut w.tx, id).await?;
        if before.status != WarningStatus::Draft {
            return Err(ComplaintsError::WrongStatus {
                action: WarningAction::Approve,
                status: before.status,
            });
        }
        let now = chrono::Utc::now();
        let deadline = (now + Duration::days(comment_days))
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        let now = now_text();
        sqlx::query("UPDATE complaint_warnings SET status = 'approved', approved_at = $1, approved_by = $2, comment_deadline = $3, updated_at = $1 WHERE id = $4")
            .bind(&now)
            .bind(&caller.actor)
            .bind(&deadline)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query(
            "UPDATE complaint_warning_enterprises SET notified_at = $1 WHERE warning_id = $2",
        )
        .bind(&now)
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        w.record(
            Change::new("complaints.warning.approve", "complaint_warning", id).after(
                serde_json::json!({"comment_deadline": deadline,
                    "notified": before.enterprises.iter().map(|e| e.enterprise_id).collect::<Vec<_>>()}),
            ),
        );
        self.store.commit(w).await?;
        self.stored_warning(id).await
    }

    /// A named enterprise's comment (1–5 000 characters), accepted only while the window is
    /// open. Enterprise users only; a warning the caller may not see is `NotFound`. Returns
    /// the warning as the enterprise sees it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn comment_warning(
        &self,
        caller: &Caller,
        id: i64,
        body: &str,
    ) -> Result<WarningRecord> {
        let Some(enterprise_id) = enterprise_user(caller) else {
            return Err(match caller.role() {
                None if !caller.is_administrator() => Denied::SignInRequired,
                _ => Denied::Role {
                    needs: vec![Role::Enterprise],
                },
            }
            .into());
        };
        // Only warnings the enterprise may see (hidden otherwise).
        self.warning(caller, id).await?;
        let body = body.trim();
        check_length("body", body, COMMENT_MAX_CHARS)?;
        let mut w = self.store.begin_write(actor(caller)).await?;
        let before = load_warning(&mut w.tx, id).await?;
        if !before.names(enterprise_id) {
            return Err(not_found(id));
        }
        let now = now_text();
        if !before.window_open(&now) {
            return Err(ComplaintsError::WindowClosed);
        }
        let cid: i64 = sqlx::query("INSERT INTO complaint_warning_comments (warning_id, enterprise_id, author, body, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(id)
            .bind(enterprise_id)
            .bind(&caller.actor)
            .bind(body)
            .bind(&now)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("id")?;
        w.record(
            Change::new(
                "complaints.warning.comment",
                "complaint_warning_comment",
                cid,
            )
            .after(serde_json::json!({"warning": id, "enterprise": enterprise_id, "body": body})),
        );
        self.store.commit(w).await?;
        Ok(self.stored_warning(id).await?.redacted())
    }

    /// Publishes an approved warning once the comment window has closed or every named
    /// enterprise has commented. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn publish_warning(&self, caller: &Caller, id: i64) -> Result<WarningRecord> {
        caller.require_administrator()?;
        let mut w = self.store.begin_write(actor(caller)).await?;
        let before = load_warning(&mut w.tx, id).await?;
        if before.status != WarningStatus::Approved {
            return Err(ComplaintsError::WrongStatus {
                action: WarningAction::Publish,
                status: before.status,
            });
        }
        let now = now_text();
        let all_commented = before.enterprises.iter().all(|e| {
            before
                .comments
                .iter()
                .any(|c| c.enterprise_id == e.enterprise_id)
        });
        if before.window_open(&now) && !all_commented {
            return Err(ComplaintsError::WindowOpen {
                deadline: before.comment_deadline.clone().unwrap_or_default(),
            });
        }
        sqlx::query("UPDATE complaint_warnings SET status = 'published', published_at = $1, updated_at = $1 WHERE id = $2")
            .bind(&now)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.record(
            Change::new("complaints.warning.publish", "complaint_warning", id)
                .after(serde_json::json!({"published_at": now, "title": before.title})),
        );
        self.store.commit(w).await?;
        self.stored_warning(id).await
    }

    /// Withdraws a warning at any status but withdrawn. Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn withdraw_warning(&self, caller: &Caller, id: i64) -> Result<WarningRecord> {
        caller.require_administrator()?;
        let mut w = self.store.begin_write(actor(caller)).await?;
        let before = load_warning(&mut w.tx, id).await?;
        if before.status == WarningStatus::Withdrawn {
            return Err(ComplaintsError::WrongStatus {
                action: WarningAction::Withdraw,
                status: before.status,
            });
        }
        sqlx::query(
            "UPDATE complaint_warnings SET status = 'withdrawn', updated_at = $1 WHERE id = $2",
        )
        .bind(now_text())
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        w.record(
            Change::new("complaints.warning.withdraw", "complaint_warning", id)
                .before(serde_json::json!({"status": before.status})),
        );
        self.store.commit(w).await?;
        self.stored_warning(id).await
    }
}
