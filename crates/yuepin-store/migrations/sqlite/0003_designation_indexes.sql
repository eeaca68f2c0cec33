-- Covering indexes for designation filters held on a date: one drives the search from a
-- designation kind, the other probes an enterprise's designations, both without table reads.
CREATE INDEX designations_kind_cover ON designations (kind, enterprise_id, awarded_on, expires_on);
CREATE INDEX designations_probe ON designations (enterprise_id, kind, awarded_on, expires_on);
DROP INDEX designations_kind;
