"""A cataloger process killed with SIGKILL at random moments while it commits Iceberg
snapshots on MinIO (issue 15's crash test at process level; the in-process tests inject
a crash after each step of a commit: tests/unit/cataloger/iceberg_tables_test.cpp).

Data files land one by one in s3://<bucket>/<prefix>/transformed/songs_data/: for each,
a fresh `cataloger` starts (its start-up crawl commits what earlier kills left), the file
lands, a crawl is asked for, and the cataloger is killed after a random delay: within
80 ms (the crawl's commit: manifest, manifest list, metadata, version hint) or around the
first maintenance a second in (a compaction). Where each kill lands is left to chance;
the report line counts the manifest files that commits cut short left behind. At the
end one more cataloger runs to completion. Then nothing may be lost or doubled, and no
snapshot may dangle: /v1/query, PyIceberg and DuckDB's iceberg_scan read every landed
row once; the current snapshot names every landed file exactly once (or its compacted
copy); every kept snapshot's manifest list exists.
Usage: test_kill.py --bin-dir DIR --duckdb-extensions DIR"""
import argparse
import os
import random
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lone_cataloger  # noqa: E402
import read_tables  # noqa: E402

ARGS = None
FILES = 16


class KilledCataloger(unittest.TestCase):
    def setUp(self):
        self.minio = lone_cataloger.MinioPrefix(self, "iceberg-kill")
        self.server, self.s3, self.bucket, self.prefix = (self.minio.server, self.minio.fs, self.minio.bucket,
                                                          self.minio.prefix)
        self.base = f"{self.bucket}/{self.prefix}/transformed/songs_data"
        self.workdir = tempfile.TemporaryDirectory(prefix="iceberg-kill-")
        self.rng = random.Random(int(os.environ.get("ETL_TEST_SEED", time.time())))
        self.catalogers = []

    def tearDown(self):
        for c in self.catalogers:
            if c.proc.poll() is None:
                c.proc.kill()
                c.proc.wait(timeout=30)
            c.log.close()
        self.minio.remove()
        self.workdir.cleanup()

    def land(self, i):
        """File i: 2 + i rows with their own song ids, in one of three partitions."""
        import pyarrow as pa
        import pyarrow.parquet as pq
        rows = 2 + i
        table = pa.table({"song_id": [f"s{i}-{j}" for j in range(rows)],
                          "popularity": pa.array([i] * rows, pa.int64())})
        local = os.path.join(self.workdir.name, f"f{i}.parquet")
        pq.write_table(table, local)
        dt = f"2026-04-0{1 + i % 3}"
        lone_cataloger.put_file(self.s3, local, f"{self.base}/dt={dt}/f{i}.parquet")
        return rows

    def cataloger(self, n):
        c = lone_cataloger.LoneCataloger(ARGS.bin_dir, self.workdir.name, self.server, self.prefix, maintenance_s=1,
                                         name=f"killed-{n}")
        self.catalogers.append(c)
        return c

    def test_no_row_is_lost_or_doubled_and_no_snapshot_dangles(self):
        total, n = 0, 0
        for i in range(FILES):
            c = self.cataloger(n)
            n += 1
            # Ready: over s3:// that is after its start-up crawl (which commits what earlier kills left).
            c.wait_until(lambda: c.http("GET", "/readyz") is not None, "the cataloger's start", timeout=60)
            total += self.land(i)
            try:
                c.http("POST", "/v1/crawl", {"tables": ["songs_data"]})
            except Exception:  # noqa: BLE001 - a kill is what this test is about
                pass
            # Within the crawl's commit (manifest, manifest list, metadata, version hint), or
            # around the first maintenance a second in (a compaction).
            time.sleep(self.rng.uniform(0.0, 0.08) if self.rng.random() < 0.7 else self.rng.uniform(0.9, 1.3))
            c.proc.kill()
            c.proc.wait(timeout=30)

        final = self.cataloger(n)
        final.wait_until(lambda: final.query("SELECT count(*), count(DISTINCT song_id) FROM songs_data")[0] ==
                         [total, total], f"all {total} rows, once", timeout=120)
        final.crawl(["songs_data"])  # a last commit of what it serves
        self.assertEqual(final.query("SELECT count(*), count(DISTINCT song_id) FROM songs_data")[0], [total, total])
        lone_cataloger.stop_process(final.proc)

        location = self.metadata_location()
        args = argparse.Namespace(s3_endpoint=self.server["endpoint"], s3_access_key=self.server["access_key"],
                                  s3_secret_key=self.server["secret_key"], s3_region=self.server["region"],
                                  duckdb_extensions=ARGS.duckdb_extensions)
        self.assertEqual(sum(read_tables.read_pyiceberg(location, args)["by_dt"].values()), total, "PyIceberg")
        self.assertEqual(sum(read_tables.read_duckdb(location, args)["by_dt"].values()), total, "DuckDB iceberg_scan")

        from pyiceberg.table import StaticTable
        props = {"s3.endpoint": args.s3_endpoint, "s3.access-key-id": args.s3_access_key,
                 "s3.secret-access-key": args.s3_secret_key, "s3.region": args.s3_region,
                 "s3.force-virtual-addressing": "false", "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"}
        table = StaticTable.from_metadata(location, properties=props)
        paths = [task.file.file_path for task in table.scan().plan_files()]
        self.assertEqual(len(paths), len(set(paths)), "a data file is in the snapshot twice")
        for path in paths:
            self.assertEqual(self.s3.get_file_info(path.removeprefix("s3://")).type.name, "File", path)
        rows = table.scan().to_arrow()
        self.assertEqual(rows.num_rows, total)
        self.assertEqual(len(set(rows.column("song_id").to_pylist())), total, "a row is there twice")
        for snapshot in table.snapshots():
            self.assertEqual(self.s3.get_file_info(snapshot.manifest_list.removeprefix("s3://")).type.name, "File",
                             f"snapshot {snapshot.snapshot_id}: its manifest list is gone")
        # Evidence of where kills landed: files of commits cut short (written, never referenced).
        from pyarrow import fs as pafs
        referenced = {s.manifest_list.removeprefix("s3://") for s in table.snapshots()}
        for s in table.snapshots():
            referenced.update(m.manifest_path.removeprefix("s3://") for m in s.manifests(table.io))
        stored = [f.path for f in self.s3.get_file_info(pafs.FileSelector(f"{self.base}/metadata"))
                  if f.path.endswith(".avro")]
        cut_short = [p for p in stored if p not in referenced]
        print(f"{n} catalogers killed; {len(table.metadata.snapshots)} snapshots kept; "
              f"{len(cut_short)} of {len(stored)} manifest files unreferenced (commits cut short, or expired); "
              f"metadata {location}", file=sys.stderr)

    def metadata_location(self):
        base = f"{self.base}/metadata"
        version = 1
        hint = f"{base}/version-hint.text"
        if self.s3.get_file_info(hint).type.name == "File":
            with self.s3.open_input_stream(hint) as f:
                version = int(f.read().decode().strip())
        while self.s3.get_file_info(f"{base}/v{version + 1}.metadata.json").type.name == "File":
            version += 1
        return f"s3://{base}/v{version}.metadata.json"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--duckdb-extensions", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
