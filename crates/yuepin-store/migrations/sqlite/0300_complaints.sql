-- Complaints (measure 22): 12315 complaints and reports, lexicon corrections, surge-detection
-- runs and alarms, and consumer warnings (消费提示/警示) with enterprise comments.
CREATE TABLE complaints (
    id INTEGER PRIMARY KEY,
    ext_id TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    day TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    region TEXT NOT NULL,
    city TEXT NOT NULL,
    enterprise_id INTEGER REFERENCES enterprises (id) ON DELETE SET NULL,
    enterprise_uscc TEXT,
    enterprise_name TEXT,
    category TEXT,
    division INTEGER,
    labels_source TEXT NOT NULL,
    problem TEXT NOT NULL,
    amount_fen INTEGER,
    text TEXT NOT NULL,
    complainant_name TEXT,
    complainant_phone TEXT,
    complainant_id_number TEXT,
    complainant_address TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX complaints_city_day ON complaints (city, day);
CREATE INDEX complaints_enterprise ON complaints (enterprise_id, day);
-- Used by the PostgreSQL COPY path only; kept for lockstep.
CREATE TABLE complaints_staging (
    import_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ext_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    day TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    region TEXT NOT NULL,
    city TEXT NOT NULL,
    enterprise_id INTEGER,
    enterprise_uscc TEXT,
    enterprise_name TEXT,
    category TEXT,
    division INTEGER,
    labels_source TEXT NOT NULL,
    problem TEXT NOT NULL,
    amount_fen INTEGER,
    text TEXT NOT NULL,
    complainant_name TEXT,
    complainant_phone TEXT,
    complainant_id_number TEXT,
    complainant_address TEXT
);
CREATE TABLE complaint_imports (
    id INTEGER PRIMARY KEY,
    file_hash TEXT NOT NULL,
    file_name TEXT NOT NULL,
    rows_read INTEGER NOT NULL,
    inserted INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    classified INTEGER NOT NULL,
    linked INTEGER NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE TABLE complaint_lexicon (
    term TEXT PRIMARY KEY,
    target TEXT,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE TABLE complaint_corrections (
    id INTEGER PRIMARY KEY,
    complaint_id INTEGER NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
    old_category TEXT,
    old_division INTEGER,
    category TEXT,
    division INTEGER,
    corrected_by TEXT NOT NULL,
    corrected_at TEXT NOT NULL
);
CREATE INDEX complaint_corrections_complaint ON complaint_corrections (complaint_id);
CREATE TABLE complaint_detect_runs (
    id INTEGER PRIMARY KEY,
    as_of TEXT NOT NULL,
    from_day TEXT NOT NULL,
    complaints INTEGER NOT NULL,
    series_alarms INTEGER NOT NULL,
    significant INTEGER NOT NULL,
    millis INTEGER NOT NULL,
    ran_at TEXT NOT NULL
);
CREATE TABLE complaint_alarms (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL,
    method TEXT NOT NULL,
    level TEXT NOT NULL,
    city TEXT NOT NULL,
    division INTEGER NOT NULL DEFAULT 0,
    category TEXT NOT NULL DEFAULT '',
    period_start TEXT NOT NULL,
    period_days INTEGER NOT NULL,
    observed DOUBLE PRECISION NOT NULL,
    expected DOUBLE PRECISION NOT NULL,
    threshold DOUBLE PRECISION NOT NULL,
    p_value DOUBLE PRECISION NOT NULL,
    q_value DOUBLE PRECISION NOT NULL,
    significant INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (method, level, city, division, category, period_start)
);
CREATE INDEX complaint_alarms_period ON complaint_alarms (period_start, significant);
CREATE TABLE complaint_warnings (
    id INTEGER PRIMARY KEY,
    alarm_id INTEGER REFERENCES complaint_alarms (id) ON DELETE SET NULL,
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    series_key TEXT NOT NULL,
    evidence TEXT NOT NULL,
    comment_deadline TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    approved_at TEXT,
    approved_by TEXT,
    published_at TEXT
);
CREATE INDEX complaint_warnings_status ON complaint_warnings (status, published_at);
CREATE TABLE complaint_warning_enterprises (
    warning_id INTEGER NOT NULL REFERENCES complaint_warnings (id) ON DELETE CASCADE,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    complaints INTEGER NOT NULL,
    notified_at TEXT,
    PRIMARY KEY (warning_id, enterprise_id)
);
CREATE INDEX complaint_warning_enterprises_ent ON complaint_warning_enterprises (enterprise_id);
CREATE TABLE complaint_warning_comments (
    id INTEGER PRIMARY KEY,
    warning_id INTEGER NOT NULL REFERENCES complaint_warnings (id) ON DELETE CASCADE,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX complaints_staging_key ON complaints_staging (import_key);
