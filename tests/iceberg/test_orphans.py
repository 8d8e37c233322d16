"""Orphan removal at process level (issue 15): a `cataloger` over a local folder
(ETL_TRANSFORMED_URL=file://..., maintenance every second, ETL_ICEBERG_ORPHAN_AGE_S=600)
commits a table of small Parquet files; then files no metadata names are planted, some
older than the safety age (modification times set back two hours, which a local folder
allows and S3 does not) and some new. The maintenance must delete exactly the old ones of
its own kinds (under `<table>/metadata/`, and a `compacted-*.parquet` whose replace never
landed), keep the new ones and anything else in the folder, count them in
`spotify_etl_cataloger_iceberg_orphan_files_removed_total`, and leave a table that
PyIceberg reads with the rows /v1/query answers, every file it names still there.

Usage: test_orphans.py --bin-dir DIR --duckdb-extensions DIR
"""
import argparse
import os
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lone_cataloger  # noqa: E402
import read_tables  # noqa: E402

ARGS = None
TABLE = "songs_data"
TWO_HOURS = 2 * 3600


def write_parquet(path, first_id, rows):
    import pyarrow as pa
    import pyarrow.parquet as pq
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pq.write_table(pa.table({"song_id": [f"s{first_id + j}" for j in range(rows)],
                             "popularity": pa.array([first_id] * rows, pa.int64())}), path)


def set_back(path, seconds):
    at = time.time() - seconds
    os.utime(path, (at, at))


class OrphanRemoval(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.TemporaryDirectory(prefix="iceberg-orphans-")
        self.root = os.path.join(self.workdir.name, "transformed")
        self.table = os.path.join(self.root, TABLE)
        self.total = 0
        for i in range(6):  # two small files in each of three partitions
            rows = 3 + i
            write_parquet(os.path.join(self.table, f"dt=2026-05-0{1 + i % 3}", f"f{i}.parquet"), 100 * i, rows)
            self.total += rows
        self.cataloger = lone_cataloger.LoneCataloger(
            ARGS.bin_dir, self.workdir.name, None, f"file://{self.root}", maintenance_s=1, name="orphans-cataloger",
            extra_env={"ETL_ICEBERG_ORPHAN_AGE_S": "600"})

    def tearDown(self):
        self.cataloger.stop()
        self.workdir.cleanup()

    def count(self):
        return self.cataloger.query(f"SELECT count(*), count(DISTINCT song_id) FROM {TABLE}")[0]

    def removed_metric(self):
        return lone_cataloger.metric(self.cataloger.url, "spotify_etl_cataloger_iceberg_orphan_files_removed_total", TABLE)

    def test_old_unnamed_files_of_ours_go_and_everything_else_stays(self):
        c = self.cataloger
        c.wait_until(lambda: self.count() == [self.total, self.total], f"all {self.total} rows")
        # Compaction runs every second too: wait for one file per partition, so what is
        # planted next is the only change.
        c.wait_until(lambda: len([f for _, _, fs in os.walk(self.table) for f in fs
                                  if f.startswith("compacted-")]) == 3, "the compaction of the three partitions")

        metadata = os.path.join(self.table, "metadata")
        old = [os.path.join(metadata, f"{uuid.uuid4()}-m0.avro"),  # a manifest of a commit cut short
               os.path.join(metadata, f"snap-{time.time_ns()}-1-{uuid.uuid4()}.avro"),  # its manifest list
               os.path.join(self.table, "dt=2026-05-01", "compacted-00112233445566ff.parquet")]  # a replace lost
        young = [os.path.join(metadata, f"{uuid.uuid4()}-m0.avro")]  # a commit in flight
        not_ours = [os.path.join(self.table, "README.txt")]  # someone else's file: never a candidate
        for path in old[:2] + young + not_ours:
            with open(path, "wb") as f:
                f.write(b"written by the test")
        # A real Parquet file with rows of its own: were it committed, every count would be off.
        write_parquet(old[2], 10_000, 7)
        for path in old + not_ours:
            set_back(path, TWO_HOURS)

        c.wait_until(lambda: not any(os.path.exists(p) for p in old), "the removal of the old orphans", timeout=60)
        for path in young + not_ours:
            self.assertTrue(os.path.exists(path), f"{path} must stay")
        self.assertGreaterEqual(self.removed_metric(), len(old))
        self.assertEqual(self.count(), [self.total, self.total], "the planted compacted file was never committed")

        c.crawl([TABLE])  # one more commit after the removal: the table is still whole
        self.assertEqual(self.count(), [self.total, self.total])
        location = "file://" + lone_cataloger.local_metadata(self.table)
        args = argparse.Namespace(s3_endpoint=None, duckdb_extensions=ARGS.duckdb_extensions)
        self.assertEqual(sum(read_tables.read_pyiceberg(location, args)["by_dt"].values()), self.total, "PyIceberg")
        from pyiceberg.table import StaticTable
        table = StaticTable.from_metadata(location, properties={"py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"})
        for task in table.scan().plan_files():
            self.assertTrue(os.path.exists(task.file.file_path.removeprefix("file://")), task.file.file_path)
        for snapshot in table.snapshots():
            self.assertTrue(os.path.exists(snapshot.manifest_list.removeprefix("file://")), snapshot.manifest_list)
            for manifest in snapshot.manifests(table.io):
                self.assertTrue(os.path.exists(manifest.manifest_path.removeprefix("file://")), manifest.manifest_path)


if __name__ == "__main__":
    lone_cataloger.main(sys.modules[__name__])
