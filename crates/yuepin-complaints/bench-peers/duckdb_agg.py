"""Benchmark peer (not CI): DuckDB aggregation of the CSV written by
`cargo bench -p yuepin-complaints` (/tmp/yuepin-complaints-bench.csv, 1 M rows):
parse CSV + count by month × city (first 4 digits of region + '00') × division, like the Rust
"parse+aggregate" figure; then the same group-by on a table already loaded in memory.
Run: python3 -m venv /tmp/duckdb-venv && /tmp/duckdb-venv/bin/pip install duckdb
     /tmp/duckdb-venv/bin/python bench-peers/duckdb_agg.py"""
import sys
import time

import duckdb

path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/yuepin-complaints-bench.csv"
con = duckdb.connect()
con.execute("SET threads TO 2")
query = """
SELECT date_trunc('month', CAST(received_at AS TIMESTAMP)) AS m,
       substr(CAST(region AS VARCHAR), 1, 4) || '00' AS city,
       division, count(*) AS n
FROM {src} GROUP BY ALL
"""
t = time.perf_counter()
rows = con.execute(query.format(src=f"read_csv('{path}', header=true, all_varchar=true)")).fetchall()
cold = time.perf_counter() - t
print(f"duckdb parse+aggregate: {len(rows)} cells in {cold:.2f} s")
con.execute(f"CREATE TABLE c AS SELECT * FROM read_csv('{path}', header=true, all_varchar=true)")
t = time.perf_counter()
rows = con.execute(query.format(src="c")).fetchall()
warm = time.perf_counter() - t
print(f"duckdb aggregate only (table in memory): {len(rows)} cells in {warm:.4f} s")
