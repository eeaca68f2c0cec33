-- PostgreSQL's name index (GIN) carries the city, so a keyword and a city intersect in the
-- index (see the PostgreSQL migration). SQLite's FTS5 index yields matches in id order and
-- the city is checked per match, as before.
SELECT 1;
