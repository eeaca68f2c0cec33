//! Signing in: the password check with throttling that cannot lock everyone out (ASVS 6.3.1,
//! 2.4.1). Failures are counted in the database (so the limits hold across replicas) under
//! three keys: the client address, the account, and the pair of both.
//!
//! - **Address**: after [`ADDRESS_FREE_FAILURES`] failures within [`ADDRESS_WINDOW_MINUTES`]
//!   an address must wait between attempts, 1 s doubling with each further failure up to
//!   [`ADDRESS_MAX_DELAY_SECS`]. It is slowed, never shut out, and other addresses are not
//!   touched, whatever accounts it tried.
//! - **Account**: after [`ACCOUNT_FREE_FAILURES`] failures within [`ACCOUNT_WINDOW_MINUTES`]
//!   the account waits 30 s after its latest failure, doubling with each further failure up to
//!   [`ACCOUNT_MAX_DELAY_SECS`] (15 minutes), then opens again. The wait applies only to
//!   addresses that have failed on this account: from an address that has not, the password
//!   is still checked, so the owner signs in from their own address while an attacker is
//!   locked out (each wrong guess makes its address one that has failed).
//!
//! A correct password clears the account's and the pair's failures, not the address's.

use crate::error::{EnterprisesError, Result};
use crate::EnterprisesService;
use chrono::{DateTime, Duration, Utc};
use yuepin_store::{passwords, UserRecord};

pub const ADDRESS_FREE_FAILURES: i64 = 20;
pub const ADDRESS_WINDOW_MINUTES: i64 = 15;
pub const ADDRESS_MAX_DELAY_SECS: i64 = 60;
pub const ACCOUNT_FREE_FAILURES: i64 = 5;
pub const ACCOUNT_WINDOW_MINUTES: i64 = 60;
pub const ACCOUNT_FIRST_DELAY_SECS: i64 = 30;
pub const ACCOUNT_MAX_DELAY_SECS: i64 = 15 * 60;

/// How long an address with `failures` recent failures waits after its latest one.
pub fn address_delay_secs(failures: i64) -> i64 {
    if failures < ADDRESS_FREE_FAILURES {
        return 0;
    }
    doubled(1, failures - ADDRESS_FREE_FAILURES, ADDRESS_MAX_DELAY_SECS)
}

/// How long an account with `failures` recent failures waits after its latest one.
pub fn account_delay_secs(failures: i64) -> i64 {
    if failures < ACCOUNT_FREE_FAILURES {
        return 0;
    }
    doubled(
        ACCOUNT_FIRST_DELAY_SECS,
        failures - ACCOUNT_FREE_FAILURES,
        ACCOUNT_MAX_DELAY_SECS,
    )
}

fn doubled(first: i64, times: i64, cap: i64) -> i64 {
    let shift = u32::try_from(times.clamp(0, 20)).unwrap_or(20);
    first.saturating_mul(1 << shift).min(cap)
}

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Seconds still to wait, if `last` + `delay` is after `now` (at least 1).
pub(crate) fn remaining(now: DateTime<Utc>, last: Option<&str>, delay: i64) -> Option<u64> {
    if delay <= 0 {
        return None;
    }
    let last = DateTime::parse_from_rfc3339(last?)
        .ok()?
        .with_timezone(&Utc);
    let until = last + Duration::seconds(delay);
    (until > now).then(|| {
        ((until - now).num_milliseconds() as u64)
            .div_ceil(1000)
            .max(1)
    })
}

fn dummy_hash() -> &'static str {
    static CELL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CELL.get_or_init(|| passwords::hash_password("not-a-real-password").unwrap_or_default())
}

impl EnterprisesService {
    /// Checks `username` and `password` from the client at `client` (an address, or "local")
    /// under the throttling above. A public use case: the caller is whoever knows the password.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client: &str,
    ) -> Result<UserRecord> {
        let store = &self.store;
        let username = username.trim();
        let now = Utc::now();
        let ip_key = format!("ip:{client}");
        let account_key = format!("user:{username}");
        let pair_key = format!("pair:{username}|{client}");
        let since_ip = ts(now - Duration::minutes(ADDRESS_WINDOW_MINUTES));
        let since_account = ts(now - Duration::minutes(ACCOUNT_WINDOW_MINUTES));

        let (n, last) = store.login_failure_stats(&ip_key, &since_ip).await?;
        if let Some(wait) = remaining(now, last.as_deref(), address_delay_secs(n)) {
            return Err(EnterprisesError::Throttled {
                retry_after_secs: wait,
            });
        }
        let (n, last) = store
            .login_failure_stats(&account_key, &since_account)
            .await?;
        if let Some(wait) = remaining(now, last.as_deref(), account_delay_secs(n)) {
            let (failed_here, _) = store.login_failure_stats(&pair_key, &since_account).await?;
            if failed_here > 0 {
                return Err(EnterprisesError::Throttled {
                    retry_after_secs: wait,
                });
            }
        }

        let user = store.user_by_username(username).await?;
        // Verify against a fixed hash when the user is unknown, so timing does not reveal accounts.
        let ok = match &user {
            Some(u) if !u.disabled => passwords::verify_password(password, &u.password_hash),
            _ => {
                let _ = passwords::verify_password(password, dummy_hash());
                false
            }
        };
        match (ok, user) {
            (true, Some(u)) => {
                store.clear_login_failures(&account_key).await?;
                store.clear_login_failures(&pair_key).await?;
                Ok(u)
            }
            _ => {
                store
                    .record_login_failure(&[ip_key, account_key, pair_key])
                    .await?;
                Err(EnterprisesError::WrongCredentials)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_and_stop_at_their_caps() {
        assert_eq!(address_delay_secs(19), 0);
        assert_eq!(address_delay_secs(20), 1);
        assert_eq!(address_delay_secs(23), 8);
        assert_eq!(address_delay_secs(10_000), ADDRESS_MAX_DELAY_SECS);
        assert_eq!(account_delay_secs(4), 0);
        assert_eq!(account_delay_secs(5), 30);
        assert_eq!(account_delay_secs(6), 60);
        assert_eq!(account_delay_secs(9), 480);
        assert_eq!(account_delay_secs(10), ACCOUNT_MAX_DELAY_SECS);
        assert_eq!(account_delay_secs(i64::MAX), ACCOUNT_MAX_DELAY_SECS);
    }

    #[test]
    fn the_wait_is_counted_from_the_latest_failure() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T03:00:00.000Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            remaining(now, Some("2026-12-02T02:59:50.000Z"), 30),
            Some(20)
        );
        assert_eq!(remaining(now, Some("2026-12-02T02:59:30.000Z"), 30), None);
        assert_eq!(remaining(now, None, 30), None);
        assert_eq!(remaining(now, Some("2026-12-02T03:00:05.000Z"), 0), None);
    }
}
