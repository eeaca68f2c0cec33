"""Benchmark peer (not CI): DuckDB on the same complaints as `yuepin complaints bench-aggregate`.

Loads the complaint CSV that was imported into the Yuepin store (`yuepin complaints generate`
then `yuepin complaints import`) into a typed in-memory DuckDB table (day DATE, city, division,
category, problem; the load is timed and reported apart), then times the same four group-bys that
`yuepin complaints bench-aggregate` runs on its in-memory cube, each warm (best of 3).
Yuepin's category column also holds the labels its classifier filled in on import (about 10 % of
rows come without one); DuckDB groups those rows under NULL. Same row count, same cells otherwise.

Run: python3 -m venv /tmp/duckdb-venv && /tmp/duckdb-venv/bin/pip install duckdb
     /tmp/duckdb-venv/bin/python bench-peers/duckdb_agg.py /tmp/cb/c10m.csv [threads]"""
import sys
import time

import duckdb

path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/yuepin-complaints-bench.csv"
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
con = duckdb.connect()
con.execute(f"SET threads TO {threads}")
t = time.perf_counter()
con.execute(
    f"""CREATE TABLE c AS
    SELECT CAST(substr(received_at, 1, 10) AS DATE) AS day,
           substr(CAST(region AS VARCHAR), 1, 4) || '00' AS city,
           TRY_CAST(division AS INTEGER) AS division,
           category, problem
    FROM read_csv('{path}', header=true, all_varchar=true)"""
)
n = con.execute("SELECT count(*) FROM c").fetchone()[0]
print(f"duckdb load CSV into a typed table: {n} rows in {time.perf_counter() - t:.2f} s ({threads} threads)")

queries = [
    ("month x city x division", "SELECT date_trunc('month', day), city, division, count(*) FROM c GROUP BY ALL"),
    ("day x city x division", "SELECT day, city, division, count(*) FROM c GROUP BY ALL"),
    ("week x city x category", "SELECT date_trunc('week', day), city, category, count(*) FROM c GROUP BY ALL"),
    ("month x problem", "SELECT date_trunc('month', day), problem, count(*) FROM c GROUP BY ALL"),
]
for name, sql in queries:
    best = None
    for _ in range(3):
        t = time.perf_counter()
        # Materialised inside DuckDB (as the Rust side builds its cell list), not sent to Python.
        con.execute(f"CREATE OR REPLACE TEMP TABLE r AS {sql}")
        took = time.perf_counter() - t
        rows = con.execute("SELECT count(*) FROM r").fetchone()[0]
        best = took if best is None else min(best, took)
    print(f"duckdb aggregate {name}: {rows} cells in {best:.4f} s")
