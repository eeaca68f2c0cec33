-- Policy engine (issue 4): match runs with stored per-enterprise per-measure outcomes (eligible
-- and undetermined rows; not-eligible is counted per measure), offers awaiting the enterprise's
-- confirmation (免申即享 意愿确认), in-app notifications, applications and grants. A grant's
-- (measure, reference) is unique: the same standard or award is never paid twice.
CREATE TABLE policy_match_runs (
    id INTEGER PRIMARY KEY,
    as_of TEXT NOT NULL,
    overrides TEXT NOT NULL,
    enterprises INTEGER NOT NULL,
    evaluations INTEGER NOT NULL,
    eligible INTEGER NOT NULL,
    undetermined INTEGER NOT NULL,
    notified INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);

CREATE TABLE policy_match_counts (
    run_id INTEGER NOT NULL REFERENCES policy_match_runs (id) ON DELETE CASCADE,
    measure TEXT NOT NULL,
    outcome TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (run_id, measure, outcome)
);

CREATE TABLE policy_match_results (
    run_id INTEGER NOT NULL REFERENCES policy_match_runs (id) ON DELETE CASCADE,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    measure TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reasons TEXT NOT NULL,
    amount_fen INTEGER,
    PRIMARY KEY (run_id, enterprise_id, measure)
);
CREATE INDEX policy_match_results_measure ON policy_match_results (run_id, measure, outcome, enterprise_id);
CREATE INDEX policy_match_results_enterprise ON policy_match_results (enterprise_id, run_id);

CREATE TABLE policy_offers (
    id INTEGER PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    measure TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES policy_match_runs (id),
    as_of TEXT NOT NULL,
    status TEXT NOT NULL,
    amount_fen INTEGER,
    created_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by TEXT,
    UNIQUE (enterprise_id, measure)
);

CREATE TABLE policy_notifications (
    id INTEGER PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    run_id INTEGER REFERENCES policy_match_runs (id),
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    body_zh TEXT NOT NULL,
    body_en TEXT NOT NULL,
    link TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at TEXT
);
CREATE INDEX policy_notifications_enterprise ON policy_notifications (enterprise_id, id);

CREATE TABLE policy_applications (
    id INTEGER PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    measure TEXT NOT NULL,
    reference TEXT NOT NULL,
    offer_id INTEGER REFERENCES policy_offers (id),
    amount_requested_fen INTEGER,
    note TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    decided_at TEXT,
    decided_by TEXT
);
CREATE INDEX policy_applications_enterprise ON policy_applications (enterprise_id, id);
CREATE INDEX policy_applications_status ON policy_applications (status, id);

CREATE TABLE policy_grants (
    id INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL UNIQUE REFERENCES policy_applications (id),
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    measure TEXT NOT NULL,
    reference TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    city TEXT NOT NULL,
    year INTEGER NOT NULL,
    granted_at TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    UNIQUE (measure, reference)
);
CREATE INDEX policy_grants_totals ON policy_grants (measure, city, year);
