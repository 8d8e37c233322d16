"""Helpers shared by the Iceberg tests (tests/iceberg/test_pipeline.py) and the Trino test
(tests/trino/test_trino.py): `spotify-etl demo --once` output copied into a fresh prefix of
the test MinIO (scripts/test-servers.sh's ETL_TEST_S3_*), served by a `cataloger` alone
(ETL_TRANSFORMED_URL=s3://<bucket>/<prefix>/transformed), on 127.0.0.1 only."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlparse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from ports import free_port  # noqa: E402,F401

TABLES = ("albums_data", "artists_data", "songs_data")


def run_demo(bin_dir, workdir, timeout=300):
    """`spotify-etl demo --once` in workdir (Iceberg tables, the default, no token); returns
    the transformed store's folder, <workdir>/data/demo/transformed."""
    env = dict(os.environ, ETL_PG_ADDR="off", ETL_ICEBERG_MAINTENANCE_INTERVAL_S="0")
    env.update({f"ETL_{n.upper()}_ADDR": f"127.0.0.1:{free_port()}" for n in ("extractor", "transformer", "cataloger")})
    env.pop("ETL_API_TOKEN", None)
    env.pop("ETL_TABLE_FORMAT", None)
    demo = subprocess.run([os.path.join(bin_dir, "spotify-etl"), "demo", "--once"], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if demo.returncode != 0:
        raise RuntimeError("spotify-etl demo --once failed: " + demo.stderr[-3000:])
    return os.path.join(workdir, "data", "demo", "transformed")


def minio():
    """The test MinIO from ETL_TEST_S3_* as a dict (endpoint, access_key, secret_key, region,
    bucket), or None when the test servers do not run."""
    if not os.environ.get("ETL_TEST_S3_ENDPOINT"):
        return None
    return {"endpoint": os.environ["ETL_TEST_S3_ENDPOINT"], "access_key": os.environ["ETL_TEST_S3_ACCESS_KEY"],
            "secret_key": os.environ["ETL_TEST_S3_SECRET_KEY"],
            "region": os.environ.get("ETL_TEST_S3_REGION", "us-east-1"), "bucket": os.environ["ETL_TEST_S3_BUCKET"]}


class MinioPrefix:
    """A fresh prefix of the test MinIO for one test (`<name>-<pid>-<ms>`): `server` (as
    minio() gives it), `fs` (a pyarrow S3FileSystem), `bucket`, `prefix`. Skips the test
    when the test servers do not run; remove() deletes what the test wrote there."""

    def __init__(self, test, name):
        self.server = minio()
        if not self.server:
            test.skipTest("no MinIO (ETL_TEST_S3_*): run under scripts/test.sh")
        self.fs = s3_filesystem(self.server)
        self.bucket = self.server["bucket"]
        self.prefix = f"{name}-{os.getpid()}-{int(time.time() * 1000)}"

    def remove(self):
        try:
            self.fs.delete_dir(f"{self.bucket}/{self.prefix}")
        except FileNotFoundError:  # nothing was written
            pass


def s3_filesystem(s3):
    from pyarrow import fs as pafs
    endpoint = urlparse(s3["endpoint"])
    return pafs.S3FileSystem(endpoint_override=endpoint.netloc, scheme=endpoint.scheme, access_key=s3["access_key"],
                             secret_key=s3["secret_key"], region=s3["region"])


def put_file(fs, source, key):
    with open(source, "rb") as src, fs.open_output_stream(key) as out:
        out.write(src.read())


def upload_tables(fs, transformed, base, tables=TABLES):
    """Copies every Parquet file of the tables' folders under `transformed` to `base`
    ("<bucket>/<prefix>/transformed"), same relative keys (no Iceberg metadata)."""
    for table in tables:
        for root, _, files in os.walk(os.path.join(transformed, table)):
            for f in files:
                if f.endswith(".parquet"):
                    path = os.path.join(root, f)
                    put_file(fs, path, f"{base}/{os.path.relpath(path, transformed)}")


def local_metadata(table_folder):
    """The current metadata file of a table in a local folder: the version hint, then
    probing forward (the hint is written after the swap and may lag)."""
    folder = os.path.join(table_folder, "metadata")
    with open(os.path.join(folder, "version-hint.text")) as hint:
        version = int(hint.read().strip())
    while os.path.exists(os.path.join(folder, f"v{version + 1}.metadata.json")):
        version += 1
    return os.path.join(folder, f"v{version}.metadata.json")


def first_parquet(folder):
    return next(os.path.join(r, f) for r, _, fs in sorted(os.walk(folder)) for f in sorted(fs) if f.endswith(".parquet"))


def stop_process(proc, grace_s=30):
    """SIGTERM, then SIGKILL after `grace_s` seconds; waits for the end either way."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=grace_s)


def tail(path, chars):
    """The last `chars` characters of a log file."""
    with open(path, errors="replace") as log:
        return log.read()[-chars:]


def main(module):
    """A test script's main: --bin-dir and --duckdb-extensions into module.ARGS, the rest to unittest."""
    import argparse
    import sys
    import unittest
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--duckdb-extensions", required=True)
    module.ARGS, rest = parser.parse_known_args()
    unittest.main(module=module, argv=[sys.argv[0]] + rest, verbosity=2)


def wait_until(ready, what, proc, log_path, timeout=120, name="the cataloger"):
    """Polls ready() (exceptions count as not yet) until true; fails with the process's log
    when it exits or the time is up."""
    deadline = time.time() + timeout
    while True:
        try:
            if ready():
                return
        except Exception:  # not up or not crawled yet
            pass
        if proc.poll() is not None:
            raise AssertionError(f"{name} exited ({proc.returncode}): " + tail(log_path, 3000))
        if time.time() > deadline:
            raise AssertionError(f"{what} not within {timeout} s; log: " + tail(log_path, 3000))
        time.sleep(0.3)


def metric(base_url, name, table):
    """The value of metric `name` with label table="<table>" on base_url's /metrics (0 when absent)."""
    with urllib.request.urlopen(base_url + "/metrics", timeout=30) as r:
        text = r.read().decode()
    for line in text.splitlines():
        if line.startswith(name + "{") and f'table="{table}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


class LoneCataloger:
    """A `cataloger` process over s3://<bucket>/<prefix>/transformed (or, with s3=None,
    over `prefix`, a file:// URL) on a free loopback port."""

    def __init__(self, bin_dir, workdir, s3, prefix, token=None, maintenance_s=0, name="minio-cataloger", extra_env=None):
        self.port = free_port()
        self.token = token
        self.transformed_url = f"s3://{s3['bucket']}/{prefix}/transformed" if s3 else prefix
        env = dict(os.environ, ETL_BUS="memory", ETL_PG_ADDR="off", ETL_CATALOGER_ADDR=f"127.0.0.1:{self.port}",
                   ETL_ICEBERG_MAINTENANCE_INTERVAL_S=str(maintenance_s),
                   ETL_TRANSFORMED_URL=self.transformed_url,
                   ETL_RAW_URL=f"file://{workdir}/{name}-raw",
                   ETL_CATALOG_CACHE_DIR=os.path.join(workdir, f"{name}-cache"))
        if s3:
            env.update(AWS_ENDPOINT_URL_S3=s3["endpoint"], AWS_ACCESS_KEY_ID=s3["access_key"],
                       AWS_SECRET_ACCESS_KEY=s3["secret_key"], AWS_REGION=s3["region"])
        env.pop("ETL_API_TOKEN", None)
        env.pop("ETL_TABLE_FORMAT", None)
        if token:
            env["ETL_API_TOKEN"] = token
        env.update(extra_env or {})
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([os.path.join(bin_dir, "cataloger")], env=env, stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        stop_process(self.proc)
        self.log.close()

    def log_tail(self):
        return tail(self.log_path, 3000)

    def http(self, method, path, body=None):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url + path, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.load(r)

    def query(self, sql, as_of=None):
        body = {"sql": sql}
        if as_of:
            body["as_of"] = as_of
        return self.http("POST", "/v1/query", body)["rows"]

    def by_dt(self, table, as_of=None):
        return {dt: n for dt, n in self.query(f"SELECT dt, count(*) FROM {table} GROUP BY dt", as_of)}

    def wait_until(self, ready, what, timeout=120):
        """Polls ready() (exceptions count as not yet) until true; fails with the log."""
        wait_until(ready, what, self.proc, self.log_path, timeout)

    def crawl(self, tables, timeout=60):
        """POST /v1/crawl and waits until it finished (and so its commit)."""
        crawl_id = self.http("POST", "/v1/crawl", {"tables": list(tables)})["crawl_id"]
        deadline = time.time() + timeout
        while time.time() < deadline:
            state = self.http("GET", f"/v1/crawls/{crawl_id}")
            if state["state"] != "RUNNING":
                if state["state"] != "SUCCEEDED":
                    raise AssertionError(f"crawl {crawl_id}: {state}")
                return
            time.sleep(0.1)
        raise AssertionError(f"crawl {crawl_id} still running after {timeout} s")
