"""Exporting a result as CSV (bench/README.md, "copy_export"): the PostgreSQL
endpoint's COPY (query) TO STDOUT (FORMAT csv) — what psql's \\copy and
psycopg's cursor.copy() send — against the references in the same run: the
same rows as CSV over HTTP the way the dashboard's "Download CSV" reads them
(POST /v1/query with Accept: text/csv, then every page by X-Next-Token), and a
plain SELECT over the PostgreSQL endpoint (psycopg's fetchall, text rows).

Starts `spotify-etl demo` on loopback; rounds alternate the three ways and the
summary is their medians and ratios. Run with the pgwire test venv's python:
  ~/.cache/spotify-etl/venv-pgwire/bin/python bench/copy_export_bench.py --bin-dir build/bin"""
import argparse
import http.client
import json
import os
import socket
import statistics
import sys
import time

import psycopg

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "browser"))
from demo_process import Demo  # noqa: E402


def http_csv(base, sql):
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=300)
    conn.request("POST", "/v1/query", json.dumps({"sql": sql}),
                 {"Content-Type": "application/json", "Accept": "text/csv"})
    r = conn.getresponse()
    body = r.read()
    assert r.status == 200, body[:300]
    query_id, token = r.getheader("X-Query-Id"), r.getheader("X-Next-Token")
    size, lines = len(body), body.count(b"\n")
    while token:
        conn.request("GET", f"/v1/query/{query_id}?next_token={token}", headers={"Accept": "text/csv"})
        r = conn.getresponse()
        page = r.read()
        assert r.status == 200, page[:300]
        size += len(page)
        lines += page.count(b"\n") - 1  # each page repeats the header line
        token = r.getheader("X-Next-Token")
    conn.close()
    return size, lines - 1


def pg_copy(dsn, sql):
    size = 0
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER)") as copy:
            for chunk in copy:
                size += len(chunk)
        rows = cur.rowcount
    return size, rows


def pg_select(dsn, sql):
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    return 0, len(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default="build/bin")
    ap.add_argument("--rows", type=int, default=300000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    # Text, numbers, a date and a NULL per row: what a table export carries, sized by --rows.
    sql = (f"SELECT x AS id, 'song ' || x || ', \"live\"' AS name, x * 1.5 AS score, DATE '2026-01-01' + (x % 365)::INT AS dt, "
           f"CASE WHEN x % 7 = 0 THEN NULL ELSE x % 100 END AS popularity FROM range({args.rows}) t(x) ORDER BY x")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        pg_port = s.getsockname()[1]
    demo = Demo(args.bin_dir, extra_env={"ETL_PG_ADDR": f"127.0.0.1:{pg_port}"})
    try:
        dsn = f"host=127.0.0.1 port={pg_port} user=bench dbname=spotify sslmode=disable"
        ways = {"COPY TO STDOUT (csv)": lambda: pg_copy(dsn, sql),
                "HTTP CSV, paged": lambda: http_csv(demo.base, sql),
                "PostgreSQL SELECT": lambda: pg_select(dsn, sql)}
        for way in ways.values():  # warm-up: the engine process, the connection paths
            way()
        times = {name: [] for name in ways}
        sizes = {}
        for _ in range(args.rounds):
            for name, way in ways.items():
                started = time.perf_counter()
                size, rows = way()
                times[name].append(time.perf_counter() - started)
                assert rows == args.rows, f"{name}: {rows} rows, not {args.rows}"
                sizes[name] = size
        copy = statistics.median(times["COPY TO STDOUT (csv)"])
        print(f"{args.rows} rows, {args.rounds} rounds (medians; all rows read by each way)")
        for name in ways:
            median = statistics.median(times[name])
            mb = f", {sizes[name] / median / 1e6:.1f} MB/s" if sizes[name] else ""
            print(f"  {name:22s} {median * 1000:8.1f} ms  {args.rows / median:10.0f} rows/s{mb}  "
                  f"COPY is {median / copy:.2f}x faster  (rounds: {', '.join(f'{t * 1000:.0f}' for t in times[name])} ms)")
    finally:
        demo.stop()


if __name__ == "__main__":
    main()
