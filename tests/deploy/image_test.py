#!/usr/bin/env python3
"""The container image, built and run (ctest deploy_image, label `deploy`).

  1. deploy/scripts/local-images.sh project builds spotify-etl:<version> from
     the unmodified deploy/Dockerfile with podman (no registry: the Debian base
     comes from debootstrap); the build time and the image size are reported;
  2. the image holds no compiler, build tool, header tree or test binary, and
     /opt/spotify-etl/bin holds exactly the four programs;
  3. each service (extractor, transformer, cataloger) starts in it with a
     read-only root, as uid/gid 10001, all capabilities dropped and
     no-new-privileges, writable only on two tmpfs (/tmp and the working
     directory), and answers /readyz against the test Kafka and MinIO
     (host network, listening on 127.0.0.1 only); inside, its effective and
     bounding capability sets are empty and the root filesystem refuses
     writes; `podman stop` (SIGTERM) ends it with exit 0 within 10 s.

Skips (77) only when podman cannot run here (not installable, or cannot start
a container), or without the test servers (ETL_TEST_KAFKA_BOOTSTRAP,
ETL_TEST_S3_*: scripts/test.sh starts them), with a one-line reason.

    python3 tests/deploy/image_test.py
"""

import os
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import podman_support as ps  # noqa: E402

SERVICES = {"extractor": "ETL_EXTRACTOR_ADDR", "transformer": "ETL_TRANSFORMER_ADDR",
            "cataloger": "ETL_CATALOGER_ADDR"}
PROGRAMS = ["cataloger", "extractor", "spotify-etl", "transformer"]
READY_TIMEOUT_S = float(os.environ.get("ETL_IMAGE_READY_TIMEOUT", "120"))
BUILD_TIMEOUT_S = float(os.environ.get("ETL_IMAGE_BUILD_TIMEOUT", "3000"))
STOP_LIMIT_S = 10
FORBIDDEN = ["gcc", "g++", "cc", "c++", "cpp", "clang", "clang++", "ld", "as", "make", "cmake", "ninja",
             "go", "npm", "node", "pip3", "python3"]


def log(msg):
    ps.log("image", msg)


class Failures:
    def __init__(self):
        self.failed = []
        self.passed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
            log(f"ok: {what}")
        else:
            self.failed.append(what)
            log(f"FAIL: {what}")
        return ok


def inspect_image(f, image):
    """No toolchain, no test binaries; prints the size."""
    size = int(ps.podman("image", "inspect", "--format", "{{.Size}}", image).stdout.strip())
    layers = ps.podman("history", "--format", "{{.Size}}\t{{.CreatedBy}}", image).stdout
    log(f"image {image}: {size / 1e6:.1f} MB")
    for line in layers.splitlines()[:8]:
        log("  layer " + line[:150])
    script = r"""
found=""
for t in %s; do command -v "$t" >/dev/null 2>&1 && found="$found $t"; done
for d in /usr/include/c++ /usr/lib/gcc /usr/libexec/gcc /usr/share/npm; do [ -e "$d" ] && found="$found $d"; done
tests=$(find / -xdev \( -name '*_test' -o -name '*_tests' -o -name '*_test_*' -o -name 'fake-spotify' \
        -o -name '*benchmark*' -o -name 'libgtest*' -o -name 'libgmock*' -o -name '*.o' -o -name '*.a' \) \
        -not -path '/proc/*' -not -path '/usr/lib/python3*' 2>/dev/null | tr '\n' ' ')
echo "tools:$found"
echo "tests: $tests"
echo "bin: $(ls /opt/spotify-etl/bin | tr '\n' ' ')"
""" % " ".join(FORBIDDEN)
    out = ps.podman("run", "--rm", "--network", "none", "--user", "0", "--entrypoint", "/bin/sh", image,
                    "-c", script, timeout=300).stdout
    lines = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    f.check(lines.get("tools", "?").strip() == "", f"no compiler or build tool in the image (found: {lines.get('tools', '?').strip() or 'none'})")
    f.check(lines.get("tests", "?").strip() == "", f"no test binary, benchmark or object file (found: {lines.get('tests', '?').strip() or 'none'})")
    f.check(sorted(lines.get("bin", "").split()) == PROGRAMS,
            f"/opt/spotify-etl/bin holds exactly {' '.join(PROGRAMS)} (has: {lines.get('bin', '').strip()})")
    return size


def service_env(run_id):
    bucket = os.environ["ETL_TEST_S3_BUCKET"]
    return {
        "ETL_BUS": "kafka",
        "ETL_KAFKA_BOOTSTRAP_SERVERS": os.environ["ETL_TEST_KAFKA_BOOTSTRAP"],
        "ETL_TOPIC_RAW": f"image-{run_id}.raw", "ETL_TOPIC_TRANSFORMED": f"image-{run_id}.transformed",
        "ETL_TOPIC_DLQ": f"image-{run_id}.dlq", "ETL_TOPIC_PARTITIONS": "1",
        "ETL_RAW_URL": f"s3://{bucket}/image-{run_id}/raw",
        "ETL_TRANSFORMED_URL": f"s3://{bucket}/image-{run_id}/transformed",
        "ETL_CATALOG": "local", "ETL_QUERY_ENGINE": "duckdb",
        "AWS_ENDPOINT_URL_S3": os.environ["ETL_TEST_S3_ENDPOINT"],
        "AWS_ACCESS_KEY_ID": os.environ["ETL_TEST_S3_ACCESS_KEY"],
        "AWS_SECRET_ACCESS_KEY": os.environ["ETL_TEST_S3_SECRET_KEY"],
        "AWS_REGION": os.environ.get("ETL_TEST_S3_REGION", "us-east-1"),
        "ETL_LOG_FORMAT": "json",
    }


def run_service(f, image, svc, run_id):
    name = f"etl-image-{run_id}-{svc}"
    port = ps.free_port(reserve=False)
    env = service_env(run_id)
    env[SERVICES[svc]] = f"127.0.0.1:{port}"
    argv = ["run", "-d", "--name", name, "--network", "host",
            "--read-only", "--read-only-tmpfs=false",
            "--user", "10001:10001", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--tmpfs", "/tmp:rw,size=256m,mode=1777", "--tmpfs", "/var/lib/spotify-etl:rw,size=256m,U"]
    for k, v in env.items():
        argv += ["--env", f"{k}={v}"]
    argv += [image, f"/opt/spotify-etl/bin/{svc}"]
    try:
        ps.podman(*argv)

        def died():
            st = ps.container_state(name)
            return None if st and st.get("Running") else f"exited: {st}\n{ps.logs_tail(name)}"

        start = time.monotonic()
        status, body = ps.wait_http(f"http://127.0.0.1:{port}/readyz", READY_TIMEOUT_S, alive=died)
        if not f.check(status == 200, f"{svc}: /readyz 200 in the read-only, non-root, cap-less container "
                                      f"({time.monotonic() - start:.1f} s; last: {status} {body[:300]})"):
            log(ps.logs_tail(name))
            return
        cfg = ps.podman("inspect", "--format",
                        "{{.HostConfig.ReadonlyRootfs}} {{.Config.User}} {{.HostConfig.CapDrop}}", name).stdout.strip()
        f.check(cfg.startswith("true 10001:10001"), f"{svc}: podman reports read-only root and user 10001:10001 ({cfg})")
        status_lines = ps.podman("exec", name, "cat", "/proc/1/status").stdout
        fields = dict(line.split(":", 1) for line in status_lines.splitlines() if ":" in line)
        f.check(fields.get("Uid", "").split()[:2] == ["10001", "10001"] and fields.get("Gid", "").split()[:1] == ["10001"],
                f"{svc}: runs as uid/gid 10001 (Uid {fields.get('Uid', '').strip()}, Gid {fields.get('Gid', '').strip()})")
        f.check(int(fields.get("CapEff", "1"), 16) == 0 and int(fields.get("CapBnd", "1"), 16) == 0,
                f"{svc}: no capabilities (CapEff {fields.get('CapEff', '').strip()}, CapBnd {fields.get('CapBnd', '').strip()})")
        f.check(fields.get("NoNewPrivs", "").strip() == "1", f"{svc}: no_new_privs set")
        w = ps.podman("exec", name, "/bin/sh", "-c",
                      "touch /opt/spotify-etl/x 2>&1; touch /etc/x 2>&1; touch /tmp/x /var/lib/spotify-etl/x && echo writable-ok",
                      check=False).stdout
        f.check(w.count("Read-only file system") == 2 and "writable-ok" in w,
                f"{svc}: root filesystem refuses writes, /tmp and the working directory take them ({w.strip()!r})")
        start = time.monotonic()
        ps.podman("stop", "--time", "20", name, timeout=60)
        took = time.monotonic() - start
        st = ps.container_state(name) or {}
        f.check(st.get("ExitCode") == 0 and took <= STOP_LIMIT_S + 1,
                f"{svc}: SIGTERM (podman stop) -> exit {st.get('ExitCode')} in {took:.1f} s (want 0 within {STOP_LIMIT_S} s)")
    finally:
        ps.podman("rm", "-f", "-t", "0", name, check=False, timeout=60)


def main():
    ps.ensure_podman()
    missing = [v for v in ("ETL_TEST_KAFKA_BOOTSTRAP", "ETL_TEST_S3_ENDPOINT", "ETL_TEST_S3_ACCESS_KEY",
                           "ETL_TEST_S3_SECRET_KEY", "ETL_TEST_S3_BUCKET") if not os.environ.get(v)]
    if missing:
        ps.skip("no test servers: " + ", ".join(missing) + " unset (scripts/test.sh starts them)")
    took, images = ps.build_images(["project"], "image", BUILD_TIMEOUT_S)
    image = images["ETL_IMAGE_PROJECT"]
    ps.base_runs(image)
    f = Failures()
    f.check(True, f"{image} built from the unmodified deploy/Dockerfile in {took:.0f} s")
    inspect_image(f, image)
    run_id = uuid.uuid4().hex[:8]
    for svc in SERVICES:
        try:
            run_service(f, image, svc, run_id)
        except (AssertionError, subprocess.TimeoutExpired) as e:
            f.check(False, f"{svc}: {e}")
    print(f"{f.passed} passed, {len(f.failed)} failed, 0 skipped")
    sys.exit(1 if f.failed else 0)


if __name__ == "__main__":
    main()
