#!/usr/bin/env python3
"""Reads Iceberg tables with two independent readers, PyIceberg and DuckDB's iceberg_scan,
and prints what each saw as one JSON object:

  {"<table>": {"pyiceberg": {"rows": N, "by_dt": {"2026-01-01": n}, "snapshot_id": S, "columns": [...]},
               "duckdb": {"rows": N, "by_dt": {...}, "columns": [...]}}}

A reader that fails reports {"error": "..."} instead; the exit status is then 1.

  read_tables.py --metadata <table>=<metadata-location> [--metadata ...]
                 [--s3-endpoint URL --s3-access-key K --s3-secret-key S --s3-region R]
                 [--duckdb-extensions DIR]

<metadata-location> is a path, file:// URL or s3:// URL of a table's metadata JSON file.
DIR holds httpfs/avro/iceberg.duckdb_extension (scripts/setup.sh caches them; CMake's
ETL_DUCKDB_EXTENSION_DIR); they are loaded by path, never downloaded.
"""
import argparse
import json
import sys
from urllib.parse import unquote, urlparse

import duckdb
import pyarrow as pa
from pyiceberg.table import StaticTable


def summarize(table: pa.Table) -> dict:
    by_dt = None
    if "dt" in table.column_names:
        counts = table.group_by("dt").aggregate([([], "count_all")])
        by_dt = {str(dt): n for dt, n in sorted(zip(counts["dt"].to_pylist(), counts["count_all"].to_pylist()),
                                                key=lambda kv: str(kv[0]))}
    return {"rows": table.num_rows, "by_dt": by_dt, "columns": table.column_names}


def read_pyiceberg(location: str, args) -> dict:
    props = {"py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"}
    if args.s3_endpoint:
        props.update({"s3.endpoint": args.s3_endpoint, "s3.access-key-id": args.s3_access_key,
                      "s3.secret-access-key": args.s3_secret_key, "s3.region": args.s3_region,
                      "s3.force-virtual-addressing": "false"})  # path style, as MinIO wants
    table = StaticTable.from_metadata(location, properties=props)
    snapshot = table.current_snapshot()
    result = summarize(table.scan().to_arrow())
    result["snapshot_id"] = snapshot.snapshot_id if snapshot else None
    result["columns"] = [field.name for field in table.schema().fields]
    return result


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_duckdb(location: str, args) -> dict:
    if not args.duckdb_extensions:
        raise RuntimeError("no --duckdb-extensions folder (scripts/setup.sh caches the extensions)")
    if location.startswith("file://"):
        location = unquote(urlparse(location).path)
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        needed = ["avro", "iceberg"] + (["httpfs"] if location.startswith("s3://") else [])
        for name in needed:
            con.execute(f"LOAD {sql_string(f'{args.duckdb_extensions}/{name}.duckdb_extension')}")
        if location.startswith("s3://"):
            endpoint = urlparse(args.s3_endpoint)
            con.execute(f"""CREATE SECRET (TYPE s3, KEY_ID {sql_string(args.s3_access_key)},
                SECRET {sql_string(args.s3_secret_key)}, REGION {sql_string(args.s3_region)},
                ENDPOINT {sql_string(endpoint.netloc)}, URL_STYLE 'path',
                USE_SSL {'true' if endpoint.scheme == 'https' else 'false'})""")
        return summarize(con.execute(f"SELECT * FROM iceberg_scan({sql_string(location)})").fetch_arrow_table())
    finally:
        con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metadata", action="append", required=True, metavar="TABLE=LOCATION")
    parser.add_argument("--s3-endpoint")
    parser.add_argument("--s3-access-key")
    parser.add_argument("--s3-secret-key")
    parser.add_argument("--s3-region", default="us-east-1")
    parser.add_argument("--duckdb-extensions", metavar="DIR")
    args = parser.parse_args()

    report, failures = {}, []
    for item in args.metadata:
        name, sep, location = item.partition("=")
        if not sep or not name or not location:
            parser.error(f"--metadata wants <table>=<metadata-location>, not '{item}'")
        if location.startswith("s3://") and not (args.s3_endpoint and args.s3_access_key and args.s3_secret_key):
            parser.error(f"{name}: an s3:// location needs --s3-endpoint, --s3-access-key and --s3-secret-key")
        report[name] = {}
        for reader, read in (("pyiceberg", read_pyiceberg), ("duckdb", read_duckdb)):
            try:
                report[name][reader] = read(location, args)
            except Exception as error:  # any failure of a reader is the finding to report
                report[name][reader] = {"error": f"{type(error).__name__}: {error}"}
                failures.append(f"{name}: {reader} could not read {location}: {type(error).__name__}: {error}")
    print(json.dumps(report, indent=2, sort_keys=True))
    for failure in failures:
        print(f"read_tables: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
