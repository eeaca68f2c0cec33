-- Complaints (measure 22): 12315 complaints and reports, lexicon corrections, surge-detection
-- runs and alarms, and consumer warnings (消费提示/警示) with enterprise comments.
CREATE TABLE complaints (
    id BIGSERIAL PRIMARY KEY,
    ext_id TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    day TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    region TEXT NOT NULL,
    city TEXT NOT NULL,
    enterprise_id BIGINT REFERENCES enterprises (id) ON DELETE SET NULL,
    enterprise_uscc TEXT,
    enterprise_name TEXT,
    category TEXT,
    division BIGINT,
    labels_source TEXT NOT NULL,
    problem TEXT NOT NULL,
    amount_fen BIGINT,
    text TEXT NOT NULL,
    complainant_name TEXT,
    complainant_phone TEXT,
    complainant_id_number TEXT,
    complainant_address TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX complaints_city_day ON complaints (city, day);
CREATE INDEX complaints_enterprise ON complaints (enterprise_id, day);
-- Staging for the COPY bulk path (unlogged: it only ever holds an import in flight).
CREATE UNLOGGED TABLE complaints_staging (
    import_key TEXT NOT NULL,
    seq BIGINT NOT NULL,
    ext_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    day TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    region TEXT NOT NULL,
    city TEXT NOT NULL,
    enterprise_id BIGINT,
    enterprise_uscc TEXT,
    enterprise_name TEXT,
    category TEXT,
    division BIGINT,
    labels_source TEXT NOT NULL,
    problem TEXT NOT NULL,
    amount_fen BIGINT,
    text TEXT NOT NULL,
    complainant_name TEXT,
    complainant_phone TEXT,
    complainant_id_number TEXT,
    complainant_address TEXT
);
CREATE TABLE complaint_imports (
    id BIGSERIAL PRIMARY KEY,
    file_hash TEXT NOT NULL,
    file_name TEXT NOT NULL,
    rows_read BIGINT NOT NULL,
    inserted BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    classified BIGINT NOT NULL,
    linked BIGINT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE TABLE complaint_lexicon (
    term TEXT PRIMARY KEY,
    target TEXT,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE TABLE complaint_corrections (
    id BIGSERIAL PRIMARY KEY,
    complaint_id BIGINT NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
    old_category TEXT,
    old_division BIGINT,
    category TEXT,
    division BIGINT,
    corrected_by TEXT NOT NULL,
    corrected_at TEXT NOT NULL
);
CREATE INDEX complaint_corrections_complaint ON complaint_corrections (complaint_id);
CREATE TABLE complaint_detect_runs (
    id BIGSERIAL PRIMARY KEY,
    as_of TEXT NOT NULL,
    from_day TEXT NOT NULL,
    complaints BIGINT NOT NULL,
    series_alarms BIGINT NOT NULL,
    significant BIGINT NOT NULL,
    millis BIGINT NOT NULL,
    ran_at TEXT NOT NULL
);
CREATE TABLE complaint_alarms (
    id BIGSERIAL PRIMARY KEY,
    run_id BIGINT NOT NULL,
    method TEXT NOT NULL,
    level TEXT NOT NULL,
    city TEXT NOT NULL,
    division BIGINT NOT NULL DEFAULT 0,
    category TEXT NOT NULL DEFAULT '',
    period_start TEXT NOT NULL,
    period_days BIGINT NOT NULL,
    observed DOUBLE PRECISION NOT NULL,
    expected DOUBLE PRECISION NOT NULL,
    threshold DOUBLE PRECISION NOT NULL,
    p_value DOUBLE PRECISION NOT NULL,
    q_value DOUBLE PRECISION NOT NULL,
    significant BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (method, level, city, division, category, period_start)
);
CREATE INDEX complaint_alarms_period ON complaint_alarms (period_start, significant);
CREATE TABLE complaint_warnings (
    id BIGSERIAL PRIMARY KEY,
    alarm_id BIGINT REFERENCES complaint_alarms (id) ON DELETE SET NULL,
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
    warning_id BIGINT NOT NULL REFERENCES complaint_warnings (id) ON DELETE CASCADE,
    enterprise_id BIGINT NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    complaints BIGINT NOT NULL,
    notified_at TEXT,
    PRIMARY KEY (warning_id, enterprise_id)
);
CREATE INDEX complaint_warning_enterprises_ent ON complaint_warning_enterprises (enterprise_id);
CREATE TABLE complaint_warning_comments (
    id BIGSERIAL PRIMARY KEY,
    warning_id BIGINT NOT NULL REFERENCES complaint_warnings (id) ON DELETE CASCADE,
    enterprise_id BIGINT NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX complaints_staging_key ON complaints_staging (import_key);
