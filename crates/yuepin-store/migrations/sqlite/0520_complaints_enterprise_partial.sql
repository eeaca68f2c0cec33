-- Complaints are looked up by enterprise only for a named enterprise (`enterprise_id = ?`), and
-- most complaints name none: index only those that do, so that ingesting an unlinked complaint
-- maintains one index fewer.
DROP INDEX complaints_enterprise;
CREATE INDEX complaints_enterprise ON complaints (enterprise_id, day) WHERE enterprise_id IS NOT NULL;
-- The staging table is PostgreSQL's (COPY); its key index goes in step with PostgreSQL.
DROP INDEX IF EXISTS complaints_staging_key;
