#!/usr/bin/env python3
"""compose.yaml must mirror deploy/k8s/overlays/local: same images for Kafka,
MinIO and mc, the same Kafka and MinIO settings, the same setup script, and
each service's environment equal to what the overlay gives its container
(ConfigMap, literal env, the development MinIO keys).

    compose_mirrors_overlay.py <docker compose config --format json> <render-json of overlays/local>
"""
import base64
import json
import sys


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
    trigger = container(find("CronJob", "spotify-etl-daily-run") | {"spec": find("CronJob", "spotify-etl-daily-run")["spec"]["jobTemplate"]["spec"]})
    same("trigger command", compose["trigger"].get("command"), trigger.get("command"))
    same("trigger ETL_EXTRACTOR_ADDR", compose["trigger"]["environment"].get("ETL_EXTRACTOR_ADDR"),
         literal_env(trigger).get("ETL_EXTRACTOR_ADDR"))

    for p in problems:
        print("compose/overlay drift: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
