"""The manifest replay's model of a cluster (tests/deploy/manifest_replay_test.py):
the rendered local overlay, and the container specs turned into local processes
with the substitutions listed in that test's module doc. Standard library only."""

import base64
import json
import os
import re
import subprocess
import tempfile

from podman_support import free_port  # one record of the ports given, shared with podman_support

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OVERLAY = os.path.join(REPO, "deploy", "k8s", "overlays", "local")
VERIFY_MODULE = os.path.join(REPO, "deploy", "k8s", "verify")
DOCKERFILE = os.path.join(REPO, "deploy", "Dockerfile")
IMAGE_BIN = "/opt/spotify-etl/bin"
SERVICES = ("extractor", "transformer", "cataloger")
# The API token when the overlay does not render the Secret (an operator makes
# it): the test then stands in for the operator. When the overlay renders it
# (overlays/local generates spotify-etl-api-<hash>), the test uses whatever the
# containers get from it, like any client holding the Secret.
OPERATOR_API_TOKEN = "replay-test-token"



def render_local_overlay():
    """The overlay's objects as dicts, decoded strictly by the verify module."""
    env = dict(os.environ, GOFLAGS="-mod=mod")
    proc = subprocess.run(["go", "run", "./cmd/render-json", OVERLAY], cwd=VERIFY_MODULE, env=env,
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise AssertionError(f"rendering {OVERLAY} failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def image_environment():
    """The runtime stage's ENV of deploy/Dockerfile (what every container starts with)."""
    with open(DOCKERFILE, encoding="utf-8") as f:
        text = f.read()
    runtime = text[text.index("AS runtime"):]
    env = {}
    for m in re.finditer(r"^ENV\s+((?:.*\\\n)*.*)$", runtime, re.M):
        body = m.group(1).replace("\\\n", " ")
        for name, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", body):
            env[name] = value
    workdir = re.findall(r"^WORKDIR\s+(\S+)", runtime, re.M)
    return env, (workdir[-1] if workdir else "/")


def expand(value, env):
    """Kubernetes $(VAR) expansion against the variables defined so far ($$ escapes)."""
    def sub(m):
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", sub, value)


class Cluster:
    """The rendered objects, with the lookups a kubelet would do."""

    def __init__(self, objects):
        self.objects = objects

    def all(self, kind):
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind, name):
        for o in self.all(kind):
            if o["metadata"]["name"] == name:
                return o
        return None

    def config_map(self, name):
        o = self.get("ConfigMap", name)
        return None if o is None else dict(o.get("data", {}))

    def secret(self, name):
        o = self.get("Secret", name)
        if o is None:
            return None
        data = {k: base64.b64decode(v).decode() for k, v in o.get("data", {}).items()}
        data.update(o.get("stringData", {}))
        return data


class Replay:
    """Turns container specs into processes, with the substitutions listed in the module doc."""

    def __init__(self, cluster, run_id, fake_spotify_env, bin_dir):
        self.cluster = cluster
        self.bin_dir = bin_dir  # the build's binaries, for the image's IMAGE_BIN
        self.run_id = run_id
        self.ports = {}  # service name -> local port
        self.substitutions = []
        self.tmp = tempfile.mkdtemp(prefix="spotify-etl-replay-")
        bucket = os.environ["ETL_TEST_S3_BUCKET"]
        kafka = os.environ["ETL_TEST_KAFKA_BOOTSTRAP"]
        s3 = os.environ["ETL_TEST_S3_ENDPOINT"].rstrip("/")
        for svc in SERVICES:
            self.ports[svc] = free_port()
        # host:port of a cluster Service -> where it is here.
        self.addresses = {"kafka:9092": kafka, "minio:9000": s3.split("://", 1)[1]}
        for svc in SERVICES:
            container = self.container(self.deployment(svc))
            for p in container.get("ports", []):
                self.addresses[f"{svc}:{p['containerPort']}"] = f"127.0.0.1:{self.ports[svc]}"
        self.urls = {"http://minio:9000": s3}
        # The overlay's buckets and topics -> this run's.
        cm = self.config_map_data()
        self.stores = {}
        for key, part in (("ETL_RAW_URL", "raw"), ("ETL_TRANSFORMED_URL", "transformed")):
            self.stores[cm[key]] = f"s3://{bucket}/replay-{run_id}/{part}"
        self.topics = {}
        for key in ("ETL_TOPIC_RAW", "ETL_TOPIC_TRANSFORMED", "ETL_TOPIC_DLQ"):
            self.topics[cm[key]] = f"replay-{run_id}.{cm[key]}"
        self.test_secrets = {
            ("spotify-etl-spotify", "client-id"): fake_spotify_env["SPOTIFY_CLIENT_ID"],
            ("spotify-etl-spotify", "client-secret"): fake_spotify_env["SPOTIFY_CLIENT_SECRET"],
            ("spotify-etl-api", "token"): OPERATOR_API_TOKEN,
        }
        # The rendered MinIO credentials belong to the overlay's MinIO; the test MinIO has its own.
        self.credentials = {"AWS_ACCESS_KEY_ID": os.environ["ETL_TEST_S3_ACCESS_KEY"],
                            "AWS_SECRET_ACCESS_KEY": os.environ["ETL_TEST_S3_SECRET_KEY"],
                            "AWS_REGION": os.environ.get("ETL_TEST_S3_REGION", "us-east-1")}
        self.extra = dict(fake_spotify_env)
        self.envs = {}  # workload name -> its container's environment (as replayed)
        del self.extra["SPOTIFY_CLIENT_ID"], self.extra["SPOTIFY_CLIENT_SECRET"]

    def deployment(self, name):
        d = self.cluster.get("Deployment", name)
        if d is None:
            raise AssertionError(f"the local overlay has no Deployment {name}")
        return d

    @staticmethod
    def container(workload):
        if "jobTemplate" in workload["spec"]:
            spec = workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        else:
            spec = workload["spec"]["template"]["spec"]
        containers = spec["containers"]
        if len(containers) != 1:
            raise AssertionError(f"{workload['metadata']['name']}: want one container, has {len(containers)}")
        return containers[0]

    def config_map_data(self):
        names = [o["metadata"]["name"] for o in self.cluster.all("ConfigMap")
                 if o["metadata"]["name"].startswith("spotify-etl-config")]
        if len(names) != 1:
            raise AssertionError(f"want one spotify-etl-config ConfigMap, found {names}")
        return self.cluster.config_map(names[0])

    def note(self, what):
        if what not in self.substitutions:
            self.substitutions.append(what)

    def localize(self, name, value):
        """One environment value, with cluster addresses, stores and topics made local."""
        original = value
        if name in self.credentials:
            value = self.credentials[name]
        for cluster_url, here in self.urls.items():
            value = value.replace(cluster_url, here)
        if value in self.stores:
            value = self.stores[value]
        if name.startswith("ETL_TOPIC_") and value in self.topics:
            value = self.topics[value]
        if name.endswith("_ADDR") or name == "ETL_KAFKA_BOOTSTRAP_SERVERS":
            parts = []
            for hp in value.split(","):
                parts.append(self.addresses.get(hp.strip(), hp.strip()))
            value = ",".join(parts)
            # A listen address 0.0.0.0:<containerPort> of a service -> its local port.
            m = re.fullmatch(r"(0\.0\.0\.0|\[::\]|):(\d+)", original)
            svc = name[len("ETL_"):-len("_ADDR")].lower()
            if m and svc in self.ports:
                value = f"127.0.0.1:{self.ports[svc]}"
            elif m:
                # Another listener (the cataloger's PostgreSQL endpoint): any free loopback port,
                # never the host's own 5432.
                value = "127.0.0.1:0"
        if value != original and name not in self.credentials:
            self.note(f"{name}: {original} -> {value}")
        elif name in self.credentials and value != original:
            self.note(f"{name}: the overlay's value -> the test server's")
        return value

    def environment(self, workload, config_overrides):
        """What the kubelet would give the container, made local."""
        image_env, _ = image_environment()
        env = {}
        for k, v in image_env.items():
            if k in ("PATH", "HOME", "TMPDIR"):
                continue
            env[k] = v
        c = self.container(workload)
        for ef in c.get("envFrom", []):
            prefix = ef.get("prefix", "")
            if "configMapRef" in ef:
                ref = ef["configMapRef"]
                data = self.cluster.config_map(ref["name"])
                if data is None:
                    if ref.get("optional"):
                        continue
                    raise AssertionError(f"envFrom ConfigMap {ref['name']} is missing")
                data = dict(data, **{k: v for k, v in config_overrides.items() if k in data})
            else:
                ref = ef["secretRef"]
                data = self.cluster.secret(ref["name"])
                if data is None:
                    if ref.get("optional"):
                        continue
                    raise AssertionError(f"envFrom Secret {ref['name']} is missing and not optional")
            for k, v in data.items():
                env[prefix + k] = v
        for e in c.get("env", []):
            if "value" in e or "valueFrom" not in e:
                env[e["name"]] = expand(e.get("value", ""), env)
                continue
            vf = e["valueFrom"]
            if "secretKeyRef" in vf:
                ref = vf["secretKeyRef"]
                data = self.cluster.secret(ref["name"])
                if data is not None and ref["key"] in data:
                    env[e["name"]] = data[ref["key"]]
                elif (ref["name"], ref["key"]) in self.test_secrets:
                    env[e["name"]] = self.test_secrets[(ref["name"], ref["key"])]
                    self.note(f"{e['name']}: Secret {ref['name']}/{ref['key']} (created by the operator) -> a test value")
                elif not ref.get("optional"):
                    raise AssertionError(f"{e['name']}: Secret {ref['name']}/{ref['key']} is missing and not optional")
            elif "configMapKeyRef" in vf:
                ref = vf["configMapKeyRef"]
                data = self.cluster.config_map(ref["name"]) or {}
                if ref["key"] in data:
                    env[e["name"]] = data[ref["key"]]
                elif not ref.get("optional"):
                    raise AssertionError(f"{e['name']}: ConfigMap {ref['name']}/{ref['key']} is missing")
            else:
                raise AssertionError(f"{e['name']}: valueFrom {list(vf)} is not replayed here")
        env = {k: self.localize(k, v) for k, v in env.items()}
        # A path on one of the container's volumes -> a folder of its own here.
        for m in c.get("volumeMounts", []):
            mount = m["mountPath"].rstrip("/")
            here = os.path.join(self.tmp, workload["metadata"]["name"], "volumes", m["name"])
            for k, v in env.items():
                if v == mount or v.startswith(mount + "/"):
                    env[k] = here + v[len(mount):]
                    os.makedirs(here, exist_ok=True)
                    self.note(f"{k}: {v} (volume {m['name']}) -> {env[k]}")
        for k, v in self.extra.items():
            if k not in env:
                env[k] = v
                self.note(f"{k}: (unset) -> {v} (the offline Spotify API)")
        self.envs[workload["metadata"]["name"]] = env
        return env

    def secret_key_ref(self, workload, var):
        """(Secret name, key) that a container variable comes from, or None."""
        for e in self.container(workload).get("env", []):
            if e["name"] == var and "secretKeyRef" in e.get("valueFrom", {}):
                ref = e["valueFrom"]["secretKeyRef"]
                return ref["name"], ref["key"]
        return None

    def argv(self, workload):
        c = self.container(workload)
        argv = list(c.get("command", [])) + list(c.get("args", []))
        if not argv:
            raise AssertionError(f"{workload['metadata']['name']}: no command (the image's CMD is --help)")
        if not argv[0].startswith(IMAGE_BIN + "/"):
            raise AssertionError(f"{workload['metadata']['name']}: command {argv[0]} is not under {IMAGE_BIN}")
        local = os.path.join(self.bin_dir, os.path.basename(argv[0]))
        self.note(f"{argv[0]} -> {local}")
        return [local] + argv[1:]

    def process_env(self, env, name):
        """The container environment plus what the image provides (PATH, HOME, TMPDIR), as local folders."""
        home = os.path.join(self.tmp, name, "home")
        tmp = os.path.join(self.tmp, name, "tmp")
        os.makedirs(home, exist_ok=True)
        os.makedirs(tmp, exist_ok=True)
        full = dict(env, PATH=os.environ.get("PATH", "/usr/bin:/bin"), HOME=home, TMPDIR=tmp)
        return full, home
