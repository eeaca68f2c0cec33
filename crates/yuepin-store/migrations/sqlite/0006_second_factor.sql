-- Second factor, re-authentication and administrator resets (issue 17 item 3).
-- A TOTP secret (RFC 6238, base32) per account: pending until confirmed with a first code;
-- last_step is the latest time step accepted, so a code is never accepted twice.
ALTER TABLE users ADD COLUMN totp_enabled BIGINT NOT NULL DEFAULT 0;
-- Set by an administrator's password reset: the temporary password must be changed first.
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
-- When the session's user last proved a factor (sign-in or re-authentication).
ALTER TABLE sessions ADD COLUMN reauth_at TEXT;
UPDATE sessions SET reauth_at = created_at;

CREATE TABLE user_totp (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    confirmed_at TEXT,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

-- Single-use recovery codes, Argon2id hashes like passwords.
CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- The sign-in between the password step and the code step: the hash of the challenge cookie,
-- whether the password was right (not told to the client while the account is throttled),
-- and the codes tried.
CREATE TABLE login_challenges (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_ok BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
