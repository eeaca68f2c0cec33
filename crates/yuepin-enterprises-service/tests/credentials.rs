//! Tokens, disabled accounts, password changes and sign-in throttling below HTTP, on the
//! backend under test: who may revoke what, and what a changed or disabled account keeps.

use yuepin_domain::{Caller, Role};
use yuepin_enterprises_service::{EnterprisesError, EnterprisesService, Invalid, NewAccount};
use yuepin_store::passwords::PasswordProblem;
use yuepin_test_support::TestDb;

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

#[tokio::test]
async fn only_the_owner_or_an_administrator_issues_lists_and_revokes_tokens() {
    let db = TestDb::new().await;
    let svc = EnterprisesService::new(db.store.clone());
    let alice = account(&svc, "alice", "bank").await;
    let bob = account(&svc, "bob", "lab").await;
    let a = svc
        .issue_token(&alice, alice.user_id().unwrap(), "", None)
        .await
        .unwrap();
    assert_eq!(a.record.name, "api");
    assert!(matches!(
        svc.issue_token(&bob, alice.user_id().unwrap(), "x", None)
            .await,
        Err(EnterprisesError::Denied(_))
    ));
    assert!(matches!(
        svc.issue_token(&alice, alice.user_id().unwrap(), "x", Some(366))
            .await,
        Err(EnterprisesError::Invalid {
            field: "days",
            reason: Invalid::TokenDays
        })
    ));
    assert!(matches!(
        svc.revoke_token(&bob, a.record.id).await,
        Err(EnterprisesError::NoSuchToken(_))
    ));
    assert!(svc.my_tokens(&bob).await.unwrap().is_empty());
    assert!(matches!(
        svc.tokens_of(&bob, "alice").await,
        Err(EnterprisesError::Denied(_))
    ));
    assert_eq!(
        svc.tokens_of(&Caller::cli("t"), "alice")
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(svc.revoke_token(&alice, a.record.id).await.unwrap().revoked);
    assert!(db
        .store
        .user_by_api_token(&a.token)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn disabling_revokes_tokens_and_a_changed_password_follows_the_rules() {
    let db = TestDb::new().await;
    let svc = EnterprisesService::new(db.store.clone());
    let alice = account(&svc, "alice", "bank").await;
    let t = svc
        .issue_token(&alice, alice.user_id().unwrap(), "t", None)
        .await
        .unwrap();
    for (new, want) in [
        ("short", Invalid::Password(PasswordProblem::TooShort)),
        ("Password1", Invalid::Password(PasswordProblem::Common)),
        ("alice-password-1", Invalid::SamePassword),
    ] {
        match svc
            .change_password(&alice, "alice-password-1", new, "local", None)
            .await
        {
            Err(EnterprisesError::Invalid { reason, .. }) => assert_eq!(reason, want, "{new}"),
            other => panic!("{new}: {other:?}"),
        }
    }
    match svc
        .change_password(&alice, "wrong", "a-long-new-one", "local", None)
        .await
    {
        Err(EnterprisesError::Invalid { field, reason }) => {
            assert_eq!(
                (field, reason),
                ("current_password", Invalid::WrongPassword)
            )
        }
        other => panic!("{other:?}"),
    }
    svc.change_password(&alice, "alice-password-1", "a-long-new-one", "local", None)
        .await
        .unwrap();
    assert!(svc
        .sign_in("alice", "a-long-new-one", "local")
        .await
        .is_ok());
    assert!(matches!(
        svc.disable_user(&alice, "alice").await,
        Err(EnterprisesError::Denied(_))
    ));
    svc.disable_user(&Caller::cli("t"), "alice").await.unwrap();
    assert!(db
        .store
        .user_by_api_token(&t.token)
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        svc.sign_in("alice", "a-long-new-one", "local").await,
        Err(EnterprisesError::WrongCredentials)
    ));
}

#[tokio::test]
async fn an_account_backs_off_only_for_the_addresses_that_failed_on_it() {
    let db = TestDb::new().await;
    let svc = EnterprisesService::new(db.store.clone());
    account(&svc, "alice", "bank").await;
    for _ in 0..5 {
        assert!(matches!(
            svc.sign_in("alice", "guess", "203.0.113.9").await,
            Err(EnterprisesError::WrongCredentials)
        ));
    }
    match svc
        .sign_in("alice", "alice-password-1", "203.0.113.9")
        .await
    {
        Err(EnterprisesError::Throttled { retry_after_secs }) => {
            assert!((1..=30).contains(&retry_after_secs))
        }
        other => panic!("{other:?}"),
    }
    assert!(svc
        .sign_in("alice", "alice-password-1", "198.51.100.4")
        .await
        .is_ok());
    // The success cleared the account's failures: the guesser's address waits no longer for it.
    assert!(svc
        .sign_in("alice", "alice-password-1", "203.0.113.9")
        .await
        .is_ok());
}
