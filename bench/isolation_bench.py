"""What running DuckDB in a process of its own costs (bench/README.md, "isolation").

Starts `spotify-etl demo` on loopback twice per round, once with
ETL_QUERY_ISOLATION=process (the default) and once with none, alternating, and
sends each the same dashboard-shaped queries one after another over one
keep-alive connection (no result reuse: max_age_s is not set). Reports the
median and p95 latency per mode and their ratio, and the cataloger's peak
resident memory (the demo process, plus its query engine process when there is
one). Loopback only; bounded by --rounds and --queries."""
import argparse
import http.client
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "browser"))
from demo_process import Demo, child_processes  # noqa: E402

QUERIES = [
    "SELECT count(*) AS songs FROM songs_data",
    "SELECT a.artist_name, count(*) AS n FROM songs_data s JOIN artists_data a USING (artist_id) "
    "GROUP BY a.artist_name ORDER BY n DESC, a.artist_name LIMIT 10",
    "SELECT dt, count(*) AS n FROM songs_data GROUP BY dt ORDER BY dt",
    "SELECT a.album_name, count(*) AS n FROM songs_data s JOIN albums_data a USING (album_id) "
    "GROUP BY a.album_name ORDER BY n DESC, a.album_name LIMIT 5",
]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(bin_dir, mode, n):
    demo = Demo(bin_dir, extra_env={"ETL_QUERY_ISOLATION": mode})
    try:
        host, port = demo.base[len("http://"):].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)

        def query(sql):
            conn.request("POST", "/v1/query", json.dumps({"sql": sql}), {"Content-Type": "application/json"})
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                raise RuntimeError(f"{mode}: {r.status} {body[:300]!r}")

        for _ in range(5):  # warm: views, file metadata, the tables' copies (no pause: keep-alive lasts 1 s)
            for sql in QUERIES:
                query(sql)
        took = []
        for i in range(n):
            started = time.perf_counter()
            query(QUERIES[i % len(QUERIES)])
            took.append((time.perf_counter() - started) * 1000)
        kids = child_processes(demo.proc.pid)
        rss = status_kib(demo.proc.pid, "VmHWM") + sum(status_kib(k, "VmHWM") for k in kids)
        return took, rss, len(kids)
    finally:
        demo.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args()
    results = {"process": [], "none": []}
    peaks = {"process": [], "none": []}
    for r in range(args.rounds):
        for mode in (("process", "none") if r % 2 == 0 else ("none", "process")):
            took, rss, kids = run(args.bin_dir, mode, args.queries)
            results[mode].extend(took)
            peaks[mode].append(rss)
            print(f"round {r + 1} {mode:8s}: median {statistics.median(took):6.2f} ms, p95 {pct(took, 95):6.2f} ms, "
                  f"peak RSS {rss / 1024:6.1f} MiB ({kids} child process{'es' if kids != 1 else ''})", flush=True)
    med = {m: statistics.median(v) for m, v in results.items()}
    p95 = {m: pct(v, 95) for m, v in results.items()}
    print(f"\nall rounds: process median {med['process']:.2f} ms p95 {p95['process']:.2f} ms; "
          f"none median {med['none']:.2f} ms p95 {p95['none']:.2f} ms")
    print(f"ratio process/none: median {med['process'] / med['none']:.2f}x, p95 {p95['process'] / p95['none']:.2f}x; "
          f"peak RSS {max(peaks['process']) / 1024:.0f} vs {max(peaks['none']) / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
