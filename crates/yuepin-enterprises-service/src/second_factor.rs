//! The second factor (ASVS 6.5, 6.6; issue 17 item 3): TOTP (RFC 6238: SHA-1, 6 digits,
//! 30-second steps, one step of clock drift either way) with 10 single-use recovery codes
//! (Argon2id hashes), required for regulator and bank accounts when the server says so.
//!
//! - **Enrolment**: the account gets a pending 160-bit secret (shown with its `otpauth://`
//!   URI until confirmed, never after), confirms it with a first code, and receives its
//!   recovery codes once.
//! - **Sign-in in two steps**: the password step ([`EnterprisesService::begin_sign_in`])
//!   either signs in an account without a second factor or opens a challenge (5 minutes, 5
//!   codes); the code step ([`EnterprisesService::finish_sign_in`]) takes a TOTP code or a
//!   recovery code. A code's time step is accepted once (`accept_totp_step`, atomic across
//!   replicas), so a replayed code in the same step is refused.
//! - **Passing the account back-off**: while an account is throttled for an address
//!   (`signin.rs`), the password step of an account with a second factor still opens a
//!   challenge, whether or not the password was right (the answer does not say); the code
//!   step signs in only with the right password and a valid code. Someone guessing passwords
//!   thus cannot lock the owner out, and learns nothing about the password while throttled.
//!   Wrong codes count as failed sign-ins.
//! - **Re-authentication** ([`EnterprisesService::reauthenticate`]): a TOTP code (accounts
//!   with one) or the password, under the same counters.

use crate::error::{EnterprisesError, Result};
use crate::secret_box::SecretBox;
use crate::signin::{account_delay_secs, remaining, ts, ACCOUNT_WINDOW_MINUTES};
use crate::EnterprisesService;
use chrono::{DateTime, Duration, Utc};
use totp_rs::{Algorithm, Secret, TOTP};
use yuepin_domain::{Caller, Role};
use yuepin_store::{passwords, Actor, StoreError, UserRecord};

/// Seconds per TOTP step (RFC 6238's default, what authenticator apps use).
pub const STEP_SECS: u64 = 30;
/// Steps of clock drift accepted either side of now.
pub const DRIFT_STEPS: u64 = 1;
/// How many recovery codes an enrolment gives.
pub const RECOVERY_CODES: usize = 10;
/// How long the code step waits for its code.
pub const CHALLENGE_MINUTES: i64 = 5;
/// Codes tried per challenge before it ends.
pub const CHALLENGE_ATTEMPTS: i64 = 5;
/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "Yuepin";

/// Roles whose accounts decide money or see credit data (ASVS level 3): TOTP is required.
pub fn totp_required(role: Role) -> bool {
    matches!(role, Role::Regulator | Role::Bank)
}

/// The TOTP of a base32 secret for `account`.
pub fn totp(secret: &str, account: &str) -> Result<TOTP> {
    let bytes = Secret::Encoded(secret.to_string())
        .to_bytes()
        .map_err(|e| StoreError::Corrupt(format!("TOTP secret: {e:?}")))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        0, // the drift is `matching_step`'s, so the step a code belongs to is known
        STEP_SECS,
        bytes,
        Some(ISSUER.into()),
        account.to_string(),
    )
    .map_err(|e| StoreError::Corrupt(format!("TOTP secret: {e}")).into())
}

/// The time step of `code` at `now` (Unix seconds), within the drift, if it matches one;
/// the latest matching step wins. Codes are compared in constant time (`totp-rs`).
pub fn matching_step(t: &TOTP, code: &str, now: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = now / STEP_SECS;
    (step.saturating_sub(DRIFT_STEPS)..=step + DRIFT_STEPS)
        .rev()
        .find(|s| t.check(&code, s * STEP_SECS))
}

fn unix_now() -> u64 {
    u64::try_from(Utc::now().timestamp()).unwrap_or(0)
}

/// A new secret: 20 random bytes (160 bits, RFC 4226's recommendation), base32.
pub fn new_secret() -> String {
    Secret::Raw(passwords::random_bytes(20))
        .to_encoded()
        .to_string()
}

/// A recovery code: 10 characters of an unambiguous alphabet, shown as `xxxxx-xxxxx`.
fn new_recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let raw: String = passwords::random_bytes(10)
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &raw[..5], &raw[5..])
}

/// A new set of recovery codes: the codes to show once, and their Argon2id hashes to keep.
fn recovery_set() -> Result<(Vec<String>, Vec<String>)> {
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let hashes = codes
        .iter()
        .map(|c| hash(&normal_recovery(c)))
        .collect::<Result<Vec<_>>>()?;
    Ok((codes, hashes))
}

fn normal_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// An enrolment in progress: the secret and its `otpauth://` URI (for the QR code).
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub secret: String,
    pub uri: String,
}

/// What the password step leads to.
#[derive(Debug, Clone)]
pub enum FirstStep {
    /// Signed in (no second factor on the account).
    Signed(UserRecord),
    /// The code step follows; the challenge's token goes to the client (a cookie).
    NeedsCode { challenge: String },
}

fn hash(s: &str) -> Result<String> {
    passwords::hash_password(s).map_err(|e| StoreError::Native(format!("hashing: {e}")).into())
}

impl EnterprisesService {
    async fn me(&self, caller: &Caller) -> Result<UserRecord> {
        let id = caller
            .user_id()
            .ok_or(yuepin_domain::Denied::SignInRequired)?;
        Ok(self
            .store
            .user_by_id(id)
            .await?
            .ok_or(yuepin_domain::Denied::SignInRequired)?)
    }

    fn totp_key(&self) -> Result<&SecretBox> {
        self.totp_key.as_deref().ok_or(EnterprisesError::NoTotpKey)
    }

    /// Seals every TOTP secret still stored in the clear (stored before sealing existed);
    /// returns how many. `yuepin serve` runs it at start; safe on several replicas at once.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn seal_plain_totp_secrets(&self, caller: &Caller) -> Result<usize> {
        caller.require_administrator()?;
        let key = self.totp_key()?;
        let plain: Vec<(i64, String)> = self
            .store
            .totp_secrets()
            .await?
            .into_iter()
            .filter(|(_, s)| !SecretBox::is_sealed(s))
            .collect();
        if plain.is_empty() {
            return Ok(0);
        }
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let mut sealed = 0;
        for (user_id, secret) in &plain {
            if self
                .store
                .reseal_totp(&mut w, *user_id, secret, &key.seal(*user_id, secret))
                .await?
            {
                sealed += 1;
            }
        }
        self.store.commit(w).await?;
        Ok(sealed)
    }

    /// Starts (or continues) the caller's enrolment: a pending secret, kept until confirmed.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn begin_totp_enrolment(&self, caller: &Caller) -> Result<Enrolment> {
        let me = self.me(caller).await?;
        let key = self.totp_key()?;
        let secret = match self.store.totp_of(me.id).await? {
            Some(t) if t.confirmed => return Err(EnterprisesError::TotpEnrolled),
            Some(t) => key.open(me.id, &t.secret)?,
            None => {
                let secret = new_secret();
                let mut w = self.store.begin_write(Actor::from(caller)).await?;
                self.store
                    .set_pending_totp(&mut w, me.id, &key.seal(me.id, &secret))
                    .await?;
                self.store.commit(w).await?;
                secret
            }
        };
        let uri = totp(&secret, &me.username)?.get_url();
        Ok(Enrolment { secret, uri })
    }

    /// Confirms the pending secret with a first code: the second factor is on, and the
    /// recovery codes are returned (shown once; only their hashes are kept).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn confirm_totp(&self, caller: &Caller, code: &str) -> Result<Vec<String>> {
        let me = self.me(caller).await?;
        let row = match self.store.totp_of(me.id).await? {
            Some(t) if t.confirmed => return Err(EnterprisesError::TotpEnrolled),
            Some(t) => t,
            None => return Err(EnterprisesError::TotpNotPending),
        };
        let t = totp(&self.totp_key()?.open(me.id, &row.secret)?, &me.username)?;
        let Some(step) = matching_step(&t, code, unix_now()) else {
            return Err(EnterprisesError::WrongCode);
        };
        let (codes, hashes) = recovery_set()?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        let done = self
            .store
            .confirm_totp(&mut w, me.id, i64::try_from(step).unwrap_or(0), &hashes)
            .await?;
        if !done {
            return Err(EnterprisesError::TotpEnrolled);
        }
        self.store.commit(w).await?;
        Ok(codes)
    }

    /// Enrols an account with a given secret at once (the demo seed and tests; the CLI's
    /// `admin` commands): no first code is asked. Returns the recovery codes.
    pub async fn enrol_totp_with_secret(
        &self,
        caller: &Caller,
        username: &str,
        secret: &str,
    ) -> Result<Vec<String>> {
        caller.require_administrator()?;
        let user = self
            .store
            .user_by_username(username)
            .await?
            .ok_or_else(|| EnterprisesError::NoSuchUser(username.into()))?;
        totp(secret, username)?;
        let sealed = self.totp_key()?.seal(user.id, secret);
        let (codes, hashes) = recovery_set()?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        self.store.reset_totp(&mut w, user.id).await?;
        self.store
            .set_pending_totp(&mut w, user.id, &sealed)
            .await?;
        self.store.confirm_totp(&mut w, user.id, 0, &hashes).await?;
        self.store.commit(w).await?;
        Ok(codes)
    }

    /// Removes an account's second factor (administrators; `yuepin admin reset-totp`): its
    /// sessions and tokens end; a regulator or bank account enrols again at its next sign-in.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reset_totp(&self, caller: &Caller, username: &str) -> Result<UserRecord> {
        caller.require_administrator()?;
        let user = self
            .store
            .user_by_username(username.trim())
            .await?
            .ok_or_else(|| EnterprisesError::NoSuchUser(username.trim().into()))?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        self.store.reset_totp(&mut w, user.id).await?;
        self.store.commit(w).await?;
        Ok(UserRecord {
            totp_enabled: false,
            ..user
        })
    }

    /// New recovery codes for the caller, in place of the old ones (used up, or seen by
    /// someone), after a current TOTP code: the re-authentication's rules and throttle apply.
    /// Returns the new codes (shown once; only their hashes are kept).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn regenerate_recovery_codes(
        &self,
        caller: &Caller,
        code: &str,
        client: &str,
    ) -> Result<Vec<String>> {
        let me = self.me(caller).await?;
        if !me.totp_enabled {
            return Err(EnterprisesError::TotpNotPending);
        }
        self.reauthenticate(caller, code, client).await?;
        let (codes, hashes) = recovery_set()?;
        let mut w = self.store.begin_write(Actor::from(caller)).await?;
        self.store
            .regenerate_recovery_codes(&mut w, me.id, &hashes)
            .await?;
        self.store.commit(w).await?;
        Ok(codes)
    }

    /// The number of unused recovery codes of the caller.
    pub async fn recovery_codes_left(&self, caller: &Caller) -> Result<usize> {
        let me = self.me(caller).await?;
        Ok(self.store.unused_recovery_codes(me.id).await?.len())
    }

    /// Checks a TOTP code of `user` and uses its step; false when wrong or replayed.
    async fn check_totp(&self, user: &UserRecord, code: &str) -> Result<bool> {
        let Some(row) = self.store.totp_of(user.id).await? else {
            return Ok(false);
        };
        if !row.confirmed {
            return Ok(false);
        }
        let t = totp(
            &self.totp_key()?.open(user.id, &row.secret)?,
            &user.username,
        )?;
        match matching_step(&t, code, unix_now()) {
            Some(step) => Ok(self
                .store
                .accept_totp_step(user.id, i64::try_from(step).unwrap_or(i64::MAX))
                .await?),
            None => Ok(false),
        }
    }

    /// Checks and uses a recovery code of `user`.
    async fn use_recovery(&self, user: &UserRecord, code: &str) -> Result<bool> {
        let code = normal_recovery(code);
        if code.len() != 10 {
            return Ok(false);
        }
        for (id, h) in self.store.unused_recovery_codes(user.id).await? {
            if passwords::verify_password(&code, &h) {
                let actor = Actor(format!("user:{}:{}", user.id, user.username));
                let mut w = self.store.begin_write(actor).await?;
                let fresh = self.store.use_recovery_code(&mut w, user.id, id).await?;
                self.store.commit(w).await?;
                return Ok(fresh);
            }
        }
        Ok(false)
    }

    /// A TOTP code (six digits) or a recovery code.
    async fn check_second_factor(&self, user: &UserRecord, code: &str) -> Result<bool> {
        if code.trim().chars().filter(|c| !c.is_whitespace()).count() == 6 {
            self.check_totp(user, code).await
        } else {
            self.use_recovery(user, code).await
        }
    }

    /// The password step of a sign-in (see the module's comment).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn begin_sign_in(
        &self,
        username: &str,
        password: &str,
        client: &str,
    ) -> Result<FirstStep> {
        match self.sign_in(username, password, client).await {
            Ok(user) if user.totp_enabled => {
                let challenge = passwords::random_token(32);
                self.store
                    .create_challenge(&challenge, user.id, true)
                    .await?;
                Ok(FirstStep::NeedsCode { challenge })
            }
            Ok(user) => Ok(FirstStep::Signed(user)),
            Err(EnterprisesError::Throttled { retry_after_secs }) => {
                // Only the account's back-off can be passed, by an account with a second
                // factor; the address's cannot.
                let user = self.store.user_by_username(username.trim()).await?;
                let address_throttled = self.address_throttled(client).await?;
                match user {
                    Some(u) if u.totp_enabled && !u.disabled && !address_throttled => {
                        let ok = passwords::verify_password(password, &u.password_hash);
                        let challenge = passwords::random_token(32);
                        self.store.create_challenge(&challenge, u.id, ok).await?;
                        Ok(FirstStep::NeedsCode { challenge })
                    }
                    _ => Err(EnterprisesError::Throttled { retry_after_secs }),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// The code step: the challenge from the password step and a TOTP or recovery code.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn finish_sign_in(
        &self,
        challenge: &str,
        code: &str,
        client: &str,
    ) -> Result<UserRecord> {
        let now = Utc::now();
        let cutoff = ts(now - Duration::minutes(CHALLENGE_MINUTES));
        let row = match self.store.challenge(challenge).await? {
            Some(r) if r.created_at >= cutoff && r.attempts < CHALLENGE_ATTEMPTS => r,
            Some(_) => {
                self.store.delete_challenge(challenge, &cutoff).await?;
                return Err(EnterprisesError::ChallengeExpired);
            }
            None => return Err(EnterprisesError::ChallengeExpired),
        };
        let user = self
            .store
            .user_by_id(row.user_id)
            .await?
            .filter(|u| !u.disabled)
            .ok_or(EnterprisesError::ChallengeExpired)?;
        if self.address_throttled(client).await? {
            return Err(EnterprisesError::Throttled {
                retry_after_secs: 1,
            });
        }
        let ok = row.password_ok && self.check_second_factor(&user, code).await?;
        let (account_key, pair_key) = keys(&user.username, client);
        if ok {
            self.store.delete_challenge(challenge, &cutoff).await?;
            self.store.clear_login_failures(&account_key).await?;
            self.store.clear_login_failures(&pair_key).await?;
            Ok(user)
        } else {
            self.store.challenge_failed(challenge).await?;
            self.store
                .record_login_failure(&[format!("ip:{client}"), account_key, pair_key])
                .await?;
            Err(EnterprisesError::WrongCode)
        }
    }

    /// Re-authentication for sensitive operations (ASVS 7.5.3): a TOTP code for accounts
    /// with one, else the password; wrong ones count as failed sign-ins, and the account's
    /// back-off applies.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reauthenticate(&self, caller: &Caller, secret: &str, client: &str) -> Result<()> {
        let me = self.me(caller).await?;
        if !me.totp_enabled {
            return match self.sign_in(&me.username, secret, client).await {
                Ok(_) => Ok(()),
                Err(EnterprisesError::WrongCredentials) => Err(EnterprisesError::WrongCode),
                Err(e) => Err(e),
            };
        }
        let (account_key, pair_key) = keys(&me.username, client);
        let now = Utc::now();
        let since = ts(now - Duration::minutes(ACCOUNT_WINDOW_MINUTES));
        let (n, last) = self.store.login_failure_stats(&pair_key, &since).await?;
        if let Some(wait) = remaining(now, last.as_deref(), account_delay_secs(n)) {
            return Err(EnterprisesError::Throttled {
                retry_after_secs: wait,
            });
        }
        if self.check_totp(&me, secret).await? {
            Ok(())
        } else {
            self.store
                .record_login_failure(&[format!("ip:{client}"), account_key, pair_key])
                .await?;
            Err(EnterprisesError::WrongCode)
        }
    }

    async fn address_throttled(&self, client: &str) -> Result<bool> {
        let now = Utc::now();
        let since = ts(now - Duration::minutes(crate::signin::ADDRESS_WINDOW_MINUTES));
        let (n, last) = self
            .store
            .login_failure_stats(&format!("ip:{client}"), &since)
            .await?;
        Ok(remaining(now, last.as_deref(), crate::signin::address_delay_secs(n)).is_some())
    }
}

fn keys(username: &str, client: &str) -> (String, String) {
    (
        format!("user:{username}"),
        format!("pair:{username}|{client}"),
    )
}

/// Whether `at` (RFC 3339) is within `minutes` of now.
pub fn within_minutes(at: &str, minutes: i64) -> bool {
    DateTime::parse_from_rfc3339(at)
        .map(|t| Utc::now() - t.with_timezone(&Utc) <= Duration::minutes(minutes))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TOTP {
        // RFC 6238's SHA-1 test secret, "12345678901234567890".
        let secret = Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        totp(&secret, "regulator").unwrap()
    }

    #[test]
    fn rfc_6238_vectors() {
        // Appendix B, SHA-1, the last six digits of the eight-digit values.
        let t = sample();
        assert_eq!(t.generate(59), "287082");
        assert_eq!(t.generate(1_111_111_109), "081804");
        assert_eq!(t.generate(1_234_567_890), "005924");
        assert_eq!(t.generate(2_000_000_000), "279037");
    }

    #[test]
    fn a_code_matches_its_step_and_one_either_side_only() {
        let t = sample();
        let now = 1_234_567_890;
        let step = now / STEP_SECS;
        let code = t.generate(now);
        assert_eq!(matching_step(&t, &code, now), Some(step));
        assert_eq!(matching_step(&t, &code, now + STEP_SECS), Some(step));
        assert_eq!(matching_step(&t, &code, now - STEP_SECS), Some(step));
        assert_eq!(matching_step(&t, &code, now + 2 * STEP_SECS), None);
        assert_eq!(matching_step(&t, &code, now - 2 * STEP_SECS), None);
        assert_eq!(matching_step(&t, " 005 924 ", now), Some(step));
        for bad in ["", "00592", "0059244", "abcdef", "٠٠٥٩٢٤"] {
            assert_eq!(matching_step(&t, bad, now), None, "{bad}");
        }
    }

    #[test]
    fn recovery_codes_are_ten_characters_and_normalised() {
        let c = new_recovery_code();
        assert_eq!(c.len(), 11);
        assert_eq!(normal_recovery(&c.to_uppercase()).len(), 10);
        assert_eq!(normal_recovery(" ABCDE-fghjk "), "abcdefghjk");
    }

    #[test]
    fn secrets_are_160_bits_and_make_otpauth_uris() {
        let s = new_secret();
        assert_eq!(s.len(), 32);
        let uri = totp(&s, "bank").unwrap().get_url();
        assert!(uri.starts_with("otpauth://totp/Yuepin:bank?"), "{uri}");
        assert!(uri.contains(&format!("secret={s}")), "{uri}");
        assert!(uri.contains("issuer=Yuepin"), "{uri}");
    }

    proptest::proptest! {
        #[test]
        fn any_time_accepts_its_own_code_at_its_own_step(now in 60u64..4_000_000_000) {
            let t = sample();
            let code = t.generate(now);
            let got = matching_step(&t, &code, now);
            // The latest matching step wins: a later step may share the code by chance.
            proptest::prop_assert!(got.is_some_and(|s| s >= now / STEP_SECS && s <= now / STEP_SECS + 1));
        }
    }
}
