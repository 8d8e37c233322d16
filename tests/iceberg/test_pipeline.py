# Over 400 lines on purpose: every reader case runs against one demo lake, set up once
# for this module.
"""The embedded pipeline's tables as Iceberg v2 tables, checked by readers we did not write.

`spotify-etl demo --once` fills ./data/demo (ETL_TABLE_FORMAT=iceberg, the default), then
`spotify-etl up` serves it. For every table, PyIceberg (StaticTable on the current metadata
file) and DuckDB's iceberg_scan (official extensions loaded by path) must read exactly the
rows `/v1/query` answers, per dt; the snapshot must name every Parquet file of the table
folder once; a file that lands is an append snapshot and a file removed a delete one.
The cataloger's read-only Iceberg REST catalog (/iceberg) serves the same tables to
PyIceberg's RestCatalog and to DuckDB's `ATTACH ... (TYPE iceberg)`, behind the same bearer
token as /v1 (ETL_API_TOKEN); `GET /v1/tables`, `/v1/tables/{name}/snapshots` and
`spotify-etl tables` report the snapshots PyIceberg reads.

Usage: test_pipeline.py --bin-dir DIR --duckdb-extensions DIR
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import duckdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lone_cataloger  # noqa: E402
import read_tables  # noqa: E402

ARGS = None
PORTS = {}
PROC = None
WORKDIR = None
TABLES = lone_cataloger.TABLES
TOKEN = "iceberg-pipeline-token"


free_port = lone_cataloger.free_port


def transformed():
    return os.path.join(WORKDIR.name, "data", "demo", "transformed")


def http(method, path, body=None, token=TOKEN):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"http://127.0.0.1:{PORTS['cataloger']}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None, headers=headers)
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)


def cli_env():
    env = dict(os.environ, ETL_API_TOKEN=TOKEN)
    env.update({f"ETL_{n.upper()}_ADDR": f"127.0.0.1:{p}" for n, p in PORTS.items()})
    return env


def query(sql):
    return http("POST", "/v1/query", {"sql": sql})["rows"]


def setUpModule():
    global PROC, WORKDIR
    WORKDIR = tempfile.TemporaryDirectory(prefix="iceberg-pipeline-")
    for name in ("extractor", "transformer", "cataloger"):
        PORTS[name] = free_port()
    env = dict(os.environ, ETL_PG_ADDR="off", ETL_ICEBERG_MAINTENANCE_INTERVAL_S="0")  # compaction: the MinIO class
    env.update({f"ETL_{n.upper()}_ADDR": f"127.0.0.1:{p}" for n, p in PORTS.items()})
    env.pop("ETL_API_TOKEN", None)
    env.pop("ETL_TABLE_FORMAT", None)  # the default must be iceberg
    binary = os.path.join(ARGS.bin_dir, "spotify-etl")
    demo = subprocess.run([binary, "demo", "--once"], cwd=WORKDIR.name, env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)
    if demo.returncode != 0:
        raise RuntimeError("spotify-etl demo --once failed: " + demo.stderr[-3000:])
    env["ETL_API_TOKEN"] = TOKEN  # the served catalog: /v1 and /iceberg behind one token
    env.update({"ETL_RAW_URL": "file://./data/demo/raw", "ETL_TRANSFORMED_URL": "file://./data/demo/transformed"})
    log_path = os.path.join(WORKDIR.name, "up.log")
    with open(log_path, "w") as log:
        PROC = subprocess.Popen([binary, "up"], cwd=WORKDIR.name, env=env, stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if all(query(f"SELECT count(*) FROM {t}")[0][0] > 0 for t in TABLES):
                return
        except Exception:  # not up or not crawled yet
            pass
        if PROC.poll() is not None:
            break
        time.sleep(0.3)
    PROC.kill()
    raise RuntimeError("spotify-etl up did not serve the demo data; log: " + open(log_path).read()[-3000:])


def tearDownModule():
    if PROC:
        PROC.send_signal(signal.SIGTERM)
        try:
            PROC.wait(timeout=30)
        except subprocess.TimeoutExpired:
            PROC.kill()
    if WORKDIR:
        WORKDIR.cleanup()


def current_metadata(table):
    return lone_cataloger.local_metadata(os.path.join(transformed(), table))


def crawl(table):
    """Crawls the table and waits until the crawl (and so the commit) finished."""
    crawl_id = http("POST", "/v1/crawl", {"tables": [table]})["crawl_id"]
    deadline = time.time() + 60
    while time.time() < deadline:
        state = http("GET", f"/v1/crawls/{crawl_id}")
        if state["state"] != "RUNNING":
            assert state["state"] == "SUCCEEDED", state
            return
        time.sleep(0.1)
    raise AssertionError(f"crawl {crawl_id} still running after 60 s")


def endpoint_by_dt(table):
    return {dt: n for dt, n in query(f"SELECT dt, count(*) FROM {table} GROUP BY dt")}


class Readers:
    def __init__(self, table):
        self.location = current_metadata(table)
        self.py = read_tables.read_pyiceberg(self.location, ARGS)
        self.duck = read_tables.read_duckdb(self.location, ARGS)


def wait_until_agreed(test, table, timeout=30):
    """The endpoint and both readers agree (the commit lands with the crawl that moves the views)."""
    deadline = time.time() + timeout
    while True:
        expected = endpoint_by_dt(table)
        readers = Readers(table)
        if readers.py["by_dt"] == expected and readers.duck["by_dt"] == expected:
            return expected, readers
        if time.time() > deadline:
            test.assertEqual(readers.py["by_dt"], expected, f"{table}: PyIceberg vs /v1/query, per dt")
            test.assertEqual(readers.duck["by_dt"], expected, f"{table}: DuckDB iceberg_scan vs /v1/query, per dt")
        time.sleep(0.5)


class IcebergTables(unittest.TestCase):
    def test_readers_see_the_rows_the_endpoint_answers(self):
        for table in TABLES:
            with self.subTest(table=table):
                expected, readers = wait_until_agreed(self, table)
                self.assertGreater(sum(expected.values()), 0)
                self.assertEqual(readers.py["rows"], sum(expected.values()))
                self.assertEqual(readers.duck["rows"], sum(expected.values()))

    def test_snapshot_names_every_data_file_once_with_field_ids(self):
        from pyiceberg.table import StaticTable
        import pyarrow.parquet as pq
        for table in TABLES:
            with self.subTest(table=table):
                wait_until_agreed(self, table)
                t = StaticTable.from_metadata(current_metadata(table))
                self.assertEqual(t.format_version, 2)
                self.assertEqual([f.name for f in t.spec().fields], ["dt"])
                planned = [task.file.file_path for task in t.scan().plan_files()]
                self.assertEqual(len(planned), len(set(planned)), "a data file is in the snapshot twice")
                on_disk = set()
                for root, _, files in os.walk(os.path.join(transformed(), table)):
                    on_disk.update("file://" + os.path.join(root, f) for f in files if f.endswith(".parquet"))
                self.assertEqual(set(planned), on_disk)
                schema = pq.read_schema(planned[0][len("file://"):])
                self.assertIn(b"PARQUET:field_id", schema.field(0).metadata or {}, "data files carry Iceberg field ids")
                ids = {f.name: f.field_id for f in t.schema().fields}
                self.assertEqual(int(schema.field(0).metadata[b"PARQUET:field_id"]), ids[schema.field(0).name])

    def test_a_new_file_is_a_new_snapshot_and_a_gone_file_a_delete(self):
        import shutil
        from pyiceberg.table import StaticTable
        table = "songs_data"
        before_expected, before = wait_until_agreed(self, table)
        before_snapshot = before.py["snapshot_id"]
        folder = os.path.join(transformed(), table)
        source = next(os.path.join(r, f) for r, _, fs in os.walk(folder) for f in fs if f.endswith(".parquet"))
        copy = os.path.join(folder, "dt=2001-01-01", "landed-later.parquet")
        os.makedirs(os.path.dirname(copy))
        shutil.copyfile(source, copy)
        crawl(table)
        expected, after = wait_until_agreed(self, table)
        self.assertIn("2001-01-01", expected)
        self.assertGreater(sum(expected.values()), sum(before_expected.values()))
        self.assertNotEqual(after.py["snapshot_id"], before_snapshot)
        t = StaticTable.from_metadata(current_metadata(table))
        self.assertEqual(t.current_snapshot().parent_snapshot_id, before_snapshot)
        self.assertEqual(t.current_snapshot().summary.operation.value, "append")

        # Time travel: /v1/query as_of the earlier snapshot reads what PyIceberg reads of it.
        old = read_tables.summarize(t.scan(snapshot_id=before_snapshot).to_arrow())["by_dt"]
        self.assertEqual(old, before_expected)
        answer = http("POST", "/v1/query", {"sql": f"SELECT dt, count(*) FROM {table} GROUP BY dt",
                                            "as_of": {table: before_snapshot}})
        self.assertEqual({dt: n for dt, n in answer["rows"]}, old, "as_of vs PyIceberg's scan(snapshot_id)")
        self.assertEqual(answer["stats"]["as_of"], {table: before_snapshot})

        os.remove(copy)
        crawl(table)
        expected, after = wait_until_agreed(self, table)
        self.assertEqual(expected, before_expected)
        t = StaticTable.from_metadata(current_metadata(table))
        self.assertEqual(t.current_snapshot().summary.operation.value, "delete")


class TableReports(unittest.TestCase):
    """What GET /v1/tables, /v1/tables/{name}/snapshots and `spotify-etl tables` say of each
    table is what PyIceberg reads from its current metadata and manifests."""

    def test_tables_snapshots_and_the_cli_report_what_pyiceberg_reads(self):
        import csv
        import io
        from pyiceberg.table import StaticTable
        seen = {}
        for table in TABLES:
            with self.subTest(table=table):
                wait_until_agreed(self, table)
                t = StaticTable.from_metadata(current_metadata(table))
                entry = http("GET", f"/v1/tables/{table}")
                self.assertEqual(entry["table_format"], "iceberg")
                report = entry["iceberg"]
                self.assertEqual(report["metadata_location"], "file://" + current_metadata(table))
                self.assertEqual(report["current_snapshot_id"], t.current_snapshot().snapshot_id)
                self.assertEqual(report["snapshot_count"], len(t.snapshots()))
                planned = [task.file for task in t.scan().plan_files()]
                self.assertEqual(report["files"], len(planned))
                self.assertEqual(report["records"], sum(f.record_count for f in planned))
                self.assertEqual(report["bytes"], sum(f.file_size_in_bytes for f in planned))
                listed = http("GET", f"/v1/tables/{table}/snapshots")
                self.assertEqual(listed["iceberg"], report)
                newest_first = sorted(t.snapshots(), key=lambda s: s.sequence_number, reverse=True)
                self.assertEqual([s["snapshot_id"] for s in listed["snapshots"]], [s.snapshot_id for s in newest_first])
                self.assertEqual([s["operation"] for s in listed["snapshots"]],
                                 [s.summary.operation.value for s in newest_first])
                seen[table] = report
        cli = subprocess.run([os.path.join(ARGS.bin_dir, "spotify-etl"), "tables", "--format", "csv"], env=cli_env(),
                             capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        rows = {r["name"]: r for r in csv.DictReader(io.StringIO(cli.stdout))}
        for table, report in seen.items():
            self.assertEqual(rows[table]["table_format"], "iceberg")
            self.assertEqual(rows[table]["snapshot_id"], str(report["current_snapshot_id"]))
            self.assertEqual(rows[table]["files"], str(report["files"]))
            self.assertEqual(rows[table]["bytes"], str(report["bytes"]))
        with self.assertRaises(urllib.error.HTTPError) as refused:
            http("GET", "/iceberg/v1/namespaces", token=None)
        self.assertEqual(refused.exception.code, 401)


class IcebergRestCatalog(unittest.TestCase):
    """The cataloger's /iceberg endpoint, read by clients we did not write: PyIceberg's
    RestCatalog lists, loads and scans each table, DuckDB attaches the catalog; both
    read the rows /v1/query answers, per dt."""

    def uri(self):
        return f"http://127.0.0.1:{PORTS['cataloger']}/iceberg"

    def agree(self, table, read, reader, timeout=30):
        """Reads until `read(table)` (a pyarrow Table) counts /v1/query's rows per dt."""
        deadline = time.time() + timeout
        while True:
            expected = endpoint_by_dt(table)
            got = read_tables.summarize(read(table))["by_dt"]
            if got == expected or time.time() > deadline:
                self.assertEqual(got, expected, f"{table}: {reader} vs /v1/query, per dt")
                self.assertGreater(sum(expected.values()), 0)
                return
            time.sleep(0.5)

    def test_pyiceberg_rest_catalog_lists_loads_and_scans_every_table(self):
        from pyiceberg.catalog.rest import RestCatalog
        with self.assertRaises(Exception, msg="no token, no catalog"):
            RestCatalog("spotify-etl", uri=self.uri(), **{"py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"}).list_tables("spotify")
        catalog = RestCatalog("spotify-etl", uri=self.uri(), token=TOKEN,
                              **{"py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"})
        self.assertEqual(catalog.list_namespaces(), [("spotify",)])
        self.assertEqual(catalog.list_namespaces("spotify"), [])
        self.assertEqual(catalog.load_namespace_properties("spotify"), {})
        self.assertTrue(catalog.namespace_exists("spotify"))
        self.assertFalse(catalog.namespace_exists("nowhere"))
        self.assertEqual(sorted(catalog.list_tables("spotify")), [("spotify", t) for t in TABLES])
        self.assertTrue(catalog.table_exists("spotify.songs_data"))
        self.assertFalse(catalog.table_exists("spotify.nope"))
        from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
        with self.assertRaises(NoSuchTableError):
            catalog.load_table("spotify.nope")
        with self.assertRaises(NoSuchNamespaceError):
            catalog.list_tables("nowhere")
        # /config lists the endpoints served, so PyIceberg knows writes are not among them;
        # the server refuses them anyway (403 ForbiddenException).
        with self.assertRaisesRegex(NotImplementedError, "does not support endpoint"):
            catalog.drop_table("spotify.songs_data")
        with self.assertRaises(urllib.error.HTTPError) as refused:
            http("DELETE", "/iceberg/v1/namespaces/spotify/tables/songs_data")
        self.assertEqual(refused.exception.code, 403)
        self.assertEqual(json.load(refused.exception)["error"]["type"], "ForbiddenException")
        # The spec's other writes, and views, are not advertised either; a client that
        # sends them anyway gets the same ErrorModel, not problem+json.
        with self.assertRaisesRegex(NotImplementedError, "does not support endpoint"):
            catalog.rename_table("spotify.songs_data", "spotify.renamed")
        # PyIceberg asks for views without looking at /config: the catalog holds none.
        self.assertEqual(catalog.list_views("spotify"), [])
        self.assertFalse(catalog.view_exists("spotify.some_view"))
        for path, body in (("/iceberg/v1/tables/rename", {"source": {"namespace": ["spotify"], "name": "songs_data"},
                                                          "destination": {"namespace": ["spotify"], "name": "renamed"}}),
                           ("/iceberg/v1/namespaces/spotify/properties", {"updates": {"k": "v"}}),
                           ("/iceberg/v1/transactions/commit", {"table-changes": []})):
            with self.subTest(path=path):
                with self.assertRaises(urllib.error.HTTPError) as refused:
                    http("POST", path, body)
                self.assertEqual(refused.exception.code, 403)
                self.assertEqual(json.load(refused.exception)["error"]["type"], "ForbiddenException")
        for table in TABLES:
            with self.subTest(table=table):
                loaded = catalog.load_table(f"spotify.{table}")
                self.assertTrue(loaded.metadata_location.startswith("file://"), loaded.metadata_location)
                self.agree(table, lambda t: catalog.load_table(f"spotify.{t}").scan().to_arrow(), "PyIceberg RestCatalog")

    def test_duckdb_attaches_the_catalog_and_reads_every_table(self):
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET autoinstall_known_extensions = false")
            con.execute("SET autoload_known_extensions = false")
            for name in ("httpfs", "avro", "iceberg"):  # the REST calls go through httpfs
                con.execute(f"LOAD {read_tables.sql_string(f'{ARGS.duckdb_extensions}/{name}.duckdb_extension')}")
            con.execute(f"CREATE SECRET lake_token (TYPE iceberg, TOKEN {read_tables.sql_string(TOKEN)})")
            con.execute(f"""ATTACH 'spotify' AS lake (TYPE iceberg, ENDPOINT {read_tables.sql_string(self.uri())},
                            SECRET lake_token)""")
            tables = con.execute("SELECT name FROM (SHOW ALL TABLES) WHERE database = 'lake' ORDER BY name").fetchall()
            self.assertEqual([t for (t,) in tables], list(TABLES))
            for table in TABLES:
                with self.subTest(table=table):
                    self.agree(table, lambda t: con.execute(f"SELECT * FROM lake.spotify.{t}").fetch_arrow_table(),
                               "DuckDB ATTACH (TYPE iceberg)")
            counted = {str(dt): n for dt, n in con.execute(
                "SELECT dt, count(*) FROM lake.spotify.songs_data GROUP BY dt").fetchall()}
            self.assertEqual(counted, endpoint_by_dt("songs_data"))
        finally:
            con.close()


class MigrateHiveLayout(unittest.TestCase):
    """`spotify-etl migrate`: the demo's tables as plain Parquet folders (no Iceberg
    metadata: the Hive layout) become Iceberg tables in place, in one command."""

    def test_hive_folders_become_iceberg_tables_in_place_and_a_second_run_changes_nothing(self):
        import shutil
        with tempfile.TemporaryDirectory(prefix="migrate-") as folder:
            hive = os.path.join(folder, "transformed")
            for table in TABLES:
                for root, _, files in os.walk(os.path.join(transformed(), table)):
                    for f in files:
                        if f.endswith(".parquet"):
                            source = os.path.join(root, f)
                            target = os.path.join(hive, os.path.relpath(source, transformed()))
                            os.makedirs(os.path.dirname(target), exist_ok=True)
                            shutil.copyfile(source, target)

            def parquet_files():
                return sorted(os.path.relpath(os.path.join(r, f), hive)
                              for r, _, fs in os.walk(hive) for f in fs if f.endswith(".parquet"))

            before = parquet_files()
            env = dict(os.environ, ETL_TRANSFORMED_URL=f"file://{hive}", ETL_RAW_URL=f"file://{folder}/raw")
            env.pop("ETL_TABLE_FORMAT", None)
            migrate = [os.path.join(ARGS.bin_dir, "spotify-etl"), "migrate"]
            first = subprocess.run(migrate, env=env, capture_output=True, text=True, timeout=300,
                                   stdin=subprocess.DEVNULL)
            self.assertEqual(first.returncode, 0, first.stderr)
            self.assertEqual(parquet_files(), before, "the data files stay where they are; none is added")
            for table in TABLES:
                with self.subTest(table=table):
                    location = f"file://{hive}/{table}/metadata/v1.metadata.json"
                    self.assertIn(f"{table}: {location}", first.stdout)
                    self.assertEqual(read_tables.read_pyiceberg(location, ARGS)["by_dt"], endpoint_by_dt(table),
                                     f"{table}: PyIceberg on the migrated table vs /v1/query on the demo")
                    from pyiceberg.table import StaticTable
                    files = [t.file.file_path for t in StaticTable.from_metadata(location).scan().plan_files()]
                    self.assertTrue(files)
                    self.assertTrue(all(p.startswith(f"file://{hive}/{table}/dt=") for p in files), files)
            second = subprocess.run(migrate, env=env, capture_output=True, text=True, timeout=300,
                                    stdin=subprocess.DEVNULL)
            self.assertEqual(second.returncode, 0, second.stderr)
            for table in TABLES:
                self.assertFalse(os.path.exists(os.path.join(hive, table, "metadata", "v2.metadata.json")),
                                 f"{table}: a second migration committed again")


class IcebergTablesOnMinio(unittest.TestCase):
    """The same demo files in MinIO under a fresh prefix, plus three copies of one file in a
    partition of their own, served by a `cataloger` alone (ETL_TRANSFORMED_URL=s3://...,
    maintenance every second): its start-up crawl commits the Iceberg tables in the bucket,
    its maintenance compacts the copies into one file (a replace snapshot), and both readers
    read the tables over S3 with the rows /v1/query answers."""

    def setUp(self):
        self.minio = lone_cataloger.MinioPrefix(self, "iceberg-pipeline")
        s3, self.s3, self.bucket, self.prefix = self.minio.server, self.minio.fs, self.minio.bucket, self.minio.prefix
        base = f"{self.bucket}/{self.prefix}/transformed"
        lone_cataloger.upload_tables(self.s3, transformed(), base)
        # Three copies of one file in a partition of their own: the maintenance compacts them into one.
        import pyarrow.parquet as pq
        source = lone_cataloger.first_parquet(os.path.join(transformed(), "songs_data"))
        self.extra_rows = 3 * pq.read_metadata(source).num_rows
        for i in range(3):
            lone_cataloger.put_file(self.s3, source, f"{base}/songs_data/dt=2002-02-02/copy-{i}.parquet")
        self.cataloger = lone_cataloger.LoneCataloger(ARGS.bin_dir, WORKDIR.name, s3, self.prefix, maintenance_s=1)
        self.port = self.cataloger.port
        self.proc = self.cataloger.proc

    def tearDown(self):
        if getattr(self, "cataloger", None):
            self.cataloger.stop()
        if getattr(self, "minio", None):
            self.minio.remove()

    def log_tail(self):
        return self.cataloger.log_tail()

    def query(self, sql):
        return self.cataloger.query(sql)

    def metadata_location(self, table):
        base = f"{self.bucket}/{self.prefix}/transformed/{table}/metadata"
        with self.s3.open_input_stream(f"{base}/version-hint.text") as f:
            version = int(f.read().decode().strip())
        while self.s3.get_file_info(f"{base}/v{version + 1}.metadata.json").type.name == "File":
            version += 1
        return f"s3://{base}/v{version}.metadata.json"

    def snapshot_files(self, table, s3_args):
        from pyiceberg.table import StaticTable
        props = {"s3.endpoint": s3_args.s3_endpoint, "s3.access-key-id": s3_args.s3_access_key,
                 "s3.secret-access-key": s3_args.s3_secret_key, "s3.region": s3_args.s3_region,
                 "s3.force-virtual-addressing": "false", "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"}
        t = StaticTable.from_metadata(self.metadata_location(table), properties=props)
        return t, [task.file for task in t.scan().plan_files()]

    def test_readers_read_the_bucket_with_the_rows_the_endpoint_answers_after_compaction(self):
        s3_args = argparse.Namespace(s3_endpoint=os.environ["ETL_TEST_S3_ENDPOINT"],
                                     s3_access_key=os.environ["ETL_TEST_S3_ACCESS_KEY"],
                                     s3_secret_key=os.environ["ETL_TEST_S3_SECRET_KEY"],
                                     s3_region=os.environ.get("ETL_TEST_S3_REGION", "us-east-1"),
                                     duckdb_extensions=ARGS.duckdb_extensions)
        expected = {t: endpoint_by_dt(t) for t in TABLES}  # the embedded pipeline's answer
        expected["songs_data"]["2002-02-02"] = self.extra_rows
        deadline = time.time() + 120

        def compacted():
            try:
                _, files = self.snapshot_files("songs_data", s3_args)
            except Exception:  # no metadata yet
                return False
            return [f.partition[0] for f in files].count("2002-02-02") == 1

        while True:
            try:
                if all({dt: n for dt, n in self.query(f"SELECT dt, count(*) FROM {t} GROUP BY dt")} == expected[t]
                       for t in TABLES) and compacted():
                    break
            except Exception:  # not up or not crawled yet
                pass
            self.assertIsNone(self.proc.poll(), "the cataloger exited: " + self.log_tail())
            self.assertLess(time.time(), deadline,
                            "the cataloger never served (and compacted) the bucket's tables: " + self.log_tail())
            time.sleep(0.3)
        table, files = self.snapshot_files("songs_data", s3_args)
        operations = [s.summary.operation.value for s in table.snapshots()]
        self.assertIn("replace", operations)
        paths = [f.file_path for f in files]
        self.assertEqual(len(paths), len(set(paths)), "a data file is in the snapshot twice")
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/v1/tables/songs_data")
        with urllib.request.urlopen(req, timeout=60) as r:
            report = json.load(r)["iceberg"]
        if report["current_snapshot_id"] == table.current_snapshot().snapshot_id:  # else maintenance moved on
            self.assertEqual(report["bytes"], sum(f.file_size_in_bytes for f in files), "bytes after the compaction")
            self.assertEqual(report["files"], len(files))
        self.assertIsNotNone(report["last_compaction"], "the compaction is reported")
        for table in TABLES:
            with self.subTest(table=table):
                location = self.metadata_location(table)
                self.assertEqual(read_tables.read_pyiceberg(location, s3_args)["by_dt"], expected[table],
                                 f"{table}: PyIceberg over S3 vs /v1/query")
                self.assertEqual(read_tables.read_duckdb(location, s3_args)["by_dt"], expected[table],
                                 f"{table}: DuckDB iceberg_scan over S3 vs /v1/query")


class VendedCredentialsOnMinio(unittest.TestCase):
    """ETL_ICEBERG_VENDED_CREDENTIALS=sts on a lone cataloger over MinIO: PyIceberg's
    RestCatalog and DuckDB's ATTACH, given only the catalog's URL and token (no S3 keys),
    load each table with the credentials the catalog vends (MinIO's STS AssumeRole, cut
    down to the table's prefix) and read the rows /v1/query answers; those keys read the
    table's files and are refused a write and another table's files."""

    def setUp(self):
        self.minio = lone_cataloger.MinioPrefix(self, "iceberg-vended")
        s3, self.s3, self.bucket, self.prefix = self.minio.server, self.minio.fs, self.minio.bucket, self.minio.prefix
        self.s3_server = s3
        lone_cataloger.upload_tables(self.s3, transformed(), f"{self.bucket}/{self.prefix}/transformed")
        self.cataloger = lone_cataloger.LoneCataloger(
            ARGS.bin_dir, WORKDIR.name, s3, self.prefix, token=TOKEN, name="vended-cataloger",
            extra_env={"ETL_ICEBERG_VENDED_CREDENTIALS": "sts",
                       "ETL_ICEBERG_VENDED_ROLE_ARN": "arn:aws:iam::000000000000:role/spotify-etl-readers"})

    def tearDown(self):
        if getattr(self, "cataloger", None):
            self.cataloger.stop()
        if getattr(self, "minio", None):
            self.minio.remove()

    def test_pyiceberg_reads_with_vended_credentials_that_read_one_table_only(self):
        from pyarrow import fs as pafs
        from pyiceberg.catalog.rest import RestCatalog
        c = self.cataloger
        expected = {t: endpoint_by_dt(t) for t in TABLES}  # the embedded pipeline's answer
        c.wait_until(lambda: all(c.by_dt(t) == expected[t] for t in TABLES), "the bucket's tables served")
        catalog = RestCatalog("vended", uri=f"{c.url}/iceberg", token=TOKEN,
                              **{"py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO",
                                 "header.X-Iceberg-Access-Delegation": "vended-credentials"})
        for table in TABLES:
            with self.subTest(table=table):
                loaded = catalog.load_table(f"spotify.{table}")
                self.assertTrue(loaded.io.properties.get("s3.session-token"), "the table's FileIO got vended keys")
                got = read_tables.summarize(loaded.scan().to_arrow())["by_dt"]
                self.assertEqual(got, expected[table], f"{table}: PyIceberg with vended credentials vs /v1/query")

        # DuckDB, given only the token (no S3 secret), reads through the vended keys too.
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET autoinstall_known_extensions = false")
            con.execute("SET autoload_known_extensions = false")
            for name in ("httpfs", "avro", "iceberg"):
                con.execute(f"LOAD {read_tables.sql_string(f'{ARGS.duckdb_extensions}/{name}.duckdb_extension')}")
            con.execute(f"CREATE SECRET lake_token (TYPE iceberg, TOKEN {read_tables.sql_string(TOKEN)})")
            con.execute(f"ATTACH 'spotify' AS lake (TYPE iceberg, ENDPOINT {read_tables.sql_string(c.url + '/iceberg')}, "
                        "SECRET lake_token)")
            for table in TABLES:
                got = {str(dt): n for dt, n in con.execute(f"SELECT dt, count(*) FROM lake.spotify.{table} GROUP BY dt").fetchall()}
                self.assertEqual(got, expected[table], f"{table}: DuckDB with vended credentials vs /v1/query")
        finally:
            con.close()

        # The keys themselves: the songs_data prefix only, read only.
        req = urllib.request.Request(f"{c.url}/iceberg/v1/namespaces/spotify/tables/songs_data",
                                     headers={"Authorization": f"Bearer {TOKEN}",
                                              "X-Iceberg-Access-Delegation": "vended-credentials"})
        with urllib.request.urlopen(req, timeout=60) as r:
            loaded = json.load(r)
        config = loaded["config"]
        self.assertEqual(loaded["storage-credentials"][0]["prefix"],
                         f"s3://{self.bucket}/{self.prefix}/transformed/songs_data/")
        self.assertNotEqual(config["s3.access-key-id"], self.s3_server["access_key"])
        endpoint = urllib.parse.urlparse(config["s3.endpoint"])
        vended = pafs.S3FileSystem(endpoint_override=endpoint.netloc, scheme=endpoint.scheme,
                                   access_key=config["s3.access-key-id"], secret_key=config["s3.secret-access-key"],
                                   session_token=config["s3.session-token"], region=config["s3.region"])
        base = f"{self.bucket}/{self.prefix}/transformed"
        def key_of(table):
            return os.path.relpath(lone_cataloger.first_parquet(os.path.join(transformed(), table)), transformed())
        song_key = key_of("songs_data")
        with vended.open_input_stream(f"{base}/{song_key}") as f:
            self.assertGreater(len(f.read()), 0, "the table's file is readable")
        with self.assertRaises(OSError, msg="a write is refused"):
            with vended.open_output_stream(f"{base}/{os.path.dirname(song_key)}/forged.parquet") as out:
                out.write(b"forged")
        with self.assertRaises(OSError, msg="another table is refused"):
            with vended.open_input_stream(f"{base}/{key_of('albums_data')}") as f:
                f.read()

        # Where clients that refresh take new keys: the load names the credentials
        # route relative to the catalog's URL (Iceberg Java resolves it so), and its
        # keys read the same table and nothing else.
        self.assertEqual(config["client.refresh-credentials-enabled"], "true")
        refresh = f"{c.url}/iceberg/" + config["client.refresh-credentials-endpoint"].lstrip("/")
        req = urllib.request.Request(refresh, headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(req, timeout=60) as r:
            renewed = json.load(r)["storage-credentials"]
        self.assertEqual(len(renewed), 1)
        self.assertEqual(renewed[0]["prefix"], f"s3://{self.bucket}/{self.prefix}/transformed/songs_data/")
        keys = renewed[0]["config"]
        self.assertGreater(int(keys["s3.session-token-expires-at-ms"]), time.time() * 1000, "not expired")
        again = pafs.S3FileSystem(endpoint_override=endpoint.netloc, scheme=endpoint.scheme,
                                  access_key=keys["s3.access-key-id"], secret_key=keys["s3.secret-access-key"],
                                  session_token=keys["s3.session-token"], region=keys["s3.region"])
        with again.open_input_stream(f"{base}/{song_key}") as f:
            self.assertGreater(len(f.read()), 0, "the renewed keys read the table's file")
        with self.assertRaises(OSError, msg="and not another table's"):
            with again.open_input_stream(f"{base}/{key_of('albums_data')}") as f:
                f.read()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--duckdb-extensions", required=True)
    ARGS, rest = parser.parse_known_args()
    ARGS.s3_endpoint = None
    ARGS.s3_access_key = None
    ARGS.s3_secret_key = None
    ARGS.s3_region = "us-east-1"
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)

