-- PostgreSQL gives code columns byte-order comparison (COLLATE "C") and keeps scans of
-- enterprises and designations out of parallel workers (see the PostgreSQL migration). SQLite
-- already compares text byte by byte (BINARY) and runs queries in one thread.
SELECT 1;
