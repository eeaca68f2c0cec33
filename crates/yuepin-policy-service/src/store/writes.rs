//! The policy tables written, each in one audited transaction: a match run (run, counts,
//! stored cells, offers refreshing open ones, notifications), an offer's answer (with the
//! application a confirmation opens), notifications marked read, an application, and a
//! decision with its grant. The same standard or award is never paid twice to an enterprise:
//! checked before writing and held by the unique (enterprise, measure, payment key) of
//! `policy_grants`; caps add up per (enterprise, measure, period) in `policy_payment_totals`.

use crate::error::{PolicyError, Result};
use crate::records::{
    outcome_code, Answer, Application, ApplicationStatus, Decision, NewApplication, NewMatchRun,
    Offer, OfferStatus,
};
use crate::store::queries::{application_on, offer_from_row};
use crate::PolicyService;
use sqlx::{AnyConnection, Row};
use yuepin_policy::OutcomeKind;
use yuepin_store::dialect::values_sql;
use yuepin_store::{now_text, Actor, Change, WriteTx};

fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() || {
                let m = db.message().to_lowercase();
                m.contains("unique") || m.contains("duplicate key")
            }
        }
        _ => false,
    }
}

fn paid_twice(measure: &str, reference: &str) -> PolicyError {
    PolicyError::AlreadyPaid {
        measure: measure.to_string(),
        reference: reference.to_string(),
    }
}

fn pending(measure: &str, reference: &str) -> PolicyError {
    PolicyError::ApplicationPending {
        measure: measure.to_string(),
        reference: reference.to_string(),
    }
}

/// Whether this enterprise was already paid under this payment key (once-only keys).
async fn already_paid(
    conn: &mut AnyConnection,
    enterprise_id: i64,
    measure: &str,
    payment_key: &str,
) -> Result<bool> {
    Ok(sqlx::query(
        "SELECT id FROM policy_grants WHERE enterprise_id = $1 AND measure = $2 AND payment_key = $3",
    )
    .bind(enterprise_id)
    .bind(measure)
    .bind(payment_key)
    .fetch_optional(&mut *conn)
    .await?
    .is_some())
}

/// Inserts an application. Its payment key is derived from platform facts and scoped to the
/// enterprise, so one enterprise never blocks another; the partial unique index
/// `policy_applications_open_key` makes a second concurrent open application fail.
async fn insert_application(
    w: &mut WriteTx,
    actor: &Actor,
    a: &NewApplication,
    once: bool,
) -> Result<Application> {
    if once && already_paid(&mut w.tx, a.enterprise_id, &a.measure, &a.payment_key).await? {
        return Err(paid_twice(&a.measure, &a.reference));
    }
    if sqlx::query(
        "SELECT id FROM policy_applications WHERE enterprise_id = $1 AND measure = $2 AND payment_key = $3 AND status = 'submitted'",
    )
    .bind(a.enterprise_id)
    .bind(&a.measure)
    .bind(&a.payment_key)
    .fetch_optional(&mut *w.tx)
    .await?
    .is_some()
    {
        return Err(pending(&a.measure, &a.reference));
    }
    let inserted = sqlx::query(
        "INSERT INTO policy_applications (enterprise_id, measure, reference, offer_id, amount_requested_fen, note, status, created_at, created_by, \
         payment_key, period, evaluated_on, evidence) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(a.enterprise_id)
    .bind(&a.measure)
    .bind(&a.reference)
    .bind(a.offer_id)
    .bind(a.amount_requested_fen)
    .bind(&a.note)
    .bind(ApplicationStatus::Submitted.as_str())
    .bind(now_text())
    .bind(&actor.0)
    .bind(&a.payment_key)
    .bind(&a.period)
    .bind(a.evaluated_on.to_string())
    .bind(a.evidence.to_string())
    .fetch_one(&mut *w.tx)
    .await;
    let id: i64 = match inserted {
        Ok(row) => row.try_get(0)?,
        Err(e) if is_unique_violation(&e) => return Err(pending(&a.measure, &a.reference)),
        Err(e) => return Err(e.into()),
    };
    let app = application_on(&mut w.tx, id)
        .await?
        .ok_or(PolicyError::UnknownApplication(id))?;
    w.record(Change::new("apply", "policy_application", id).after(&app));
    Ok(app)
}

/// Adds a grant to the enterprise's cumulative total for (measure, period) in the same
/// transaction. The conditional upsert is one statement: on PostgreSQL a concurrent writer
/// waits on the row lock and re-checks the cap against the committed total; SQLite's writers
/// are serialised by `BEGIN IMMEDIATE`. Returns the new total, or the refusal.
async fn add_to_total(
    conn: &mut AnyConnection,
    app: &Application,
    amount_fen: i64,
    cap_fen: Option<i64>,
) -> Result<i64> {
    let cap = cap_fen.unwrap_or(i64::MAX);
    let over = |already: i64| PolicyError::OverCap {
        cap_fen: cap,
        already_fen: already,
    };
    if amount_fen > cap {
        return Err(over(0));
    }
    let row = sqlx::query(
        "INSERT INTO policy_payment_totals (enterprise_id, measure, period, total_fen) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (enterprise_id, measure, period) DO UPDATE SET total_fen = policy_payment_totals.total_fen + excluded.total_fen \
         WHERE policy_payment_totals.total_fen <= $5 - excluded.total_fen RETURNING total_fen",
    )
    .bind(app.enterprise_id)
    .bind(&app.measure)
    .bind(&app.period)
    .bind(amount_fen)
    .bind(cap)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(r) => Ok(r.try_get(0)?),
        None => {
            let already: i64 = sqlx::query(
                "SELECT total_fen FROM policy_payment_totals WHERE enterprise_id = $1 AND measure = $2 AND period = $3",
            )
            .bind(app.enterprise_id)
            .bind(&app.measure)
            .bind(&app.period)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
            Err(over(already))
        }
    }
}

impl PolicyService {
    /// Writes a match run: the run, per-measure counts, stored cells, offers (refreshing open
    /// ones) and notifications, in one audited transaction. Returns the run id.
    pub(crate) async fn save_match(
        &self,
        actor: Actor,
        run: &NewMatchRun,
    ) -> yuepin_store::Result<i64> {
        let store = &self.store;
        let dialect = store.dialect();
        let eligible = run
            .cells
            .iter()
            .filter(|c| c.outcome == OutcomeKind::Eligible)
            .count() as i64;
        let undetermined = run.cells.len() as i64 - eligible;
        let now = now_text();
        let mut w = store.begin_write(actor.clone()).await?;
        let run_id: i64 = sqlx::query(
            "INSERT INTO policy_match_runs (as_of, overrides, enterprises, evaluations, eligible, undetermined, notified, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(&run.as_of)
        .bind(run.overrides.to_string())
        .bind(run.enterprises)
        .bind(run.evaluations)
        .bind(eligible)
        .bind(undetermined)
        .bind(run.notifications.len() as i64)
        .bind(&now)
        .bind(&actor.0)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get(0)?;
        for part in run.counts.chunks(300) {
            let sql = format!(
                "INSERT INTO policy_match_counts (run_id, measure, outcome, n) VALUES {}",
                values_sql(dialect, part.len(), 4)
            );
            let mut q = sqlx::query(&sql);
            for (m, o, n) in part {
                q = q.bind(run_id).bind(m).bind(outcome_code(*o)).bind(*n);
            }
            q.execute(&mut *w.tx).await?;
        }
        for part in run.cells.chunks(400) {
            let sql = format!(
                "INSERT INTO policy_match_results (run_id, enterprise_id, measure, outcome, reasons, amount_fen) VALUES {}",
                values_sql(dialect, part.len(), 6)
            );
            let mut q = sqlx::query(&sql);
            for c in part {
                q = q
                    .bind(run_id)
                    .bind(c.enterprise_id)
                    .bind(&c.measure)
                    .bind(outcome_code(c.outcome))
                    .bind(&c.reasons)
                    .bind(c.amount_fen);
            }
            q.execute(&mut *w.tx).await?;
        }
        for part in run.offers.chunks(400) {
            let sql = format!(
                "INSERT INTO policy_offers (enterprise_id, measure, run_id, as_of, status, amount_fen, created_at) VALUES {} \
                 ON CONFLICT (enterprise_id, measure) DO UPDATE SET run_id = excluded.run_id, as_of = excluded.as_of, \
                 amount_fen = excluded.amount_fen WHERE policy_offers.status = 'offered'",
                values_sql(dialect, part.len(), 7)
            );
            let mut q = sqlx::query(&sql);
            for (e, m, amount) in part {
                q = q
                    .bind(*e)
                    .bind(m)
                    .bind(run_id)
                    .bind(&run.as_of)
                    .bind(OfferStatus::Offered.as_str())
                    .bind(*amount)
                    .bind(&now);
            }
            q.execute(&mut *w.tx).await?;
        }
        for part in run.notifications.chunks(300) {
            let sql = format!(
                "INSERT INTO policy_notifications (enterprise_id, run_id, title_zh, title_en, body_zh, body_en, link, created_at, read_at) VALUES {}",
                values_sql(dialect, part.len(), 9)
            );
            let mut q = sqlx::query(&sql);
            for n in part {
                q = q
                    .bind(n.enterprise_id)
                    .bind(run_id)
                    .bind(&n.title_zh)
                    .bind(&n.title_en)
                    .bind(&n.body_zh)
                    .bind(&n.body_en)
                    .bind(&n.link)
                    .bind(&now)
                    .bind(None::<String>);
            }
            q.execute(&mut *w.tx).await?;
        }
        w.record(
            Change::new("match", "policy_match_run", run_id).after(serde_json::json!({
                "as_of": run.as_of, "overrides": run.overrides, "enterprises": run.enterprises,
                "evaluations": run.evaluations, "eligible": eligible, "undetermined": undetermined,
                "offers": run.offers.len(), "notifications": run.notifications.len(),
            })),
        );
        store.commit(w).await?;
        Ok(run_id)
    }

    /// The enterprise's answer to an offer (意愿确认). Only an open offer can be answered; a
    /// confirmation may open an application (money measures) in the same transaction.
    pub(crate) async fn write_answer(
        &self,
        actor: Actor,
        offer_id: i64,
        answer: Answer,
        application: Option<(NewApplication, bool)>,
    ) -> Result<(Offer, Option<Application>)> {
        let store = &self.store;
        let mut w = store.begin_write(actor.clone()).await?;
        let before = sqlx::query("SELECT * FROM policy_offers WHERE id = $1")
            .bind(offer_id)
            .fetch_optional(&mut *w.tx)
            .await?
            .ok_or(PolicyError::UnknownOffer(offer_id))?;
        let before = offer_from_row(&before)?;
        if before.status != OfferStatus::Offered {
            return Err(PolicyError::OfferAnswered(before.status));
        }
        let status = match answer {
            Answer::Confirm => OfferStatus::Confirmed,
            Answer::Decline => OfferStatus::Declined,
        };
        let now = now_text();
        sqlx::query(
            "UPDATE policy_offers SET status = $1, decided_at = $2, decided_by = $3 WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(&now)
        .bind(&actor.0)
        .bind(offer_id)
        .execute(&mut *w.tx)
        .await?;
        let mut after = before.clone();
        after.status = status;
        after.decided_at = Some(now);
        after.decided_by = Some(actor.0.clone());
        w.record(
            Change::new(
                match answer {
                    Answer::Confirm => "confirm",
                    Answer::Decline => "decline",
                },
                "policy_offer",
                offer_id,
            )
            .before(&before)
            .after(&after),
        );
        let app = match (answer, application) {
            (Answer::Confirm, Some((a, once))) => {
                Some(insert_application(&mut w, &actor, &a, once).await?)
            }
            _ => None,
        };
        store.commit(w).await?;
        Ok((after, app))
    }

    /// Marks an enterprise's notifications read (all of them, or one).
    pub(crate) async fn write_read(
        &self,
        actor: Actor,
        enterprise_id: i64,
        id: Option<i64>,
    ) -> yuepin_store::Result<u64> {
        let store = &self.store;
        let mut w = store.begin_write(actor).await?;
        let done = sqlx::query(
            "UPDATE policy_notifications SET read_at = $1 WHERE enterprise_id = $2 AND read_at IS NULL AND ($3 < 0 OR id = $3)",
        )
        .bind(now_text())
        .bind(enterprise_id)
        .bind(id.unwrap_or(-1))
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        w.record(Change::new(
            "read",
            "policy_notification",
            id.map(|i| i.to_string())
                .unwrap_or_else(|| format!("enterprise:{enterprise_id}")),
        ));
        store.commit(w).await?;
        Ok(done)
    }

    pub(crate) async fn write_application(
        &self,
        actor: Actor,
        a: &NewApplication,
        once: bool,
    ) -> Result<Application> {
        let mut w = self.store.begin_write(actor.clone()).await?;
        let app = insert_application(&mut w, &actor, a, once).await?;
        self.store.commit(w).await?;
        Ok(app)
    }

    /// The regulator's decision. Approving records the grant; the unique (measure, reference)
    /// key refuses a second payment for the same standard or award.
    pub(crate) async fn write_decision(
        &self,
        actor: Actor,
        application_id: i64,
        decision: &Decision,
    ) -> Result<Application> {
        let store = &self.store;
        let mut w = store.begin_write(actor.clone()).await?;
        let before = application_on(&mut w.tx, application_id)
            .await?
            .ok_or(PolicyError::UnknownApplication(application_id))?;
        if before.status != ApplicationStatus::Submitted {
            return Err(PolicyError::ApplicationDecided(before.status));
        }
        let now = now_text();
        let status = decision.status();
        let reason = match decision {
            Decision::Approve { reason, .. } | Decision::Reject { reason } => reason,
        };
        if let Decision::Approve {
            amount_fen,
            year,
            cap_fen,
            repeatable,
            ..
        } = decision
        {
            let key = if *repeatable {
                format!("{}#{}", before.payment_key, application_id)
            } else {
                if already_paid(
                    &mut w.tx,
                    before.enterprise_id,
                    &before.measure,
                    &before.payment_key,
                )
                .await?
                {
                    return Err(paid_twice(&before.measure, &before.reference));
                }
                before.payment_key.clone()
            };
            add_to_total(&mut w.tx, &before, *amount_fen, *cap_fen).await?;
            let inserted = sqlx::query(
                "INSERT INTO policy_grants (application_id, enterprise_id, measure, reference, payment_key, period, amount_fen, city, year, granted_at, granted_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(application_id)
            .bind(before.enterprise_id)
            .bind(&before.measure)
            .bind(&before.reference)
            .bind(&key)
            .bind(&before.period)
            .bind(*amount_fen)
            .bind(before.city.as_str())
            .bind(*year)
            .bind(&now)
            .bind(&actor.0)
            .fetch_one(&mut *w.tx)
            .await;
            match inserted {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(paid_twice(&before.measure, &before.reference));
                }
                Err(e) => return Err(e.into()),
            }
        }
        sqlx::query(
            "UPDATE policy_applications SET status = $1, reason = $2, decided_at = $3, decided_by = $4 WHERE id = $5",
        )
        .bind(status.as_str())
        .bind(reason)
        .bind(&now)
        .bind(&actor.0)
        .bind(application_id)
        .execute(&mut *w.tx)
        .await?;
        let after = application_on(&mut w.tx, application_id)
            .await?
            .ok_or(PolicyError::UnknownApplication(application_id))?;
        w.record(
            Change::new(status.as_str(), "policy_application", application_id)
                .before(&before)
                .after(&after),
        );
        store.commit(w).await?;
        Ok(after)
    }
}
