//! The policy engine on the platform (issue 4), below HTTP: eligibility checks with reasons and
//! clauses (an enterprise's facts from the store, or request facts for mergers, persons,
//! standards and instrument purchases), proactive matching over all enterprises (免申即享) with
//! stored outcomes, offers and notifications, the enterprise's intent confirmation (意愿确认),
//! applications and grants for the money measures (pack data) with no double payment,
//! grant totals, what-if runs (政策沙盘) and the regulator's per-measure listings.
//!
//! [`PolicyService`] holds the store and the loaded policy set with its base engine. Every use
//! case takes the [`Caller`] first and checks role and tenant itself: the web layer and the CLI
//! only parse, call and present. One file per use case; the SQL lives in `store/`.

mod applications;
mod check;
pub mod error;
mod grants;
mod matching;
mod offers;
mod provenance;
pub use provenance::DeclaredStandard;
pub mod records;
pub mod store;
mod what_if;

pub use applications::{ApplyInput, DecisionInput, APPLICATION_EXPORT_MAX};
pub use check::{CheckRequest, Checked, EnterpriseMatches};
pub use error::{PolicyError, Result};
pub use grants::GrantTotals;
pub use matching::{Listing, MatchInput, MatchReport};
pub use offers::{AnswerInput, Answered};
pub use records::*;
pub use store::facts::{window_start, FactIndex, FactScope};
pub use what_if::{WhatIfEntry, WhatIfInput, WhatIfMeasure, WhatIfReport, WHAT_IF_LIST};

use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::sync::Arc;
use yuepin_domain::{parse_date, Caller, CallerKind, Denied, Role};
use yuepin_policy::{Engine, MeasureIdx, ParamOverrides, PolicySet, SubjectKind};
use yuepin_store::Store;

/// Enterprises read from the store per batch when matching.
pub const BATCH: i64 = 5000;

/// The loaded policy set and its base engine, built once.
struct Loaded {
    set: PolicySet,
    engine: Engine,
    index: FactIndex,
}

/// The policy capability: the store plus the loaded pack. Cheap to clone.
/// Days after a match's date during which its offers can be confirmed (免申即享 gives the
/// enterprise a deadline, like any notice; an older offer would rest on stale facts).
pub const OFFER_VALID_DAYS: i64 = 60;

#[derive(Clone)]
pub struct PolicyService {
    store: Store,
    loaded: Arc<Loaded>,
    /// The server's date when the platform runs as of a fixed day (demo, training, tests);
    /// `None`: today in China. Never set from a request.
    today: Option<NaiveDate>,
}

impl std::fmt::Debug for PolicyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyService")
            .field("store", &self.store)
            .field("measures", &self.loaded.set.measures().len())
            .finish()
    }
}

impl PolicyService {
    /// The service over the built-in pack (粤市监〔2023〕74号).
    pub fn new(store: Store) -> Self {
        Self::with_set(store, PolicySet::builtin())
    }

    /// The service over another policy set (tests loading another pack).
    pub fn with_set(store: Store, set: PolicySet) -> Self {
        #[allow(clippy::expect_used)]
        let engine = Engine::new(&set, &ParamOverrides::new()).expect("no overrides cannot fail");
        let index = FactIndex::new(&set);
        Self {
            store,
            loaded: Arc::new(Loaded { set, engine, index }),
            today: None,
        }
    }

    /// Runs the service as of a fixed day instead of today in China: server configuration
    /// (`yuepin demo --as-of`, training, tests), never a request's date.
    pub fn with_today(mut self, day: NaiveDate) -> Self {
        self.today = Some(day);
        self
    }

    /// The server's date: what every write depending on eligibility is evaluated as of.
    pub fn today(&self) -> NaiveDate {
        self.today.unwrap_or_else(yuepin_domain::china_today)
    }

    /// Whether the service runs as of a fixed day (the pages show a banner naming it).
    pub fn fixed_today(&self) -> Option<NaiveDate> {
        self.today
    }

    /// The date of a read-only check or what-if: the given day, or the server's date when
    /// absent or blank. Writes never take it (see [`PolicyService::today`]).
    pub fn as_of(&self, s: Option<&str>) -> Result<NaiveDate> {
        match s.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(self.today()),
            Some(s) => Ok(parse_date("as_of", s)?),
        }
    }

    pub fn set(&self) -> &PolicySet {
        &self.loaded.set
    }

    /// The engine with the pack's own parameter values.
    pub fn engine(&self) -> &Engine {
        &self.loaded.engine
    }

    /// Builds engine rows from stored facts (for bulk callers such as the CLI's benchmark).
    pub fn index(&self) -> &FactIndex {
        &self.loaded.index
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The id of the enterprise with this credit code.
    async fn enterprise_id_of(&self, uscc: &str) -> Result<i64> {
        let code = uscc.trim();
        let ids = yuepin_enterprises_service::EnterprisesService::new(self.store.clone())
            .enterprise_ids(&[code])
            .await?;
        ids.get(code)
            .copied()
            .ok_or_else(|| PolicyError::UnknownEnterprise {
                uscc: uscc.to_string(),
            })
    }

    /// The credit code of an enterprise user's own enterprise (`None` for other callers),
    /// e.g. for the link to its 政策匹配 page.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn own_enterprise_code(&self, caller: &Caller) -> Result<Option<String>> {
        match (caller.role(), caller.enterprise_id()) {
            (Some(Role::Enterprise), Some(id)) => Ok(Some(
                yuepin_enterprises_service::EnterprisesService::new(self.store.clone())
                    .enterprise_by_id(id)
                    .await?
                    .enterprise
                    .uscc
                    .to_string(),
            )),
            _ => Ok(None),
        }
    }
}

/// Refuses a client-supplied date on a write: the server's date decides eligibility.
pub(crate) fn no_client_date(as_of: &str) -> Result<()> {
    if as_of.trim().is_empty() {
        Ok(())
    } else {
        Err(PolicyError::ClientDate { field: "as_of" })
    }
}

/// Builds an engine with `name=value` overrides (empty: the base engine's settings).
pub fn engine_with(set: &PolicySet, overrides: &BTreeMap<String, String>) -> Result<Engine> {
    let mut o = ParamOverrides::new();
    for (k, v) in overrides {
        o = o.set(k.trim(), v.trim());
    }
    Ok(Engine::new(set, &o)?)
}

/// Measure id within its pack ("M18") from a key ("gd-2023-74/M18").
pub fn measure_id(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

pub(crate) fn find_measure(set: &PolicySet, id: &str) -> Result<MeasureIdx> {
    set.find_measure(id.trim())
        .ok_or_else(|| PolicyError::UnknownMeasure { id: id.to_string() })
}

/// The measures with a rule for this subject kind, in pack order.
pub fn measures_for(set: &PolicySet, subject: SubjectKind) -> Vec<MeasureIdx> {
    set.measures()
        .iter()
        .enumerate()
        .filter(|(_, m)| m.rule(subject).is_some())
        .map(|(i, _)| i)
        .collect()
}

/// Whether the measure pays money and takes applications: its pack gives it `money:` data.
pub fn is_money_measure(set: &PolicySet, m: MeasureIdx) -> bool {
    set.measures().get(m).is_some_and(|m| m.money.is_some())
}

/// The key of a loaded measure that replaces this one (`supersedes:` in a later pack).
pub fn successor_of(set: &PolicySet, m: MeasureIdx) -> Option<String> {
    let key = &set.measures().get(m)?.key;
    set.measures()
        .iter()
        .find(|x| x.supersedes.contains(key))
        .map(|x| x.key.clone())
}

/// Anyone signed in (or the CLI, or the system); not the anonymous public.
pub(crate) fn require_signed_in(caller: &Caller) -> Result<()> {
    match caller.kind {
        CallerKind::Public => Err(Denied::SignInRequired.into()),
        _ => Ok(()),
    }
}

/// The enterprise of an enterprise user: the one who answers offers, reads its notifications
/// and applies. Regulators do none of these in an enterprise's name.
pub(crate) fn own_enterprise(caller: &Caller) -> Result<i64> {
    require_signed_in(caller)?;
    match caller.role() {
        Some(Role::Enterprise) => caller
            .enterprise_id()
            .ok_or(PolicyError::AccountWithoutEnterprise),
        _ => Err(Denied::Role {
            needs: vec![Role::Enterprise],
        }
        .into()),
    }
}

/// Whose records a listing shows: every enterprise's for administrators, an enterprise user's
/// own; nobody else's.
pub(crate) fn listing_scope(caller: &Caller) -> Result<Option<i64>> {
    require_signed_in(caller)?;
    if caller.is_administrator() {
        return Ok(None);
    }
    match caller.role() {
        Some(Role::Enterprise) => Ok(Some(own_enterprise(caller)?)),
        _ => Err(Denied::Role {
            needs: vec![Role::Regulator, Role::Enterprise],
        }
        .into()),
    }
}
