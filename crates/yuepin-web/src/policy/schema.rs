//! Shapes of the policy API's JSON answers that handlers build with `json!`, for the OpenAPI
//! document only (never constructed, hence `dead_code` allowed).
#![allow(dead_code)]

use chrono::NaiveDate;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use yuepin_policy::{
    model::DatedValue, BenefitKind, Evaluation, Label, Pack, Period, Responsibility, SubjectKind,
};
use yuepin_policy_service::{
    Application, Grant, GrantTotal, MatchRun, MeasureListing, Notification, Offer, RunCount,
};

#[derive(ToSchema)]
pub(super) struct MeasuresResponse {
    as_of: NaiveDate,
    packs: Vec<Pack>,
    measures: Vec<MeasureEntry>,
    parameters: Vec<ParameterEntry>,
}

#[derive(ToSchema)]
#[schema(as = PolicyMeasure)]
pub(super) struct MeasureEntry {
    key: String,
    id: String,
    number: u16,
    group: u8,
    title: Label,
    programme: bool,
    responsible: Responsibility,
    in_force: Period,
    in_force_on_as_of: bool,
    subjects: Vec<SubjectKind>,
    /// Whether the measure pays money.
    money: bool,
    clause_text: String,
    benefits: Vec<BenefitEntry>,
}

#[derive(ToSchema)]
pub(super) struct BenefitEntry {
    kind: BenefitKind,
    label: Label,
    clause: String,
}

#[derive(ToSchema)]
pub(super) struct ParameterEntry {
    name: String,
    label: Label,
    measure: String,
    clause: String,
    /// The value on the as-of date, as displayed.
    value: Option<String>,
    /// Every dated value.
    values: Vec<DatedValue>,
}

/// `enterprise` and `facts` are present when the check used an enterprise's platform facts.
#[derive(ToSchema)]
pub(super) struct CheckResponse {
    as_of: NaiveDate,
    subject: SubjectKind,
    enterprise: Option<String>,
    facts: Option<BTreeMap<String, serde_json::Value>>,
    evaluations: Vec<Evaluation>,
}

#[derive(ToSchema)]
pub(super) struct RunsResponse {
    runs: Vec<MatchRun>,
}

#[derive(ToSchema)]
pub(super) struct RunResponse {
    run: MatchRun,
    counts: Vec<RunCount>,
}

#[derive(ToSchema)]
pub(super) struct MeasureListingResponse {
    run: MatchRun,
    measure: String,
    title: String,
    outcome: String,
    enterprises: Vec<MeasureListing>,
}

#[derive(ToSchema)]
pub(super) struct StandardsResponse {
    standards: Vec<yuepin_policy_service::StandardRecord>,
}

#[derive(ToSchema)]
pub(super) struct OffersResponse {
    offers: Vec<Offer>,
}

#[derive(ToSchema)]
pub(super) struct NotificationsResponse {
    notifications: Vec<Notification>,
    unread: usize,
}

#[derive(ToSchema)]
pub(super) struct MarkedRead {
    marked_read: u64,
}

#[derive(ToSchema)]
pub(super) struct ApplicationsResponse {
    applications: Vec<Application>,
}

#[derive(ToSchema)]
pub(super) struct GrantsResponse {
    grants: Vec<Grant>,
}

/// Grants and their amount (in fen and as yuan text).
#[derive(ToSchema)]
pub(super) struct GrantSum {
    grants: i64,
    amount_fen: i64,
    amount: String,
}

#[derive(ToSchema)]
pub(super) struct GrantTotalsResponse {
    rows: Vec<GrantTotal>,
    by_measure: BTreeMap<String, GrantSum>,
    by_city: BTreeMap<String, GrantSum>,
    by_year: BTreeMap<String, GrantSum>,
    total: GrantSum,
}
