-- Product quality credit codes (issue 3): applications, series, issued codes, status lists,
-- scan counters and counterfeit flags. Private keys are never stored here (files under data_dir/keys).
CREATE TABLE code_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE code_applications (
    id BIGSERIAL PRIMARY KEY,
    enterprise_id BIGINT NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    product_id BIGINT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    lot TEXT,
    quantity BIGINT NOT NULL,
    note TEXT NOT NULL,
    status TEXT NOT NULL,
    precheck_ok BIGINT NOT NULL,
    precheck_json TEXT NOT NULL,
    decision_reason TEXT,
    auto_approved BIGINT NOT NULL DEFAULT 0,
    applied_by TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    series_id BIGINT
);
CREATE INDEX code_applications_status ON code_applications (status, id);
CREATE INDEX code_applications_enterprise ON code_applications (enterprise_id, id);

CREATE TABLE code_series (
    id BIGSERIAL PRIMARY KEY,
    application_id BIGINT REFERENCES code_applications (id) ON DELETE SET NULL,
    enterprise_id BIGINT NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    product_id BIGINT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    lot TEXT,
    quantity BIGINT NOT NULL,
    issued BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX code_series_product ON code_series (product_id, id);

CREATE TABLE code_lists (
    list_id BIGINT PRIMARY KEY,
    used BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE codes (
    id BIGSERIAL PRIMARY KEY,
    series_id BIGINT NOT NULL REFERENCES code_series (id) ON DELETE CASCADE,
    enterprise_id BIGINT NOT NULL,
    product_id BIGINT NOT NULL,
    subject TEXT NOT NULL,
    lot TEXT,
    serial TEXT NOT NULL,
    status_index BIGINT NOT NULL UNIQUE,
    list_id BIGINT NOT NULL,
    kid TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    -- The printed URI (public: it is on the label); lets regulators re-print and link scans.
    uri TEXT NOT NULL,
    status BIGINT NOT NULL DEFAULT 0,
    status_reason TEXT,
    status_since TEXT,
    UNIQUE (subject, serial)
);
CREATE INDEX codes_series ON codes (series_id);
CREATE INDEX codes_product ON codes (product_id, lot);
CREATE INDEX codes_enterprise ON codes (enterprise_id);
CREATE INDEX codes_list_status ON codes (list_id, status);

CREATE TABLE code_scans (
    code_id BIGINT NOT NULL REFERENCES codes (id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    city TEXT NOT NULL,
    scans BIGINT NOT NULL,
    PRIMARY KEY (code_id, day, city)
);
CREATE INDEX code_scans_day ON code_scans (day);

CREATE TABLE code_flags (
    id BIGSERIAL PRIMARY KEY,
    code_id BIGINT NOT NULL REFERENCES codes (id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    evidence_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (code_id, day, kind)
);
CREATE INDEX code_flags_day ON code_flags (day, id);
