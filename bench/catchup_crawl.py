"""A catch-up crawl against S3 some milliseconds away: `spotify-etl migrate`
(one full crawl with Iceberg commits) over a store holding FILES new Parquet
files of TABLES tables, timed for each binary given, side by side, same run.

What it shows: how a crawl's per-file chains (a footer read for the schema, a
HEAD and a footer read for the commit) add up when S3 is tens of milliseconds
away, and what reading a table's new files a few at once saves.

Run with the test servers' environment (scripts/test-servers.sh start ENVFILE;
set -a; . ENVFILE; set +a), with the test venv's Python that has duckdb:
    ~/.cache/spotify-etl/venv-iceberg/bin/python bench/catchup_crawl.py \
        --binary now=build/bin/spotify-etl --binary other=/path/spotify-etl \
        [--files 24] [--tables 3] [--rtt-ms 50] [--rounds 3]
Loopback only: MinIO is reached through bench/delay_proxy.py; bounded (each
migrate gets 600 s).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))
HTTPFS = os.path.expanduser("~/.cache/spotify-etl/duckdb-1.4.4/extensions/v1.4.4/linux_amd64/httpfs.duckdb_extension")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", action="append", required=True, help="label=path of a spotify-etl executable")
    ap.add_argument("--files", type=int, default=24, help="new Parquet files per table")
    ap.add_argument("--tables", type=int, default=3)
    ap.add_argument("--rtt-ms", type=float, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    endpoint = os.environ["ETL_TEST_S3_ENDPOINT"]
    if not endpoint.startswith(("http://127.0.0.1:", "http://[::1]:", "http://localhost:")):
        raise SystemExit("ETL_TEST_S3_ENDPOINT must be a loopback address: " + endpoint)
    bucket = os.environ["ETL_TEST_S3_BUCKET"]
    key, secret = os.environ["ETL_TEST_S3_ACCESS_KEY"], os.environ["ETL_TEST_S3_SECRET_KEY"]
    binaries = [b.split("=", 1) for b in a.binary]

    port_file = f"/tmp/catchup-proxy-{os.getpid()}.port"
    proxy = subprocess.Popen([sys.executable, os.path.join(HERE, "delay_proxy.py"), "--target",
                              endpoint.split("//", 1)[1], "--one-way-ms", str(a.rtt_ms / 2), "--port-file", port_file],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            time.sleep(0.05)
        proxied = "http://127.0.0.1:" + open(port_file).read().strip()

        db = duckdb.connect(config={"allow_unsigned_extensions": "true", "autoinstall_known_extensions": "false"})
        db.execute(f"LOAD '{HTTPFS}'")
        db.execute(f"CREATE SECRET s (TYPE S3, KEY_ID '{key}', SECRET '{secret}', REGION 'us-east-1', "
                   f"ENDPOINT '{endpoint.split('//', 1)[1]}', USE_SSL false, URL_STYLE 'path')")

        def fill(prefix):  # straight to MinIO, not through the proxy
            for t in range(a.tables):
                for f in range(a.files):
                    path = f"s3://{bucket}/{prefix}/table{t}/dt=2026-12-{1 + f % 5:02d}/f{f:03d}.parquet"
                    db.execute(f"COPY (SELECT 's' || (i + {f * 100}) AS song_id, i::BIGINT AS n, ['a', 'b'] AS tags "
                               f"FROM range(100) t(i)) TO '{path}'")

        times = {label: [] for label, _ in binaries}
        for r in range(a.rounds):
            for label, path in binaries:
                prefix = f"catchup-{uuid.uuid4().hex[:8]}"
                fill(prefix)
                env = dict(os.environ, ETL_TRANSFORMED_URL=f"s3://{bucket}/{prefix}", AWS_ACCESS_KEY_ID=key,
                           AWS_SECRET_ACCESS_KEY=secret, AWS_REGION=os.environ.get("ETL_TEST_S3_REGION", "us-east-1"),
                           AWS_ENDPOINT_URL_S3=proxied, ETL_LOG_LEVEL="warn")
                started = time.monotonic()
                done = subprocess.run([path, "migrate"], env=env, capture_output=True, text=True, timeout=600)
                seconds = time.monotonic() - started
                if done.returncode != 0:
                    raise SystemExit(f"{label}: migrate exited {done.returncode}: {done.stdout[-500:]} {done.stderr[-500:]}")
                times[label].append(seconds)
                print(f"round {r + 1} {label}: {seconds:.2f} s", flush=True)
        print(f"\n{a.tables} tables x {a.files} new files, S3 {a.rtt_ms:g} ms of round trip away; "
              f"median of {a.rounds} rounds (spotify-etl migrate: one full crawl with Iceberg commits)")
        first = statistics.median(times[binaries[0][0]])
        for label, _ in binaries:
            m = statistics.median(times[label])
            print(f"  {label:<24} {m:7.2f} s   ({m / first:.2f} x {binaries[0][0]})")
    finally:
        proxy.terminate()
        proxy.wait()
        if os.path.exists(port_file):
            os.remove(port_file)


if __name__ == "__main__":
    main()
