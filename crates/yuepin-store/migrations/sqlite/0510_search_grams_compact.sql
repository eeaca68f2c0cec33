-- The name-search index keeps no positions (detail=none) and no per-row sizes (columnsize=0):
-- every query is an AND of single bigram tokens (or one-character prefixes) with results in id
-- order, so neither phrase matching nor bm25 ranking is ever used. The index is smaller and
-- each imported name costs less to index.
CREATE VIRTUAL TABLE enterprise_grams USING fts5 (grams, tokenize = 'unicode61', detail = none, columnsize = 0);
INSERT INTO enterprise_grams (rowid, grams) SELECT rowid, grams FROM enterprise_fts;
DROP TABLE enterprise_fts;
ALTER TABLE enterprise_grams RENAME TO enterprise_fts;
