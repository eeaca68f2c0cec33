-- SQLite rebuilds its FTS5 name index without positions (see the SQLite migration). The
-- PostgreSQL name index is a GIN index over a TEXT[] of bigrams, which has no positions.
SELECT 1;
