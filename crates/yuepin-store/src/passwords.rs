//! Credentials: Argon2id password hashes (PHC strings, RustCrypto's `argon2` with its default
//! parameters), the password rules (ASVS 6.2: 8 to 128 characters, no composition rules, none
//! of the most common passwords) and random tokens for sessions, CSRF and API access.
//!
//! `data/common-passwords.txt` is SecLists' `10-million-password-list-top-1000.txt` (MIT
//! licence, Daniel Miessler) and then the 10,000 most common passwords of at least 8
//! characters from zxcvbn 4.5.0's ranked list (MIT), so that more than the 3,000 that ASVS
//! 5.0 6.2.4 asks for fit the length rule; compared without regard to case.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;

/// The shortest password an account may have (ASVS 6.2.1).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest password accepted (ASVS 6.2.9 asks for at least 64).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Why a new password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("one of the most common passwords")]
    Common,
}

const COMMON: &str = include_str!("../data/common-passwords.txt");

fn is_common(password: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<String>> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .filter(|l| !l.starts_with("# "))
            .map(str::to_lowercase)
            .collect()
    })
    .contains(&password.to_lowercase())
}

/// Checks a new password against the rules: length only, then the common-password list.
pub fn check_new_password(password: &str) -> Result<(), PasswordProblem> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        Err(PasswordProblem::TooShort)
    } else if n > MAX_PASSWORD_CHARS {
        Err(PasswordProblem::TooLong)
    } else if is_common(password) {
        Err(PasswordProblem::Common)
    } else {
        Ok(())
    }
}

/// Hashes a password with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
}

/// Checks a password against a stored PHC string (false for a malformed one).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Does the password pass [`check_new_password`]?
pub fn password_strong_enough(password: &str) -> bool {
    check_new_password(password).is_ok()
}

/// `n` random bytes from the OS.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    buf
}

/// `bytes` random bytes from the OS, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_holds_over_3000_passwords_that_fit_the_length_rule() {
        let fitting = COMMON
            .lines()
            .filter(|l| !l.starts_with("# ") && l.chars().count() >= MIN_PASSWORD_CHARS)
            .count();
        assert!(fitting > 3000, "{fitting}");
        for common in ["qwertyuiop", "1qaz2wsx", "a123456789", "Password1"] {
            assert_eq!(
                check_new_password(common),
                Err(PasswordProblem::Common),
                "{common}"
            );
        }
        assert_eq!(check_new_password("# Common passwords refused"), Ok(()));
    }

    #[test]
    fn hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn the_rules_are_length_and_the_common_list_only() {
        assert_eq!(
            check_new_password("seven77"),
            Err(PasswordProblem::TooShort)
        );
        assert_eq!(check_new_password("八个汉字的密码啊"), Ok(()));
        assert_eq!(check_new_password("alllowercase"), Ok(()));
        assert_eq!(check_new_password(&"x".repeat(128)), Ok(()));
        assert_eq!(
            check_new_password(&"x".repeat(129)),
            Err(PasswordProblem::TooLong)
        );
        for common in [
            "password",
            "PASSWORD1",
            "qwertyuiop",
            "iloveyou",
            "sunshine",
        ] {
            assert_eq!(
                check_new_password(common),
                Err(PasswordProblem::Common),
                "{common}"
            );
        }
        let entries = COMMON.lines().filter(|l| !l.starts_with("# ")).count();
        assert_eq!(
            entries,
            1_001 + 10_000,
            "SecLists' list and zxcvbn's 10,000"
        );
    }
}
