-- Foundation: enterprises, designations, financials, products, quality events, accounts, audit.
CREATE TABLE enterprises (
    id INTEGER PRIMARY KEY,
    uscc TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    city TEXT NOT NULL,
    division INTEGER NOT NULL,
    registered_capital_fen INTEGER NOT NULL,
    employees INTEGER NOT NULL,
    founded_on TEXT NOT NULL,
    listing TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX enterprises_city ON enterprises (city, division, id);
CREATE INDEX enterprises_division ON enterprises (division, id);
-- Name search: space-separated character bigrams, so Chinese names match any substring of 2+ chars.
CREATE VIRTUAL TABLE enterprise_fts USING fts5 (grams, tokenize = 'unicode61');

CREATE TABLE designations (
    id INTEGER PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    awarded_on TEXT NOT NULL,
    expires_on TEXT,
    UNIQUE (enterprise_id, kind, awarded_on)
);
CREATE INDEX designations_kind ON designations (kind, enterprise_id);

CREATE TABLE financials (
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    year INTEGER NOT NULL,
    revenue_china_fen INTEGER NOT NULL,
    revenue_world_fen INTEGER,
    PRIMARY KEY (enterprise_id, year)
);

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    brand TEXT NOT NULL,
    model TEXT NOT NULL,
    gtin TEXT,
    category TEXT NOT NULL,
    standard TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (enterprise_id, model)
);
CREATE INDEX products_gtin ON products (gtin);

CREATE TABLE quality_events (
    id INTEGER PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    product_id INTEGER REFERENCES products (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    event_date TEXT NOT NULL,
    natural_key TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (enterprise_id, natural_key)
);
CREATE INDEX quality_events_enterprise ON quality_events (enterprise_id, event_date);
CREATE INDEX quality_events_kind ON quality_events (kind, event_date);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    enterprise_id INTEGER REFERENCES enterprises (id),
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_attempts_key ON login_attempts (key, at);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
-- The chain's head: one row, updated in every writing transaction, which also serialises writers.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
