-- Policy lifecycle and money integrity (issue 11).
-- Facts carry their provenance: 'declared' (by the enterprise itself, 待核实 until a
-- responsible unit confirms it), 'confirmed' (entered or confirmed by a responsible unit, a lab
-- or an import run by a regulator) or 'official' (from an official source). Rules that decide
-- money read only confirmed and official facts. Rows written before this migration came from
-- regulators' imports and the registry and count as confirmed.
ALTER TABLE quality_events ADD COLUMN provenance TEXT NOT NULL DEFAULT 'confirmed';
ALTER TABLE quality_events ADD COLUMN confirmed_by TEXT;
ALTER TABLE quality_events ADD COLUMN confirmed_at TEXT;

-- Applications keep what the platform decided them on: the payment key derived from platform
-- facts (a confirmed award or standard record, or the period of a financing line), the period,
-- the server's evaluation date, and the evidence (facts used, pack id and version, the rule's
-- result with reasons) as JSON that later pack changes never rewrite. Older rows get a key of
-- their own, so the new uniqueness never collides with them.
ALTER TABLE policy_applications ADD COLUMN payment_key TEXT NOT NULL DEFAULT '';
ALTER TABLE policy_applications ADD COLUMN period TEXT NOT NULL DEFAULT '';
ALTER TABLE policy_applications ADD COLUMN evaluated_on TEXT;
ALTER TABLE policy_applications ADD COLUMN evidence TEXT;
UPDATE policy_applications SET payment_key = 'legacy:' || id;
-- One open application per payable thing of one enterprise: a second concurrent insert fails.
CREATE UNIQUE INDEX policy_applications_open_key ON policy_applications (enterprise_id, measure, payment_key) WHERE status = 'submitted';

-- Grants: uniqueness scoped to the enterprise and derived from platform facts, replacing the
-- (measure, free-text reference) key through which one enterprise could block another.
CREATE TABLE policy_grants_new (
    id INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL UNIQUE REFERENCES policy_applications (id),
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    measure TEXT NOT NULL,
    reference TEXT NOT NULL,
    payment_key TEXT NOT NULL,
    period TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    city TEXT NOT NULL,
    year INTEGER NOT NULL,
    granted_at TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    UNIQUE (enterprise_id, measure, payment_key)
);
INSERT INTO policy_grants_new (id, application_id, enterprise_id, measure, reference, payment_key, period, amount_fen, city, year, granted_at, granted_by)
    SELECT id, application_id, enterprise_id, measure, reference, 'legacy:' || reference, CAST(year AS TEXT), amount_fen, city, year, granted_at, granted_by FROM policy_grants;
DROP TABLE policy_grants;
ALTER TABLE policy_grants_new RENAME TO policy_grants;
CREATE INDEX policy_grants_totals ON policy_grants (measure, city, year);

-- Cumulative totals per (enterprise, measure, period): a grant adds to its row in the same
-- transaction with a conditional upsert, so the cap holds under concurrency on both backends.
CREATE TABLE policy_payment_totals (
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    measure TEXT NOT NULL,
    period TEXT NOT NULL,
    total_fen INTEGER NOT NULL,
    PRIMARY KEY (enterprise_id, measure, period)
);
INSERT INTO policy_payment_totals (enterprise_id, measure, period, total_fen)
    SELECT enterprise_id, measure, period, SUM(amount_fen) FROM policy_grants GROUP BY enterprise_id, measure, period;
