#!/usr/bin/env python3
"""The local overlay's rendered objects, made playable by `podman kube play` (podman 4.3).

podman 4.3 plays Pods, Deployments, ConfigMaps and PersistentVolumeClaims and
reads Secrets from its own secret store; it has no Services, StatefulSets,
Jobs or CronJobs. This keeps every container spec as rendered (image,
command, args, env, envFrom, secretKeyRefs, volumes, securityContext,
resources) and changes only what podman cannot take:

  - StatefulSet -> Deployment of the same pod template; its volumeClaimTemplates
    -> persistentVolumeClaim volumes (podman named volumes);
  - Job -> a Pod of its template (its restartPolicy kept);
  - Service -> network aliases: each played workload joins one podman network
    with the names of the Services that select it, so `kafka:9092` resolves;
  - Secret -> a podman secret holding the Secret object (what 4.3 reads for
    envFrom.secretRef / secretKeyRef);
  - probes are removed (4.3 would run them as curl/nc inside the container,
    which the images do not have); the caller checks the same paths over HTTP;
  - every name podman keeps globally (pods, secrets, volumes) gets a prefix,
    so several stacks can run side by side;
  - chosen container ports get a hostPort on 127.0.0.1.

Not played: CronJob, HorizontalPodAutoscaler, PodDisruptionBudget,
NetworkPolicy, ServiceAccount, Namespace (listed by `skipped`).
Standard library only.
"""

import base64
import copy
import json

PLAYED = ("ConfigMap", "Secret", "Service", "Deployment", "StatefulSet", "Job")


def _labels_match(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


class Stack:
    """objects: the rendered overlay (a list of dicts)."""

    def __init__(self, objects, prefix):
        self.objects = objects
        self.prefix = prefix
        self.skipped = sorted({f"{o['kind']}/{o['metadata']['name']}" for o in objects
                               if o["kind"] not in PLAYED})
        self.notes = []

    def all(self, kind):
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind, name):
        for o in self.all(kind):
            if o["metadata"]["name"] == name:
                return o
        return None

    def name(self, name):
        return f"{self.prefix}-{name}"

    def secrets(self, override=None):
        """{podman secret name: {key: base64 value}}, the form podman 4.3 reads for
        envFrom.secretRef / secretKeyRef (`podman secret create <name> <file>`).
        override: {Secret name: {key: plain value}} added or replacing (operator-made Secrets)."""
        override = override or {}
        out = {}
        names = {s["metadata"]["name"] for s in self.all("Secret")} | set(override)
        for name in sorted(names):
            s = self.get("Secret", name) or {}
            data = dict(s.get("data", {}))
            for k, v in s.get("stringData", {}).items():
                data[k] = base64.b64encode(v.encode()).decode()
            for k, v in override.get(name, {}).items():
                data[k] = base64.b64encode(v.encode()).decode()
            out[self.name(name)] = data
        return out

    def secret_key_ref(self, kind, name, var):
        """(Secret name, key) a workload's container variable comes from, as rendered
        (a generated Secret's name carries kustomize's hash suffix), or None."""
        o = self.get(kind, name) or {}
        spec = o.get("spec", {}).get("template", {}).get("spec", {})
        for c in spec.get("containers", []):
            for var_spec in c.get("env", []):
                ref = var_spec.get("valueFrom", {}).get("secretKeyRef")
                if var_spec["name"] == var and ref:
                    return ref["name"], ref["key"]
        return None

    def secret_value(self, name, key):
        """A rendered Secret's value, decoded (what the container gets), or None."""
        s = self.get("Secret", name)
        if s is None:
            return None
        if key in s.get("stringData", {}):
            return s["stringData"][key]
        if key in s.get("data", {}):
            return base64.b64decode(s["data"][key]).decode()
        return None

    def aliases(self, pod_labels):
        return sorted(s["metadata"]["name"] for s in self.all("Service")
                      if _labels_match(s["spec"].get("selector"), pod_labels))

    def _pod_spec(self, spec, host_ports, env_overrides):
        spec = copy.deepcopy(spec)
        for vol in spec.get("volumes", []):
            pvc = vol.get("persistentVolumeClaim")
            if pvc:
                pvc["claimName"] = self.name(pvc["claimName"])
            sec = vol.get("secret")
            if sec:
                sec["secretName"] = self.name(sec["secretName"])
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                c.pop(probe, None)
            for ref in c.get("envFrom", []):
                if "secretRef" in ref:
                    ref["secretRef"]["name"] = self.name(ref["secretRef"]["name"])
            for var in c.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    ref["name"] = self.name(ref["name"])
            extra = env_overrides.get(c["name"], {})
            if extra:
                c["env"] = [v for v in c.get("env", []) if v["name"] not in extra]
                c["env"] += [{"name": k, "value": v} for k, v in extra.items()]
            for p in c.get("ports", []):
                hp = host_ports.get((c["name"], p["containerPort"]))
                if hp:
                    p["hostPort"] = hp
                    p["hostIP"] = "127.0.0.1"
        return spec

    def workloads(self, replicas=None, host_ports=None, env_overrides=None, config=None):
        """[(name, aliases, [objects to play])], Kafka and MinIO first, Jobs next, the rest after.

        replicas: {deployment: n}; host_ports: {(container, port): host port};
        env_overrides: {container: {NAME: value}} (added to the container's env);
        config: {ConfigMap name: {KEY: value}} merged into that ConfigMap.
        """
        replicas, host_ports = replicas or {}, host_ports or {}
        env_overrides, config = env_overrides or {}, config or {}
        cms = []
        for cm in self.all("ConfigMap"):
            cm = copy.deepcopy(cm)
            cm["metadata"] = {"name": cm["metadata"]["name"]}
            cm.setdefault("data", {}).update(config.get(cm["metadata"]["name"], {}))
            cms.append(cm)
        out = []
        for o in self.all("StatefulSet") + self.all("Deployment") + self.all("Job"):
            name = o["metadata"]["name"]
            tmpl = o["spec"]["template"]
            labels = dict(tmpl["metadata"].get("labels", {}))
            spec = self._pod_spec(tmpl["spec"], host_ports, env_overrides)
            meta = {"name": self.name(name), "labels": labels}
            if o["kind"] == "Job":
                obj = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
                order = 1
            else:
                if o["kind"] == "StatefulSet":
                    for vct in o["spec"].get("volumeClaimTemplates", []):
                        vname = vct["metadata"]["name"]
                        spec.setdefault("volumes", []).append(
                            {"name": vname, "persistentVolumeClaim": {"claimName": self.name(f"{vname}-{name}")}})
                    self.notes.append(f"StatefulSet/{name} -> Deployment (volumeClaimTemplates -> named volumes)")
                obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
                       "spec": {"replicas": replicas.get(name, o["spec"].get("replicas", 1)),
                                "selector": o["spec"]["selector"],
                                "template": {"metadata": {"labels": labels}, "spec": spec}}}
                order = 0 if o["kind"] == "StatefulSet" else 2
            out.append((order, name, self.aliases(labels), cms + [obj]))
        out.sort(key=lambda w: (w[0], w[1]))
        return [(name, aliases, docs) for _, name, aliases, docs in out]

    def volumes(self):
        """Podman named volumes the played workloads use."""
        names = []
        for o in self.all("StatefulSet"):
            for vct in o["spec"].get("volumeClaimTemplates", []):
                names.append(self.name(f"{vct['metadata']['name']}-{o['metadata']['name']}"))
        return names


def to_yaml(docs):
    """Multi-document YAML (JSON documents are YAML)."""
    return "\n---\n".join(json.dumps(d, indent=1) for d in docs) + "\n"
