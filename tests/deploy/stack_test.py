#!/usr/bin/env python3
"""The local overlay, played by podman (ctest deploy_stack, label `deploy`).

Builds the images (deploy/scripts/local-images.sh all), renders
deploy/k8s/overlays/local (kustomize, decoded strictly by the verify module's
render-json) and plays it with `podman kube play` on a network of its own:
Kafka and MinIO (their StatefulSets as Deployments), the minio-setup Job (as
a Pod), the extractor, transformer and cataloger Deployments with their
ConfigMap and Secrets, exactly as rendered except for what
deploy/scripts/podman_kube.py lists (podman 4.3 has no Services, StatefulSets,
Jobs or probes). Added, as an operator would: the Secret spotify-etl-spotify
(client id/secret), spotify-etl-api (token) unless the overlay generates it
(overlays/local does: the test's client then sends the token of the rendered
Secret, as the containers get it), ETL_SOURCES in the
ConfigMap, and the offline Spotify API (build/bin/fake-spotify, run from
the host's build in a container of the project image: the image itself holds
no test binary) as SPOTIFY_API_URL / SPOTIFY_ACCOUNTS_URL of the extractor.
The three service ports are published on 127.0.0.1 only.

Then: every service answers /readyz; the minio-setup Pod exits 0; a run
triggered over HTTP (POST /v1/runs on the extractor) lands, and while the
transformer works through its raw objects its container is killed (SIGKILL),
then started again (podman 4.3 without systemd applies no restart policy, so
the test does what a kubelet would: `podman start`); the run
succeeds and /v1/query on the cataloger answers exactly one songs_data row
per extracted track of the run: nothing lost, nothing doubled. psql, through
the cataloger's published PostgreSQL port (the container listens on
0.0.0.0:5432, as the base sets ETL_PG_ADDR), counts the same rows with the
token as password, and with the read-only token of the overlay's Secret
(ETL_READ_TOKEN, which may not POST /v1/runs: 403), and is refused with another.

Skips (77) only when podman cannot run here, or fake-spotify is not built.

    python3 tests/deploy/stack_test.py [--bin-dir build/bin] [--keep]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "scripts"))
import podman_kube  # noqa: E402
import podman_support as ps  # noqa: E402

REPO = ps.REPO
OVERLAY = os.path.join(REPO, "deploy", "k8s", "overlays", "local")
VERIFY_MODULE = os.path.join(REPO, "deploy", "k8s", "verify")
SERVICES = {"extractor": 8081, "transformer": 8082, "cataloger": 8083}
PG_PORT = 5432  # the cataloger's PostgreSQL endpoint (ETL_PG_ADDR=0.0.0.0:5432 in the base)
OPERATOR_TOKEN = "stack-test-token"  # when the overlay does not generate the token Secret
# The demo playlist, the 3-page playlist and two albums: four raw objects, 418 tracks.
SOURCES = ["playlist:7kwYwFTY6UeVCDzqOAzRKN", "playlist:4vMNBsf0D57iQ6s0QVHvHk",
           "album:1JJAj1SJnntr5pVBzvT7rw", "album:6MTCUvpWxgSqAXuwxP1AeN"]
READY_TIMEOUT_S = float(os.environ.get("ETL_STACK_READY_TIMEOUT", "240"))
ROWS_TIMEOUT_S = float(os.environ.get("ETL_STACK_ROWS_TIMEOUT", "240"))
BUILD_TIMEOUT_S = float(os.environ.get("ETL_IMAGE_BUILD_TIMEOUT", "3000"))


def log(msg):
    ps.log("stack", msg)


def render_overlay():
    env = dict(os.environ, GOFLAGS="-mod=mod")
    p = subprocess.run(["go", "run", "./cmd/render-json", OVERLAY], cwd=VERIFY_MODULE, env=env,
                       capture_output=True, text=True, timeout=1200)
    if p.returncode != 0:
        raise AssertionError(f"rendering {OVERLAY} failed:\n{p.stderr}")
    return json.loads(p.stdout)


class Stack:
    def __init__(self, objects, images, bin_dir):
        self.id = uuid.uuid4().hex[:6]
        self.prefix = f"etl{self.id}"
        self.net = f"{self.prefix}-net"
        self.kube = podman_kube.Stack(objects, self.prefix)
        self.images = images
        self.bin_dir = bin_dir
        self.tmp = tempfile.mkdtemp(prefix="spotify-etl-stack-")
        self.ports = {svc: ps.free_port(reserve=False) for svc in SERVICES}
        self.pg_port = ps.free_port(reserve=False)
        self.played = []      # yaml files, for teardown
        self.secrets = []
        self.token = None     # the API token the services got (up())
        self.read_token = None  # ETL_READ_TOKEN, when the overlay's Secret has one (up())
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

    def url(self, svc):
        return f"http://127.0.0.1:{self.ports[svc]}"

    def containers(self, workload):
        """Containers of a played workload: a Deployment's pod is <name>-pod-0, a Pod keeps its name."""
        out = []
        for pod in (f"{self.prefix}-{workload}-pod-0", f"{self.prefix}-{workload}"):
            out += ps.podman("ps", "-a", "--filter", f"pod={pod}", "--format", "{{.Names}}",
                             check=False).stdout.split()
        return sorted({c for c in out if not c.endswith("-infra")})

    def play(self, name, aliases, docs):
        path = os.path.join(self.tmp, f"{len(self.played):02d}-{name}.yaml")
        with open(path, "w") as f:
            f.write(podman_kube.to_yaml(docs))
        net = self.net + "".join(f":alias={a}" for a in aliases[:1])
        ps.podman("kube", "play", "--network", net, "--log-driver", "k8s-file", path, timeout=300)
        self.played.append(path)
        log(f"played {name} (aliases: {', '.join(aliases) or '-'}): {', '.join(self.containers(name)) or 'a Pod'}")

    def up(self):
        ps.podman("network", "create", self.net)
        cm = self.kube.all("ConfigMap")
        cfg_name = next(c["metadata"]["name"] for c in cm if c["metadata"]["name"].startswith("spotify-etl-config"))
        operator = {"spotify-etl-spotify": {"client-id": "spotify-etl-demo", "client-secret": "offline-sample"}}
        # The Secret the services' ETL_API_TOKEN references: the generated one as
        # rendered (spotify-etl-api-<hash>), else made here as an operator would.
        refs = {svc: self.kube.secret_key_ref("Deployment", svc, "ETL_API_TOKEN") for svc in SERVICES}
        if None in refs.values() or len(set(refs.values())) != 1:
            raise AssertionError(f"the services' ETL_API_TOKEN must reference one Secret key: {refs}")
        ref = refs["cataloger"]
        self.token = self.kube.secret_value(*ref)
        if self.token is None:
            self.token = OPERATOR_TOKEN
            operator.setdefault(ref[0], {})[ref[1]] = OPERATOR_TOKEN
        log(f"API token: Secret {ref[0]}/{ref[1]} ({'rendered' if ref[0] not in operator else 'made by the test'})")
        read_ref = self.kube.secret_key_ref("Deployment", "cataloger", "ETL_READ_TOKEN")
        self.read_token = read_ref and self.kube.secret_value(*read_ref)
        log(f"read-only token: {'Secret ' + '/'.join(read_ref) if self.read_token else 'none rendered'}")
        secrets = self.kube.secrets(operator)
        for name, data in secrets.items():
            path = os.path.join(self.tmp, f"secret-{name}.json")
            with open(path, "w") as f:
                json.dump(data, f)
            ps.podman("secret", "create", name, path)
            self.secrets.append(name)
        log(f"secrets: {', '.join(secrets)}; not played: {', '.join(self.kube.skipped)}")
        # The offline Spotify API, reachable as fake-spotify:8090 on the stack's network.
        fake = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"{self.prefix}-fake-spotify"},
                "spec": {"containers": [{
                    "name": "fake-spotify", "image": self.images["ETL_IMAGE_PROJECT"],
                    "command": ["/opt/test/fake-spotify", "--host", "fake-spotify", "--port", "8090"],
                    "env": [{"name": "LD_LIBRARY_PATH", "value": "/opt/spotify-etl/lib"}],
                    "securityContext": {"runAsUser": 10001, "runAsGroup": 10001, "readOnlyRootFilesystem": True,
                                        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                    "volumeMounts": [{"name": "bin", "mountPath": "/opt/test/fake-spotify", "readOnly": True}]}],
                    "volumes": [{"name": "bin", "hostPath": {"path": os.path.join(self.bin_dir, "fake-spotify"),
                                                             "type": "File"}}]}}
        self.play("fake-spotify", ["fake-spotify"], [fake])
        host_ports = {(svc, port): self.ports[svc] for svc, port in SERVICES.items()}
        host_ports[("cataloger", PG_PORT)] = self.pg_port
        env = {"extractor": {"SPOTIFY_API_URL": "http://fake-spotify:8090/v1",
                             "SPOTIFY_ACCOUNTS_URL": "http://fake-spotify:8090"}}
        config = {cfg_name: {"ETL_SOURCES": ",".join(SOURCES)}}
        for name, aliases, docs in self.kube.workloads(host_ports=host_ports, env_overrides=env, config=config):
            self.play(name, aliases, docs)
        for note in self.kube.notes:
            log("  converted " + note)

    def logs(self):
        out = []
        for path in self.played:
            name = os.path.basename(path)[3:-5]
            for c in self.containers(name):
                out.append(ps.logs_tail(c, 25))
        return "\n".join(out)

    def down(self, keep=False):
        if keep:
            log(f"--keep: left running; podman kube down {' '.join(self.played)}")
            return
        for path in reversed(self.played):
            ps.podman("kube", "down", path, check=False, timeout=120)
        for s in self.secrets:
            ps.podman("secret", "rm", s, check=False)
        for v in self.kube.volumes():
            ps.podman("volume", "rm", "-f", v, check=False)
        ps.podman("network", "rm", "-f", self.net, check=False, timeout=60)
        shutil.rmtree(self.tmp, ignore_errors=True)


def wait_ready(stack):
    for svc in SERVICES:
        start = time.monotonic()
        status, body = ps.wait_http(stack.url(svc) + "/readyz", READY_TIMEOUT_S)
        stack.check(status == 200, f"{svc}: /readyz 200 on 127.0.0.1:{stack.ports[svc]} "
                                   f"({time.monotonic() - start:.1f} s; last {status} {body[:200]})")
    setup = stack.containers("minio-setup")
    st = ps.container_state(setup[0]) if setup else None
    deadline = time.monotonic() + 60
    while st and st.get("Running") and time.monotonic() < deadline:
        time.sleep(1)
        st = ps.container_state(setup[0])
    stack.check(bool(st) and not st.get("Running") and st.get("ExitCode") == 0,
                f"minio-setup Pod: buckets and notification set (exit {st and st.get('ExitCode')})")


def run_with_transformer_kill(stack):
    """POST /v1/runs; kill the transformer once the run has landed its first raw
    object (its event is then on the way to, or in, a batch of the transformer),
    before the run is fully transformed; returns (run record, rows before kill).
    Not "once rows appear": a batch holds the whole run's objects, so its rows
    appear all at once."""
    ext, tr = stack.url("extractor"), stack.url("transformer")
    rows_metric = ("spotify_etl_rows_written_total", {"table": "songs_data"})
    landed_metric = ("spotify_etl_extractor_objects_landed_total", {})
    base_rows = ps.metric(tr, *rows_metric) or 0
    base_landed = ps.metric(ext, *landed_metric) or 0
    sources = [{"type": t, "id": i} for t, i in (x.split(":", 1) for x in SOURCES)]
    status, body = ps.http("POST", ext + "/v1/runs", {"sources": sources}, token=stack.token)
    if not stack.check(status in (200, 201, 202), f"POST /v1/runs -> {status}"):
        raise AssertionError(body)
    run_id = json.loads(body)["run_id"]
    killed_at = None
    transformer = stack.containers("transformer")[0]
    deadline = time.monotonic() + ROWS_TIMEOUT_S
    while time.monotonic() < deadline:
        landed = ps.metric(ext, *landed_metric)
        if landed is not None and landed > base_landed:
            ps.podman("kill", "--signal", "KILL", transformer)
            killed_at = (ps.metric(tr, *rows_metric) or base_rows) - base_rows
            break
        time.sleep(0.05)
    stack.check(killed_at is not None, f"transformer container killed (SIGKILL) mid-run, after {killed_at} rows")
    # The run record: its sources and item counts.
    run = None
    while time.monotonic() < deadline:
        status, body = ps.http("GET", f"{ext}/v1/runs/{run_id}", token=stack.token)
        if status == 200:
            run = json.loads(body)
            if run.get("status") not in ("pending", "running", "accepted"):
                break
        time.sleep(1)
    return run_id, run, killed_at


def check_restart(stack):
    """The killed transformer comes back: by podman's restart policy when it applies one
    (podman 4.3 without systemd does not), else started again here, as a kubelet would."""
    transformer = stack.containers("transformer")[0]
    start = time.monotonic()
    st = ps.container_state(transformer) or {}
    while not st.get("Running") and time.monotonic() - start < 10:
        time.sleep(0.5)
        st = ps.container_state(transformer) or {}
    if not st.get("Running"):
        log(f"transformer not restarted by podman within 10 s (exit {st.get('ExitCode')}): podman start, as a kubelet would")
        ps.podman("start", transformer)
    status, _ = ps.wait_http(stack.url("transformer") + "/readyz", READY_TIMEOUT_S)
    restarts = ps.podman("inspect", "--format", "{{.RestartCount}}", transformer, check=False).stdout.strip()
    stack.check(status == 200, f"transformer container started again (podman restarts: {restarts}) and ready "
                               f"({time.monotonic() - start:.1f} s)")


def check_rows(stack, run_id, run, killed_at):
    if not stack.check(bool(run) and run.get("status") == "succeeded", f"run {run_id}: {json.dumps(run)[:400]}"):
        return
    items = sum(s.get("items", 0) for s in run.get("sources", []))
    stack.check(items > 0, f"run {run_id} extracted {items} items from {len(run.get('sources', []))} sources")
    if killed_at is not None:
        stack.check(killed_at < items, f"the kill came before the run was fully transformed ({killed_at} of {items} rows)")
    cat = stack.url("cataloger")
    status, _ = ps.http("POST", cat + "/v1/query", {"sql": "SELECT 1"})
    stack.check(status == 401, f"/v1/query without the Secret's token -> {status} (want 401)")
    status, _ = ps.http("POST", cat + "/v1/query", {"sql": "SELECT 1"}, token=stack.token + "x")
    stack.check(status == 401, f"/v1/query with another token than the Secret's -> {status} (want 401)")
    sql = (f"SELECT count(*) AS n, count(DISTINCT source_id || '/' || CAST(position AS VARCHAR)) AS d "
           f"FROM songs_data WHERE run_id = '{run_id}'")

    def counts():
        status, body = ps.http("POST", cat + "/v1/query", {"sql": sql}, token=stack.token, timeout=30)
        if status != 200:
            return None, f"HTTP {status}: {body[:300]}"
        return json.loads(body)["rows"][0], None

    deadline = time.monotonic() + ROWS_TIMEOUT_S
    got, err = None, None
    while time.monotonic() < deadline:
        got, err = counts()
        if got and got[0] >= items:
            break
        time.sleep(1)
    stack.check(bool(got) and got[0] == items and got[1] == items,
                f"/v1/query: songs_data rows of run {run_id} = {got} (rows, distinct source positions); "
                f"want {items} = the extracted tracks {err or ''}")
    time.sleep(3)  # a late duplicate (a redelivered raw object) would show up here
    got, err = counts()
    stack.check(bool(got) and got[0] == items, f"still {got} a few seconds later (want {items}: nothing doubled) {err or ''}")
    # DuckDB ran in the cataloger's child process (ETL_QUERY_ISOLATION=process), started once:
    # the read-only, capability-less container lets it start and keeps it up.
    status, body = ps.http("GET", cat + "/metrics", token=stack.token)
    starts = [line.split()[1] for line in body.splitlines()
              if line.startswith("spotify_etl_cataloger_query_engine_starts_total ")]
    stack.check(status == 200 and starts == ["1"],
                f"/metrics: spotify_etl_cataloger_query_engine_starts_total = {starts} (want ['1']; HTTP {status})")
    check_postgres(stack, run_id, items)


def check_postgres(stack, run_id, items):
    """The PostgreSQL endpoint, as Grafana's data source reaches it through the cataloger's
    Service: the container listens on 0.0.0.0:5432 (the base's ETL_PG_ADDR), published here on
    127.0.0.1; psql with the Secret's token as password counts the run's rows, and another
    password is refused."""
    psql = shutil.which("psql")
    if not psql:
        log("psql is not installed (tests/pgwire/install-clients.sh installs it): PostgreSQL endpoint not checked")
        return
    conninfo = f"host=127.0.0.1 port={stack.pg_port} dbname=spotify user=grafana connect_timeout=10"

    def run(password, sql):
        env = dict(os.environ, PGPASSWORD=password, PGAPPNAME="stack_test")
        env.pop("PGSERVICE", None)
        return subprocess.run([psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", conninfo, "-c", sql],
                              env=env, capture_output=True, text=True, timeout=60)

    p = run(stack.token, f"SELECT count(*) FROM songs_data WHERE run_id = '{run_id}'")
    stack.check(p.returncode == 0 and p.stdout.strip() == str(items),
                f"psql on 127.0.0.1:{stack.pg_port} (the container's 0.0.0.0:{PG_PORT}): songs_data rows of run "
                f"{run_id} = {p.stdout.strip() or '-'} (want {items}) {p.stderr.strip()[:300]}")
    if stack.read_token:
        # The read-only token, what Grafana's data source holds: it queries, and may not trigger a run.
        p = run(stack.read_token, f"SELECT count(*) FROM songs_data WHERE run_id = '{run_id}'")
        stack.check(p.returncode == 0 and p.stdout.strip() == str(items),
                    f"psql with the Secret's read-only token (ETL_READ_TOKEN): {p.stdout.strip() or '-'} rows "
                    f"(want {items}) {p.stderr.strip()[:300]}")
        status, body = ps.http("POST", stack.url("extractor") + "/v1/runs", {}, token=stack.read_token)
        stack.check(status == 403, f"POST /v1/runs with the read-only token -> {status} (want 403) {body[:200]}")
    p = run(stack.token + "x", "SELECT 1")
    stack.check(p.returncode != 0 and "password" in p.stderr,
                f"psql with another password than the Secret's token is refused (exit {p.returncode}: "
                f"{p.stderr.strip()[:200]})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin-dir", default=os.path.join(REPO, "build", "bin"))
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    args = parser.parse_args()
    ps.ensure_podman()
    if not os.access(os.path.join(args.bin_dir, "fake-spotify"), os.X_OK):
        ps.skip(f"fake-spotify is not built in {args.bin_dir}")
    if not shutil.which("go"):
        ps.skip("go is not installed (needed to render the manifests)")
    _, images = ps.build_images(["all"], "stack", BUILD_TIMEOUT_S)
    ps.base_runs(images["ETL_IMAGE_PROJECT"])
    stack = Stack(render_overlay(), images, os.path.abspath(args.bin_dir))
    start = time.monotonic()
    try:
        stack.up()
        wait_ready(stack)
        if not stack.failed:
            run_id, run, killed_at = run_with_transformer_kill(stack)
            check_restart(stack)
            check_rows(stack, run_id, run, killed_at)
        if stack.failed:
            log(stack.logs())
    except (AssertionError, subprocess.TimeoutExpired, KeyError, ValueError) as e:
        stack.check(False, f"{type(e).__name__}: {e}")
        log(stack.logs())
    finally:
        log(f"stack up and checked in {time.monotonic() - start:.0f} s")
        stack.down(args.keep)
    print(f"{stack.passed} passed, {len(stack.failed)} failed, 0 skipped")
    sys.exit(1 if stack.failed else 0)


if __name__ == "__main__":
    main()
