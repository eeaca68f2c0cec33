//! The regulator's statistics per hospital and per expert: cases, open and closed, first
//! responses and resolutions within their SLA targets (of those done or already breached),
//! the mean working minutes to first response, and satisfaction.

use crate::error::HospitalResult;
use crate::records::{CaseFilter, Stats, StatsRow, TargetKind};
use crate::HospitalService;
use std::collections::BTreeMap;
use yuepin_domain::Caller;
use yuepin_hospital::{CaseState, TargetState};

#[derive(Default)]
struct Acc {
    name: String,
    cases: i64,
    open: i64,
    closed: i64,
    fr_met: i64,
    fr_counted: i64,
    res_met: i64,
    res_counted: i64,
    fr_minutes: i64,
    fr_n: i64,
    sat_sum: i64,
    sat_n: i64,
}

impl Acc {
    fn row(self, id: i64) -> StatsRow {
        StatsRow {
            id,
            name: self.name,
            cases: self.cases,
            open: self.open,
            closed: self.closed,
            first_response_met: self.fr_met,
            first_response_counted: self.fr_counted,
            resolution_met: self.res_met,
            resolution_counted: self.res_counted,
            mean_first_response_minutes: (self.fr_n > 0)
                .then(|| self.fr_minutes as f64 / self.fr_n as f64),
            satisfaction_mean: (self.sat_n > 0).then(|| self.sat_sum as f64 / self.sat_n as f64),
            satisfaction_count: self.sat_n,
        }
    }
}

impl HospitalService {
    /// Statistics over every case (administrators only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn stats(&self, caller: &Caller) -> HospitalResult<Stats> {
        caller.require_administrator()?;
        let cases = self.cases(caller, &CaseFilter::default()).await?;
        let mut hospitals: BTreeMap<i64, Acc> = BTreeMap::new();
        let mut experts: BTreeMap<i64, Acc> = BTreeMap::new();
        for c in &cases {
            let update = |a: &mut Acc, name: &str| {
                a.name = name.to_string();
                a.cases += 1;
                if c.state.is_active() || c.state == CaseState::Opened {
                    a.open += 1;
                }
                if c.state == CaseState::Closed {
                    a.closed += 1;
                }
                for s in &c.sla {
                    let (met, counted) = match s.target {
                        TargetKind::FirstResponse => (&mut a.fr_met, &mut a.fr_counted),
                        TargetKind::Resolution => (&mut a.res_met, &mut a.res_counted),
                    };
                    match s.state {
                        TargetState::Met => {
                            *met += 1;
                            *counted += 1;
                        }
                        TargetState::Breached => *counted += 1,
                        _ => {}
                    }
                    if s.target == TargetKind::FirstResponse && c.first_response_at.is_some() {
                        a.fr_minutes += s.elapsed_minutes;
                        a.fr_n += 1;
                    }
                }
                if let Some(v) = c.satisfaction {
                    a.sat_sum += v;
                    a.sat_n += 1;
                }
            };
            update(
                hospitals.entry(c.hospital_id).or_default(),
                &c.hospital_name,
            );
            if let (Some(x), Some(name)) = (c.expert_id, &c.expert_name) {
                update(experts.entry(x).or_default(), name);
            }
        }
        Ok(Stats {
            hospitals: hospitals.into_iter().map(|(id, a)| a.row(id)).collect(),
            experts: experts.into_iter().map(|(id, a)| a.row(id)).collect(),
            calendar_years: self.calendar.years().map(|(y, _)| y).collect(),
        })
    }
}
