//! The second factor below HTTP, on the backend under test: enrolment with a first code,
//! sign-in in two steps with replays and reused recovery codes refused, re-authentication,
//! the administrator's resets.

use std::sync::Arc;
use yuepin_domain::{Caller, Role};
use yuepin_enterprises_service::second_factor::{totp, STEP_SECS};
use yuepin_enterprises_service::{
    EnterprisesError, EnterprisesService, FirstStep, NewAccount, SecretBox,
};
use yuepin_test_support::TestDb;

fn keyed(store: &yuepin_store::Store) -> EnterprisesService {
    EnterprisesService::new(store.clone()).with_totp_key(Arc::new(SecretBox::from_bytes(&[9; 32])))
}

async fn account(svc: &EnterprisesService, name: &str, role: &str) -> Caller {
    let id = svc
        .create_account(
            &Caller::cli("test"),
            NewAccount {
                username: name.into(),
                display_name: String::new(),
                password: format!("{name}-password-1"),
                role: role.into(),
                enterprise_uscc: None,
            },
        )
        .await
        .unwrap();
    Caller::user(id, name, role.parse::<Role>().unwrap(), None, None)
}

fn now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap()
}

async fn challenge(svc: &EnterprisesService, name: &str, password: &str) -> String {
    match svc
        .begin_sign_in(name, password, "203.0.113.9")
        .await
        .unwrap()
    {
        FirstStep::NeedsCode { challenge } => challenge,
        FirstStep::Signed(_) => panic!("signed in without a code"),
    }
}

#[tokio::test]
async fn enrolment_sign_in_replays_recovery_codes_and_resets() {
    let db = TestDb::new().await;
    let svc = keyed(&db.store);
    let reg = account(&svc, "reg", "regulator").await;
    let en = svc.begin_totp_enrolment(&reg).await.unwrap();
    // The database holds the secret sealed, never in the clear.
    let stored = db
        .store
        .totp_of(reg.user_id().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(stored.secret.starts_with("v1:") && !stored.secret.contains(&en.secret));
    assert_eq!(
        svc.begin_totp_enrolment(&reg).await.unwrap().secret,
        en.secret,
        "kept while pending"
    );
    let t = totp(&en.secret, "reg").unwrap();
    assert!(
        matches!(
            svc.confirm_totp(&reg, "000000").await,
            Err(EnterprisesError::WrongCode)
        ) || t.generate(now()) == "000000"
    );
    let codes = svc.confirm_totp(&reg, &t.generate(now())).await.unwrap();
    assert_eq!(codes.len(), 10);
    assert!(matches!(
        svc.begin_totp_enrolment(&reg).await,
        Err(EnterprisesError::TotpEnrolled)
    ));
    // Password step, then the code: the enrolment's step is spent.
    let c = challenge(&svc, "reg", "reg-password-1").await;
    assert!(matches!(
        svc.finish_sign_in(&c, &t.generate(now()), "203.0.113.9")
            .await,
        Err(EnterprisesError::WrongCode)
    ));
    let next = t.generate(now() + STEP_SECS);
    assert_eq!(
        svc.finish_sign_in(&c, &next, "203.0.113.9")
            .await
            .unwrap()
            .username,
        "reg"
    );
    assert!(
        matches!(
            svc.finish_sign_in(&c, &next, "203.0.113.9").await,
            Err(EnterprisesError::ChallengeExpired)
        ),
        "a challenge signs in once"
    );
    let c = challenge(&svc, "reg", "reg-password-1").await;
    assert!(
        matches!(
            svc.finish_sign_in(&c, &next, "203.0.113.9").await,
            Err(EnterprisesError::WrongCode)
        ),
        "replay"
    );
    assert!(svc
        .finish_sign_in(&c, &codes[0], "203.0.113.9")
        .await
        .is_ok());
    let c = challenge(&svc, "reg", "reg-password-1").await;
    assert!(
        svc.finish_sign_in(&c, &codes[0], "203.0.113.9")
            .await
            .is_err(),
        "used once"
    );
    assert_eq!(svc.recovery_codes_left(&reg).await.unwrap(), 9);
    // Re-authentication takes a fresh code, not the password, for an account with TOTP.
    assert!(svc
        .reauthenticate(&reg, "reg-password-1", "203.0.113.9")
        .await
        .is_err());
    assert!(
        svc.reauthenticate(
            &reg,
            &t.generate(now() + 2 * STEP_SECS - STEP_SECS),
            "203.0.113.9"
        )
        .await
        .is_err(),
        "step already used"
    );
    // Five wrong codes end a challenge.
    let c = challenge(&svc, "reg", "reg-password-1").await;
    for _ in 0..5 {
        let _ = svc.finish_sign_in(&c, "111111", "203.0.113.9").await;
    }
    assert!(matches!(
        svc.finish_sign_in(&c, &codes[1], "203.0.113.9").await,
        Err(EnterprisesError::ChallengeExpired)
    ));
    // Only administrators reset. (The five wrong codes have throttled 203.0.113.9, so the
    // sign-ins below come from another address.)
    let bank = account(&svc, "bank", "bank").await;
    assert!(svc.reset_totp(&bank, "reg").await.is_err());
    svc.reset_totp(&Caller::cli("test"), "reg").await.unwrap();
    assert!(matches!(
        svc.begin_sign_in("reg", "reg-password-1", "198.51.100.7").await.unwrap(),
        FirstStep::Signed(u) if !u.totp_enabled
    ));
    // A password reset must be changed first.
    let temp = svc
        .reset_password(&Caller::cli("test"), "bank")
        .await
        .unwrap();
    let u = match svc
        .begin_sign_in("bank", &temp, "198.51.100.7")
        .await
        .unwrap()
    {
        FirstStep::Signed(u) => u,
        FirstStep::NeedsCode { .. } => panic!(),
    };
    assert!(u.must_change_password);
    let _ = bank;
}

#[tokio::test]
async fn secrets_stored_in_the_clear_are_sealed_and_a_service_without_the_key_refuses() {
    let db = TestDb::new().await;
    let svc = keyed(&db.store);
    let reg = account(&svc, "reg", "regulator").await;
    let id = reg.user_id().unwrap();
    // A row as written before sealing existed: the base32 secret itself.
    let secret = yuepin_enterprises_service::second_factor::new_secret();
    let mut w = db
        .store
        .begin_write(yuepin_store::Actor::system())
        .await
        .unwrap();
    db.store
        .set_pending_totp(&mut w, id, &secret)
        .await
        .unwrap();
    db.store.commit(w).await.unwrap();
    assert_eq!(svc.begin_totp_enrolment(&reg).await.unwrap().secret, secret);
    assert!(svc.seal_plain_totp_secrets(&reg).await.is_ok());
    let stored = db.store.totp_of(id).await.unwrap().unwrap().secret;
    assert!(stored.starts_with("v1:"), "{stored}");
    assert_eq!(svc.seal_plain_totp_secrets(&reg).await.unwrap(), 0, "once");
    // Still the same secret: the first code confirms it.
    let t = totp(&secret, "reg").unwrap();
    assert_eq!(
        svc.confirm_totp(&reg, &t.generate(now()))
            .await
            .unwrap()
            .len(),
        10
    );
    // Without the key nothing is stored in the clear: enrolment is refused.
    let unkeyed = EnterprisesService::new(db.store.clone());
    let bank = account(&unkeyed, "bank", "bank").await;
    assert!(matches!(
        unkeyed.begin_totp_enrolment(&bank).await,
        Err(EnterprisesError::NoTotpKey)
    ));
    // Another key does not open the sealed row.
    let other = EnterprisesService::new(db.store.clone())
        .with_totp_key(Arc::new(SecretBox::from_bytes(&[1; 32])));
    let c = challenge(&other, "reg", "reg-password-1").await;
    assert!(other
        .finish_sign_in(&c, &t.generate(now() + STEP_SECS), "203.0.113.9")
        .await
        .is_err());
}
