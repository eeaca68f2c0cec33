-- Complaints are looked up by enterprise only for a named enterprise (`enterprise_id = $n`), and
-- most complaints name none: index only those that do (see the SQLite migration).
DROP INDEX IF EXISTS complaints_enterprise;
CREATE INDEX complaints_enterprise ON complaints (enterprise_id, day) WHERE enterprise_id IS NOT NULL;
-- The COPY staging table holds one import at a time: an index on its key only slowed the COPY.
DROP INDEX IF EXISTS complaints_staging_key;
