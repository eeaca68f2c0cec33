//! Outsourced-testing orders: an enterprise orders a lab's service; the lab quotes, receives
//! the sample, tests, records results; a colleague verifies (four eyes); the report is issued,
//! retested or revoked. The customer accepts, declines, cancels and asks for retests. Issuing
//! numbers the report and files it as an inspection record in the enterprise's quality file,
//! all in the order's transaction (`reports.rs`).

use crate::records::{OrderAction, OrderDetail, OrderRecord, ReportResult, TestResults};
use crate::reports::{
    file_inspection, mark_replaced, next_report_number, revoke_report, REPORT_TOKEN_BYTES,
};
use crate::store::{json, order_from_row, order_on, service_on, ORDER_COLS, ORDER_FROM};
use crate::{Invalid, InvoiceOf, LabsError, LabsResult, LabsService, Party};
use sqlx::Row;
use yuepin_domain::{Caller, Role, Yuan};
use yuepin_labs::{order, OrderEvent, OrderState, PersonId};
use yuepin_store::{now_text, Actor, Change};

fn order_transition(state: OrderState, event: OrderEvent) -> LabsResult<OrderState> {
    order::transition(state, event).map_err(LabsError::Illegal)
}

impl LabsService {
    /// The caller's enterprise orders `samples` samples of a service.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_order(
        &self,
        caller: &Caller,
        service_id: i64,
        samples: i64,
        note: &str,
    ) -> LabsResult<OrderRecord> {
        let enterprise_id = Self::own_enterprise(caller)?;
        self.create_order_for(caller, enterprise_id, service_id, samples, note)
            .await
    }

    /// Orders for `enterprise_id`: the enterprise itself or an administrator (demo seeding).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_order_for(
        &self,
        caller: &Caller,
        enterprise_id: i64,
        service_id: i64,
        samples: i64,
        note: &str,
    ) -> LabsResult<OrderRecord> {
        caller.require_enterprise(enterprise_id)?;
        if !(1..=10_000).contains(&samples) {
            return Err(LabsError::Invalid(Invalid::SampleCount));
        }
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let svc = service_on(&mut w.tx, service_id).await?;
        let state = OrderState::Requested;
        let now = now_text();
        let id: i64 = sqlx::query(
            "INSERT INTO lab_orders (service_id, lab_id, enterprise_id, samples, note, state, state_data, round, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8) RETURNING id",
        )
        .bind(service_id)
        .bind(svc.lab_id)
        .bind(enterprise_id)
        .bind(samples)
        .bind(note.chars().take(500).collect::<String>())
        .bind(state.name())
        .bind(json(&state)?)
        .bind(now)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get(0)?;
        w.record(
            Change::new("create", "lab_order", id).after(serde_json::json!({
                "service_id": service_id, "enterprise_id": enterprise_id, "samples": samples,
            })),
        );
        let out = order_on(&mut w.tx, id).await?;
        self.store.commit(w).await?;
        Ok(out)
    }

    /// One order, if the caller may see it (else it does not exist for them).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn order(&self, caller: &Caller, id: i64) -> LabsResult<OrderRecord> {
        let o = {
            let mut conn = self.store.pool().acquire().await?;
            order_on(&mut conn, id).await?
        };
        if self
            .can_see(caller, o.lab_id, Some(o.enterprise_id))
            .await?
        {
            Ok(o)
        } else {
            Err(LabsError::missing("order", id))
        }
    }

    /// An order with its reports.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn order_detail(&self, caller: &Caller, id: i64) -> LabsResult<OrderDetail> {
        let order = self.order(caller, id).await?;
        Ok(OrderDetail {
            reports: self.reports_of_order(id).await?,
            order,
        })
    }

    /// The caller's orders: a lab account's lab queue, an enterprise user's own orders.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn my_orders(&self, caller: &Caller) -> LabsResult<Vec<OrderRecord>> {
        if caller.role() == Some(Role::Lab) {
            let lab = self.staff_lab(caller).await?;
            return self.orders_where("o.lab_id", lab).await;
        }
        let id = Self::own_enterprise(caller)?;
        self.orders_where("o.enterprise_id", id).await
    }

    /// A lab's order queue, latest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn orders_of_lab(
        &self,
        caller: &Caller,
        lab_id: i64,
    ) -> LabsResult<Vec<OrderRecord>> {
        self.require_manage_lab(caller, lab_id).await?;
        self.orders_where("o.lab_id", lab_id).await
    }

    pub(crate) async fn orders_where(
        &self,
        column: &'static str,
        id: i64,
    ) -> LabsResult<Vec<OrderRecord>> {
        Ok(sqlx::query(&format!(
            "SELECT {ORDER_COLS} FROM {ORDER_FROM} WHERE {column} = $1 ORDER BY o.id DESC LIMIT 500"
        ))
        .bind(id)
        .fetch_all(self.store.pool())
        .await?
        .iter()
        .map(order_from_row)
        .collect::<yuepin_store::Result<_>>()?)
    }

    /// Applies an action to an order the caller sees, as the acting user: the customer's
    /// steps are the enterprise's (a regulator may cancel), all others the lab staff's.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn order_action(
        &self,
        caller: &Caller,
        id: i64,
        action: OrderAction,
    ) -> LabsResult<OrderDetail> {
        self.order(caller, id).await?;
        let role = caller.role();
        let ok = if action.by_customer() {
            role == Some(Role::Enterprise)
                || (caller.is_administrator() && matches!(action, OrderAction::Cancel))
        } else {
            role == Some(Role::Lab)
        };
        if !ok {
            return Err(LabsError::NotYourAction(if action.by_customer() {
                Party::Customer
            } else {
                Party::LabStaff
            }));
        }
        let person = caller.user_id().unwrap_or(0);
        self.apply_order_action(caller, id, person, action).await
    }

    /// Applies an action on behalf of lab person `person` (a user id): for the CLI operator and
    /// the system (demo seeding records a tester and a distinct verifier). Administrators only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn order_action_by(
        &self,
        caller: &Caller,
        id: i64,
        person: i64,
        action: OrderAction,
    ) -> LabsResult<OrderDetail> {
        caller.require_administrator()?;
        self.apply_order_action(caller, id, person, action).await
    }

    /// The state machine step with its writes. Issuing a report numbers it, stores it, marks a
    /// replaced predecessor and writes an inspection record into the enterprise's quality file
    /// — all in this one transaction.
    async fn apply_order_action(
        &self,
        caller: &Caller,
        id: i64,
        person: i64,
        action: OrderAction,
    ) -> LabsResult<OrderDetail> {
        let today = yuepin_domain::china_today();
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let o = order_on(&mut w.tx, id).await?;
        let before_state = o.state.clone();
        let person_id = PersonId(person as u64);
        let mut results = o.results.clone();
        let mut quoted = o.quoted;
        let mut issued: Option<(yuepin_labs::ReportNumber, Option<yuepin_labs::ReportNumber>)> =
            None;
        let next = match &action {
            OrderAction::Quote { amount } => {
                crate::catalogue::non_negative("amount", *amount)?;
                let s = order_transition(o.state.clone(), OrderEvent::Quote { amount: *amount })?;
                quoted = Some(*amount);
                s
            }
            OrderAction::Accept => order_transition(o.state.clone(), OrderEvent::Accept)?,
            OrderAction::Decline => order_transition(o.state.clone(), OrderEvent::Decline)?,
            OrderAction::Cancel => order_transition(o.state.clone(), OrderEvent::Cancel)?,
            OrderAction::ReceiveSample => {
                order_transition(o.state.clone(), OrderEvent::ReceiveSample)?
            }
            OrderAction::StartTesting => {
                results = None;
                order_transition(
                    o.state.clone(),
                    OrderEvent::StartTesting { tester: person_id },
                )?
            }
            OrderAction::RecordResults { results: r } => match &o.state {
                OrderState::Testing { tester, .. } if *tester == person_id => {
                    results = Some(r.clone());
                    o.state.clone()
                }
                OrderState::Testing { .. } => return Err(LabsError::NotTester),
                _ => {
                    return Err(LabsError::NotTesting {
                        state: o.state.name(),
                    })
                }
            },
            OrderAction::Verify => {
                if results.is_none() {
                    return Err(LabsError::Invalid(Invalid::NoResults));
                }
                order_transition(
                    o.state.clone(),
                    OrderEvent::Verify {
                        verifier: person_id,
                    },
                )?
            }
            OrderAction::ReturnForRework => {
                order_transition(o.state.clone(), OrderEvent::ReturnForRework)?
            }
            OrderAction::IssueReport => {
                let number = next_report_number(&mut w, o.lab_id, today).await?;
                let s = order_transition(
                    o.state.clone(),
                    OrderEvent::IssueReport {
                        report: number.clone(),
                    },
                )?;
                let replaces = match &s {
                    OrderState::ReportIssued { replaces, .. } => replaces.clone(),
                    _ => None,
                };
                issued = Some((number, replaces));
                s
            }
            OrderAction::RequestRetest => {
                order_transition(o.state.clone(), OrderEvent::RequestRetest)?
            }
            OrderAction::RevokeReport { reason } => {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(LabsError::Invalid(Invalid::RevokeReason));
                }
                let s = order_transition(
                    o.state.clone(),
                    OrderEvent::RevokeReport {
                        reason: reason.to_string(),
                    },
                )?;
                if let OrderState::ReportRevoked { report, .. } = &s {
                    revoke_report(&mut w, report, reason).await?;
                }
                s
            }
        };
        let (tester, verifier, round) = match &next {
            OrderState::Testing { tester, round, .. } => (Some(tester.0 as i64), None, *round),
            OrderState::ResultsVerified {
                tester,
                verifier,
                round,
                ..
            } => (Some(tester.0 as i64), Some(verifier.0 as i64), *round),
            OrderState::ReportIssued { round, .. } | OrderState::Retest { round, .. } => {
                (o.tester_id, o.verifier_id, *round)
            }
            _ => (o.tester_id, o.verifier_id, o.round as u32),
        };
        sqlx::query(
            "UPDATE lab_orders SET state = $1, state_data = $2, quoted_fen = $3, tester_id = $4, verifier_id = $5, round = $6, results = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(next.name())
        .bind(json(&next)?)
        .bind(quoted.map(|q| q.fen()))
        .bind(tester)
        .bind(verifier)
        .bind(i64::from(round.max(1)))
        .bind(results.as_ref().map(json).transpose()?)
        .bind(now_text())
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        w.record(
            Change::new(action.name(), "lab_order", id)
                .before(serde_json::json!({"state": before_state}))
                .after(serde_json::json!({"state": next, "results": results})),
        );
        if let Some((number, replaces)) = issued {
            let results: TestResults = results.ok_or(LabsError::Invalid(Invalid::NoResults))?;
            sqlx::query(
                "INSERT INTO lab_reports (number, order_id, lab_id, enterprise_id, issued_on, round, result, data, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'valid')",
            )
            .bind(number.to_string())
            .bind(id)
            .bind(o.lab_id)
            .bind(o.enterprise_id)
            .bind(today.to_string())
            .bind(i64::from(round))
            .bind(ReportResult::of(&results).as_str())
            .bind(json(&results)?)
            .execute(&mut *w.tx)
            .await?;
            sqlx::query("INSERT INTO lab_report_tokens (number, token) VALUES ($1, $2)")
                .bind(number.to_string())
                .bind(yuepin_store::passwords::random_token(REPORT_TOKEN_BYTES))
                .execute(&mut *w.tx)
                .await?;
            w.record(Change::new("issue", "lab_report", number.to_string()).after(&results));
            if let Some(old) = &replaces {
                mark_replaced(&mut w, old, &number).await?;
            }
            file_inspection(&self.store, &mut w, &o, &number, &results, today).await?;
        }
        let order = order_on(&mut w.tx, id).await?;
        self.store.commit(w).await?;
        Ok(OrderDetail {
            reports: self.reports_of_order(id).await?,
            order,
        })
    }

    /// Invoice of an order the caller sees: samples × price per sample, plus retest rounds
    /// (all chargeable here), or the quoted amount when the lab quoted a different price.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn order_invoice(&self, caller: &Caller, id: i64) -> LabsResult<InvoiceOf> {
        let o = self.order(caller, id).await?;
        let svc = self.service(caller, o.service_id).await?;
        let retests = u32::try_from(o.round.saturating_sub(1)).unwrap_or(0);
        let mut inv = yuepin_labs::order_invoice(
            &svc.service,
            u32::try_from(o.samples).unwrap_or(1),
            retests,
        )
        .map_err(|reason| LabsError::Rejected { part: None, reason })?;
        if let Some(q) = o.quoted {
            if q != inv.lines[0].amount {
                inv.lines[0].amount = q;
                inv.lines[0].description.push_str("（按报价）");
                inv.total = Yuan::from_fen(inv.lines.iter().map(|l| l.amount.fen()).sum());
            }
        }
        Ok(InvoiceOf { id, invoice: inv })
    }
}
