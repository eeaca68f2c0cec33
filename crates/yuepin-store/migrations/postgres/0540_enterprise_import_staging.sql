-- Staging for the enterprise import's COPY path (issue #19): an import streams its rows here on
-- a connection of its own while the file is parsed, then its audited transaction moves them
-- set-based into enterprises, designations and financials and deletes them. Unlogged: it only
-- ever holds imports in flight, and nothing here is read by anyone else. No index: each import
-- reads its rows once per table in a sequential scan, and an index would only slow the COPY.
-- Designations and financials travel as parallel arrays (one staging row per enterprise).
CREATE UNLOGGED TABLE enterprises_staging (
    import_key TEXT NOT NULL,
    seq BIGINT NOT NULL,
    uscc TEXT NOT NULL,
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    city TEXT NOT NULL,
    division BIGINT NOT NULL,
    registered_capital_fen BIGINT NOT NULL,
    employees BIGINT NOT NULL,
    founded_on TEXT NOT NULL,
    listing TEXT NOT NULL,
    grams TEXT NOT NULL,
    d_kinds TEXT[] NOT NULL,
    d_awarded TEXT[] NOT NULL,
    d_expires TEXT[] NOT NULL,
    f_years BIGINT[] NOT NULL,
    f_china BIGINT[] NOT NULL,
    f_world BIGINT[] NOT NULL
);
