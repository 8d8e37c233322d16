#!/usr/bin/env python3
"""Self-check of read_tables.py before our own Iceberg writer exists: PyIceberg writes small
Iceberg v2 tables partitioned by identity(dt), read_tables.py reads them back with PyIceberg
and DuckDB, and both readers must report the rows we wrote, per dt.

  selftest.py --duckdb-extensions DIR

Two tables, like the two ways our writer could lay out its files:
  written            rows appended by PyIceberg in two commits (dt inside the Parquet files)
  dt_from_partition  Parquet files WITHOUT a dt column (Hive style: dt only in the folder name),
                     added by a manifest whose partition tuple carries dt: the readers must fill
                     dt from the partition value
Run on a local warehouse always, and on MinIO (s3://$ETL_TEST_S3_BUCKET/iceberg-selftest-<random>/)
when scripts/test-servers.sh exported ETL_TEST_S3_*; the S3 prefix is removed afterwards.
"""
import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import IdentityTransform
from pyiceberg.typedef import Record
from pyiceberg.types import LongType, NestedField, StringType

HERE = Path(__file__).resolve().parent
SCHEMA = Schema(NestedField(1, "id", LongType(), required=False),
                NestedField(2, "name", StringType(), required=False),
                NestedField(3, "dt", StringType(), required=False))
SPEC = PartitionSpec(PartitionField(source_id=3, field_id=1000, transform=IdentityTransform(), name="dt"))
# Per dt, the rows of each table.
WRITTEN = [{"2026-01-01": 3, "2026-01-02": 2}, {"2026-01-02": 1, "2026-01-03": 4}]  # two commits
FROM_PARTITION = {"2026-02-01": 2, "2026-02-02": 5}
# The Parquet schema of the dt-less files: Iceberg field ids, as a writer must put them
# (without them and without the table property schema.name-mapping.default, PyIceberg
# 0.11.1 refuses the file and DuckDB 1.4.4's iceberg_scan fails with an INTERNAL Error).
NO_DT = pa.schema([pa.field("id", pa.int64(), metadata={b"PARQUET:field_id": b"1"}),
                   pa.field("name", pa.string(), metadata={b"PARQUET:field_id": b"2"})])


def rows(per_dt: dict, first_id: int) -> pa.Table:
    ids, names, dts = [], [], []
    for dt, n in per_dt.items():
        for _ in range(n):
            ids.append(first_id + len(ids))
            names.append(f"row {first_id + len(ids)}")
            dts.append(dt)
    return pa.table({"id": pa.array(ids, pa.int64()), "name": names, "dt": dts})


def total(*per_dts: dict) -> dict:
    out = {}
    for per_dt in per_dts:
        for dt, n in per_dt.items():
            out[dt] = out.get(dt, 0) + n
    return dict(sorted(out.items()))


def make_tables(catalog: SqlCatalog) -> dict:
    """Creates both tables; returns {table: (metadata location, expected rows per dt)}."""
    catalog.create_namespace_if_not_exists("selftest")
    written = catalog.create_table("selftest.written", SCHEMA, partition_spec=SPEC,
                                   properties={"format-version": "2"})
    first_id = 0
    for commit in WRITTEN:
        written.append(rows(commit, first_id).cast(written.schema().as_arrow()))
        first_id += sum(commit.values())

    table = catalog.create_table("selftest.dt_from_partition", SCHEMA, partition_spec=SPEC,
                                 properties={"format-version": "2"})
    data_files = []
    for dt, n in FROM_PARTITION.items():
        path = f"{table.location()}/data/dt={dt}/part-0.parquet"
        data = rows({dt: n}, first_id).drop_columns(["dt"]).cast(NO_DT)
        first_id += n
        with table.io.new_output(path).create(overwrite=True) as out:
            pq.write_table(data, out)
        data_files.append(DataFile.from_args(
            content=DataFileContent.DATA, file_path=path, file_format=FileFormat.PARQUET,
            partition=Record(dt), record_count=n, file_size_in_bytes=len(table.io.new_input(path)),
            spec_id=SPEC.spec_id))
    with table.transaction() as tx, tx.update_snapshot().fast_append() as append:
        for data_file in data_files:
            append.append_data_file(data_file)

    return {"written": (catalog.load_table("selftest.written").metadata_location, total(*WRITTEN)),
            "dt_from_partition": (catalog.load_table("selftest.dt_from_partition").metadata_location,
                                  total(FROM_PARTITION))}


def check(where: str, tables: dict, extensions: str, s3_args: list) -> list:
    """Runs read_tables.py on the tables; returns what went wrong."""
    command = [sys.executable, str(HERE / "read_tables.py"), "--duckdb-extensions", extensions, *s3_args]
    for name, (location, _) in tables.items():
        command += ["--metadata", f"{name}={location}"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    print(f"--- {where}: read_tables.py exit {run.returncode}\n{run.stdout}{run.stderr}", flush=True)
    if not run.stdout.strip():
        return [f"{where}: read_tables.py printed nothing (exit {run.returncode})"]
    report, problems = json.loads(run.stdout), []
    for name, (location, expected) in tables.items():
        for reader in ("pyiceberg", "duckdb"):
            got = report[name][reader]
            if "error" in got:
                problems.append(f"{where}: {reader} could not read {name}: {got['error']}")
            elif got["rows"] != sum(expected.values()) or got["by_dt"] != expected:
                problems.append(f"{where}: {reader} read {name} as {got['rows']} rows by dt {got['by_dt']},"
                                f" expected {sum(expected.values())} rows by dt {expected}")
    if run.returncode != 0 and not problems:
        problems.append(f"{where}: read_tables.py exited {run.returncode}")
    return problems


def run_on(where: str, warehouse: str, workdir: Path, extensions: str, s3: dict) -> list:
    props = {"uri": f"sqlite:///{workdir}/catalog.db", "warehouse": warehouse,
             "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"}
    s3_args = []
    if s3:
        props.update({"s3.endpoint": s3["endpoint"], "s3.access-key-id": s3["access_key"],
                      "s3.secret-access-key": s3["secret_key"], "s3.region": s3["region"],
                      "s3.force-virtual-addressing": "false"})
        s3_args = ["--s3-endpoint", s3["endpoint"], "--s3-access-key", s3["access_key"],
                   "--s3-secret-key", s3["secret_key"], "--s3-region", s3["region"]]
    tables = make_tables(SqlCatalog(where, **props))
    return check(where, tables, extensions, s3_args)


def remove_s3_prefix(s3: dict, bucket: str, prefix: str) -> None:
    from pyarrow import fs
    store = fs.S3FileSystem(endpoint_override=s3["endpoint"], access_key=s3["access_key"],
                            secret_key=s3["secret_key"], region=s3["region"])
    store.delete_dir(f"{bucket}/{prefix}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duckdb-extensions", required=True, metavar="DIR")
    args = parser.parse_args()

    problems = []
    with tempfile.TemporaryDirectory(prefix="iceberg-selftest-") as tmp:
        work = Path(tmp)
        (work / "file").mkdir()
        problems += run_on("file", f"file://{work}/file/warehouse", work / "file", args.duckdb_extensions, {})

        env = {key: os.environ.get(f"ETL_TEST_S3_{key.upper()}") for key in
               ("endpoint", "access_key", "secret_key", "bucket", "region")}
        if all(env[key] for key in ("endpoint", "access_key", "secret_key", "bucket")):
            s3 = {**env, "region": env["region"] or "us-east-1"}
            prefix = f"iceberg-selftest-{secrets.token_hex(6)}"
            (work / "s3").mkdir()
            try:
                problems += run_on("s3", f"s3://{s3['bucket']}/{prefix}", work / "s3", args.duckdb_extensions, s3)
            finally:
                remove_s3_prefix(s3, s3["bucket"], prefix)
        else:
            print("--- s3: skipped (no ETL_TEST_S3_* from scripts/test-servers.sh)")

    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    print("iceberg readers selftest:", "FAILED" if problems else "ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
