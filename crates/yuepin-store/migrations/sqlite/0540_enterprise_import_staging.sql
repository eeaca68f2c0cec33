-- PostgreSQL stages enterprise imports in an unlogged table for its COPY path (see the
-- PostgreSQL migration). SQLite imports through the native writer, which needs no staging.
SELECT 1;
