//! Routing: which experts to propose for a case, each with the reasons it was proposed.
//! Speciality (the case's GB/T 4754 division among the expert's) weighs most, then the city
//! (more when the case needs an on-site visit), then free capacity; experts at their
//! maximum load are not proposed. Among equal scores the expert assigned least recently comes
//! first (never assigned before all), so equals take turns (round-robin).

use chrono::NaiveDateTime;
use serde::Serialize;
use yuepin_domain::{Division, RegionCode};

/// What the case needs.
#[derive(Debug, Clone)]
pub struct Need {
    pub division: Division,
    /// The enterprise's city (prefecture level).
    pub city: RegionCode,
    pub on_site: bool,
}

/// An expert as routing sees them.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub expert_id: i64,
    pub divisions: Vec<Division>,
    pub city: RegionCode,
    pub qualifications: usize,
    /// Cases the expert holds now (assigned, in consultation or waiting).
    pub load: u32,
    pub max_load: u32,
    pub last_assigned_at: Option<NaiveDateTime>,
}

/// Why an expert was proposed (each adds to or takes from the score).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// The expert's speciality covers the case's division.
    Division {
        division: u8,
    },
    /// No speciality match: proposed only for lack of a specialist.
    OtherDivision,
    /// Same city as the enterprise.
    SameCity {
        city: String,
    },
    OtherCity {
        city: String,
    },
    /// Holds recognised qualifications.
    Qualified {
        count: usize,
    },
    /// Current load against the maximum.
    Load {
        load: u32,
        max_load: u32,
    },
}

/// One proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Proposal {
    pub expert_id: i64,
    pub score: i32,
    pub reasons: Vec<Reason>,
}

/// Scores and orders the candidates (full ones left out), best first.
pub fn propose(need: &Need, candidates: &[Candidate]) -> Vec<Proposal> {
    let mut scored: Vec<(&Candidate, Proposal)> = candidates
        .iter()
        .filter(|c| c.load < c.max_load)
        .map(|c| {
            let mut score = 0i32;
            let mut reasons = Vec::new();
            if c.divisions.contains(&need.division) {
                score += 100;
                reasons.push(Reason::Division {
                    division: need.division.code(),
                });
            } else {
                reasons.push(Reason::OtherDivision);
            }
            let city = c.city.city().code.clone();
            if city == need.city.city().code {
                score += if need.on_site { 60 } else { 20 };
                reasons.push(Reason::SameCity { city });
            } else {
                reasons.push(Reason::OtherCity { city });
            }
            if c.qualifications > 0 {
                score += 5;
                reasons.push(Reason::Qualified {
                    count: c.qualifications,
                });
            }
            // Up to 30 for free capacity, in proportion.
            let free = (c.max_load - c.load) as i32 * 30 / c.max_load.max(1) as i32;
            score += free;
            reasons.push(Reason::Load {
                load: c.load,
                max_load: c.max_load,
            });
            (
                c,
                Proposal {
                    expert_id: c.expert_id,
                    score,
                    reasons,
                },
            )
        })
        .collect();
    scored.sort_by(|(a, pa), (b, pb)| {
        pb.score
            .cmp(&pa.score)
            .then_with(|| a.last_assigned_at.cmp(&b.last_assigned_at))
            .then_with(|| a.expert_id.cmp(&b.expert_id))
    });
    scored.into_iter().map(|(_, p)| p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn cand(id: i64, div: &str, city: &str, load: u32) -> Candidate {
        Candidate {
            expert_id: id,
            divisions: vec![Division::parse(div).unwrap()],
            city: RegionCode::parse(city).unwrap(),
            qualifications: 1,
            load,
            max_load: 5,
            last_assigned_at: None,
        }
    }

    fn need(on_site: bool) -> Need {
        Need {
            division: Division::parse("39").unwrap(),
            city: RegionCode::parse("440306").unwrap(),
            on_site,
        }
    }

    #[test]
    fn speciality_then_city_then_load() {
        let c = [
            cand(1, "38", "深圳", 0),
            cand(2, "39", "广州", 0),
            cand(3, "39", "深圳", 3),
            cand(4, "39", "深圳", 5),
        ];
        let p = propose(&need(false), &c);
        let ids: Vec<i64> = p.iter().map(|p| p.expert_id).collect();
        // 4 is full; 2 (specialist, other city, free) 100+5+30 = 135 vs 3 (specialist, same
        // city, 3 of 5) 100+20+5+12 = 137; 1 has no speciality.
        assert_eq!(ids, vec![3, 2, 1]);
        assert!(p[0].reasons.contains(&Reason::SameCity {
            city: "440300".into()
        }));
        assert!(p[2].reasons.contains(&Reason::OtherDivision));
        // On site, the city weighs more.
        let c = [cand(2, "39", "广州", 0), cand(3, "39", "深圳", 4)];
        assert_eq!(propose(&need(true), &c)[0].expert_id, 3);
    }

    #[test]
    fn equals_take_turns() {
        let mut c = vec![
            cand(1, "39", "深圳", 0),
            cand(2, "39", "深圳", 0),
            cand(3, "39", "深圳", 0),
        ];
        let t0 = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let mut order = Vec::new();
        for i in 0..6 {
            let first = propose(&need(false), &c)[0].expert_id;
            order.push(first);
            let e = c.iter_mut().find(|e| e.expert_id == first).unwrap();
            e.last_assigned_at = Some(t0 + TimeDelta::minutes(i));
        }
        assert_eq!(order, vec![1, 2, 3, 1, 2, 3]);
    }
}
