-- SQLite moves financials into a WITHOUT ROWID table (see the SQLite migration). PostgreSQL
-- heap tables have no rowid to drop: its primary-key index already serves the same lookups.
SELECT 1;
