#!/usr/bin/env python3
"""Manifest replay: the local Kubernetes overlay, run as processes.

Renders deploy/k8s/overlays/local, takes the three Deployments and starts each
service from the build exactly as its container spec says (command, args, the
image's environment, envFrom ConfigMaps and Secrets, literal env, secretKeyRefs)
against the real test servers, probes the declared startup, liveness and
readiness paths on the declared ports, runs the CronJob's container command
against the extractor, and waits for the rows to be queryable on the cataloger.
This keeps the manifests and the binaries from drifting apart.

What is substituted, and nothing else (each printed when the test runs):
  - cluster addresses -> the test servers: the `kafka` Service ->
    $ETL_TEST_KAFKA_BOOTSTRAP, the `minio` Service -> $ETL_TEST_S3_ENDPOINT,
    a service's own Service -> 127.0.0.1:<its remapped port>;
  - container ports -> free local ports (the same ADDR variable, rewritten);
  - the overlay's buckets -> prefixes of $ETL_TEST_S3_BUCKET, its topics ->
    topics of this run (the test servers are shared by the whole suite);
  - Secrets: the rendered MinIO credentials -> $ETL_TEST_S3_ACCESS_KEY/SECRET_KEY;
    operator-created ones (Spotify client; the API token where the overlay
    does not generate it) -> test values. A generated Secret (kustomize's
    secretGenerator: its name gets a hash suffix, and so do the references)
    is used as rendered: the test's client sends the token the containers got;
  - the offline Spotify API (build/bin/fake-spotify) as SPOTIFY_API_URL /
    SPOTIFY_ACCOUNTS_URL, and ETL_SOURCES set in the ConfigMap, as an
    operator would;
  - container paths: /opt/spotify-etl/bin -> the build's bin folder, the
    image's working directory and /tmp -> temporary folders.

Skips (exit 77, with the reason) without the test servers
(ETL_TEST_KAFKA_BOOTSTRAP, ETL_TEST_S3_*: see scripts/README.md) or without
the built binaries. Python standard library only; kustomize output is turned
into JSON by deploy/k8s/verify/cmd/render-json (Go), which also decodes it
strictly.

    python3 tests/deploy/manifest_replay_test.py [--bin-dir build/bin] [-v]
"""

import argparse
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from replay_support import REPO, SERVICES, Cluster, Replay, render_local_overlay  # noqa: E402

# How long the slowest step may take on a loaded 2-core machine.
READY_TIMEOUT_S = float(os.environ.get("ETL_REPLAY_READY_TIMEOUT", "120"))
ROWS_TIMEOUT_S = float(os.environ.get("ETL_REPLAY_ROWS_TIMEOUT", "180"))
SHUTDOWN_LIMIT_S = 10  # docs/contract.md §2.1: exit 0 within 10 s of SIGTERM

BIN_DIR = os.environ.get("ETL_BIN_DIR", os.path.join(REPO, "build", "bin"))


def log(msg):
    print(f"replay: {msg}", file=sys.stderr, flush=True)


def http(method, url, body=None, token=None, timeout=10):
    """(status, body text); status 0 when nothing answered."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout):
        return 0, ""



class ManifestReplayTest(unittest.TestCase):
    procs = {}
    logs = {}
    files = []

    @classmethod
    def setUpClass(cls):
        missing = [v for v in ("ETL_TEST_KAFKA_BOOTSTRAP", "ETL_TEST_S3_ENDPOINT", "ETL_TEST_S3_ACCESS_KEY",
                               "ETL_TEST_S3_SECRET_KEY", "ETL_TEST_S3_BUCKET") if not os.environ.get(v)]
        if missing:
            raise unittest.SkipTest("no test servers: " + ", ".join(missing) +
                                    " unset (scripts/test.sh starts them; see scripts/README.md)")
        needed = list(SERVICES) + ["spotify-etl", "fake-spotify"]
        absent = [b for b in needed if not os.access(os.path.join(BIN_DIR, b), os.X_OK)]
        if absent:
            raise unittest.SkipTest(f"not built in {BIN_DIR}: {', '.join(absent)}")
        if not shutil.which("go"):
            raise unittest.SkipTest("go is not installed (needed to render the manifests to JSON)")

        cls.run_id = uuid.uuid4().hex[:8]
        cls.cluster = Cluster(render_local_overlay())
        cls.workdir = tempfile.mkdtemp(prefix="spotify-etl-replay-logs-")

        # The offline Spotify API: prints its variables on stdout.
        spotify_log = open(os.path.join(cls.workdir, "fake-spotify.out"), "w+")
        cls.files.append(spotify_log)
        cls.procs["fake-spotify"] = subprocess.Popen([os.path.join(BIN_DIR, "fake-spotify")],
                                                     stdout=spotify_log, stderr=subprocess.STDOUT,
                                                     stdin=subprocess.DEVNULL)
        cls.logs["fake-spotify"] = spotify_log.name
        spotify_env = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "SPOTIFY_CLIENT_SECRET" not in spotify_env:
            time.sleep(0.2)
            spotify_log.seek(0)
            for line in spotify_log.read().splitlines():
                if re.fullmatch(r"SPOTIFY_[A-Z_]+=\S+", line):
                    k, v = line.split("=", 1)
                    spotify_env[k] = v
        spotify_log.seek(0)
        spotify_out = spotify_log.read()
        if "SPOTIFY_CLIENT_SECRET" not in spotify_env:
            cls.tearDownClass()
            raise AssertionError("fake-spotify did not start: " + spotify_out)
        playlist = re.search(r"playlists: demo (\S+),", spotify_out)
        cls.sources = f"playlist:{playlist.group(1).rstrip(',')}" if playlist else "playlist:7kwYwFTY6UeVCDzqOAzRKN"

        cls.replay = Replay(cls.cluster, cls.run_id, spotify_env, BIN_DIR)
        # What the operator sets in the ConfigMap: the sources of the daily run.
        cls.config_overrides = {"ETL_SOURCES": cls.sources}
        cls.replay.note(f"ETL_SOURCES (ConfigMap): '' -> {cls.sources}")
        cls.started = {}
        for svc in SERVICES:
            d = cls.replay.deployment(svc)
            env = cls.replay.environment(d, cls.config_overrides)
            argv = cls.replay.argv(d)
            full_env, cwd = cls.replay.process_env(env, svc)
            log_path = os.path.join(cls.workdir, f"{svc}.log")
            cls.logs[svc] = log_path
            out = open(log_path, "w")
            cls.files.append(out)
            cls.procs[svc] = subprocess.Popen(argv, env=full_env, cwd=cwd, stdin=subprocess.DEVNULL,
                                              stdout=out, stderr=subprocess.STDOUT)
            cls.started[svc] = time.monotonic()
        log(f"run {cls.run_id}: started {', '.join(SERVICES)}; logs in {cls.workdir}")
        for s in cls.replay.substitutions:
            log("  substituted " + s)

    @classmethod
    def tearDownClass(cls):
        for name, p in list(cls.procs.items()):
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        cls.procs.clear()
        for f in cls.files:
            f.close()
        cls.files.clear()

    def tail(self, name, n=40):
        try:
            with open(self.logs[name], encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])

    def all_tails(self):
        return "\n".join(f"----- {s} (last lines)\n{self.tail(s)}" for s in SERVICES)

    def port_of(self, container, port):
        """A probe's port (number or name) -> the container port -> the local port."""
        for p in container.get("ports", []):
            if port in (p.get("name"), p["containerPort"]):
                return p["containerPort"]
        self.fail(f"probe port {port!r} is not a port of container {container['name']}")

    def probe(self, svc, kind, deadline_s):
        """Polls a declared probe until it answers 200; returns the path probed."""
        c = Replay.container(self.replay.deployment(svc))
        spec = c.get(kind)
        self.assertIsNotNone(spec, f"{svc}: no {kind}")
        get = spec.get("httpGet")
        self.assertIsNotNone(get, f"{svc}: {kind} is not httpGet")
        container_port = self.port_of(c, get["port"])
        url = f"http://127.0.0.1:{self.replay.ports[svc]}{get['path']}"
        deadline = time.monotonic() + deadline_s
        status, body = 0, ""
        while time.monotonic() < deadline:
            if self.procs[svc].poll() is not None:
                self.fail(f"{svc} exited with {self.procs[svc].returncode} before its {kind} passed "
                          f"({get['path']} on container port {container_port}):\n{self.tail(svc)}")
            status, body = http("GET", url, timeout=max(1, spec.get("timeoutSeconds", 1)))
            if status == 200:
                return get["path"]
            time.sleep(min(1.0, spec.get("periodSeconds", 1)))
        self.fail(f"{svc}: {kind} {get['path']} (container port {container_port}, here {url}) "
                  f"did not answer 200 within {deadline_s:.0f}s; last: {status} {body[:300]}\n{self.tail(svc)}")

    def test_1_probes_pass_on_the_declared_paths_and_ports(self):
        for svc in SERVICES:
            with self.subTest(service=svc):
                c = Replay.container(self.replay.deployment(svc))
                st = c["startupProbe"]
                budget = max(READY_TIMEOUT_S, st.get("periodSeconds", 10) * st.get("failureThreshold", 3))
                self.assertEqual(self.probe(svc, "startupProbe", budget), "/healthz")
                self.assertEqual(self.probe(svc, "livenessProbe", 10), "/healthz")
                self.assertEqual(self.probe(svc, "readinessProbe", READY_TIMEOUT_S), "/readyz")
                status, body = http("GET", f"http://127.0.0.1:{self.replay.ports[svc]}/metrics")
                self.assertEqual(status, 200, f"{svc}: /metrics")
                self.assertIn("spotify_etl_", body, f"{svc}: /metrics has no spotify_etl_ metric")
                # The pod annotations tell Prometheus the same port and path.
                ann = self.replay.deployment(svc)["spec"]["template"]["metadata"].get("annotations", {})
                if ann.get("prometheus.io/scrape") == "true":
                    self.assertEqual(ann.get("prometheus.io/path"), "/metrics")
                    self.assertEqual(int(ann.get("prometheus.io/port")), c["ports"][0]["containerPort"])

    def metric(self, svc, name, labels):
        """The value of one sample of a service's /metrics, or None."""
        status, body = http("GET", f"http://127.0.0.1:{self.replay.ports[svc]}/metrics")
        if status != 200:
            return None
        for line in body.splitlines():
            if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
        return None

    def test_2_cronjob_request_lands_a_run_that_the_transformer_turns_into_rows(self):
        for svc in ("extractor", "transformer"):
            self.probe(svc, "readinessProbe", READY_TIMEOUT_S)
        cronjobs = self.cluster.all("CronJob")
        self.assertEqual(len(cronjobs), 1, "want one CronJob (the daily run)")
        cj = cronjobs[0]
        env = self.replay.environment(cj, self.config_overrides)
        argv = self.replay.argv(cj)
        full_env, cwd = self.replay.process_env(env, "trigger")
        deadline = min(cj["spec"]["jobTemplate"]["spec"].get("activeDeadlineSeconds", 600), ROWS_TIMEOUT_S)
        log(f"CronJob {cj['metadata']['name']}: {' '.join(argv)} (ETL_EXTRACTOR_ADDR={env.get('ETL_EXTRACTOR_ADDR')})")
        try:
            trigger = subprocess.run(argv, env=full_env, cwd=cwd, capture_output=True, text=True, timeout=deadline)
        except subprocess.TimeoutExpired as e:
            self.fail(f"the CronJob's command did not finish within {deadline}s: {e.stdout}\n{self.all_tails()}")
        self.assertEqual(trigger.returncode, 0,
                         f"the CronJob's command failed ({trigger.returncode}): {trigger.stdout}\n{trigger.stderr}\n{self.all_tails()}")
        run = json.loads(trigger.stdout)
        self.assertEqual(run.get("status"), "succeeded", trigger.stdout)
        items = sum(s.get("items", 0) for s in run.get("sources", []))
        self.assertGreater(items, 0, f"the run extracted nothing: {trigger.stdout}")
        type(self).run_record = run
        type(self).run_items = items

        # The raw event reaches the transformer over Kafka; its rows land in the transformed store.
        deadline = time.monotonic() + ROWS_TIMEOUT_S
        rows = None
        while time.monotonic() < deadline:
            rows = self.metric("transformer", "spotify_etl_rows_written_total", {"table": "songs_data"})
            if rows is not None and rows >= items:
                break
            time.sleep(1)
        self.assertIsNotNone(rows, "the transformer exports no spotify_etl_rows_written_total{table=\"songs_data\"}")
        self.assertGreaterEqual(rows, items, f"songs_data rows written by the transformer for {items} extracted items"
                                             f"\n{self.all_tails()}")
        log(f"run {run['run_id']}: {items} items extracted, {rows:.0f} songs_data rows written")

    def test_3_cataloger_serves_the_rows_of_the_run(self):
        run = getattr(type(self), "run_record", None)
        if run is None:
            self.fail("no run (test_2 failed)")
        items = type(self).run_items
        self.probe("cataloger", "readinessProbe", READY_TIMEOUT_S)
        base = f"http://127.0.0.1:{self.replay.ports['cataloger']}"
        token = self.api_token()
        status, _ = http("POST", base + "/v1/query", {"sql": "SELECT 1"})
        self.assertEqual(status, 401, "the query endpoint must want the ETL_API_TOKEN of the Secret reference")
        status, _ = http("POST", base + "/v1/query", {"sql": "SELECT 1"}, token=token + "x")
        self.assertEqual(status, 401, "the query endpoint must refuse a token other than the Secret's")
        sql = f"SELECT count(*) AS n FROM songs_data WHERE run_id = '{run['run_id']}'"
        deadline = time.monotonic() + ROWS_TIMEOUT_S
        last = None
        while time.monotonic() < deadline:
            status, body = http("POST", base + "/v1/query", {"sql": sql}, token=token, timeout=30)
            if status == 200:
                rows = json.loads(body)["rows"]
                last = rows[0][0] if rows else None
                if last == items:
                    break
            else:
                last = f"HTTP {status}: {body[:200]}"
            time.sleep(1)
        self.assertEqual(last, items, f"songs_data rows of run {run['run_id']} on the cataloger (one per extracted track)"
                                      f"\n{self.all_tails()}")
        log(f"run {run['run_id']}: {last} songs_data rows queryable on the cataloger")

    def api_token(self):
        """The token a client of the cataloger holds: the value of the Secret its
        ETL_API_TOKEN references, as the container gets it (the rendered Secret,
        decoded; its name carries kustomize's hash suffix), the same for every
        workload that references it."""
        ref = self.replay.secret_key_ref(self.replay.deployment("cataloger"), "ETL_API_TOKEN")
        self.assertIsNotNone(ref, "the cataloger's ETL_API_TOKEN is not a secretKeyRef")
        token = self.replay.envs.get("cataloger", {}).get("ETL_API_TOKEN")
        self.assertTrue(token, f"the cataloger got no ETL_API_TOKEN from Secret {ref[0]}/{ref[1]}")
        rendered = self.cluster.secret(ref[0])
        if rendered is not None:
            self.assertEqual(token, rendered.get(ref[1]), f"ETL_API_TOKEN is not the rendered Secret {ref[0]}'s {ref[1]}")
        for name, env in self.replay.envs.items():
            if "ETL_API_TOKEN" in env:
                self.assertEqual(env["ETL_API_TOKEN"], token, f"{name} gets another ETL_API_TOKEN than the cataloger")
        return token

    def test_4_sigterm_stops_every_service_cleanly(self):
        for svc in SERVICES:
            with self.subTest(service=svc):
                p = self.procs[svc]
                self.assertIsNone(p.poll(), f"{svc} died early ({p.returncode}):\n{self.tail(svc)}")
                grace = self.replay.deployment(svc)["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
                self.assertGreater(grace, SHUTDOWN_LIMIT_S, f"{svc}: terminationGracePeriodSeconds leaves no room")
                p.send_signal(signal.SIGTERM)
                try:
                    rc = p.wait(timeout=SHUTDOWN_LIMIT_S + 2)
                except subprocess.TimeoutExpired:
                    p.kill()
                    self.fail(f"{svc} did not exit within {SHUTDOWN_LIMIT_S}s of SIGTERM:\n{self.tail(svc)}")
                self.assertEqual(rc, 0, f"{svc} exited with {rc} on SIGTERM:\n{self.tail(svc)}")


def kill_children():
    for p in ManifestReplayTest.procs.values():
        if p.poll() is None:
            p.kill()


def main():
    global BIN_DIR
    # Whatever ends this process (a ctest timeout's SIGTERM included) ends the services too.
    atexit.register(kill_children)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin-dir", default=BIN_DIR, help="folder of the built binaries (default: build/bin)")
    args, rest = parser.parse_known_args()
    BIN_DIR = os.path.abspath(args.bin_dir)
    prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    result = prog.result
    if result.wasSuccessful() and result.skipped and len(result.skipped) >= result.testsRun:
        print(f"SKIPPED: {result.skipped[0][1]}", file=sys.stderr)
        sys.exit(77)
    def test_of(t):  # a subtest's test
        return getattr(t, "test_case", t)
    failed = {test_of(t).id() for t, _ in result.failures + result.errors}
    skipped = {test_of(t).id() for t, _ in result.skipped} - failed
    # A test with a skipped part (a subtest) counts as skipped.
    print(f"{result.testsRun - len(failed) - len(skipped)} passed, {len(failed)} failed, {len(skipped)} skipped")
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
