//! The policy engine on the platform (issue 4): eligibility checks with reasons and clauses
//! (enterprise facts from the store, or request facts for mergers, persons, standards and
//! instrument purchases), proactive matching over all enterprises (免申即享) with stored
//! outcomes, offers and notifications, the enterprise's intent confirmation (意愿确认),
//! applications and grants for the money measures (M8, M10, M18) with no double payment,
//! totals, what-if runs (政策沙盘) and the regulator's per-measure lists with XLSX export.
//! Pages under `/policy/…`, the API under `/api/v1/policy/…`; the CLI reuses
//! [`run_match`], [`what_if_enterprises`] and [`what_if_rows`].

use crate::page::{page_error, render, Chrome};
use crate::auth::Auth;
use crate::error::{WebError, WebResult};
use crate::i18n::Tr;
use crate::input::ApiJson;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;
use yuepin_domain::{parse_date, reference, Role, Yuan};
use yuepin_policy::model::FactType;
use yuepin_policy::{
    Engine, Evaluation, FactError, FactRow, Facts, MeasureIdx, Outcome, OutcomeKind,
    ParamOverrides, PolicySet, SubjectKind,
};
use yuepin_store::policy::{
    Application, Decision, EnterpriseFacts, FactIndex, FactScope, MatchCell, NewApplication,
    NewMatchRun, NewNotification,
};
use yuepin_store::{Actor, Store};

/// The measures that pay money, by measure id in the 74号 pack.
pub const MONEY_MEASURES: [&str; 3] = ["M8", "M10", "M18"];
/// Enterprises read from the store per batch when matching.
pub const BATCH: i64 = 5000;

/// The loaded policy set and its base engine, built once.
#[derive(Debug)]
pub struct ModuleState {
    pub set: PolicySet,
    pub engine: Engine,
    pub index: FactIndex,
}

impl ModuleState {
    pub fn new(_config: &crate::WebConfig) -> Self {
        let set = PolicySet::builtin();
        Self::with_set(set)
    }
    pub fn with_set(set: PolicySet) -> Self {
        #[allow(clippy::expect_used)]
        let engine = Engine::new(&set, &ParamOverrides::new()).expect("no overrides cannot fail");
        let index = FactIndex::new(&set);
        Self { set, engine, index }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        // API
        .route("/api/v1/policy/measures", get(api_measures))
        .route("/api/v1/policy/check", post(api_check))
        .route("/api/v1/policy/enterprises/{uscc}", get(api_enterprise))
        .route("/api/v1/policy/match", post(api_match))
        .route("/api/v1/policy/runs", get(api_runs))
        .route("/api/v1/policy/runs/{id}", get(api_run))
        .route(
            "/api/v1/policy/measures/{id}/enterprises",
            get(api_measure_listing),
        )
        .route("/api/v1/policy/measures/{id}/export.xlsx", get(export_xlsx))
        .route("/api/v1/policy/what-if", post(api_what_if))
        .route("/api/v1/policy/offers", get(api_offers))
        .route("/api/v1/policy/offers/{id}/answer", post(api_answer_offer))
        .route("/api/v1/policy/notifications", get(api_notifications))
        .route(
            "/api/v1/policy/notifications/read",
            post(api_read_notifications),
        )
        .route(
            "/api/v1/policy/applications",
            get(api_applications).post(api_apply),
        )
        .route("/api/v1/policy/applications/{id}", get(api_application))
        .route(
            "/api/v1/policy/applications/{id}/decision",
            post(api_decide),
        )
        .route("/api/v1/policy/grants", get(api_grants))
        .route("/api/v1/policy/grants/totals", get(api_totals))
        // Pages
        .route("/policy", get(page_index))
        .route("/policy/check", get(page_check))
        .route("/policy/enterprises/{uscc}", get(page_enterprise))
        .route("/policy/measures/{id}", get(page_measure))
        .route("/policy/measures/{id}/export.xlsx", get(export_xlsx))
        .route("/policy/what-if", get(page_what_if))
        .route("/policy/match", post(page_match))
        .route("/policy/notifications", get(page_notifications))
        .route("/policy/notifications/read", post(page_read_notifications))
        .route("/policy/offers/{id}", post(page_answer_offer))
        .route(
            "/policy/applications",
            get(page_applications).post(page_apply),
        )
        .route("/policy/applications/{id}/decision", post(page_decide))
        .route("/policy/grants", get(page_grants))
}

// ---------------------------------------------------------------------------------------------
// Shared helpers.

fn module(state: &AppState) -> &ModuleState {
    &state.modules.policy
}

fn parse_as_of(s: Option<&str>) -> WebResult<NaiveDate> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(crate::today()),
        Some(s) => Ok(parse_date("as_of", s)?),
    }
}

fn fact_error(e: FactError) -> WebError {
    match &e {
        FactError::Unknown { fact, .. } | FactError::Invalid { fact, .. } => {
            WebError::field(&format!("facts.{fact}"), e.to_string())
        }
        FactError::NotAnObject { .. } => WebError::field("facts", e.to_string()),
    }
}

fn engine_error(e: yuepin_policy::EngineError) -> WebError {
    match e {
        yuepin_policy::EngineError::Facts(f) => fact_error(f),
        yuepin_policy::EngineError::UnknownParameter { .. }
        | yuepin_policy::EngineError::InvalidOverride { .. } => {
            WebError::field("overrides", e.to_string())
        }
        other => WebError::field("measure", other.to_string()),
    }
}

/// Builds an engine with `name=value` overrides (empty: the base engine's settings).
pub fn engine_with(set: &PolicySet, overrides: &BTreeMap<String, String>) -> WebResult<Engine> {
    let mut o = ParamOverrides::new();
    for (k, v) in overrides {
        o = o.set(k.trim(), v.trim());
    }
    Engine::new(set, &o).map_err(engine_error)
}

/// Measure id within its pack ("M18") from a key ("gd-2023-74/M18").
pub fn measure_id(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

fn find_measure(set: &PolicySet, id: &str) -> WebResult<MeasureIdx> {
    set.find_measure(id.trim())
        .ok_or_else(|| WebError::NotFound(format!("措施 {id} 不存在 (no measure {id})")))
}

fn measures_for(set: &PolicySet, subject: SubjectKind) -> Vec<MeasureIdx> {
    set.measures()
        .iter()
        .enumerate()
        .filter(|(_, m)| m.rule(subject).is_some())
        .map(|(i, _)| i)
        .collect()
}

fn is_money_measure(set: &PolicySet, m: MeasureIdx) -> bool {
    set.measures()
        .get(m)
        .is_some_and(|m| m.pack == 0 && MONEY_MEASURES.contains(&m.id.as_str()))
}

fn outcome_code(k: OutcomeKind) -> &'static str {
    match k {
        OutcomeKind::Eligible => "eligible",
        OutcomeKind::NotEligible => "not_eligible",
        OutcomeKind::Undetermined => "undetermined",
        OutcomeKind::NotInForce => "not_in_force",
        OutcomeKind::Conflict => "conflict",
        OutcomeKind::NotApplicable => "not_applicable",
    }
}

fn money_text(fen: Option<i64>) -> String {
    fen.map(|f| Yuan::from_fen(f).to_zh())
        .unwrap_or_else(|| "—".into())
}

fn parse_money(field: &str, s: &str) -> WebResult<i64> {
    let y = Yuan::parse(s).map_err(|e| WebError::field(field, e.reason))?;
    if y.fen() <= 0 {
        return Err(WebError::field(
            field,
            "金额必须大于0 (amount must be positive)",
        ));
    }
    Ok(y.fen())
}

async fn enterprise_by_uscc(state: &AppState, uscc: &str) -> WebResult<(i64, String)> {
    let ids = state.store.enterprise_ids(&[uscc.trim()]).await?;
    ids.get(uscc.trim())
        .map(|id| (*id, uscc.trim().to_string()))
        .ok_or_else(|| WebError::NotFound(format!("企业 {uscc} 不存在 (no such enterprise)")))
}

/// The enterprise a signed-in enterprise user belongs to.
fn own_enterprise(auth: &Auth) -> WebResult<i64> {
    let u = auth.require_role(&[Role::Enterprise])?;
    u.enterprise_id
        .ok_or_else(|| WebError::Forbidden("账号未绑定企业 (account has no enterprise)".into()))
}

/// Merges request-supplied facts over the platform's (request wins).
fn merged_facts(base: &EnterpriseFacts, extra: Option<&Map<String, Value>>) -> Facts {
    let mut f = base.to_facts();
    if let Some(extra) = extra {
        for (k, v) in extra {
            f.values.insert(k.clone(), v.clone());
        }
    }
    f
}

/// Every measure with an enterprise rule, explained, for one enterprise.
pub async fn enterprise_evaluations(
    store: &Store,
    m: &ModuleState,
    enterprise_id: i64,
    as_of: NaiveDate,
    extra: Option<&Map<String, Value>>,
) -> WebResult<(EnterpriseFacts, Vec<Evaluation>)> {
    let ef = store.policy_enterprise_facts(as_of, enterprise_id).await?;
    let row = match extra {
        Some(x) if !x.is_empty() => m
            .engine
            .row(&merged_facts(&ef, Some(x)))
            .map_err(fact_error)?,
        _ => m.index.row(&ef),
    };
    let snap = m.engine.snapshot(as_of);
    let evals = measures_for(&m.set, SubjectKind::Enterprise)
        .into_iter()
        .filter_map(|i| snap.explain(i, &row))
        .collect();
    Ok((ef, evals))
}

/// Evaluates request facts for one measure or all measures of the subject kind.
pub fn check_facts(
    m: &ModuleState,
    facts: &Facts,
    as_of: NaiveDate,
    measure: Option<&str>,
) -> WebResult<Vec<Evaluation>> {
    let row = m.engine.row(facts).map_err(fact_error)?;
    let snap = m.engine.snapshot(as_of);
    let list = match measure.map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => {
            let i = find_measure(&m.set, id)?;
            if m.set.measures()[i].rule(facts.subject).is_none() {
                return Err(WebError::field(
                    "measure",
                    format!(
                        "{id} 对{}没有资格条件 (no eligibility rule for {})",
                        facts.subject.label().zh,
                        facts.subject
                    ),
                ));
            }
            vec![i]
        }
        None => measures_for(&m.set, facts.subject),
    };
    Ok(list
        .into_iter()
        .filter_map(|i| snap.explain(i, &row))
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Matching (免申即享) and what-if (政策沙盘): shared by the API, the pages and the CLI.

/// What a stored match run did, with timings.
#[derive(Debug, Clone, Serialize)]
pub struct MatchReport {
    pub run_id: i64,
    pub as_of: NaiveDate,
    pub enterprises: i64,
    pub measures: usize,
    pub evaluations: i64,
    pub eligible: i64,
    pub undetermined: i64,
    pub offers: usize,
    pub notified: usize,
    /// measure key → outcome → count.
    pub counts: BTreeMap<String, BTreeMap<String, i64>>,
    pub load_secs: f64,
    pub eval_secs: f64,
    pub store_secs: f64,
}

/// Matches every enterprise in the store as of `as_of`, stores the outcomes (eligible and
/// undetermined cells with their reasons; per-measure counts of all), makes offers for eligible
/// entitlements and notifies each enterprise with something eligible.
pub async fn run_match(
    store: &Store,
    m: &ModuleState,
    as_of: NaiveDate,
    overrides: &BTreeMap<String, String>,
    actor: Actor,
) -> WebResult<MatchReport> {
    let engine = engine_with(&m.set, overrides)?;
    let set = engine.policy_set();
    let snap = engine.snapshot(as_of);
    let cols = measures_for(set, SubjectKind::Enterprise);
    let mut counts = vec![[0i64; 6]; cols.len()];
    let mut run = NewMatchRun {
        as_of: as_of.to_string(),
        overrides: json!(overrides),
        ..Default::default()
    };
    let (mut load, mut eval) = (0f64, 0f64);
    let mut after = 0i64;
    let mut reasons = Vec::new();
    loop {
        let t = Instant::now();
        let batch = store
            .policy_facts(
                as_of,
                FactScope::After {
                    after,
                    limit: BATCH,
                },
            )
            .await?;
        load += t.elapsed().as_secs_f64();
        let Some(last) = batch.last() else { break };
        after = last.id;
        let t = Instant::now();
        for ef in &batch {
            let row = m.index.row(ef);
            run.enterprises += 1;
            let mut eligible = Vec::new();
            let mut offers = 0usize;
            for (c, &mi) in cols.iter().enumerate() {
                let kind = snap.outcome_with_reasons(mi, &row, &mut reasons);
                counts[c][kind as usize] += 1;
                run.evaluations += 1;
                let measure = &set.measures()[mi];
                match kind {
                    OutcomeKind::Eligible => {
                        let amount = measure
                            .benefits
                            .iter()
                            .filter_map(|b| snap.benefit_amount(b, &row))
                            .reduce(|a, b| a.saturating_add(b));
                        run.cells.push(MatchCell {
                            enterprise_id: ef.id,
                            measure: measure.key.clone(),
                            outcome: "eligible".into(),
                            reasons: "[]".into(),
                            amount_fen: amount,
                        });
                        eligible.push(measure.id.clone());
                        if !measure.programme && !measure.benefits.is_empty() {
                            run.offers.push((ef.id, measure.key.clone(), amount));
                            offers += 1;
                        }
                    }
                    OutcomeKind::Undetermined => {
                        let missing: Vec<String> = match snap.explain(mi, &row).map(|e| e.outcome) {
                            Some(Outcome::Undetermined { missing }) => {
                                missing.into_iter().map(|x| x.fact).collect()
                            }
                            _ => vec![],
                        };
                        run.cells.push(MatchCell {
                            enterprise_id: ef.id,
                            measure: measure.key.clone(),
                            outcome: "undetermined".into(),
                            reasons: json!(missing).to_string(),
                            amount_fen: None,
                        });
                    }
                    _ => {}
                }
            }
            if !eligible.is_empty() {
                run.notifications.push(NewNotification {
                    enterprise_id: ef.id,
                    title_zh: format!("政策匹配结果({as_of}):符合{}项措施", eligible.len()),
                    title_en: format!("Policy match ({as_of}): eligible for {} measures", eligible.len()),
                    body_zh: format!(
                        "根据平台数据,贵企业符合措施 {}。其中{}项可免申即享,请在“政策匹配”页面确认意愿后办理。",
                        eligible.join("、"),
                        offers
                    ),
                    body_en: format!(
                        "From the platform's data your enterprise is eligible for {}. {} can be granted without applying: confirm your intent on the Policy match page.",
                        eligible.join(", "),
                        offers
                    ),
                    link: format!("/policy/enterprises/{}", ef.uscc),
                });
            }
        }
        eval += t.elapsed().as_secs_f64();
    }
    for (c, &mi) in cols.iter().enumerate() {
        for (k, n) in counts[c].iter().enumerate() {
            if *n > 0 {
                let kind = OUTCOMES[k];
                run.counts.push((
                    set.measures()[mi].key.clone(),
                    outcome_code(kind).into(),
                    *n,
                ));
            }
        }
    }
    let t = Instant::now();
    let run_id = store.policy_save_match(actor, &run).await?;
    let store_secs = t.elapsed().as_secs_f64();
    let mut by_measure: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for (mk, o, n) in &run.counts {
        by_measure
            .entry(mk.clone())
            .or_default()
            .insert(o.clone(), *n);
    }
    let eligible = run.cells.iter().filter(|c| c.outcome == "eligible").count() as i64;
    Ok(MatchReport {
        run_id,
        as_of,
        enterprises: run.enterprises,
        measures: cols.len(),
        evaluations: run.evaluations,
        eligible,
        undetermined: run.cells.len() as i64 - eligible,
        offers: run.offers.len(),
        notified: run.notifications.len(),
        counts: by_measure,
        load_secs: load,
        eval_secs: eval,
        store_secs,
    })
}

const OUTCOMES: [OutcomeKind; 6] = [
    OutcomeKind::Eligible,
    OutcomeKind::NotEligible,
    OutcomeKind::Undetermined,
    OutcomeKind::NotInForce,
    OutcomeKind::Conflict,
    OutcomeKind::NotApplicable,
];

/// One subject whose eligibility changed under the scenario.
#[derive(Debug, Clone, Serialize)]
pub struct WhatIfEntry {
    pub subject: String,
    pub name: String,
    pub measure: String,
    pub before: String,
    pub after: String,
    pub amount_delta_fen: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WhatIfMeasure {
    pub measure: String,
    pub title_zh: String,
    pub title_en: String,
    pub eligible_before: i64,
    pub eligible_after: i64,
    pub newly_eligible: i64,
    pub no_longer_eligible: i64,
    pub amount_before_fen: i64,
    pub amount_after_fen: i64,
}

/// The difference a set of parameter overrides makes.
#[derive(Debug, Clone, Serialize)]
pub struct WhatIfReport {
    pub as_of: NaiveDate,
    pub subject: SubjectKind,
    pub overrides: BTreeMap<String, String>,
    pub subjects: i64,
    pub measures: Vec<WhatIfMeasure>,
    /// At most [`WHAT_IF_LIST`] entries each; the counts are in `measures`.
    pub newly_eligible: Vec<WhatIfEntry>,
    pub no_longer_eligible: Vec<WhatIfEntry>,
    pub eligible_before: i64,
    pub eligible_after: i64,
    pub amount_delta_fen: i64,
}

pub const WHAT_IF_LIST: usize = 500;

struct WhatIfAcc<'a> {
    before: yuepin_policy::Snapshot<'a>,
    after: yuepin_policy::Snapshot<'a>,
    cols: Vec<MeasureIdx>,
    report: WhatIfReport,
}

impl WhatIfAcc<'_> {
    fn add(&mut self, subject: String, name: &str, row: &FactRow) {
        self.report.subjects += 1;
        let set = self.before.engine().policy_set();
        for (c, &mi) in self.cols.iter().enumerate() {
            let measure = &set.measures()[mi];
            let amount = |snap: &yuepin_policy::Snapshot<'_>, k: OutcomeKind| -> i64 {
                if k != OutcomeKind::Eligible {
                    return 0;
                }
                measure
                    .benefits
                    .iter()
                    .filter_map(|b| snap.benefit_amount(b, row))
                    .fold(0i64, |a, b| a.saturating_add(b))
            };
            let (b, a) = (self.before.outcome(mi, row), self.after.outcome(mi, row));
            let (ab, aa) = (amount(&self.before, b), amount(&self.after, a));
            let s = &mut self.report.measures[c];
            s.amount_before_fen = s.amount_before_fen.saturating_add(ab);
            s.amount_after_fen = s.amount_after_fen.saturating_add(aa);
            self.report.amount_delta_fen = self.report.amount_delta_fen.saturating_add(aa - ab);
            if b == OutcomeKind::Eligible {
                s.eligible_before += 1;
                self.report.eligible_before += 1;
            }
            if a == OutcomeKind::Eligible {
                s.eligible_after += 1;
                self.report.eligible_after += 1;
            }
            let entry = || WhatIfEntry {
                subject: subject.clone(),
                name: name.to_string(),
                measure: measure.id.clone(),
                before: outcome_code(b).into(),
                after: outcome_code(a).into(),
                amount_delta_fen: aa - ab,
            };
            if a == OutcomeKind::Eligible && b != OutcomeKind::Eligible {
                s.newly_eligible += 1;
                if self.report.newly_eligible.len() < WHAT_IF_LIST {
                    self.report.newly_eligible.push(entry());
                }
            } else if b == OutcomeKind::Eligible && a != OutcomeKind::Eligible {
                s.no_longer_eligible += 1;
                if self.report.no_longer_eligible.len() < WHAT_IF_LIST {
                    self.report.no_longer_eligible.push(entry());
                }
            }
        }
    }
}

fn what_if_acc<'a>(
    base: &'a Engine,
    scenario: &'a Engine,
    subject: SubjectKind,
    as_of: NaiveDate,
    overrides: &BTreeMap<String, String>,
) -> WhatIfAcc<'a> {
    let set = base.policy_set();
    let cols = measures_for(set, subject);
    let measures = cols
        .iter()
        .map(|&i| {
            let m = &set.measures()[i];
            WhatIfMeasure {
                measure: m.id.clone(),
                title_zh: m.title.zh.clone(),
                title_en: m.title.en.clone(),
                eligible_before: 0,
                eligible_after: 0,
                newly_eligible: 0,
                no_longer_eligible: 0,
                amount_before_fen: 0,
                amount_after_fen: 0,
            }
        })
        .collect();
    WhatIfAcc {
        before: base.snapshot(as_of),
        after: scenario.snapshot(as_of),
        cols,
        report: WhatIfReport {
            as_of,
            subject,
            overrides: overrides.clone(),
            subjects: 0,
            measures,
            newly_eligible: vec![],
            no_longer_eligible: vec![],
            eligible_before: 0,
            eligible_after: 0,
            amount_delta_fen: 0,
        },
    }
}

/// 政策沙盘 over every enterprise in the store (streamed in batches).
pub async fn what_if_enterprises(
    store: &Store,
    m: &ModuleState,
    overrides: &BTreeMap<String, String>,
    as_of: NaiveDate,
) -> WebResult<WhatIfReport> {
    let scenario = engine_with(&m.set, overrides)?;
    let mut acc = what_if_acc(
        &m.engine,
        &scenario,
        SubjectKind::Enterprise,
        as_of,
        overrides,
    );
    let mut after = 0i64;
    loop {
        let batch = store
            .policy_facts(
                as_of,
                FactScope::After {
                    after,
                    limit: BATCH,
                },
            )
            .await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        for ef in &batch {
            acc.add(ef.uscc.clone(), &ef.name, &m.index.row(ef));
        }
    }
    Ok(acc.report)
}

/// 政策沙盘 over request subjects (e.g. mergers from a file): `(label, facts)` pairs.
pub fn what_if_rows(
    m: &ModuleState,
    overrides: &BTreeMap<String, String>,
    subject: SubjectKind,
    as_of: NaiveDate,
    subjects: &[(String, Facts)],
) -> WebResult<WhatIfReport> {
    let scenario = engine_with(&m.set, overrides)?;
    let mut acc = what_if_acc(&m.engine, &scenario, subject, as_of, overrides);
    for (i, (label, facts)) in subjects.iter().enumerate() {
        if facts.subject != subject {
            return Err(WebError::field(
                &format!("subjects[{i}]"),
                format!("应为 {subject} (expected subject kind {subject})"),
            ));
        }
        let row = m
            .engine
            .row(facts)
            .map_err(|e| WebError::field(&format!("subjects[{i}]"), e.to_string()))?;
        acc.add(label.clone(), label, &row);
    }
    Ok(acc.report)
}

// ---------------------------------------------------------------------------------------------
// Applications: what a confirmed offer or an application pays for.

/// Normalises the reference of a payment: a standard's code (M8), an award (M10), financing (M18).
fn normalise_reference(measure: &str, reference: &str) -> String {
    let r: String = reference.split_whitespace().collect::<Vec<_>>().join(" ");
    if measure == "M8" {
        r.to_uppercase()
    } else {
        r
    }
}

/// The default reference for an offer's application where the platform can name it: the award
/// held on the as-of date (M10), or the enterprise's financing in the as-of year (M18). M8
/// needs the standard's code from the enterprise.
async fn default_reference(
    store: &Store,
    enterprise_id: i64,
    uscc: &str,
    measure: &str,
    as_of: NaiveDate,
) -> WebResult<Option<String>> {
    use chrono::Datelike;
    Ok(match measure {
        "M18" => Some(format!("{uscc}:quality-financing:{}", as_of.year())),
        "M10" => {
            let rec = store.enterprise_by_id(enterprise_id).await?;
            rec.enterprise
                .designations
                .iter()
                .filter(|d| d.active_on(as_of))
                .find(|d| {
                    matches!(
                        d.kind.code(),
                        "china_quality_award"
                            | "china_quality_award_nomination"
                            | "guangdong_quality_award"
                    )
                })
                .map(|d| format!("{uscc}:{}:{}", d.kind.code(), d.awarded_on))
        }
        _ => None,
    })
}

#[derive(Debug, Deserialize, Default)]
pub struct ApplyInput {
    /// Enterprise code; enterprise users may omit it (their own).
    #[serde(default)]
    pub uscc: String,
    pub measure: String,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub as_of: String,
}

/// An enterprise applies for a money measure; the platform checks eligibility first (an
/// application for a measure the enterprise is not eligible for is refused with the reasons).
async fn apply(state: &AppState, auth: &Auth, input: ApplyInput) -> WebResult<Application> {
    let own = own_enterprise(auth)?;
    let m = module(state);
    let mi = find_measure(&m.set, &input.measure)?;
    if !is_money_measure(&m.set, mi) {
        return Err(WebError::field(
            "measure",
            "只有资金类措施(M8、M10、M18)需要申请 (only M8, M10 and M18 take applications)",
        ));
    }
    if !input.uscc.trim().is_empty() {
        let (id, _) = enterprise_by_uscc(state, &input.uscc).await?;
        if id != own {
            return Err(WebError::Forbidden(
                "无权访问该企业的数据 (not your enterprise)".into(),
            ));
        }
    }
    let as_of = parse_as_of(Some(&input.as_of))?;
    let (ef, evals) = enterprise_evaluations(&state.store, m, own, as_of, None).await?;
    let key = &m.set.measures()[mi].key;
    let ev = evals.iter().find(|e| &e.measure == key);
    if let Some(ev) = ev.filter(|e| !matches!(e.outcome, Outcome::Eligible)) {
        let why: Vec<String> = match &ev.outcome {
            Outcome::NotEligible { failed } => failed
                .iter()
                .map(|c| format!("{} ({})", c.label.zh, c.clause.quote))
                .collect(),
            Outcome::Undetermined { missing } => missing
                .iter()
                .map(|x| format!("缺少 {}", x.label.zh))
                .collect(),
            _ => vec![ev.outcome_label.zh.clone()],
        };
        return Err(WebError::field(
            "measure",
            format!(
                "不符合{}的条件: {} (not eligible)",
                measure_id(key),
                why.join("; ")
            ),
        ));
    }
    let mid = measure_id(key).to_string();
    let reference = match input.reference.trim() {
        "" => default_reference(&state.store, own, &ef.uscc, &mid, as_of)
            .await?
            .ok_or_else(|| {
                WebError::field(
                    "reference",
                    "请填写资助对象(如国际标准编号) (name what is paid for, e.g. the standard's code)",
                )
            })?,
        r => normalise_reference(&mid, r),
    };
    let amount = match input.amount.trim() {
        "" => None,
        a => Some(parse_money("amount", a)?),
    };
    Ok(state
        .store
        .policy_apply(
            auth.actor(),
            &NewApplication {
                enterprise_id: own,
                measure: key.clone(),
                reference: reference.chars().take(200).collect(),
                offer_id: None,
                amount_requested_fen: amount,
                note: input.note.chars().take(1000).collect(),
            },
        )
        .await?)
}

#[derive(Debug, Deserialize, Default)]
pub struct AnswerInput {
    /// `confirm` or `decline`.
    pub decision: String,
    #[serde(default)]
    pub reference: String,
}

async fn answer_offer(
    state: &AppState,
    auth: &Auth,
    offer_id: i64,
    input: AnswerInput,
) -> WebResult<Value> {
    let own = own_enterprise(auth)?;
    let offer = state.store.policy_offer(offer_id).await?;
    if offer.enterprise_id != own {
        return Err(WebError::NotFound(format!("offer #{offer_id}")));
    }
    let confirm = match input.decision.trim() {
        "confirm" => true,
        "decline" => false,
        _ => {
            return Err(WebError::field(
                "decision",
                "应为 confirm 或 decline (confirm or decline)",
            ));
        }
    };
    let m = module(state);
    let application = match m.set.find_measure(&offer.measure) {
        Some(mi) if confirm && is_money_measure(&m.set, mi) => {
            let mid = measure_id(&offer.measure).to_string();
            let as_of = parse_as_of(Some(&offer.as_of))?;
            let rec = state.store.enterprise_by_id(own).await?;
            let reference = match input.reference.trim() {
                "" => default_reference(&state.store, own, rec.enterprise.uscc.as_str(), &mid, as_of)
                    .await?
                    .ok_or_else(|| {
                        WebError::field(
                            "reference",
                            "请填写资助对象(如国际标准编号) (name what is paid for, e.g. the standard's code)",
                        )
                    })?,
                r => normalise_reference(&mid, r),
            };
            Some(NewApplication {
                enterprise_id: own,
                measure: offer.measure.clone(),
                reference: reference.chars().take(200).collect(),
                offer_id: Some(offer_id),
                amount_requested_fen: offer.amount_fen,
                note: "免申即享:企业确认意愿 (confirmed offer)".into(),
            })
        }
        _ => None,
    };
    let (offer, app) = state
        .store
        .policy_answer_offer(auth.actor(), offer_id, confirm, application)
        .await?;
    Ok(json!({"offer": offer, "application": app}))
}

#[derive(Debug, Deserialize, Default)]
pub struct DecisionInput {
    /// `approve` or `reject`.
    pub decision: String,
    #[serde(default)]
    pub reason: String,
    /// The amount granted (required to approve), e.g. "50万元".
    #[serde(default)]
    pub amount: String,
    /// Budget year of the grant (default: this year).
    #[serde(default)]
    pub year: Option<i64>,
}

async fn decide(
    state: &AppState,
    auth: &Auth,
    id: i64,
    input: DecisionInput,
) -> WebResult<Application> {
    auth.require_role(&[Role::Regulator])?;
    let reason: String = input.reason.trim().chars().take(1000).collect();
    let decision = match input.decision.trim() {
        "approve" => {
            let app = state.store.policy_application(id).await?;
            let amount = match input.amount.trim() {
                "" => app.amount_requested_fen.ok_or_else(|| {
                    WebError::field("amount", "请填写资助金额 (enter the amount granted)")
                })?,
                a => parse_money("amount", a)?,
            };
            // M18: the financing cap of the text (dated parameter).
            let m = module(state);
            if measure_id(&app.measure) == "M18" {
                let snap = m.engine.snapshot(crate::today());
                if let Some(yuepin_policy::model::Scalar::Money(cap)) =
                    snap.parameter_value("m18_financing_cap")
                {
                    if amount > cap {
                        return Err(WebError::field(
                            "amount",
                            format!(
                                "超过融资额度上限{} (over the cap of {})",
                                Yuan::from_fen(cap).to_zh(),
                                Yuan::from_fen(cap).to_zh()
                            ),
                        ));
                    }
                }
            }
            use chrono::Datelike;
            let year = input
                .year
                .unwrap_or_else(|| i64::from(crate::today().year()));
            if !(2000..=2100).contains(&year) {
                return Err(WebError::field("year", "年份无效 (invalid year)"));
            }
            Decision::Approve {
                amount_fen: amount,
                year,
                reason,
            }
        }
        "reject" => {
            if reason.is_empty() {
                return Err(WebError::field(
                    "reason",
                    "驳回须说明理由 (a rejection needs a reason)",
                ));
            }
            Decision::Reject { reason }
        }
        _ => {
            return Err(WebError::field(
                "decision",
                "应为 approve 或 reject (approve or reject)",
            ));
        }
    };
    Ok(state
        .store
        .policy_decide(auth.actor(), id, &decision)
        .await?)
}

/// Applications visible to the caller: the regulator's all, an enterprise user's own.
async fn visible_applications(
    state: &AppState,
    auth: &Auth,
    status: Option<&str>,
) -> WebResult<Vec<Application>> {
    let u = auth.require_user()?;
    let scope = match u.role {
        Role::Regulator => None,
        Role::Enterprise => Some(own_enterprise(auth)?),
        _ => return Err(WebError::Forbidden("无权查看 (not allowed)".into())),
    };
    Ok(state.store.policy_applications(scope, status, 500).await?)
}

// ---------------------------------------------------------------------------------------------
// API handlers.

async fn api_measures(
    State(state): State<AppState>,
    Query(q): Query<AsOfQuery>,
) -> WebResult<Json<Value>> {
    let m = module(&state);
    let as_of = parse_as_of(q.as_of.as_deref())?;
    let snap = m.engine.snapshot(as_of);
    let list: Vec<Value> = m
        .set
        .measures()
        .iter()
        .map(|x| {
            json!({
                "key": x.key, "id": x.id, "number": x.number, "group": x.group, "title": x.title,
                "programme": x.programme, "responsible": x.responsible,
                "in_force": x.in_force, "in_force_on_as_of": x.in_force.contains(as_of),
                "subjects": x.rules.iter().map(|r| r.subject).collect::<Vec<_>>(),
                "money": MONEY_MEASURES.contains(&x.id.as_str()) && x.pack == 0,
                "clause_text": x.clause_text,
                "benefits": x.benefits.iter().map(|b| json!({"kind": b.kind, "label": b.label, "clause": b.clause})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let params: Vec<Value> = m
        .set
        .parameters()
        .iter()
        .map(|p| {
            json!({"name": p.name, "label": p.label, "measure": p.measure, "clause": p.clause,
                   "value": snap.parameter_value(&p.name).map(|v| v.display()), "values": p.values})
        })
        .collect();
    Ok(Json(
        json!({"as_of": as_of, "packs": m.set.packs(), "measures": list, "parameters": params}),
    ))
}

#[derive(Debug, Deserialize)]
struct CheckInput {
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    facts: Option<Value>,
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    measure: Option<String>,
    /// Enterprise code: its facts from the platform (request facts are merged over them).
    #[serde(default)]
    enterprise: Option<String>,
}

async fn api_check(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<CheckInput>,
) -> WebResult<Json<Value>> {
    let m = module(&state);
    let as_of = parse_as_of(input.as_of.as_deref())?;
    let subject = match input.subject.as_deref().map(str::trim) {
        None | Some("") => SubjectKind::Enterprise,
        Some(s) => SubjectKind::parse(s).ok_or_else(|| {
            WebError::field(
                "subject",
                "应为 enterprise、merger、person、standard 或 instrument_purchase",
            )
        })?,
    };
    let extra = match input.facts {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o,
        Some(_) => {
            return Err(WebError::field(
                "facts",
                "facts 应为JSON对象 (facts must be an object)",
            ));
        }
    };
    if let Some(code) = input.enterprise.as_deref().filter(|s| !s.trim().is_empty()) {
        if subject != SubjectKind::Enterprise {
            return Err(WebError::field(
                "enterprise",
                "仅适用于企业主体 (only for subject enterprise)",
            ));
        }
        let (id, _) = enterprise_by_uscc(&state, code).await?;
        auth.require_read_enterprise(id)?;
        let ef = state.store.policy_enterprise_facts(as_of, id).await?;
        let facts = merged_facts(&ef, Some(&extra));
        let evals = check_facts(m, &facts, as_of, input.measure.as_deref())?;
        return Ok(Json(
            json!({"as_of": as_of, "subject": subject, "enterprise": ef.uscc, "facts": facts.values, "evaluations": evals}),
        ));
    }
    let facts = Facts::from_json(subject, Value::Object(extra)).map_err(fact_error)?;
    let evals = check_facts(m, &facts, as_of, input.measure.as_deref())?;
    Ok(Json(
        json!({"as_of": as_of, "subject": subject, "evaluations": evals}),
    ))
}

#[derive(Debug, Deserialize, Default)]
struct AsOfQuery {
    #[serde(default)]
    as_of: Option<String>,
}

/// What an enterprise qualifies for, might qualify for (with the facts to provide) and why not.
#[derive(Debug, Serialize)]
struct EnterpriseMatches {
    uscc: String,
    name: String,
    as_of: NaiveDate,
    facts: Map<String, Value>,
    eligible: Vec<Evaluation>,
    undetermined: Vec<Evaluation>,
    not_eligible: Vec<Evaluation>,
    other: Vec<Evaluation>,
    latest_run: Option<yuepin_store::policy::MatchRun>,
    offers: Vec<yuepin_store::policy::Offer>,
}

async fn enterprise_matches(
    state: &AppState,
    auth: &Auth,
    uscc: &str,
    as_of: Option<&str>,
) -> WebResult<EnterpriseMatches> {
    auth.require_user()?;
    let (id, _) = enterprise_by_uscc(state, uscc).await?;
    auth.require_read_enterprise(id)?;
    let latest = state.store.policy_latest_run().await?;
    // Default date: the latest match run's (so the page shows what the offers were based on).
    let as_of = match as_of.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse_as_of(Some(s))?,
        None => match &latest {
            Some(r) => parse_as_of(Some(&r.as_of))?,
            None => crate::today(),
        },
    };
    let (ef, evals) = enterprise_evaluations(&state.store, module(state), id, as_of, None).await?;
    let mut out = EnterpriseMatches {
        uscc: ef.uscc.clone(),
        name: ef.name.clone(),
        as_of,
        facts: ef.to_facts().values,
        eligible: vec![],
        undetermined: vec![],
        not_eligible: vec![],
        other: vec![],
        latest_run: latest,
        offers: state.store.policy_offers_of(id).await?,
    };
    for e in evals {
        match e.outcome {
            Outcome::Eligible => out.eligible.push(e),
            Outcome::Undetermined { .. } => out.undetermined.push(e),
            Outcome::NotEligible { .. } => out.not_eligible.push(e),
            _ => out.other.push(e),
        }
    }
    Ok(out)
}

async fn api_enterprise(
    State(state): State<AppState>,
    auth: Auth,
    Path(uscc): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> WebResult<Json<Value>> {
    let r = enterprise_matches(&state, &auth, &uscc, q.as_of.as_deref()).await?;
    Ok(Json(json!(r)))
}

#[derive(Debug, Deserialize, Default)]
struct MatchInput {
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    overrides: BTreeMap<String, String>,
}

async fn api_match(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<MatchInput>,
) -> WebResult<Response> {
    auth.require_role(&[Role::Regulator])?;
    let as_of = parse_as_of(input.as_of.as_deref())?;
    let report = run_match(
        &state.store,
        module(&state),
        as_of,
        &input.overrides,
        auth.actor(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!(report))).into_response())
}

async fn api_runs(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    auth.require_role(&[Role::Regulator])?;
    Ok(Json(json!({"runs": state.store.policy_runs(100).await?})))
}

async fn api_run(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    auth.require_role(&[Role::Regulator])?;
    let run = state.store.policy_run(id).await?;
    let counts: Vec<Value> = state
        .store
        .policy_run_counts(id)
        .await?
        .into_iter()
        .map(|(m, o, n)| json!({"measure": m, "outcome": o, "count": n}))
        .collect();
    Ok(Json(json!({"run": run, "counts": counts})))
}

#[derive(Debug, Deserialize, Default)]
struct ListingQuery {
    #[serde(default)]
    run: Option<i64>,
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    page: Option<i64>,
}

struct Listing {
    run: yuepin_store::policy::MatchRun,
    measure: MeasureIdx,
    outcome: String,
    items: Vec<yuepin_store::policy::MeasureListing>,
}

async fn measure_listing(
    state: &AppState,
    auth: &Auth,
    id: &str,
    q: &ListingQuery,
    page_size: i64,
) -> WebResult<Listing> {
    auth.require_role(&[Role::Regulator])?;
    let m = module(state);
    let mi = find_measure(&m.set, id)?;
    let run = match q.run {
        Some(r) => state.store.policy_run(r).await?,
        None => state.store.policy_latest_run().await?.ok_or_else(|| {
            WebError::NotFound(
                "尚未运行政策匹配 (no match run yet: run yuepin policy match)".into(),
            )
        })?,
    };
    let outcome = match q.outcome.as_deref().map(str::trim) {
        None | Some("") | Some("eligible") => "eligible",
        Some("undetermined") => "undetermined",
        Some(_) => return Err(WebError::field("outcome", "应为 eligible 或 undetermined")),
    };
    let page = q.page.unwrap_or(1).clamp(1, 1_000_000);
    let items = state
        .store
        .policy_measure_listing(
            run.id,
            &m.set.measures()[mi].key,
            outcome,
            (page - 1) * page_size.max(0),
            page_size,
        )
        .await?;
    Ok(Listing {
        run,
        measure: mi,
        outcome: outcome.into(),
        items,
    })
}

async fn api_measure_listing(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<ListingQuery>,
) -> WebResult<Json<Value>> {
    let l = measure_listing(&state, &auth, &id, &q, 500).await?;
    let m = &module(&state).set.measures()[l.measure];
    Ok(Json(
        json!({"run": l.run, "measure": m.key, "title": m.title, "outcome": l.outcome, "enterprises": l.items}),
    ))
}

/// XLSX of the enterprises listed under a measure (all of them, not one page).
async fn export_xlsx(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<ListingQuery>,
) -> WebResult<Response> {
    use rust_xlsxwriter::{Format, Workbook};
    let l = measure_listing(&state, &auth, &id, &q, 0).await?;
    let m = &module(&state).set.measures()[l.measure];
    let xerr = |e: rust_xlsxwriter::XlsxError| WebError::Internal(format!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name(m.id.as_str()).map_err(xerr)?;
    ws.write_string(
        0,
        0,
        format!("{} {} — {} ({})", m.id, m.title.zh, l.outcome, l.run.as_of),
    )
    .map_err(xerr)?;
    let headers = [
        "统一社会信用代码 USCC",
        "企业名称 Name",
        "地市 City",
        "行业大类 Division",
        "结果 Outcome",
        "待补充事实 Facts to provide",
        "金额(元) Amount (yuan)",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(1, c as u16, *h, &bold)
            .map_err(xerr)?;
    }
    for (i, it) in l.items.iter().enumerate() {
        let r = (i + 2) as u32;
        let city = reference::find_city(&it.city)
            .map(|c| c.name_zh.clone())
            .unwrap_or_else(|| it.city.clone());
        ws.write_string(r, 0, &it.uscc).map_err(xerr)?;
        ws.write_string(r, 1, &it.name).map_err(xerr)?;
        ws.write_string(r, 2, &city).map_err(xerr)?;
        ws.write_string(r, 3, format!("{:02}", it.division))
            .map_err(xerr)?;
        ws.write_string(r, 4, &it.outcome).map_err(xerr)?;
        let missing = it
            .reasons
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        ws.write_string(r, 5, missing).map_err(xerr)?;
        if let Some(fen) = it.amount_fen {
            ws.write_string(r, 6, Yuan::from_fen(fen).to_string())
                .map_err(xerr)?;
        }
    }
    let bytes = wb.save_to_buffer().map_err(xerr)?;
    let name = format!("policy-{}-{}-run{}.xlsx", m.id, l.outcome, l.run.id);
    Ok((
        [
            (
                "content-type",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                "content-disposition",
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct WhatIfInput {
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    overrides: BTreeMap<String, String>,
    /// Subject kind of `subjects` (default: the store's enterprises).
    #[serde(default)]
    subject: Option<String>,
    /// Request subjects as fact objects; absent: every enterprise in the store.
    #[serde(default)]
    subjects: Option<Vec<Value>>,
}

async fn api_what_if(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<WhatIfInput>,
) -> WebResult<Json<Value>> {
    auth.require_role(&[Role::Regulator])?;
    let as_of = parse_as_of(input.as_of.as_deref())?;
    let m = module(&state);
    if input.overrides.is_empty() {
        return Err(WebError::field(
            "overrides",
            "至少设置一个参数 (set at least one parameter)",
        ));
    }
    let report = match input.subjects {
        None => what_if_enterprises(&state.store, m, &input.overrides, as_of).await?,
        Some(list) => {
            let subject = input
                .subject
                .as_deref()
                .and_then(SubjectKind::parse)
                .ok_or_else(|| {
                    WebError::field("subject", "请指定主体类型 (name the subject kind)")
                })?;
            if list.len() > 100_000 {
                return Err(WebError::field(
                    "subjects",
                    "最多100000个 (at most 100,000)",
                ));
            }
            let subjects = list
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    Facts::from_json(subject, v)
                        .map(|f| (format!("#{i}"), f))
                        .map_err(|e| WebError::field(&format!("subjects[{i}]"), e.to_string()))
                })
                .collect::<WebResult<Vec<_>>>()?;
            what_if_rows(m, &input.overrides, subject, as_of, &subjects)?
        }
    };
    Ok(Json(json!(report)))
}

#[derive(Debug, Deserialize, Default)]
struct EnterpriseQuery {
    #[serde(default)]
    enterprise: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

async fn api_offers(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<EnterpriseQuery>,
) -> WebResult<Json<Value>> {
    let u = auth.require_user()?;
    let id = match (u.role, q.enterprise.as_deref()) {
        (Role::Enterprise, _) => own_enterprise(&auth)?,
        (Role::Regulator, Some(code)) => enterprise_by_uscc(&state, code).await?.0,
        (Role::Regulator, None) => {
            return Err(WebError::field(
                "enterprise",
                "请指定企业 (name the enterprise)",
            ));
        }
        _ => return Err(WebError::Forbidden("无权查看 (not allowed)".into())),
    };
    Ok(Json(
        json!({"offers": state.store.policy_offers_of(id).await?}),
    ))
}

async fn api_answer_offer(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<AnswerInput>,
) -> WebResult<Json<Value>> {
    Ok(Json(answer_offer(&state, &auth, id, input).await?))
}

async fn api_notifications(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    let id = own_enterprise(&auth)?;
    let list = state.store.policy_notifications_of(id, 200).await?;
    let unread = list.iter().filter(|n| n.read_at.is_none()).count();
    Ok(Json(json!({"notifications": list, "unread": unread})))
}

async fn api_read_notifications(
    State(state): State<AppState>,
    auth: Auth,
) -> WebResult<Json<Value>> {
    let id = own_enterprise(&auth)?;
    let n = state.store.policy_mark_read(auth.actor(), id, None).await?;
    Ok(Json(json!({"marked_read": n})))
}

async fn api_applications(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<EnterpriseQuery>,
) -> WebResult<Json<Value>> {
    let status = q.status.as_deref().filter(|s| !s.is_empty());
    Ok(Json(
        json!({"applications": visible_applications(&state, &auth, status).await?}),
    ))
}

async fn api_apply(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<ApplyInput>,
) -> WebResult<Response> {
    let app = apply(&state, &auth, input).await?;
    Ok((StatusCode::CREATED, Json(json!(app))).into_response())
}

async fn api_application(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> WebResult<Json<Value>> {
    auth.require_user()?;
    let app = state.store.policy_application(id).await?;
    if !auth.can_read_enterprise(app.enterprise_id) {
        return Err(WebError::NotFound(format!("application #{id}")));
    }
    Ok(Json(json!(app)))
}

async fn api_decide(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> WebResult<Json<Value>> {
    Ok(Json(json!(decide(&state, &auth, id, input).await?)))
}

async fn api_grants(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    let u = auth.require_user()?;
    let scope = match u.role {
        Role::Regulator => None,
        Role::Enterprise => Some(own_enterprise(&auth)?),
        _ => return Err(WebError::Forbidden("无权查看 (not allowed)".into())),
    };
    Ok(Json(
        json!({"grants": state.store.policy_grants(scope, 1000).await?}),
    ))
}

/// Totals by measure, city and year, with roll-ups by each.
#[derive(Debug, Serialize)]
struct Totals {
    rows: Vec<yuepin_store::policy::GrantTotal>,
    by_measure: BTreeMap<String, (i64, i64)>,
    by_city: BTreeMap<String, (i64, i64)>,
    by_year: BTreeMap<i64, (i64, i64)>,
    grants: i64,
    amount_fen: i64,
}

async fn totals(state: &AppState, auth: &Auth) -> WebResult<Totals> {
    auth.require_role(&[Role::Regulator])?;
    let rows = state.store.policy_grant_totals().await?;
    let mut t = Totals {
        by_measure: BTreeMap::new(),
        by_city: BTreeMap::new(),
        by_year: BTreeMap::new(),
        grants: 0,
        amount_fen: 0,
        rows: vec![],
    };
    for r in &rows {
        let e = t
            .by_measure
            .entry(measure_id(&r.measure).to_string())
            .or_default();
        e.0 += r.grants;
        e.1 += r.amount_fen;
        let c = t.by_city.entry(r.city.clone()).or_default();
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

async fn api_totals(State(state): State<AppState>, auth: Auth) -> WebResult<Json<Value>> {
    let t = totals(&state, &auth).await?;
    let pair = |(n, fen): &(i64, i64)| json!({"grants": n, "amount_fen": fen, "amount": Yuan::from_fen(*fen).to_string()});
    Ok(Json(json!({
        "rows": t.rows,
        "by_measure": t.by_measure.iter().map(|(k, v)| (k.clone(), pair(v))).collect::<Map<_, _>>(),
        "by_city": t.by_city.iter().map(|(k, v)| (k.clone(), pair(v))).collect::<Map<_, _>>(),
        "by_year": t.by_year.iter().map(|(k, v)| (k.to_string(), pair(v))).collect::<Map<_, _>>(),
        "total": pair(&(t.grants, t.amount_fen)),
    })))
}

// ---------------------------------------------------------------------------------------------
// Page views.

/// One failed condition or missing fact, in the page's language.
pub struct ReasonView {
    pub text: String,
    pub detail: String,
    pub clause: String,
}

pub struct EvalView {
    pub id: String,
    pub number: u16,
    pub title: String,
    pub outcome: String,
    pub outcome_label: String,
    pub programme: bool,
    pub reasons: Vec<ReasonView>,
    pub benefits: Vec<String>,
    pub units: String,
}

fn eval_view(set: &PolicySet, e: &Evaluation, tr: Tr) -> EvalView {
    let l = |x: &yuepin_policy::Label| tr.t(&x.zh, &x.en).to_string();
    let reasons = match &e.outcome {
        Outcome::NotEligible { failed } => failed
            .iter()
            .map(|c| ReasonView {
                text: l(&c.label),
                detail: format!(
                    "{}{} {} {}",
                    c.fact_label
                        .as_ref()
                        .map(|f| format!("{}: ", l(f)))
                        .unwrap_or_default(),
                    c.value.clone().unwrap_or_else(|| "—".into()),
                    c.op,
                    c.threshold.clone().unwrap_or_default()
                ),
                clause: c.clause.quote.clone(),
            })
            .collect(),
        Outcome::Undetermined { missing } => missing
            .iter()
            .map(|x| ReasonView {
                text: format!("{}{}", tr.t("请提供:", "Provide: "), l(&x.label)),
                detail: format!("{} ({})", x.fact, l(&x.needed_by)),
                clause: x.clause.quote.clone(),
            })
            .collect(),
        Outcome::NotInForce { reason, in_force } => vec![ReasonView {
            text: l(reason),
            detail: format!("{} — {}", in_force.from, in_force.until),
            clause: String::new(),
        }],
        Outcome::Conflict { conflicts } => conflicts
            .iter()
            .map(|c| ReasonView {
                text: l(&c.reason),
                detail: c.with.join(", "),
                clause: String::new(),
            })
            .collect(),
        Outcome::Eligible => vec![],
    };
    let number = set
        .find_measure(&e.measure)
        .map(|i| set.measures()[i].number)
        .unwrap_or(0);
    EvalView {
        id: measure_id(&e.measure).to_string(),
        number,
        title: l(&e.title),
        outcome: outcome_code(e.outcome.kind()).into(),
        outcome_label: l(&e.outcome_label),
        programme: e.programme,
        reasons,
        benefits: e
            .benefits
            .iter()
            .map(|b| match &b.amount {
                Some(a) => format!(
                    "{} ({}{})",
                    l(&b.label),
                    if b.is_cap {
                        tr.t("最高", "up to ")
                    } else {
                        ""
                    },
                    a
                ),
                None => l(&b.label),
            })
            .collect(),
        units: e.responsible.units.join("、"),
    }
}

pub struct OfferView {
    pub id: i64,
    pub measure: String,
    pub status: String,
    pub amount: String,
    pub as_of: String,
    pub money: bool,
    pub needs_reference: bool,
}

pub struct AppView {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub measure: String,
    pub reference: String,
    pub requested: String,
    pub status: String,
    pub reason: String,
    pub granted: String,
    pub created_at: String,
}

fn app_view(a: &Application) -> AppView {
    AppView {
        id: a.id,
        uscc: a.uscc.clone(),
        name: a.enterprise_name.clone(),
        measure: measure_id(&a.measure).to_string(),
        reference: a.reference.clone(),
        requested: money_text(a.amount_requested_fen),
        status: a.status.clone(),
        reason: a.reason.clone().unwrap_or_default(),
        granted: a
            .grant
            .as_ref()
            .map(|g| format!("{} ({})", Yuan::from_fen(g.amount_fen).to_zh(), g.year))
            .unwrap_or_default(),
        created_at: a.created_at.chars().take(10).collect(),
    }
}

fn wrap(r: WebResult<Response>, auth: &Auth, state: &AppState, uri: &Uri) -> Response {
    r.unwrap_or_else(|e| page_error(e, auth, state, uri))
}

#[derive(Template)]
#[template(path = "policy/index.html")]
struct IndexPage {
    tr: Tr,
    c: Chrome,
    regulator: bool,
    today: String,
    runs: Vec<(i64, String, i64, i64, i64, i64, String)>,
    measures: Vec<(String, u16, String, bool, String, i64, i64)>,
    own: String,
}

async fn page_index(State(state): State<AppState>, auth: Auth, uri: Uri) -> Response {
    let r = async {
        let tr = auth.tr;
        let m = module(&state);
        let regulator = auth.is_regulator();
        let mut runs = vec![];
        let mut counts: HashMap<(String, String), i64> = HashMap::new();
        if regulator {
            let list = state.store.policy_runs(10).await?;
            if let Some(latest) = list.first() {
                for (mk, o, n) in state.store.policy_run_counts(latest.id).await? {
                    counts.insert((mk, o), n);
                }
            }
            runs = list
                .into_iter()
                .map(|r| {
                    (
                        r.id,
                        r.as_of,
                        r.enterprises,
                        r.evaluations,
                        r.eligible,
                        r.undetermined,
                        r.created_at.chars().take(16).collect(),
                    )
                })
                .collect();
        }
        let own = match (&auth.user, auth.user.as_ref().and_then(|u| u.enterprise_id)) {
            (Some(u), Some(id)) if u.role == Role::Enterprise => state
                .store
                .enterprise_by_id(id)
                .await?
                .enterprise
                .uscc
                .to_string(),
            _ => String::new(),
        };
        let measures = m
            .set
            .measures()
            .iter()
            .map(|x| {
                let g = |o: &str| {
                    counts
                        .get(&(x.key.clone(), o.to_string()))
                        .copied()
                        .unwrap_or(0)
                };
                (
                    x.id.clone(),
                    x.number,
                    tr.t(&x.title.zh, &x.title.en).to_string(),
                    x.programme,
                    x.rules
                        .iter()
                        .map(|r| r.subject.code())
                        .collect::<Vec<_>>()
                        .join(", "),
                    g("eligible"),
                    g("undetermined"),
                )
            })
            .collect();
        let page = IndexPage {
            tr,
            c: Chrome::new(&auth, &state),
            regulator,
            today: crate::today().to_string(),
            runs,
            measures,
            own,
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

#[derive(Template)]
#[template(path = "policy/enterprise.html")]
struct EnterpriseMatchPage {
    tr: Tr,
    c: Chrome,
    uscc: String,
    name: String,
    as_of: String,
    run_note: String,
    facts: Vec<(String, String)>,
    eligible: Vec<EvalView>,
    undetermined: Vec<EvalView>,
    not_eligible: Vec<EvalView>,
    other: Vec<EvalView>,
    offers: Vec<OfferView>,
    applications: Vec<AppView>,
    is_enterprise: bool,
    money_measures: Vec<String>,
}

async fn page_enterprise(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(uscc): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> Response {
    let r = async {
        let tr = auth.tr;
        let set = &module(&state).set;
        let r = enterprise_matches(&state, &auth, &uscc, q.as_of.as_deref()).await?;
        let is_enterprise = auth
            .user
            .as_ref()
            .is_some_and(|u| u.role == Role::Enterprise);
        let (eid, _) = enterprise_by_uscc(&state, &uscc).await?;
        let apps = state
            .store
            .policy_applications(Some(eid), None, 100)
            .await?;
        let labels: HashMap<&str, &yuepin_policy::Label> = set
            .facts_of(SubjectKind::Enterprise)
            .map(|f| (f.name.as_str(), &f.label))
            .collect();
        let page = EnterpriseMatchPage {
            tr,
            c: Chrome::new(&auth, &state),
            uscc: r.uscc.clone(),
            name: r.name.clone(),
            as_of: r.as_of.to_string(),
            run_note: match &r.latest_run {
                Some(run) => format!("#{} ({})", run.id, run.as_of),
                None => String::new(),
            },
            facts: r
                .facts
                .iter()
                .map(|(k, v)| {
                    let label = labels
                        .get(k.as_str())
                        .map(|l| tr.t(&l.zh, &l.en).to_string())
                        .unwrap_or_else(|| k.clone());
                    let value = match v {
                        Value::String(s) => s.clone(),
                        Value::Array(a) => a
                            .iter()
                            .map(|x| {
                                x.as_str()
                                    .map(str::to_string)
                                    .unwrap_or_else(|| x.to_string())
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                        other => other.to_string(),
                    };
                    (label, value)
                })
                .collect(),
            eligible: r.eligible.iter().map(|e| eval_view(set, e, tr)).collect(),
            undetermined: r
                .undetermined
                .iter()
                .map(|e| eval_view(set, e, tr))
                .collect(),
            not_eligible: r
                .not_eligible
                .iter()
                .map(|e| eval_view(set, e, tr))
                .collect(),
            other: r.other.iter().map(|e| eval_view(set, e, tr)).collect(),
            offers: r
                .offers
                .iter()
                .map(|o| {
                    let mid = measure_id(&o.measure).to_string();
                    OfferView {
                        id: o.id,
                        money: MONEY_MEASURES.contains(&mid.as_str()),
                        needs_reference: mid == "M8",
                        measure: mid,
                        status: o.status.clone(),
                        amount: money_text(o.amount_fen),
                        as_of: o.as_of.clone(),
                    }
                })
                .collect(),
            applications: apps.iter().map(app_view).collect(),
            is_enterprise,
            money_measures: MONEY_MEASURES.iter().map(|s| s.to_string()).collect(),
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

pub struct FieldView {
    pub name: String,
    pub label: String,
    pub kind: String,
    pub value: String,
    pub options: Vec<(String, bool)>,
}

#[derive(Template)]
#[template(path = "policy/check.html")]
struct CheckPage {
    tr: Tr,
    c: Chrome,
    subject: String,
    subjects: Vec<(String, String)>,
    as_of: String,
    fields: Vec<FieldView>,
    results: Vec<EvalView>,
    error: String,
    checked: bool,
}

/// The check form (GET): fields generated from the subject kind's fact vocabulary; facts
/// left empty are missing (never read as false).
async fn page_check(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let tr = auth.tr;
    let m = module(&state);
    let get = |k: &str| {
        q.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let subject = SubjectKind::parse(&get("subject")).unwrap_or(SubjectKind::Merger);
    let as_of_text = get("as_of");
    let checked = q.iter().any(|(k, _)| k == "check");
    let mut facts = Map::new();
    let mut fields = vec![];
    let mut error = String::new();
    for def in m.set.facts_of(subject) {
        let key = format!("f.{}", def.name);
        let values: Vec<String> = q
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.trim().to_string())
            .collect();
        let first = values.first().cloned().unwrap_or_default();
        let kind = match def.ty {
            FactType::Bool => "bool",
            FactType::Int => "int",
            FactType::Money => "money",
            FactType::Date => "date",
            FactType::Code => "code",
            FactType::Set => "set",
            FactType::MoneyList => "money_list",
        };
        let value = match def.ty {
            FactType::Bool => match first.as_str() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
            FactType::Set => {
                let v: Vec<Value> = values
                    .iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::from(s.as_str()))
                    .collect();
                (!v.is_empty()
                    || values.iter().any(|s| s.is_empty())
                        && q.iter().any(|(k, _)| k == &format!("{key}.none")))
                .then_some(Value::Array(v))
            }
            FactType::MoneyList => (!first.is_empty()).then(|| {
                Value::Array(
                    first
                        .split([',', ',', ';', ' '])
                        .filter(|s| !s.trim().is_empty())
                        .map(|s| Value::from(s.trim()))
                        .collect(),
                )
            }),
            _ => (!first.is_empty()).then(|| Value::from(first.clone())),
        };
        if let Some(v) = value {
            facts.insert(def.name.clone(), v);
        }
        fields.push(FieldView {
            name: def.name.clone(),
            label: tr.t(&def.label.zh, &def.label.en).to_string(),
            kind: kind.into(),
            options: def
                .domain
                .iter()
                .map(|d| (d.clone(), values.contains(d)))
                .collect(),
            value: first,
        });
    }
    let mut results = vec![];
    if checked {
        let outcome = parse_as_of(Some(&as_of_text)).and_then(|as_of| {
            let f = Facts::from_json(subject, Value::Object(facts)).map_err(fact_error)?;
            check_facts(m, &f, as_of, None)
        });
        match outcome {
            Ok(list) => results = list.iter().map(|e| eval_view(&m.set, e, tr)).collect(),
            Err(e) => error = e.message(),
        }
    }
    let page = CheckPage {
        tr,
        c: Chrome::new(&auth, &state),
        subject: subject.code().into(),
        subjects: SubjectKind::ALL
            .iter()
            .filter(|k| **k != SubjectKind::Enterprise)
            .map(|k| {
                (
                    k.code().to_string(),
                    tr.t(&k.label().zh, &k.label().en).to_string(),
                )
            })
            .collect(),
        as_of: if as_of_text.is_empty() {
            crate::today().to_string()
        } else {
            as_of_text
        },
        fields,
        results,
        error,
        checked,
    };
    render(&page, &auth, &uri)
}

#[derive(Template)]
#[template(path = "policy/measure.html")]
struct MeasureListPage {
    tr: Tr,
    c: Chrome,
    id: String,
    title: String,
    clause: String,
    run: String,
    run_id: i64,
    outcome: String,
    items: Vec<(String, String, String, String, String)>,
    page: i64,
    has_next: bool,
}

async fn page_measure(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(id): Path<String>,
    Query(q): Query<ListingQuery>,
) -> Response {
    let r = async {
        let tr = auth.tr;
        let per = 100;
        let l = measure_listing(&state, &auth, &id, &q, per).await?;
        let m = &module(&state).set.measures()[l.measure];
        let items = l
            .items
            .iter()
            .map(|it| {
                let city = reference::find_city(&it.city)
                    .map(|c| tr.t(&c.name_zh, &c.name_en).to_string())
                    .unwrap_or_else(|| it.city.clone());
                let missing = it
                    .reasons
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                (
                    it.uscc.clone(),
                    it.name.clone(),
                    city,
                    missing,
                    money_text(it.amount_fen),
                )
            })
            .collect::<Vec<_>>();
        let page = MeasureListPage {
            tr,
            c: Chrome::new(&auth, &state),
            id: m.id.clone(),
            title: tr.t(&m.title.zh, &m.title.en).to_string(),
            clause: m.clause_text.clone(),
            run: format!("#{} ({})", l.run.id, l.run.as_of),
            run_id: l.run.id,
            outcome: l.outcome.clone(),
            has_next: items.len() as i64 == per,
            items,
            page: q.page.unwrap_or(1).max(1),
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

#[derive(Template)]
#[template(path = "policy/whatif.html")]
struct WhatIfPage {
    tr: Tr,
    c: Chrome,
    as_of: String,
    params: Vec<(String, String, String, String)>,
    report: Option<WhatIfReport>,
    delta: String,
    error: String,
}

impl WhatIfPage {
    fn fen(&self, v: &i64) -> String {
        Yuan::from_fen(*v).to_zh()
    }
}

async fn page_what_if(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let r = async {
        auth.require_role(&[Role::Regulator])?;
        let tr = auth.tr;
        let m = module(&state);
        let get = |k: &str| {
            q.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let as_of_text = get("as_of");
        let as_of = parse_as_of(Some(&as_of_text))?;
        let snap = m.engine.snapshot(as_of);
        let mut overrides = BTreeMap::new();
        let params = m
            .set
            .parameters()
            .iter()
            .map(|p| {
                let v = get(&format!("p.{}", p.name));
                if !v.is_empty() {
                    overrides.insert(p.name.clone(), v.clone());
                }
                (
                    p.name.clone(),
                    format!("{} {}", p.measure, tr.t(&p.label.zh, &p.label.en)),
                    snap.parameter_value(&p.name)
                        .map(|v| v.display())
                        .unwrap_or_else(|| tr.t("(未定额)", "(no figure)").into()),
                    v,
                )
            })
            .collect();
        let (mut report, mut error) = (None, String::new());
        if !overrides.is_empty() {
            match what_if_enterprises(&state.store, m, &overrides, as_of).await {
                Ok(r) => report = Some(r),
                Err(e) => error = e.message(),
            }
        }
        let delta = report
            .as_ref()
            .map(|r| Yuan::from_fen(r.amount_delta_fen).to_zh())
            .unwrap_or_default();
        let page = WhatIfPage {
            tr,
            c: Chrome::new(&auth, &state),
            as_of: as_of.to_string(),
            params,
            report,
            delta,
            error,
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

#[derive(Deserialize)]
struct CsrfAsOf {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    as_of: String,
}

async fn page_match(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Form(f): Form<CsrfAsOf>,
) -> Response {
    let r = async {
        auth.require_role(&[Role::Regulator])?;
        auth.check_csrf(Some(&f.csrf))?;
        let as_of = parse_as_of(Some(&f.as_of))?;
        run_match(
            &state.store,
            module(&state),
            as_of,
            &BTreeMap::new(),
            auth.actor(),
        )
        .await?;
        Ok(Redirect::to("/policy").into_response())
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

#[derive(Template)]
#[template(path = "policy/notifications.html")]
struct NotificationsPage {
    tr: Tr,
    c: Chrome,
    items: Vec<(String, String, String, bool)>,
}

async fn page_notifications(State(state): State<AppState>, auth: Auth, uri: Uri) -> Response {
    let r = async {
        let id = own_enterprise(&auth)?;
        let tr = auth.tr;
        let items = state
            .store
            .policy_notifications_of(id, 200)
            .await?
            .into_iter()
            .map(|n| {
                (
                    format!(
                        "{} · {}",
                        n.created_at.chars().take(10).collect::<String>(),
                        tr.t(&n.title_zh, &n.title_en)
                    ),
                    tr.t(&n.body_zh, &n.body_en).to_string(),
                    n.link,
                    n.read_at.is_none(),
                )
            })
            .collect();
        Ok(render(
            &NotificationsPage {
                tr,
                c: Chrome::new(&auth, &state),
                items,
            },
            &auth,
            &uri,
        ))
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn page_read_notifications(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let r = async {
        let id = own_enterprise(&auth)?;
        auth.check_csrf(Some(&f.csrf))?;
        state.store.policy_mark_read(auth.actor(), id, None).await?;
        Ok(Redirect::to("/policy/notifications").into_response())
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

#[derive(Deserialize)]
struct AnswerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reference: String,
}

async fn page_answer_offer(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(id): Path<i64>,
    Form(f): Form<AnswerForm>,
) -> Response {
    let r = async {
        auth.require_user()?;
        auth.check_csrf(Some(&f.csrf))?;
        answer_offer(
            &state,
            &auth,
            id,
            AnswerInput {
                decision: f.decision,
                reference: f.reference,
            },
        )
        .await?;
        let own = own_enterprise(&auth)?;
        let rec = state.store.enterprise_by_id(own).await?;
        Ok(Redirect::to(&format!("/policy/enterprises/{}", rec.enterprise.uscc)).into_response())
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

#[derive(Deserialize)]
struct ApplyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    measure: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    note: String,
}

async fn page_apply(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Form(f): Form<ApplyForm>,
) -> Response {
    let r = async {
        auth.require_user()?;
        auth.check_csrf(Some(&f.csrf))?;
        let app = apply(
            &state,
            &auth,
            ApplyInput {
                uscc: String::new(),
                measure: f.measure,
                reference: f.reference,
                amount: f.amount,
                note: f.note,
                as_of: String::new(),
            },
        )
        .await?;
        Ok(Redirect::to(&format!("/policy/enterprises/{}", app.uscc)).into_response())
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

#[derive(Template)]
#[template(path = "policy/applications.html")]
struct ApplicationsPage {
    tr: Tr,
    c: Chrome,
    regulator: bool,
    items: Vec<AppView>,
}

async fn page_applications(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<EnterpriseQuery>,
) -> Response {
    let r = async {
        let list =
            visible_applications(&state, &auth, q.status.as_deref().filter(|s| !s.is_empty()))
                .await?;
        let page = ApplicationsPage {
            tr: auth.tr,
            c: Chrome::new(&auth, &state),
            regulator: auth.is_regulator(),
            items: list.iter().map(app_view).collect(),
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

#[derive(Deserialize)]
struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    amount: String,
}

async fn page_decide(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(id): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> Response {
    let r = async {
        auth.require_role(&[Role::Regulator])?;
        auth.check_csrf(Some(&f.csrf))?;
        decide(
            &state,
            &auth,
            id,
            DecisionInput {
                decision: f.decision,
                reason: f.reason,
                amount: f.amount,
                year: None,
            },
        )
        .await?;
        Ok(Redirect::to("/policy/applications").into_response())
    }
    .await;
    wrap(r, &auth, &state, &uri)
}

#[derive(Template)]
#[template(path = "policy/grants.html")]
struct GrantsPage {
    tr: Tr,
    c: Chrome,
    rows: Vec<(String, String, i64, i64, String)>,
    by_measure: Vec<(String, i64, String)>,
    by_city: Vec<(String, i64, String)>,
    by_year: Vec<(String, i64, String)>,
    total: String,
    grants: i64,
    /// SVG bars of the amount by city: (label, width %, amount).
    bars: Vec<(String, f64, String, usize, f64)>,
}

async fn page_grants(State(state): State<AppState>, auth: Auth, uri: Uri) -> Response {
    let r = async {
        let tr = auth.tr;
        let t = totals(&state, &auth).await?;
        let city = |c: &str| {
            reference::find_city(c)
                .map(|x| tr.t(&x.name_zh, &x.name_en).to_string())
                .unwrap_or_else(|| c.to_string())
        };
        let max = t.by_city.values().map(|v| v.1).max().unwrap_or(1).max(1) as f64;
        let page = GrantsPage {
            tr,
            c: Chrome::new(&auth, &state),
            rows: t
                .rows
                .iter()
                .map(|r| {
                    (
                        measure_id(&r.measure).to_string(),
                        city(&r.city),
                        r.year,
                        r.grants,
                        Yuan::from_fen(r.amount_fen).to_zh(),
                    )
                })
                .collect(),
            by_measure: t
                .by_measure
                .iter()
                .map(|(k, v)| (k.clone(), v.0, Yuan::from_fen(v.1).to_zh()))
                .collect(),
            by_city: t
                .by_city
                .iter()
                .map(|(k, v)| (city(k), v.0, Yuan::from_fen(v.1).to_zh()))
                .collect(),
            by_year: t
                .by_year
                .iter()
                .map(|(k, v)| (k.to_string(), v.0, Yuan::from_fen(v.1).to_zh()))
                .collect(),
            bars: t
                .by_city
                .iter()
                .enumerate()
                .map(|(i, (k, v))| {
                    let w = (v.1 as f64 / max * 70.0).max(0.5);
                    (
                        city(k),
                        w,
                        Yuan::from_fen(v.1).to_zh(),
                        i * 22 + 4,
                        w + 23.0,
                    )
                })
                .collect(),
            total: Yuan::from_fen(t.amount_fen).to_zh(),
            grants: t.grants,
        };
        Ok(render(&page, &auth, &uri))
    }
    .await;
    wrap(r, &auth, &state, &uri)
}
