-- Quality credit (measures 6, 18, 19, 24): bank organisations and their staff, consents with
-- their events and fetch log, the append-only Merkle log (leaves and signed checkpoints), and
-- the grade history. Fetch counting is exact under concurrency: a fetch locks its consent row
-- in the writing transaction, and the CHECK keeps the count within the consent's limit.
CREATE TABLE credit_banks (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE credit_bank_staff (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    bank_id INTEGER NOT NULL REFERENCES credit_banks (id) ON DELETE CASCADE
);
CREATE TABLE credit_consents (
    id TEXT PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    bank_id INTEGER NOT NULL REFERENCES credit_banks (id),
    terms TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'paused', 'revoked', 'exhausted')),
    max_fetches INTEGER NOT NULL CHECK (max_fetches > 0),
    fetches_used INTEGER NOT NULL DEFAULT 0 CHECK (fetches_used >= 0 AND fetches_used <= max_fetches),
    last_fetch_at TEXT,
    expires_at TEXT NOT NULL,
    kid TEXT NOT NULL,
    artefact TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX credit_consents_enterprise ON credit_consents (enterprise_id, created_at);
CREATE INDEX credit_consents_bank ON credit_consents (bank_id, created_at);
CREATE TABLE credit_consent_events (
    id INTEGER PRIMARY KEY,
    consent_id TEXT NOT NULL REFERENCES credit_consents (id),
    event TEXT NOT NULL CHECK (event IN ('grant', 'pause', 'resume', 'revoke', 'fetch')),
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    log_index INTEGER NOT NULL
);
CREATE INDEX credit_consent_events_consent ON credit_consent_events (consent_id, id);
CREATE TABLE credit_fetches (
    id INTEGER PRIMARY KEY,
    consent_id TEXT NOT NULL REFERENCES credit_consents (id),
    bank_id INTEGER NOT NULL REFERENCES credit_banks (id),
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    categories TEXT NOT NULL,
    data_from TEXT NOT NULL,
    data_to TEXT NOT NULL,
    report_sha256 TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    UNIQUE (consent_id, seq)
);
CREATE TABLE credit_log_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL
);
INSERT INTO credit_log_head (id, size) VALUES (1, 0);
CREATE TABLE credit_log (
    idx INTEGER PRIMARY KEY,
    leaf_hash TEXT NOT NULL,
    entry TEXT NOT NULL,
    kind TEXT NOT NULL,
    bank_id INTEGER,
    enterprise_id INTEGER,
    consent_id TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX credit_log_bank ON credit_log (bank_id, idx);
CREATE INDEX credit_log_enterprise ON credit_log (enterprise_id, idx);
CREATE TABLE credit_checkpoints (
    size INTEGER PRIMARY KEY,
    root TEXT NOT NULL,
    note TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE credit_grades (
    id INTEGER PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    as_of TEXT NOT NULL,
    model_version TEXT NOT NULL,
    grade TEXT NOT NULL CHECK (grade IN ('A', 'B', 'C', 'D')),
    score_tenths INTEGER NOT NULL CHECK (score_tenths BETWEEN 0 AND 1000),
    grading TEXT NOT NULL,
    facts_sha256 TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX credit_grades_enterprise ON credit_grades (enterprise_id, id);
