//! The access matrix: anonymous, enterprise A, enterprise B, bank X, bank Y, an unbound bank
//! account, lab, expert and regulator × every credit use case, with consents that are live,
//! paused, expired, revoked, exhausted, for another bank, and another enterprise's. Each call
//! gets exactly the expected answer (and nothing of anyone else's comes back): wrong role is
//! `Denied::Role`, no sign-in `Denied::SignInRequired`, someone else's consent, entry or
//! enterprise looks missing, and a consent in the wrong state refuses with its reason.

mod common;

use common::*;
use std::collections::BTreeSet;
use yuepin_credit::{ConsentId, FetchRefused, State, Status};
use yuepin_credit_service::{CreditError, CreditResult};
use yuepin_domain::{Caller, Denied};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Out {
    Yes,
    SignIn,
    Role,
    NotFound,
    NotBound,
    Refused(&'static str),
    Illegal,
    Other(String),
}
use Out::*;

fn out<T>(r: &CreditResult<T>) -> Out {
    match r {
        Ok(_) => Yes,
        Err(CreditError::Denied(Denied::SignInRequired)) => SignIn,
        Err(CreditError::Denied(Denied::Role { .. })) => Role,
        Err(CreditError::NotFound { .. }) => NotFound,
        Err(CreditError::BankNotBound) => NotBound,
        Err(CreditError::Illegal(_)) => Illegal,
        Err(CreditError::Refused(f)) => Refused(match f {
            FetchRefused::Revoked => "revoked",
            FetchRefused::Paused => "paused",
            FetchRefused::Expired => "expired",
            FetchRefused::Exhausted => "exhausted",
            FetchRefused::TooSoon { .. } => "too_soon",
            FetchRefused::Category { .. } => "category",
            FetchRefused::Range => "range",
        }),
        Err(e) => Other(format!("{e:?}")),
    }
}

struct World {
    fx: Fx,
    live: ConsentId,
    paused: ConsentId,
    expired: ConsentId,
    revoked: ConsentId,
    exhausted: ConsentId,
    other_bank: ConsentId,
    b_live: ConsentId,
}

impl World {
    fn callers(&self) -> Vec<(&'static str, Caller)> {
        let f = &self.fx;
        vec![
            ("anonymous", f.public.clone()),
            ("enterprise A", f.a.clone()),
            ("enterprise B", f.b.clone()),
            ("bank X", f.x.clone()),
            ("bank Y", f.y.clone()),
            ("unbound bank", f.unbound.clone()),
            ("lab", f.lab.clone()),
            ("expert", f.expert.clone()),
            ("regulator", f.regulator.clone()),
        ]
    }
    fn a_to_x(&self) -> Vec<&ConsentId> {
        vec![
            &self.live,
            &self.paused,
            &self.expired,
            &self.revoked,
            &self.exhausted,
        ]
    }
    fn consents(&self) -> Vec<(&'static str, &ConsentId)> {
        vec![
            ("live", &self.live),
            ("paused", &self.paused),
            ("expired", &self.expired),
            ("revoked", &self.revoked),
            ("exhausted", &self.exhausted),
            ("other bank", &self.other_bank),
            ("B's", &self.b_live),
        ]
    }
}

async fn world() -> World {
    let fx = setup().await;
    let c = &fx.credit;
    let expired = c
        .grant_consent(&fx.a, fx.bank_x, &terms(5, 1))
        .await
        .unwrap()
        .id;
    c.clock().advance(chrono::Duration::days(2));
    let live = c
        .grant_consent(&fx.a, fx.bank_x, &terms(50, 30))
        .await
        .unwrap()
        .id;
    let paused = c
        .grant_consent(&fx.a, fx.bank_x, &terms(5, 30))
        .await
        .unwrap()
        .id;
    c.pause_consent(&fx.a, &paused).await.unwrap();
    let revoked = c
        .grant_consent(&fx.a, fx.bank_x, &terms(5, 30))
        .await
        .unwrap()
        .id;
    c.revoke_consent(&fx.a, &revoked).await.unwrap();
    let exhausted = c
        .grant_consent(&fx.a, fx.bank_x, &terms(1, 30))
        .await
        .unwrap()
        .id;
    c.fetch_report(&fx.x, &exhausted, &fetch()).await.unwrap();
    let other_bank = c
        .grant_consent(&fx.a, fx.bank_y, &terms(50, 30))
        .await
        .unwrap()
        .id;
    let b_live = c
        .grant_consent(&fx.b, fx.bank_x, &terms(50, 30))
        .await
        .unwrap()
        .id;
    World {
        fx,
        live,
        paused,
        expired,
        revoked,
        exhausted,
        other_bank,
        b_live,
    }
}

/// For callers that are not the two enterprises or banks: their answer to everything here.
fn outsider(who: &str) -> Option<Out> {
    match who {
        "anonymous" => Some(SignIn),
        "unbound bank" => Some(NotBound),
        "lab" | "expert" => Some(Role),
        _ => None,
    }
}

#[tokio::test]
async fn the_states_are_what_the_matrix_assumes() {
    let w = world().await;
    let r = &w.fx.regulator;
    for (id, want) in [
        (&w.live, Status::Active),
        (&w.paused, Status::Paused),
        (&w.expired, Status::Expired),
        (&w.revoked, Status::Revoked),
        (&w.exhausted, Status::Exhausted),
    ] {
        assert_eq!(w.fx.credit.consent(r, id).await.unwrap().status, want);
    }
}

#[tokio::test]
async fn fetching_reports() {
    let w = world().await;
    for (who, caller) in w.callers() {
        for (what, id) in w.consents() {
            let r = w.fx.credit.fetch_report(&caller, id, &fetch()).await;
            let want = match (who, what) {
                ("anonymous", _) => SignIn,
                ("unbound bank", _) => NotBound,
                ("bank X", "live") | ("bank X", "B's") => Yes,
                ("bank X", "paused") => Refused("paused"),
                ("bank X", "expired") => Refused("expired"),
                ("bank X", "revoked") => Refused("revoked"),
                ("bank X", "exhausted") => Refused("exhausted"),
                ("bank X", "other bank") => NotFound,
                ("bank Y", "other bank") => Yes,
                ("bank Y", _) => NotFound,
                _ => Role,
            };
            assert_eq!(out(&r), want, "{who} fetching under the {what} consent");
            if let Ok(rep) = r {
                let consent = w.fx.credit.consent(&w.fx.regulator, id).await.unwrap();
                assert_eq!(rep.report.enterprise, consent.enterprise_uscc);
                assert_eq!(rep.report.consent_id, *id);
            }
        }
    }
}

#[tokio::test]
async fn reading_one_consent() {
    let w = world().await;
    for (who, caller) in w.callers() {
        for (what, id) in w.consents() {
            let r = w.fx.credit.consent(&caller, id).await;
            let want = outsider(who).unwrap_or(match (who, what) {
                ("regulator", _) => Yes,
                ("enterprise A", "B's") => NotFound,
                ("enterprise A", _) => Yes,
                ("enterprise B", "B's") => Yes,
                ("enterprise B", _) => NotFound,
                ("bank X", "other bank") => NotFound,
                ("bank X", _) => Yes,
                ("bank Y", "other bank") => Yes,
                ("bank Y", _) => NotFound,
                _ => Other("unlisted".into()),
            });
            assert_eq!(out(&r), want, "{who} reading the {what} consent");
        }
    }
}

#[tokio::test]
async fn listing_consents() {
    let w = world().await;
    let ids = |v: Vec<yuepin_credit_service::ConsentRecord>| -> BTreeSet<ConsentId> {
        v.into_iter().map(|c| c.id).collect()
    };
    let mut a_all: BTreeSet<ConsentId> = w.a_to_x().into_iter().cloned().collect();
    a_all.insert(w.other_bank.clone());
    let mut x_all: BTreeSet<ConsentId> = w.a_to_x().into_iter().cloned().collect();
    x_all.insert(w.b_live.clone());
    for (who, caller) in w.callers() {
        let mine = w.fx.credit.my_consents(&caller).await;
        let bank = w.fx.credit.bank_consents(&caller).await;
        match who {
            "enterprise A" => assert_eq!(ids(mine.unwrap()), a_all),
            "enterprise B" => assert_eq!(ids(mine.unwrap()), [w.b_live.clone()].into()),
            "anonymous" => assert_eq!(out(&mine), SignIn),
            _ => assert_eq!(out(&mine), Role, "{who} listing enterprise consents"),
        }
        match who {
            "bank X" => assert_eq!(ids(bank.unwrap()), x_all),
            "bank Y" => assert_eq!(ids(bank.unwrap()), [w.other_bank.clone()].into()),
            "anonymous" => assert_eq!(out(&bank), SignIn),
            "unbound bank" => assert_eq!(out(&bank), NotBound),
            _ => assert_eq!(out(&bank), Role, "{who} listing bank consents"),
        }
    }
}

#[tokio::test]
async fn changing_consents_is_the_enterprises_alone() {
    let w = world().await;
    let c = &w.fx.credit;
    for (who, caller) in w.callers() {
        if who == "enterprise A" {
            continue;
        }
        for (what, id) in w.consents() {
            let owner_b = what == "B's";
            let want = match who {
                "anonymous" => SignIn,
                "enterprise B" if owner_b => Yes,
                "enterprise B" => NotFound,
                _ => Role,
            };
            if owner_b && who == "enterprise B" {
                continue; // B's own consent: covered by the state-machine tests.
            }
            assert_eq!(
                out(&c.pause_consent(&caller, id).await),
                want,
                "{who} pausing {what}"
            );
            assert_eq!(
                out(&c.resume_consent(&caller, id).await),
                want,
                "{who} resuming {what}"
            );
            assert_eq!(
                out(&c.revoke_consent(&caller, id).await),
                want,
                "{who} revoking {what}"
            );
        }
    }
    // Nothing changed.
    let r = &w.fx.regulator;
    assert_eq!(c.consent(r, &w.live).await.unwrap().state, State::Active);
    assert_eq!(c.consent(r, &w.paused).await.unwrap().state, State::Paused);
    assert_eq!(c.consent(r, &w.b_live).await.unwrap().state, State::Active);
    // The owner's steps follow the state machine.
    let a = &w.fx.a;
    assert_eq!(out(&c.resume_consent(a, &w.live).await), Illegal);
    assert_eq!(out(&c.pause_consent(a, &w.paused).await), Illegal);
    assert_eq!(out(&c.resume_consent(a, &w.expired).await), Illegal);
    assert_eq!(out(&c.revoke_consent(a, &w.expired).await), Illegal);
    assert_eq!(out(&c.resume_consent(a, &w.revoked).await), Illegal);
    assert_eq!(out(&c.revoke_consent(a, &w.revoked).await), Illegal);
    assert_eq!(out(&c.pause_consent(a, &w.exhausted).await), Illegal);
    assert_eq!(out(&c.pause_consent(a, &w.b_live).await), NotFound);
}

#[tokio::test]
async fn granting_and_administering() {
    let w = world().await;
    let c = &w.fx.credit;
    for (who, caller) in w.callers() {
        let grant = c.grant_consent(&caller, w.fx.bank_y, &terms(2, 10)).await;
        let want = match who {
            "anonymous" => SignIn,
            "enterprise A" | "enterprise B" => Yes,
            _ => Role,
        };
        assert_eq!(out(&grant), want, "{who} granting");
        let bank = c
            .create_bank(&caller, &format!("BANK-{}", who.len()), "某银行")
            .await;
        let staff = c.bind_bank_staff(&caller, w.fx.bank_x, "bankz").await;
        let verify = c.verify_log(&caller).await;
        let want = match who {
            "anonymous" => SignIn,
            "regulator" => Yes,
            _ => Role,
        };
        assert_eq!(out(&bank), want, "{who} creating a bank");
        assert_eq!(out(&staff), want, "{who} binding bank staff");
        assert_eq!(out(&verify), want, "{who} verifying the log");
        let cp = c.checkpoint(&caller).await;
        assert_eq!(
            out(&cp),
            if who == "anonymous" { SignIn } else { Yes },
            "{who} checkpoint"
        );
    }
    assert_eq!(
        out(&c.grant_consent(&w.fx.a, 9_999, &terms(2, 10)).await),
        NotFound,
        "no such bank"
    );
}

#[tokio::test]
async fn grades() {
    let w = world().await;
    for (who, caller) in w.callers() {
        for (ent, uscc) in [("A", &w.fx.uscc_a), ("B", &w.fx.uscc_b)] {
            let g = w.fx.credit.grade(&caller, uscc).await;
            let h = w.fx.credit.grade_history(&caller, uscc).await;
            let want = match (who, ent) {
                ("anonymous", _) => SignIn,
                ("regulator", _) | ("enterprise A", "A") | ("enterprise B", "B") => Yes,
                _ => NotFound,
            };
            assert_eq!(out(&g), want, "{who} grading {ent}");
            assert_eq!(out(&h), want, "{who} reading {ent}'s grade history");
            if let Ok(g) = g {
                let id = if ent == "A" { w.fx.ent_a } else { w.fx.ent_b };
                assert_eq!(g.enterprise_id, id);
            }
        }
    }
}

#[tokio::test]
async fn log_entries_and_proofs_stay_with_their_parties() {
    let w = world().await;
    let c = &w.fx.credit;
    let reg = &w.fx.regulator;
    // The index of each consent's grant entry.
    let grant_index =
        |id: ConsentId| async move { c.consent(reg, &id).await.unwrap().events[0].log_index };
    let x_entry = grant_index(w.live.clone()).await;
    let y_entry = grant_index(w.other_bank.clone()).await;
    let b_entry = grant_index(w.b_live.clone()).await;
    for (who, caller) in w.callers() {
        for (what, index) in [("A→X", x_entry), ("A→Y", y_entry), ("B→X", b_entry)] {
            let p = c.inclusion_proof(&caller, index, None).await;
            let want = outsider(who)
                .map(|o| if o == Role { NotFound } else { o })
                .unwrap_or(match (who, what) {
                    ("regulator", _) => Yes,
                    ("enterprise A", "A→X" | "A→Y") => Yes,
                    ("enterprise B", "B→X") => Yes,
                    ("bank X", "A→X" | "B→X") => Yes,
                    ("bank Y", "A→Y") => Yes,
                    _ => NotFound,
                });
            assert_eq!(out(&p), want, "{who} proving the {what} entry");
        }
        let entries = c.my_log_entries(&caller).await;
        let mine = |key: &str, value: serde_json::Value| {
            for e in entries.as_ref().unwrap() {
                let v: serde_json::Value = serde_json::from_str(&e.entry).unwrap();
                assert_eq!(v[key], value, "{who} got {}", e.entry);
            }
        };
        match who {
            "bank X" => mine("bank", w.fx.bank_x.into()),
            "bank Y" => mine("bank", w.fx.bank_y.into()),
            "enterprise A" => mine("enterprise", w.fx.uscc_a.clone().into()),
            "enterprise B" => mine("enterprise", w.fx.uscc_b.clone().into()),
            "anonymous" => assert_eq!(out(&entries), SignIn),
            "unbound bank" => assert_eq!(out(&entries), NotBound),
            _ => assert_eq!(out(&entries), Role, "{who} listing log entries"),
        }
        let cons = c.consistency_proof(&caller, 1, None).await;
        assert_eq!(out(&cons), if who == "anonymous" { SignIn } else { Yes });
    }
}
