"""POST /v1/reprocess after a compaction (issue 15), across the real processes.

`spotify-etl demo --once` lands its batches in today's partition (plus a copy of one data
file per partition, so there are always two); `spotify-etl up` serves that folder with
maintenance every second, which compacts each table's partition into one file. Then one raw object under processed/ is edited (a track
renamed) and reprocessed through the transformer's POST /v1/reprocess: the transformer
writes a new generation of the data files of the batch that holds it (never over the old
ones, which older snapshots name), and the cataloger must fold the new rows into the
compacted file. /v1/query, PyIceberg and
DuckDB's iceberg_scan must then read the new name once and the old one no more in that
object's place, with the same rows per table and dt as before (nothing lost, nothing
doubled), and the partition still one compacted file; every kept snapshot must still
read files of the sizes its manifests record, the first one the old name.

Usage: test_reprocess.py --bin-dir DIR --duckdb-extensions DIR
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lone_cataloger  # noqa: E402
import read_tables  # noqa: E402

ARGS = None
TABLES = lone_cataloger.TABLES
NEW_NAME = "Refolded After Compaction"


def live_files(table_folder):
    """The data file paths of the table's current snapshot, read by PyIceberg."""
    from pyiceberg.table import StaticTable
    location = "file://" + lone_cataloger.local_metadata(table_folder)
    table = StaticTable.from_metadata(location, properties={"py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"})
    return [task.file.file_path for task in table.scan().plan_files()]


def rename_first_track(path):
    """Renames the first track of the raw object's first page; its old name and id."""
    with open(path) as f:
        envelope = json.load(f)
    item = envelope["pages"][0]["items"][0]
    track = item.get("item") or item.get("track")
    old = (track["name"], track["id"])
    track["name"] = NEW_NAME
    with open(path + ".tmp", "w") as f:
        json.dump(envelope, f)
    os.replace(path + ".tmp", path)
    return old


class ReprocessAfterCompaction(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.TemporaryDirectory(prefix="iceberg-reprocess-")
        self.transformed = lone_cataloger.run_demo(ARGS.bin_dir, self.workdir.name)
        # How many batches the demo's objects make depends on timing: a copy of one
        # data file per partition makes sure each has two files to compact.
        for table in TABLES:
            for folder in glob.glob(os.path.join(self.transformed, table, "dt=*")):
                first = sorted(f for f in os.listdir(folder) if f.endswith(".parquet"))[0]
                shutil.copyfile(os.path.join(folder, first), os.path.join(folder, "extra-copy.parquet"))
        self.ports = {n: lone_cataloger.free_port() for n in ("extractor", "transformer", "cataloger")}
        env = dict(os.environ, ETL_PG_ADDR="off", ETL_ICEBERG_MAINTENANCE_INTERVAL_S="1",
                   ETL_RAW_URL="file://./data/demo/raw", ETL_TRANSFORMED_URL="file://./data/demo/transformed")
        env.update({f"ETL_{n.upper()}_ADDR": f"127.0.0.1:{p}" for n, p in self.ports.items()})
        for name in ("ETL_API_TOKEN", "ETL_TABLE_FORMAT", "ETL_SCHEDULE"):
            env.pop(name, None)
        self.log_path = os.path.join(self.workdir.name, "up.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([os.path.join(ARGS.bin_dir, "spotify-etl"), "up"], cwd=self.workdir.name,
                                     env=env, stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL,
                                     start_new_session=True)

    def tearDown(self):
        lone_cataloger.stop_process(self.proc)
        self.log.close()
        self.workdir.cleanup()

    def http(self, service, method, path, body=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.ports[service]}{path}", method=method,
                                     headers={"Content-Type": "application/json"},
                                     data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.load(r)

    def query(self, sql):
        return self.http("cataloger", "POST", "/v1/query", {"sql": sql})["rows"]

    def by_dt(self, table):
        return {dt: n for dt, n in self.query(f"SELECT dt, count(*) FROM {table} GROUP BY dt")}

    def wait_until(self, ready, what, timeout=120):
        lone_cataloger.wait_until(ready, what, self.proc, self.log_path, timeout, "spotify-etl up")

    def compacted(self, table):
        """Every partition of the table is one compacted file in its snapshot."""
        files = live_files(os.path.join(self.transformed, table))
        by_dt = {}
        for path in files:
            by_dt.setdefault(path.split("/dt=")[1].split("/")[0], []).append(os.path.basename(path))
        return bool(by_dt) and all(len(v) == 1 and v[0].startswith("compacted-") for v in by_dt.values())

    def test_reprocessed_rows_replace_theirs_inside_the_compacted_file(self):
        self.wait_until(lambda: all(self.compacted(t) for t in TABLES), "each table compacted to one file a partition")
        before = {t: self.by_dt(t) for t in TABLES}
        self.assertGreater(sum(before["songs_data"].values()), 0)
        compacted_before = live_files(os.path.join(self.transformed, "songs_data"))

        raw = sorted(glob.glob(os.path.join(self.workdir.name, "data/demo/raw/processed/*_playlist_*.json")))[0]
        old_name, song_id = rename_first_track(raw)
        sql_new = f"SELECT count(*) FROM songs_data WHERE song_name = {read_tables.sql_string(NEW_NAME)}"
        sql_old = (f"SELECT count(*) FROM songs_data WHERE song_id = {read_tables.sql_string(song_id)} "
                   f"AND song_name = {read_tables.sql_string(old_name)}")
        old_count = self.query(sql_old)[0][0]
        self.assertGreaterEqual(old_count, 1)
        self.assertEqual(self.query(sql_new), [[0]])

        job = self.http("transformer", "POST", "/v1/reprocess", {"prefix": "processed/" + os.path.basename(raw)})
        self.wait_until(lambda: self.http("transformer", "GET", f"/v1/jobs/{job['job_id']}")["state"] == "succeeded",
                        "the reprocess job succeeded", timeout=60)
        self.wait_until(lambda: self.query(sql_new) == [[1]], "the renamed track answered by /v1/query", timeout=60)
        self.assertEqual(self.query(sql_old), [[old_count - 1]], "the old name is gone from that object's row")
        for table in TABLES:
            with self.subTest(table=table):
                self.assertEqual(self.by_dt(table), before[table], "rows per dt: nothing lost, nothing doubled")
                self.assertTrue(self.compacted(table), "still one compacted file a partition")
        self.assertNotEqual(live_files(os.path.join(self.transformed, "songs_data")), compacted_before)

        # Readers we did not write read the same.
        location = "file://" + lone_cataloger.local_metadata(os.path.join(self.transformed, "songs_data"))
        args = argparse.Namespace(s3_endpoint=None, duckdb_extensions=ARGS.duckdb_extensions)
        self.assertEqual(read_tables.read_pyiceberg(location, args)["by_dt"], before["songs_data"], "PyIceberg")
        self.assertEqual(read_tables.read_duckdb(location, args)["by_dt"], before["songs_data"], "DuckDB iceberg_scan")
        from pyiceberg.expressions import EqualTo
        from pyiceberg.table import StaticTable
        table = StaticTable.from_metadata(location, properties={"py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"})
        self.assertEqual(table.scan(row_filter=EqualTo("song_name", NEW_NAME)).to_arrow().num_rows, 1)
        self.assertEqual(table.current_snapshot().summary.operation.value, "replace")
        self.assertGreaterEqual(lone_cataloger.metric(f"http://127.0.0.1:{self.ports['cataloger']}",
                                                      "spotify_etl_cataloger_iceberg_refolded_files_total",
                                                      "songs_data"), 1)

        # Data files are immutable: every file any kept snapshot names still has the
        # size its manifest records, and the first snapshot (before the compaction,
        # naming the batch's original files) still reads the old name (time travel).
        # A reprocess that wrote over the batch's files failed both.
        for snapshot in table.snapshots():
            for task in table.scan(snapshot_id=snapshot.snapshot_id).plan_files():
                path = task.file.file_path.removeprefix("file://")
                self.assertEqual(os.path.getsize(path), task.file.file_size_in_bytes,
                                 f"{path} as snapshot {snapshot.snapshot_id} names it")
        first = min(table.snapshots(), key=lambda snap: snap.sequence_number)
        names = table.scan(snapshot_id=first.snapshot_id, row_filter=EqualTo("song_id", song_id)).to_arrow()
        self.assertIn(old_name, names.column("song_name").to_pylist())
        self.assertNotIn(NEW_NAME, names.column("song_name").to_pylist())


if __name__ == "__main__":
    lone_cataloger.main(sys.modules[__name__])
