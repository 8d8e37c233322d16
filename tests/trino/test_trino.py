"""Trino reads the pipeline's Iceberg tables through the cataloger's REST catalog (issue 16).

`spotify-etl demo --once` output is copied into a fresh prefix of the test MinIO and served by
a `cataloger` alone (ETL_TRANSFORMED_URL=s3://..., ETL_API_TOKEN set), as
tests/iceberg/test_pipeline.py's IcebergTablesOnMinio does. A single-node Trino (coordinator
that also runs the work, small heap, 127.0.0.1 only) gets one catalog, `iceberg`, of type
`rest` at the cataloger's /iceberg with the token, and reads the data files from MinIO itself
(native S3, path style). Checked: SHOW TABLES lists the three tables; per table, Trino's rows
per dt are /v1/query's; after a file lands and a crawl commits a second snapshot, `FOR VERSION
AS OF` the older snapshot reads what /v1/query answers with "as_of" that snapshot, and the
current one the new rows; CREATE TABLE and INSERT are refused and commit nothing (the INSERT's
data file, which Trino writes before asking the catalog, stays outside the crawled folders); a
newer generation of a data file (what a redo writes) replaces it in the current snapshot while
the older snapshot still reads the old file at the size its manifest records.

Usage: test_trino.py --bin-dir DIR --java-home JDK --trino-home DIR   (run.sh finds the last two)
Exit 77 (skipped) when the test MinIO does not run (ETL_TEST_S3_*: scripts/test-servers.sh).
"""
import argparse
from collections import Counter
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "iceberg"))
import lone_cataloger  # noqa: E402

TABLES = lone_cataloger.TABLES
TOKEN = "trino-iceberg-token"
ARGS = None
S3 = None
FS = None
PREFIX = None
WORKDIR = None
CATALOGER = None
TRINO = None


class TrinoError(Exception):
    def __init__(self, error):
        super().__init__(f"{error.get('errorName')} ({error.get('errorType')}): {error.get('message')}")
        self.error = error


class Trino:
    """A single-node Trino server (coordinator + worker) on a free loopback port, run straight
    from its jars (no launcher), configured and logging under `folder`."""

    def __init__(self, java_home, trino_home, folder, catalogs, heap="1500M"):
        self.port = lone_cataloger.free_port()
        self.folder = folder
        etc = os.path.join(folder, "etc")
        os.makedirs(os.path.join(etc, "catalog"))
        config = {
            "coordinator": "true",
            "node-scheduler.include-coordinator": "true",
            "node.environment": "spotify_etl_test",
            "node.id": "trino-test",
            "log.enable-console": "true",  # server.log: stdout and stderr
            "node.bind-ip": "127.0.0.1",
            "node.internal-address": "127.0.0.1",
            "http-server.http.port": str(self.port),
            "http-server.log.enabled": "false",
            "discovery.uri": f"http://127.0.0.1:{self.port}",
            "plugin.dir": os.path.join(trino_home, "plugin"),
            "catalog.config-dir": os.path.join(etc, "catalog"),
            "query.max-memory": "400MB",
            "query.max-memory-per-node": "400MB",
        }
        self.write(os.path.join(etc, "config.properties"), config)
        for name, properties in catalogs.items():
            self.write(os.path.join(etc, "catalog", f"{name}.properties"), properties)
        command = [os.path.join(java_home, "bin", "java"), f"-Xmx{heap}", "-Xms256M", "-XX:+UseG1GC",
                   "-XX:+ExitOnOutOfMemoryError", "-XX:ReservedCodeCacheSize=256M", "-XX:-OmitStackTraceInFastThrow",
                   "-Djdk.attach.allowAttachSelf=true", "-XX:+EnableDynamicAgentLoading", "-Dfile.encoding=UTF-8",
                   f"-Dconfig={os.path.join(etc, 'config.properties')}",
                   "-cp", os.path.join(trino_home, "lib", "*"), "io.trino.server.TrinoServer"]
        self.log_path = os.path.join(folder, "server.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(command, cwd=folder, stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL,
                                     start_new_session=True)

    @staticmethod
    def write(path, properties):
        with open(path, "w") as f:
            f.writelines(f"{k}={v}\n" for k, v in properties.items())

    def log_tail(self, chars=4000):
        return lone_cataloger.tail(self.log_path, chars)

    def wait_ready(self, timeout, probe):
        # Done starting is not enough: until the node is among the active nodes of
        # the catalog, scans fail with NO_NODES_AVAILABLE. A query without a table
        # (SELECT 1) runs on the coordinator before that, so two CI runs passed it
        # and then failed their first scans; ready when `probe`, a scan, runs.
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v1/info", timeout=5) as r:
                    if not json.load(r).get("starting", True) and self.execute(probe, timeout=30):
                        return
            except (OSError, ValueError):  # not listening yet
                pass
            except TrinoError as e:
                if e.error.get("errorName") != "NO_NODES_AVAILABLE":
                    raise
            if self.proc.poll() is not None:
                raise RuntimeError(f"Trino exited ({self.proc.returncode}): " + self.log_tail())
            if time.time() > deadline:
                raise RuntimeError(f"Trino did not start within {timeout} s: " + self.log_tail())
            time.sleep(1)

    def request(self, method, url, body=None):
        req = urllib.request.Request(url, method=method, data=body.encode() if body is not None else None,
                                     headers={"X-Trino-User": "spotify-etl-test", "X-Trino-Source": "test_trino.py"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.load(r)

    def execute(self, sql, timeout=180):
        """Runs one statement through Trino's client protocol (POST /v1/statement, then follow
        nextUri); returns the rows as lists, raises TrinoError when the query fails."""
        deadline = time.time() + timeout
        answer = self.request("POST", f"http://127.0.0.1:{self.port}/v1/statement", sql)
        rows = []
        while True:
            rows.extend(answer.get("data") or [])
            if "error" in answer:
                raise TrinoError(answer["error"])
            if "nextUri" not in answer:
                return rows
            if time.time() > deadline:
                try:
                    self.request("DELETE", answer["nextUri"])  # cancel it
                except (OSError, ValueError):
                    pass
                raise AssertionError(f"Trino query still running after {timeout} s: {sql}")
            answer = self.request("GET", answer["nextUri"])

    def stop(self):
        lone_cataloger.stop_process(self.proc)
        self.log.close()


def bucket_keys():
    from pyarrow import fs as pafs
    infos = FS.get_file_info(pafs.FileSelector(f"{S3['bucket']}/{PREFIX}", recursive=True))
    return sorted(i.path for i in infos if i.type == pafs.FileType.File)


def setUpModule():
    global FS, PREFIX, WORKDIR, CATALOGER, TRINO
    WORKDIR = tempfile.mkdtemp(prefix="trino-iceberg-")
    unittest.addModuleCleanup(shutil.rmtree, WORKDIR, ignore_errors=True)
    started = time.time()
    transformed = lone_cataloger.run_demo(ARGS.bin_dir, WORKDIR)
    print(f"trino: demo --once in {time.time() - started:.1f} s", file=sys.stderr)

    FS = lone_cataloger.s3_filesystem(S3)
    PREFIX = f"trino-iceberg-{os.getpid()}-{int(time.time() * 1000)}"
    unittest.addModuleCleanup(lambda: FS.delete_dir(f"{S3['bucket']}/{PREFIX}"))
    lone_cataloger.upload_tables(FS, transformed, f"{S3['bucket']}/{PREFIX}/transformed")
    CATALOGER = lone_cataloger.LoneCataloger(ARGS.bin_dir, WORKDIR, S3, PREFIX, token=TOKEN, maintenance_s=0)
    unittest.addModuleCleanup(CATALOGER.stop)
    CATALOGER.wait_until(lambda: all(CATALOGER.query(f"SELECT count(*) FROM {t}")[0][0] > 0 for t in TABLES)
                         and len(CATALOGER.http("GET", "/iceberg/v1/namespaces/spotify/tables")["identifiers"]) == 3,
                         "the cataloger serving the bucket's tables")

    started = time.time()
    catalog = {
        "connector.name": "iceberg",
        "iceberg.catalog.type": "rest",
        "iceberg.rest-catalog.uri": f"{CATALOGER.url}/iceberg",
        "iceberg.rest-catalog.security": "OAUTH2",
        "iceberg.rest-catalog.oauth2.token": TOKEN,
        "iceberg.rest-catalog.oauth2.token-refresh-enabled": "false",
        "fs.native-s3.enabled": "true",
        "s3.endpoint": S3["endpoint"],
        "s3.region": S3["region"],
        "s3.path-style-access": "true",
        "s3.aws-access-key": S3["access_key"],
        "s3.aws-secret-key": S3["secret_key"],
    }
    TRINO = Trino(ARGS.java_home, ARGS.trino_home, os.path.join(WORKDIR, "trino"), {"iceberg": catalog})
    unittest.addModuleCleanup(TRINO.stop)
    TRINO.wait_ready(timeout=300, probe=f"SELECT count(*) FROM iceberg.spotify.{TABLES[0]}")
    print(f"trino: server ready in {time.time() - started:.1f} s", file=sys.stderr)


def trino_by_dt(table, version=None):
    travel = f" FOR VERSION AS OF {int(version)}" if version is not None else ""
    return {dt: n for dt, n in TRINO.execute(f"SELECT dt, count(*) FROM iceberg.spotify.{table}{travel} GROUP BY dt")}


class TrinoReadsTheRestCatalog(unittest.TestCase):
    def test_1_show_tables_lists_the_three_tables(self):
        self.assertEqual(TRINO.execute("SHOW SCHEMAS FROM iceberg LIKE 'spotify'"), [["spotify"]])
        self.assertEqual(sorted(t for (t,) in TRINO.execute("SHOW TABLES FROM iceberg.spotify")), list(TABLES))

    def test_2_rows_per_dt_are_the_endpoints(self):
        for table in TABLES:
            with self.subTest(table=table):
                expected = CATALOGER.by_dt(table)
                self.assertGreater(sum(expected.values()), 0)
                self.assertEqual(trino_by_dt(table), expected, f"{table}: Trino vs /v1/query, per dt")

    def test_3_time_travel_to_the_older_snapshot(self):
        table = "songs_data"
        before = CATALOGER.by_dt(table)
        old = CATALOGER.http("GET", f"/v1/tables/{table}/snapshots")["snapshots"][0]["snapshot_id"]
        source = lone_cataloger.first_parquet(os.path.join(WORKDIR, "data", "demo", "transformed", table))
        lone_cataloger.put_file(FS, source,
                                f"{S3['bucket']}/{PREFIX}/transformed/{table}/dt=2001-01-01/landed-later.parquet")
        CATALOGER.crawl([table])
        snapshots = CATALOGER.http("GET", f"/v1/tables/{table}/snapshots")["snapshots"]
        self.assertEqual(snapshots[1]["snapshot_id"], old, "the crawl committed one new snapshot on top")
        new = snapshots[0]["snapshot_id"]
        after = CATALOGER.by_dt(table)
        self.assertIn("2001-01-01", after)
        self.assertNotIn("2001-01-01", before)

        self.assertEqual(trino_by_dt(table), after, "Trino's current snapshot vs /v1/query")
        pinned = CATALOGER.by_dt(table, as_of={table: old})
        self.assertEqual(pinned, before)
        self.assertEqual(trino_by_dt(table, version=old), pinned, "FOR VERSION AS OF vs /v1/query as_of")
        self.assertEqual(trino_by_dt(table, version=new), after)
        listed = {s["snapshot_id"] for s in snapshots}
        seen = {s for (s,) in TRINO.execute(f'SELECT snapshot_id FROM iceberg.spotify."{table}$snapshots"')}
        self.assertEqual(seen, listed, "Trino's $snapshots vs GET /v1/tables/{table}/snapshots")

    def test_4_writes_are_refused(self):
        table = "artists_data"
        rows = CATALOGER.by_dt(table)
        keys = bucket_keys()
        with self.assertRaises(TrinoError) as create:
            TRINO.execute("CREATE TABLE iceberg.spotify.trino_probe (x integer)")
        print(f"trino: CREATE TABLE refused: {create.exception}", file=sys.stderr)
        with self.assertRaises(TrinoError) as insert:
            TRINO.execute(f"INSERT INTO iceberg.spotify.{table} SELECT * FROM iceberg.spotify.{table} LIMIT 1")
        print(f"trino: INSERT refused: {insert.exception}", file=sys.stderr)
        for statement in (create, insert):
            self.assertNotEqual(statement.exception.error.get("errorName"), "SYNTAX_ERROR", str(statement.exception))
        # Trino writes the INSERT's data file, manifest and manifest list before it asks the
        # catalog to commit, and leaves them when the commit is refused (it has the bucket's
        # read-write keys here; give it read-only ones in earnest). They must stay outside
        # what the cataloger crawls (<table>/dt=...) and commit nothing.
        stray = sorted(set(bucket_keys()) - set(keys))
        if stray:
            print("trino: objects the refused INSERT left in the bucket:", *stray, sep="\n  ", file=sys.stderr)
        base = f"{S3['bucket']}/{PREFIX}/transformed/{table}/"
        for key in stray:
            rel = key[len(base):] if key.startswith(base) else key
            self.assertTrue(rel.startswith("data/") or (rel.startswith("metadata/") and rel.endswith(".avro")),
                            f"a refused write left {key}")
        snapshot = CATALOGER.http("GET", f"/v1/tables/{table}")["iceberg"]["current_snapshot_id"]
        CATALOGER.crawl([table])
        self.assertEqual(CATALOGER.http("GET", f"/v1/tables/{table}")["iceberg"]["current_snapshot_id"], snapshot,
                         "a crawl after the refused writes committed something")
        self.assertEqual(CATALOGER.by_dt(table), rows)
        self.assertEqual(trino_by_dt(table), rows)
        self.assertEqual(sorted(t for (t,) in TRINO.execute("SHOW TABLES FROM iceberg.spotify")), list(TABLES))

    def test_5_a_newer_generation_replaces_a_file_and_the_older_snapshot_still_reads_the_old_one(self):
        # What a redo writes with Iceberg tables (contract §4.4): `<stem>.r<13-digit ms>.parquet`
        # beside the file, never over it. Trino opens each data file at the size its manifest
        # records, so the older snapshot reads right only while the old file is there unchanged.
        import pyarrow.parquet as pq
        table = "albums_data"
        before = CATALOGER.by_dt(table)
        old = CATALOGER.http("GET", f"/v1/tables/{table}")["iceberg"]["current_snapshot_id"]
        base = f"{S3['bucket']}/{PREFIX}/transformed/{table}/"
        key, rows = None, None
        for candidate in bucket_keys():
            if candidate.startswith(base + "dt=") and candidate.endswith(".parquet"):
                with FS.open_input_file(candidate) as f:
                    rows = pq.read_table(f)
                if rows.num_rows >= 2:
                    key = candidate
                    break
        self.assertIsNotNone(key, f"no data file of {table} with 2 rows or more")
        with FS.open_input_file(key) as f:
            old_bytes = f.read()
        dt = key[len(base) + len("dt="):].split("/")[0]
        newer = rows.slice(0, rows.num_rows // 2)  # keeps the Iceberg field ids (PARQUET:field_id)
        with FS.open_output_stream(key[:-len(".parquet")] + f".r{int(time.time() * 1000)}.parquet") as out:
            pq.write_table(newer, out)
        CATALOGER.crawl([table])

        expected = dict(before)
        expected[dt] -= rows.num_rows - newer.num_rows
        self.assertEqual(CATALOGER.by_dt(table), expected, "/v1/query after the newer generation's crawl")
        self.assertEqual(trino_by_dt(table), expected, "Trino's current snapshot")
        self.assertEqual(trino_by_dt(table, version=old), before, "Trino, FOR VERSION AS OF the snapshot before")
        # Counts may come from the manifests alone; the ids come from the data files.
        def ids(version=None):
            travel = f" FOR VERSION AS OF {int(version)}" if version is not None else ""
            return Counter(i for (i,) in TRINO.execute(
                f"SELECT album_id FROM iceberg.spotify.{table}{travel} WHERE dt = '{dt}'"))
        in_old_file, in_newer = Counter(rows.column("album_id").to_pylist()), Counter(newer.column("album_id").to_pylist())
        read_before = ids(old)
        others = read_before - in_old_file  # the day's rows in its other files
        self.assertEqual(read_before, others + in_old_file, "the older snapshot reads every row of the old file")
        self.assertEqual(ids(), others + in_newer, "the current snapshot reads the newer generation's rows instead")
        with FS.open_input_file(key) as f:
            self.assertEqual(f.read(), old_bytes, "the older generation, which the older snapshot names")
        operations = dict(TRINO.execute(f'SELECT snapshot_id, operation FROM iceberg.spotify."{table}$snapshots"'))
        new = CATALOGER.http("GET", f"/v1/tables/{table}")["iceberg"]["current_snapshot_id"]
        self.assertEqual(operations.get(new), "overwrite", operations)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--java-home", required=True)
    parser.add_argument("--trino-home", required=True)
    ARGS, rest = parser.parse_known_args()
    ARGS.bin_dir = os.path.abspath(ARGS.bin_dir)
    S3 = lone_cataloger.minio()
    if not S3:
        print("trino: SKIP: no MinIO (ETL_TEST_S3_*): start scripts/test-servers.sh and load its env file",
              file=sys.stderr)
        sys.exit(77)
    result = unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, exit=False).result
    sys.exit(0 if result.wasSuccessful() else 1)
