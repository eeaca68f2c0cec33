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
ALTER TABLE policy_grants DROP CONSTRAINT policy_grants_measure_reference_key;
ALTER TABLE policy_grants ADD COLUMN payment_key TEXT NOT NULL DEFAULT '';
ALTER TABLE policy_grants ADD COLUMN period TEXT NOT NULL DEFAULT '';
UPDATE policy_grants SET payment_key = 'legacy:' || reference, period = CAST(year AS TEXT);
ALTER TABLE policy_grants ADD CONSTRAINT policy_grants_enterprise_key UNIQUE (enterprise_id, measure, payment_key);

-- Cumulative totals per (enterprise, measure, period): a grant adds to its row in the same
-- transaction with a conditional upsert (the second concurrent writer waits on the row lock and
-- re-checks the cap against the committed total), so the cap holds under concurrency.
CREATE TABLE policy_payment_totals (
    enterprise_id BIGINT NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    measure TEXT NOT NULL,
    period TEXT NOT NULL,
    total_fen BIGINT NOT NULL,
    PRIMARY KEY (enterprise_id, measure, period)
);
INSERT INTO policy_payment_totals (enterprise_id, measure, period, total_fen)
    SELECT enterprise_id, measure, period, SUM(amount_fen) FROM policy_grants GROUP BY enterprise_id, measure, period;
