#!/usr/bin/env python3
"""compose.yaml must mirror deploy/k8s/overlays/local: same images for Kafka,
MinIO and mc, the same Kafka and MinIO settings, the same setup script, and
each service's environment equal to what the overlay gives its container
(ConfigMap, literal env, the development MinIO keys and API token); each
container port published on 127.0.0.1; the cataloger's working directory big
enough for its spill cap.

    compose_mirrors_overlay.py <docker compose config --format json> <render-json of overlays/local>
"""
import base64
import json
import re
import sys

# deploy/Dockerfile's WORKDIR, where ETL_QUERY_DATA_DIR (./data/cataloger) lies.
WORKDIR = "/var/lib/spotify-etl"


def size_bytes(v):
    """A size as the services read it (docs/contract.md section 3: K/M/G/T,
    powers of 1024, `KiB`/`MB` also read), or a tmpfs `size=` (k/m/g)."""
    m = re.fullmatch(r"(\d+)\s*([kKmMgGtT]?)(i?[bB])?", v.strip())
    if not m:
        raise SystemExit(f"not a size: {v!r}")
    return int(m.group(1)) << {"": 0, "k": 10, "m": 20, "g": 30, "t": 40}[m.group(2).lower()]


def main(compose_path, overlay_path):
    compose = json.load(open(compose_path))["services"]
    objects = json.load(open(overlay_path))

    def find(kind, name):
        for o in objects:
            if o["kind"] == kind and (o["metadata"]["name"] == name or o["metadata"]["name"].startswith(name + "-")):
                return o
        raise SystemExit(f"overlay has no {kind} {name}")

    problems = []

    def same(what, got, want):
        if got != want:
            problems.append(f"{what}: compose has {got!r}, the local overlay {want!r}")

    def container(o):
        spec = o["spec"]["template"]["spec"]
        return spec["containers"][0]

    def literal_env(c):
        return {e["name"]: e.get("value", "") for e in c.get("env", []) if "valueFrom" not in e}

    def same_token(who, c, got):
        """The overlay generates the API tokens' Secret: compose's defaults are its values."""
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if e["name"] in ("ETL_API_TOKEN", "ETL_READ_TOKEN") and ref:
                token = base64.b64decode(find("Secret", ref["name"])["data"][ref["key"]]).decode()
                same(f"{who} {e['name']} (Secret {ref['name']})", got.get(e["name"]), token)

    for name, kind in (("kafka", "StatefulSet"), ("minio", "StatefulSet"), ("minio-setup", "Job")):
        c = container(find(kind, name))
        same(f"{name} image", compose[name]["image"], c["image"])
        if name != "minio-setup":
            env = literal_env(c)
            for k, v in env.items():
                if k in ("HOME",):
                    continue
                same(f"{name} {k}", compose[name].get("environment", {}).get(k), v)
        else:
            script = (c.get("args") or c.get("command"))[-1]
            # `docker compose config` prints `$` escaped as `$$` (still a valid compose file).
            same("minio-setup script", compose[name]["command"][-1].strip().replace("$$", "$"), script.strip())

    cm = find("ConfigMap", "spotify-etl-config")["data"]
    secret = {k: base64.b64decode(v).decode() for k, v in find("Secret", "spotify-etl-aws").get("data", {}).items()}
    minio_root = {k: base64.b64decode(v).decode() for k, v in find("Secret", "minio-root").get("data", {}).items()}
    same("MinIO root user", compose["minio"]["environment"]["MINIO_ROOT_USER"], minio_root["MINIO_ROOT_USER"])
    for svc in ("extractor", "transformer", "cataloger"):
        c = container(find("Deployment", svc))
        want = dict(cm)
        want.update(secret)
        want.update(literal_env(c))
        got = compose[svc].get("environment", {})
        for k, v in want.items():
            same(f"{svc} {k}", got.get(k, ""), v)
        same(f"{svc} command", compose[svc].get("command"), c.get("command"))
        same_token(svc, c, got)
        published = sorted(p["target"] for p in compose[svc].get("ports", []) if p.get("host_ip") == "127.0.0.1")
        same(f"{svc} ports published on 127.0.0.1", published, sorted(p["containerPort"] for p in c.get("ports", [])))
        for p in compose[svc].get("ports", []):
            if p.get("host_ip") != "127.0.0.1":
                problems.append(f"{svc}: port {p.get('target')} is published on {p.get('host_ip') or 'every address'}, not 127.0.0.1")
    # DuckDB's spill files go to the working directory (ETL_QUERY_DATA_DIR), and a
    # renewed query database may spill next to the old one: twice the cap must fit.
    env = compose["cataloger"].get("environment", {})
    data_dir = env.get("ETL_QUERY_DATA_DIR") or "./data/cataloger"
    if not data_dir.startswith("/"):
        data_dir = WORKDIR + "/" + data_dir.removeprefix("./")
    cap = size_bytes(env.get("ETL_QUERY_MAX_TEMP_BYTES") or "4G")
    mounts = {}
    for t in compose["cataloger"].get("tmpfs", []):
        path, _, options = t.partition(":")
        opts = dict(o.partition("=")[::2] for o in options.split(",") if o)
        mounts[path.rstrip("/")] = opts.get("size")
    holder = max((m for m in mounts if data_dir == m or data_dir.startswith(m + "/")), key=len, default=None)
    if holder is None or mounts[holder] is None:
        problems.append(f"cataloger: ETL_QUERY_DATA_DIR={data_dir} is not on a tmpfs with a size")
    elif 2 * cap >= size_bytes(mounts[holder]):
        problems.append(f"cataloger: twice ETL_QUERY_MAX_TEMP_BYTES ({2 * cap} bytes) does not fit "
                        f"in the tmpfs {holder} (size={mounts[holder]})")
    trigger = container(find("CronJob", "spotify-etl-daily-run") | {"spec": find("CronJob", "spotify-etl-daily-run")["spec"]["jobTemplate"]["spec"]})
    same("trigger command", compose["trigger"].get("command"), trigger.get("command"))
    same("trigger ETL_EXTRACTOR_ADDR", compose["trigger"]["environment"].get("ETL_EXTRACTOR_ADDR"),
         literal_env(trigger).get("ETL_EXTRACTOR_ADDR"))
    same_token("trigger", trigger, compose["trigger"]["environment"])

    for p in problems:
        print("compose/overlay drift: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
