-- Reviewed identity changes (issue 17 item 4): the name and region that consumers see on a
-- 粤品通 scan change only when a regulator approves a request (or through an official import);
-- an enterprise's own edit files a request and keeps the stored values. One pending request
-- per enterprise; decided requests are kept as history.
CREATE TABLE identity_changes (
    id INTEGER PRIMARY KEY,
    enterprise_id BIGINT NOT NULL REFERENCES enterprises (id),
    current_name TEXT NOT NULL,
    current_region TEXT NOT NULL,
    proposed_name TEXT NOT NULL,
    proposed_region TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    note TEXT
);
CREATE UNIQUE INDEX identity_changes_one_pending ON identity_changes (enterprise_id) WHERE status = 'pending';
CREATE INDEX identity_changes_by_status ON identity_changes (status, id);
