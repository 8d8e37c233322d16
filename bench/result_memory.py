"""The cataloger's own memory after bursts of large query results (bench/README.md,
"The cataloger's memory after large results").

Starts the `cataloger` binary on loopback (an empty file:// store, the in-memory
bus, ETL_QUERY_ISOLATION=process so DuckDB's memory is the child's, not counted
here), then sends --rounds bursts of --clients concurrent queries, each a result
of its own of about 25 MiB, which churn through the result cache (256 MiB).
Reports the cataloger process's resident memory before, at its peak, and once
idle, against the bytes of results it keeps (its gauge
spotify_etl_cataloger_query_results_bytes): idle RSS above the start / kept is the
ratio (1.0: it holds what it keeps and nothing more). Loopback only; bounded by
--rounds and a 120 s timeout per query.

With --latency-seconds N it then sends small queries one after another on one
keep-alive connection for N seconds, while another client ends a large result
every half second (so the heap is handed back once a second), and reports
their latency: what the trimming costs the queries beside it.

Usage: python3 bench/result_memory.py --bin build/bin/cataloger [--rounds 20] [--clients 4] [--latency-seconds 20]"""
import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the cataloger binary")
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--latency-seconds", type=float, default=0)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="result-memory-")
    os.makedirs(work + "/transformed")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, ETL_TRANSFORMED_URL="file://" + work + "/transformed", ETL_CATALOGER_ADDR=f"127.0.0.1:{port}",
               ETL_PG_ADDR="off", ETL_BUS="memory", ETL_TABLE_FORMAT="hive", ETL_LOG_LEVEL="warn",
               ETL_QUERY_WORKERS=str(args.clients + 1), ETL_QUERY_DATA_DIR=work + "/query")
    log = open(work + "/cataloger.log", "w")
    proc = subprocess.Popen([args.bin], env=env, stdout=log, stderr=log)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/readyz", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        failures = []

        def query(rows):
            sql = f"SELECT repeat('x', 200) || i AS s, i AS n FROM range({rows}) t(i)"
            body = json.dumps({"sql": sql, "max_rows": 10, "timeout_ms": 120000}).encode()
            req = urllib.request.Request(base + "/v1/query", body, {"Content-Type": "application/json"})
            try:
                urllib.request.urlopen(req, timeout=130).read()
            except urllib.error.HTTPError as e:
                failures.append(f"{e.code} {e.read()[:200]!r}")

        start = rss_mib(proc.pid)
        peak = start
        t0 = time.monotonic()
        for r in range(args.rounds):
            threads = [threading.Thread(target=query, args=(60000 + args.clients * r + k,)) for k in range(args.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            peak = max(peak, rss_mib(proc.pid))
        elapsed = time.monotonic() - t0
        time.sleep(3)  # idle: past the second after the last query ends
        idle = rss_mib(proc.pid)
        metrics = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
        kept = next(float(line.split()[1]) for line in metrics.splitlines()
                    if line.startswith("spotify_etl_cataloger_query_results_bytes ")) / 2**20
        print(f"{args.rounds} bursts of {args.clients} results (~25 MiB each) in {elapsed:.1f} s; "
              f"{len(failures)} failed{': ' + failures[0] if failures else ''}")
        print(f"cataloger RSS: start {start:.0f} MiB, peak {peak:.0f} MiB, idle {idle:.0f} MiB; results kept {kept:.0f} MiB")
        print(f"idle above start / kept: {(idle - start) / kept:.2f} x   peak above start / kept: {(peak - start) / kept:.2f} x")
        if args.latency_seconds > 0:
            stop = threading.Event()

            def large_results():
                i = 0
                while not stop.is_set():
                    query(70000 + i)
                    i += 1
                    stop.wait(0.5)

            background = threading.Thread(target=large_results)
            background.start()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=130)
            latencies = []
            end = time.monotonic() + args.latency_seconds
            while time.monotonic() < end:
                body = json.dumps({"sql": f"SELECT {len(latencies)} + 1 AS x", "max_rows": 10})
                t = time.perf_counter()
                conn.request("POST", "/v1/query", body, {"Content-Type": "application/json"})
                conn.getresponse().read()
                latencies.append((time.perf_counter() - t) * 1000)
            stop.set()
            background.join()
            latencies.sort()
            at = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))]  # noqa: E731
            print(f"{len(latencies)} small queries beside large results: median {statistics.median(latencies):.2f} ms, "
                  f"p99 {at(0.99):.2f} ms, p99.9 {at(0.999):.2f} ms, max {latencies[-1]:.1f} ms")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
