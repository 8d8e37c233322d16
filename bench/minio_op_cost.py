"""MinIO's own CPU time per S3 request, by operation: what one transformed event
costs the object store, and why the distributed pipeline on one machine cannot
reach the embedded one (bench/README.md, "What MinIO costs per event").

Run with the test servers' environment (scripts/test-servers.sh start ENVFILE;
set -a; . ENVFILE; set +a), with the Python that has boto3:
    "$ETL_TEST_PYTHON" bench/minio_op_cost.py [--objects 100] [--size 550000]
It reads MinIO's utime+stime from /proc/$ETL_TEST_MINIO_PID/stat around each
loop, so it must run on the machine MinIO runs on. Loopback only; bounded.
"""
import argparse
import os
import time

import boto3
from botocore.config import Config


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=100)
    ap.add_argument("--size", type=int, default=550_000, help="bytes of each large object (a 100-track raw page)")
    a = ap.parse_args()
    endpoint = os.environ["ETL_TEST_S3_ENDPOINT"]
    if not endpoint.startswith(("http://127.0.0.1:", "http://[::1]:", "http://localhost:")):
        raise SystemExit("ETL_TEST_S3_ENDPOINT must be a loopback address: " + endpoint)
    pid = int(os.environ["ETL_TEST_MINIO_PID"])
    tick = os.sysconf("SC_CLK_TCK")

    def cpu():
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=os.environ.get("ETL_TEST_S3_REGION", "us-east-1"),
                      aws_access_key_id=os.environ["ETL_TEST_S3_ACCESS_KEY"],
                      aws_secret_access_key=os.environ["ETL_TEST_S3_SECRET_KEY"],
                      config=Config(s3={"addressing_style": "path"}))
    bucket = os.environ["ETL_TEST_S3_BUCKET"]
    root = f"bench-op-cost-{os.getpid()}"
    body, small = os.urandom(a.size), b"x" * 2000
    n = a.objects
    rows = []

    def measure(name, per_key, fn):
        c0, t0 = cpu(), time.monotonic()
        fn()
        rows.append((name, 1000 * (cpu() - c0) / per_key, 1000 * (time.monotonic() - t0) / per_key))

    def keys(folder, count=n):
        return [f"{root}/{folder}/k{i:05d}" for i in range(count)]

    measure(f"PUT {a.size} B", n, lambda: [s3.put_object(Bucket=bucket, Key=k, Body=body) for k in keys("big")])
    measure(f"GET {a.size} B", n, lambda: [s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys("big")])
    measure("HEAD", n, lambda: [s3.head_object(Bucket=bucket, Key=k) for k in keys("big")])
    measure(f"CopyObject {a.size} B", n, lambda: [
        s3.copy_object(Bucket=bucket, Key=k.replace("/big/", "/copied/"), CopySource={"Bucket": bucket, "Key": k})
        for k in keys("big")])
    measure("DeleteObject, one key a request", n, lambda: [s3.delete_object(Bucket=bucket, Key=k) for k in keys("big")])
    copied = keys("copied")
    measure("DeleteObjects, 10 keys a request (per key)", n, lambda: [
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in copied[i:i + 10]], "Quiet": True})
        for i in range(0, n, 10)])
    measure("PUT 2000 B", n, lambda: [s3.put_object(Bucket=bucket, Key=k, Body=small) for k in keys("small")])
    for i in range(0, n, 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys("small")[i:i + 1000]], "Quiet": True})

    print(f"MinIO CPU per request ({n} requests each, load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores)")
    print(f"{'operation':46s} {'MinIO CPU ms':>12s} {'wall ms':>8s}")
    for name, c, w in rows:
        print(f"{name:46s} {c:12.2f} {w:8.2f}")
    cost = [c for _, c, _ in rows]  # in the order measured above
    get, copy, delete_one, delete_ten = cost[1], cost[3], cost[4], cost[5]
    single, grouped = get + copy + delete_one, get + copy + delete_ten
    print(f"per raw object (GET + copy + delete): {single:.2f} ms with one DELETE each, "
          f"{grouped:.2f} ms deleted in tens ({grouped / single:.2f} x)")


if __name__ == "__main__":
    main()
